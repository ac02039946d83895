"""How long a person waits for each notebook's page, served by Voila and loaded in Chromium.

Each notebook in notebooks/ is served by its own Voila server (``voila
NOTEBOOK``: each visitor's kernel is started, and the notebook run, when the
page is requested), and the team dashboard by ``python -m alwidgets serve
--pool 0`` in a temporary folder. With ``--pool N`` every page is served by
``python -m alwidgets serve PAGE --pool N`` instead, which keeps N pages ready
(Voila's preheated kernels, the notebook already run), and each visitor comes
``--arrive-after`` seconds after the server started. Debian's Chromium,
driven by Playwright, opens the page with every non-local request aborted
(Voila's page links a stylesheet on a CDN). A script injected before the page
loads timestamps, from the moment the page was requested:

- **kernel ready**: Voila's page config with the kernel id arrives; Voila
  sends it once the kernel has started and answered, just before it runs the
  first cell;
- **first widget**: the first widget (any ``.jupyter-widgets`` view) is on screen;
- **first button**: the first widget button (``.jupyter-button``) is on screen;
- **settled**: the last change to the page before it stayed unchanged for
  ``--quiet`` seconds with every background run of the page (a progress bar
  of :mod:`alwidgets.widgets.background`) finished; capped at ``--settle-timeout``.

The target is the first widget within 3 s of the kernel being ready.
Notebooks run in full mode (``ALW_QUICK`` unset) unless ``--quick``. Each page
is loaded by a *first* visitor, whose notebook finds an empty cache
(``ALW_CACHE_DIR``, a temporary folder here) and waits until the page has
settled (its background runs done and cached), then by ``--runs`` *later*
visitors, who find the cache filled.

    .venv/bin/python benchmarks/first_render.py                       # every notebook and the dashboard
    .venv/bin/python benchmarks/first_render.py --quick --page 04_decision_boundary.ipynb

Writes benchmarks/results/first_render.md (``--out`` elsewhere). A ``--quick``
run, or one of some pages (``--page``, ``--notebook-dir``), writes into a
temporary folder unless ``--out`` is given, and a quick one never into
benchmarks/results (see ``benchmarks/_output.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import _output  # benchmarks/_output.py: where a run writes

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
RESULTS = ROOT / "benchmarks" / "results"
TEMPLATES = ROOT / "alwidgets" / "share" / "jupyter"  # holds voila/templates/alwidgets
DASHBOARD = "dashboard"  # the page served by `python -m alwidgets serve`
CHROMIUM = os.environ.get("ALW_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"]
LOCAL_URL = re.compile(r"^(https?|wss?)://(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(/|$)")
TARGET_SECONDS = 3.0
CACHE_ENV = "ALW_CACHE_DIR"  # where notebooks cache what is the same for every visitor
SERVER_START_SECONDS = 120

# Timestamps (ms since the page was requested) of what a person sees, taken in the page itself.
WATCH_PAGE = """
(() => {
  const marks = {};
  const state = {marks, lastChange: 0, cells: {}};
  window.__alwFirstRender = state;
  const now = () => performance.now();
  const shown = (selector) => Array.from(document.querySelectorAll(selector))
    .some(node => node.getClientRects().length > 0 && getComputedStyle(node).visibility !== 'hidden');
  const look = () => {
    const t = now();
    state.lastChange = t;
    if (!('kernel' in marks) && document.getElementById('jupyter-config-data')) marks.kernel = t;
    document.querySelectorAll('div[cell-index]').forEach(cell => {
      const index = cell.getAttribute('cell-index');
      if (!(index in state.cells)) state.cells[index] = t;
    });
    if (!('widget' in marks) && shown('.jupyter-widgets')) marks.widget = t;
    if (!('button' in marks) && shown('.jupyter-widgets button, button.jupyter-button')) marks.button = t;
    if (!('error' in marks) && document.querySelector('.voila-error')) marks.error = t;
  };
  new MutationObserver(look).observe(document, {subtree: true, childList: true, attributes: true,
                                                characterData: true});
})();
"""


# Background runs (alwidgets.widgets.background) still going: their bars are neither green nor red yet.
JS_RUNNING = """() => Array.from(document.querySelectorAll('.alw-background'))
    .filter(run => !run.querySelector('.progress-bar-success, .progress-bar-danger')).length"""


@dataclass
class Run:
    """One page load: seconds from the request to each moment, None when it never came."""

    kernel: float | None = None
    widget: float | None = None
    button: float | None = None
    settled: float | None = None
    slowest_cell: tuple[int, float] | None = None  # (cell number, seconds its execution took)
    problem: str = ""


@dataclass
class PageResult:
    page: str
    visitor: str  # "first": an empty cache; "later": what the first visitor's kernel cached
    runs: list[Run] = field(default_factory=list)


# ---------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def private_jupyter(home: Path) -> dict[str, str]:
    """This interpreter as the ``python3`` kernel in Jupyter dirs of its own: the environment entries that say so."""
    spec_dir = home / "data" / "kernels" / "python3"
    spec_dir.mkdir(parents=True, exist_ok=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (ipykernel)", "language": "python",
    }))
    return {"JUPYTER_PATH": str(home / "data"), "JUPYTER_CONFIG_DIR": str(home / "config"),
            "JUPYTER_RUNTIME_DIR": str(home / "runtime"), "JUPYTER_PLATFORM_DIRS": "1", "PYTHONUNBUFFERED": "1"}


def server_env(home: Path, quick: bool) -> dict[str, str]:
    """:func:`private_jupyter`, this source tree first on the paths, and ALW_QUICK as asked."""
    env = {k: v for k, v in os.environ.items() if k not in ("ALW_QUICK", "MPLBACKEND")}
    if quick:
        env["ALW_QUICK"] = "1"
    env.update(private_jupyter(home))
    # The alwidgets Voila template (notebooks name it) from this source tree: found even when it is not installed.
    env.update(JUPYTER_PATH=os.pathsep.join([env["JUPYTER_PATH"], str(TEMPLATES)]),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    return env


VOILA_OPTIONS: list[str] = []  # extra command-line options for Voila (--voila-option)


class Server:
    """Voila (or ``alwidgets serve``) in its own process group, its log in a file."""

    def __init__(self, page: str, env: dict[str, str], workdir: Path, notebooks: Path = NOTEBOOKS, pool: int = 0):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log_path = workdir / f"{page}.log"
        serve = [sys.executable, "-m", "alwidgets", "serve", "--port", str(self.port), "--cull-after", "0",
                 "--pool", str(pool)]
        if page == DASHBOARD:
            command = serve
            cwd = workdir / "campaign"  # the default campaign keeps its store in ./labels/
            cwd.mkdir(exist_ok=True)
        elif pool:
            command = [*serve, str(notebooks / page)]
            cwd = ROOT
        else:
            command = [sys.executable, "-m", "voila", "--no-browser", f"--port={self.port}", "--Voila.ip=127.0.0.1",
                       "--Voila.port_retries=0", "--show_tracebacks=True", *VOILA_OPTIONS, str(notebooks / page)]
            cwd = ROOT
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        self._wait_until_answering()

    def _wait_until_answering(self) -> None:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}:\n{self.log()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url + "voila/static/", timeout=5):
                    return
            except urllib.error.HTTPError:
                return  # an error status is still an answer
            except OSError:
                time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"the server did not answer within {SERVER_START_SECONDS} s:\n{self.log()[-3000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=20)


# ---------------------------------------------------------------------------- one page load


def _allow_only_local(route) -> None:
    if LOCAL_URL.match(route.request.url):
        route.continue_()
    else:
        route.abort()


def measure(browser, url: str, first_button_timeout: float, quiet: float, settle_timeout: float) -> Run:
    """Open ``url`` in a fresh context and time it; the page is closed (and its kernel released) after."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.route("**/*", _allow_only_local)
    context.add_init_script(WATCH_PAGE)
    page = context.new_page()
    run = Run()
    try:
        page.goto(url, wait_until="commit", timeout=first_button_timeout * 1000)
        deadline = time.monotonic() + first_button_timeout
        state = {}
        while time.monotonic() < deadline:
            state = page.evaluate("() => window.__alwFirstRender || null") or {}
            marks = state.get("marks", {})
            if "error" in marks or "button" in marks:
                break
            page.wait_for_timeout(100)
        started = time.monotonic()
        shown = "widget" in state.get("marks", {})
        while shown:
            if time.monotonic() - started >= settle_timeout:
                run.problem = f"still changing after {settle_timeout:.0f} s"
                break
            state = page.evaluate(f"() => ({{...window.__alwFirstRender, now: performance.now(), "
                                  f"running: ({JS_RUNNING})()}})")
            quiet_long_enough = (state["now"] - state["lastChange"]) / 1000 >= quiet
            if "error" in state["marks"] or (quiet_long_enough and state["running"] == 0):
                break
            page.wait_for_timeout(250)
        marks = state.get("marks", {})
        run.kernel, run.widget, run.button = (marks[k] / 1000 if k in marks else None
                                              for k in ("kernel", "widget", "button"))
        if shown and not run.problem:
            run.settled = state["lastChange"] / 1000
        run.slowest_cell = slowest_cell(marks.get("kernel"), state.get("cells", {}))
        if "error" in marks:
            run.problem = "Voila showed an error: " + " ".join(page.locator(".voila-error").all_inner_texts())[:300]
        elif "button" not in marks:
            run.problem = run.problem or f"no button within {first_button_timeout:.0f} s"
    finally:
        context.close()
    return run


def slowest_cell(kernel_ms: float | None, cells: dict[str, float]) -> tuple[int, float] | None:
    """The cell whose execution took longest: each cell's output arrives when it has run."""
    if kernel_ms is None or not cells:
        return None
    arrivals = sorted((float(t), int(index)) for index, t in cells.items())
    previous, best = kernel_ms, None
    for t, index in arrivals:
        wait = (t - previous) / 1000
        if best is None or wait > best[1]:
            best = (index, wait)
        previous = t
    return best


# ---------------------------------------------------------------------------- the table


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _cell(values: list[float | None]) -> str:
    """Median of the runs (range when several), in seconds."""
    known = [v for v in values if v is not None]
    if not known:
        return "—"
    text = f"{_median(known):.1f}"
    if len(known) > 1:
        text += f" ({min(known):.1f}–{max(known):.1f})"
    return text + ("" if len(known) == len(values) else f" [{len(values) - len(known)} missing]")


def summarize(result: PageResult) -> dict[str, str]:
    runs = result.runs
    after = [r.widget - r.kernel if r.widget is not None and r.kernel is not None else None for r in runs]
    after_button = [r.button - r.kernel if r.button is not None and r.kernel is not None else None for r in runs]
    met = [a is not None and a <= TARGET_SECONDS for a in after]
    slow = [r.slowest_cell for r in runs if r.slowest_cell]
    slowest = max(slow, key=lambda c: c[1]) if slow else None
    problems = "; ".join(sorted({r.problem for r in runs if r.problem}))
    return {
        "page": result.page,
        "visitor": result.visitor,
        "kernel ready": _cell([r.kernel for r in runs]),
        "first widget": _cell([r.widget for r in runs]),
        "first button": _cell([r.button for r in runs]),
        "settled": _cell([r.settled for r in runs]),
        "widget after kernel": _cell(after),
        "button after kernel": _cell(after_button),
        "≤ 3 s": "yes" if all(met) else ("no" if not any(met) else f"{sum(met)}/{len(met)}"),
        "slowest cell": f"{slowest[0]} ({slowest[1]:.1f} s)" if slowest else "—",
        "notes": problems,
    }


def markdown_table(results: list[PageResult]) -> str:
    rows = [summarize(result) for result in results]
    columns = list(rows[0]) if rows else []
    numeric = {"kernel ready", "first widget", "first button", "settled", "widget after kernel",
               "button after kernel"}
    lines = ["| " + " | ".join(columns) + " |",
             "| " + " | ".join("---:" if c in numeric else "---" for c in columns) + " |"]
    lines += ["| " + " | ".join(row[c] for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def report(results: list[PageResult], args, command: str, seconds: float) -> str:
    mode = "quick (ALW_QUICK=1)" if args.quick else "full (ALW_QUICK unset)"
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        "# First render in Voila\n\n"
        f"Seconds from the page request, in Chromium, notebooks in {mode} mode. "
        + (f"Pages served by `python -m alwidgets serve PAGE --pool {args.pool}`: {args.pool} page(s) kept ready, "
           f"the notebook already run; each visitor came {args.arrive_after:g} s after the server started. "
           if args.pool else "Each visitor's kernel was started, and the notebook run, when the page was requested "
           "(`voila NOTEBOOK`; the dashboard with `serve --pool 0`). ")
        + (f"*Before*: the notebook as it was at commit `{args.before}`, loaded just after, under the same load. "
           if args.before is not None else "")
        + "The *first* visitor of a page finds "
        "an empty cache (`ALW_CACHE_DIR`); *later* visitors find what the first one's kernel cached once its page "
        f"settled (median of {args.runs} load{'s' * (args.runs != 1)}, range in brackets). *Kernel ready*: Voila "
        "sent the page config "
        "with the kernel id (the kernel has started and answered). *First widget* / *first button*: the first "
        "widget view / widget button on screen. *Settled*: the last change to the page before it stayed "
        f"unchanged for {args.quiet:g} s with its background runs finished. The target is the first widget "
        f"within {TARGET_SECONDS:g} s of the kernel being ready. *Slowest cell*: the cell (numbered from 1, markdown included) whose output took longest "
        "to arrive after the previous one.\n\n"
        + markdown_table(results)
        + f"\n\nMachine: {platform.machine()}, {os.cpu_count()} CPUs shared with other jobs (load average {load} "
        f"when the run ended), Python {platform.python_version()}; the run took {seconds / 60:.1f} min.\n"
        f"Reproduce with `{command}`.\n"
    )


# ---------------------------------------------------------------------------- main


def notebooks_at(rev: str, names: list[str], folder: Path) -> Path:
    """The notebooks ``names`` as they were at git revision ``rev``, written into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        if name == DASHBOARD:
            continue
        shown = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:notebooks/{name}"], capture_output=True)
        if shown.returncode == 0:
            (folder / name).write_bytes(shown.stdout)
        elif b"does not exist" not in shown.stderr and b"exists on disk, but not in" not in shown.stderr:
            raise SystemExit(f"--before {rev}: git cannot show notebooks/{name}: {shown.stderr.decode().strip()}")
    return folder


def pages(chosen: list[str] | None, notebooks: Path = NOTEBOOKS) -> list[str]:
    known = sorted(p.name for p in notebooks.glob("0*.ipynb")) + [DASHBOARD]
    if not chosen:
        return known
    unknown = [p for p in chosen if p not in known]
    if unknown:
        raise SystemExit(f"--page {unknown[0]!r} is not one of: {', '.join(known)}")
    return chosen


def parse_args(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="notebooks with ALW_QUICK=1 (small budgets) and a 120 s settle cap; a smoke run")
    parser.add_argument("--page", action="append", metavar="NAME",
                        help="a notebook file name in notebooks/, or 'dashboard'; repeat for more (default: all)")
    parser.add_argument("--runs", type=int, default=1,
                        help="loads by later visitors per page (default 1), after the first visitor's")
    parser.add_argument("--quiet", type=float, default=3.0, help="seconds without a change that count as settled")
    parser.add_argument("--settle-timeout", type=float, default=None,
                        help="give up waiting for a page to settle after this many seconds (default 1800; 120 quick)")
    parser.add_argument("--first-button-timeout", type=float, default=900.0,
                        help="give up waiting for the first button after this many seconds")
    parser.add_argument("--voila-option", action="append", default=[], metavar="OPTION",
                        help="pass this option to Voila, e.g. --voila-option=--progressive_rendering=True")
    parser.add_argument("--pool", type=int, default=0, metavar="N",
                        help="serve every page with `python -m alwidgets serve PAGE --pool N` (N pages kept ready, "
                             "the notebook already run) instead of a kernel started per visitor (default 0)")
    parser.add_argument("--arrive-after", type=float, default=20.0, metavar="SECONDS",
                        help="with --pool: each visitor comes this long after the server started (default 20)")
    parser.add_argument("--notebook-dir", type=Path, default=NOTEBOOKS,
                        help="serve the notebooks of this folder instead (e.g. an older copy, to compare)")
    parser.add_argument("--before", metavar="REV",
                        help="also serve each notebook as it was at git revision REV, right after, as 'before'")
    parser.add_argument("--before-timeout", type=float, default=300.0,
                        help="give up waiting for the first button of a 'before' page after this many seconds")
    parser.add_argument("--out", type=Path, default=None,
                        help="the markdown report (default benchmarks/results/first_render.md; a temporary folder "
                             "for a quick run or one of some pages)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.pool < 0:
        parser.error("--pool must be 0 or more")
    if args.pool and args.voila_option:
        parser.error("--voila-option is for pages served by `voila`; --pool serves them with `alwidgets serve`")
    if args.settle_timeout is None:
        args.settle_timeout = 120.0 if args.quick else 1800.0
    args.out = _output.file(parser, args.out, "first_render.md", quick=args.quick,
                            partial=_output.changed(parser, args, ("page", "notebook_dir")))
    return args


def stop_servers_on_sigterm() -> None:
    """SIGTERM ends the run as Ctrl+C would, through every ``finally``: no Voila server is left orphaned."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    VOILA_OPTIONS[:] = args.voila_option
    stop_servers_on_sigterm()
    chosen = pages(args.page, args.notebook_dir)
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        print(f"Chromium is missing at {CHROMIUM}: apt-get install chromium (or set ALW_CHROMIUM)", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    command = "python benchmarks/first_render.py " + " ".join(argv if argv is not None else sys.argv[1:])
    started = time.monotonic()
    results = []
    with tempfile.TemporaryDirectory(prefix="alw-first-render-") as tmp, sync_playwright() as playwright:
        workdir = Path(tmp)
        env = server_env(workdir / "jupyter", args.quick)
        before = None if args.before is None else notebooks_at(args.before, chosen, workdir / "before")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            for page in chosen:
                # The first visitor finds an empty cache; once its page has settled, what it computed for
                # everyone is cached, and the later visitors find it.
                page_env = {**env, CACHE_ENV: str(workdir / "cache" / page)}
                visitors = [("first", 1, args.notebook_dir), ("later", args.runs, args.notebook_dir)]
                if before is not None and (before / page).is_file():
                    visitors.append(("before", args.runs, before))  # just after, so under the same load
                for visitor, loads, folder in visitors:
                    result = PageResult(page, visitor)
                    for k in range(loads):
                        # A fresh server per load: a kernel left from the last load cannot compete for the CPUs.
                        server = Server(page, {**page_env, CACHE_ENV: str(workdir / "cache-before" / page)}
                                        if visitor == "before" else page_env, workdir, folder.resolve(), args.pool)
                        try:
                            if args.pool:
                                time.sleep(args.arrive_after)  # the pool's page runs its notebook meanwhile
                            timeout = args.first_button_timeout if visitor != "before" else args.before_timeout
                            run = measure(browser, server.url, timeout, args.quiet, args.settle_timeout)
                        finally:
                            server.stop()
                        result.runs.append(run)
                        print(f"{page}, {visitor} visitor, load {k + 1}: " + ", ".join(
                            f"{name} {value:.1f} s" for name, value in
                            (("kernel ready", run.kernel), ("first widget", run.widget), ("first button", run.button),
                             ("settled", run.settled)) if value is not None) + (f" ({run.problem})" if run.problem
                                                                                else ""), flush=True)
                    results.append(result)
        finally:
            browser.close()
    text = report(results, args, command.strip(), time.monotonic() - started)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print("\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
