"""Memory of the team dashboard: the server and one kernel per annotator, with N people labeling at once.

For each N, ``python -m alwidgets serve --pool 0`` (the bundled MNIST
campaign, 3,750 items, its SQLite store in a temporary folder; no page kept
ready, so every kernel is an annotator's) is started, and N Chromium
contexts (Debian's Chromium driven by Playwright, every non-local request
aborted) each open the page, type a name, press Start and label ``--labels``
items. Once every page has drawn its model, the memory of each process is
read with psutil (``memory_full_info``):

- **RSS**: resident pages, the shared ones (libraries, a memory-mapped data
  file) counted in full in every process;
- **PSS**: resident pages, each shared page divided between the processes
  that share it: what the machine pays for the process;
- **USS**: pages only this process has.

The *server* is every process that is not a kernel (``serve`` and the Voila
it runs); a *kernel* is a process running ``ipykernel_launcher``. The peak is
the highest sum of RSS over the server and kernels, sampled twice a second
from the first page load to the measurement.

``--code LABEL=PATH`` measures the alwidgets checkout at PATH (given as
PYTHONPATH to the server and its kernels); repeat it to compare two versions
in one run (e.g. ``--code main=/tmp/alw-main --code branch=.``).

    .venv/bin/python benchmarks/dashboard_memory.py --n 1 2 4
    .venv/bin/python benchmarks/dashboard_memory.py --code main=/tmp/alw-main --code branch=. --n 1 2 4

Writes benchmarks/results/dashboard_memory.md (``--out`` elsewhere; other ``--n``
or ``--labels`` write into a temporary folder unless ``--out`` is given).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import _output  # benchmarks/_output.py: where a run writes
import psutil
from first_render import free_port, private_jupyter  # the same servers set-up (benchmarks/ is on the path)

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
CHROMIUM = os.environ.get("ALW_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"]
LOCAL_URL = re.compile(r"^(https?|wss?)://(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(/|$)")
PAGE_TIMEOUT_MS = 240_000
SERVER_START_SECONDS = 180
JS_ITEM = r"""() => {
    const node = document.querySelector('.alw-labeler .alw-instance');
    const found = node && node.innerText.match(/item\s+(\d+)/);
    return found ? Number(found[1]) : null;
}"""
MB = 2**20


def server_env(home: Path, code: Path) -> dict[str, str]:
    """This interpreter as the ``python3`` kernel, private Jupyter dirs, ``code`` first on PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if k not in ("ALW_QUICK", "MPLBACKEND", "ALW_CONFIG", "ALW_WORKDIR")}
    env.update(private_jupyter(home), ALW_CACHE_DIR=str(home / "cache"), PYTHONPATH=str(code))
    return env


class Serve:
    """``python -m alwidgets serve`` (no config: bundled MNIST) in a temporary folder, in its own process group."""

    def __init__(self, code: Path, workdir: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = workdir / "serve.log"
        env = server_env(workdir / "jupyter", code)
        command = [sys.executable, "-m", "alwidgets", "serve", "--port", str(self.port), "--max-kernels", "0",
                   "--cull-after", "0"]
        if "--pool" in (code / "alwidgets" / "cli.py").read_text():
            command += ["--pool", "0"]  # one kernel per annotator, nothing kept ready: what each person costs
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                command,
                cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited with {self.process.returncode}:\n{self.log.read_text()}")
            try:
                with urllib.request.urlopen(self.url + "voila/static/", timeout=5):
                    break
            except urllib.error.HTTPError:
                break
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"serve did not answer:\n{self.log.read_text()}") from None
                time.sleep(0.5)

    def processes(self) -> tuple[list[psutil.Process], list[psutil.Process]]:
        """``(server processes, kernel processes)``."""
        root = psutil.Process(self.process.pid)
        everyone = [root, *root.children(recursive=True)]
        kernels = [p for p in everyone if any("ipykernel_launcher" in part for part in _cmdline(p))]
        return [p for p in everyone if p not in kernels], kernels

    def stop(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _cmdline(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return []


def _memory(process: psutil.Process) -> dict[str, float]:
    try:
        info = process.memory_full_info()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return {"rss": 0.0, "pss": 0.0, "uss": 0.0}
    return {"rss": info.rss / MB, "pss": getattr(info, "pss", 0) / MB, "uss": info.uss / MB}


class PeakSampler(threading.Thread):
    """The highest total RSS of the server and its kernels, sampled every half second."""

    def __init__(self, serve: Serve):
        super().__init__(daemon=True)
        self.serve = serve
        self.peak = 0.0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.5):
            total = 0.0
            try:
                servers, kernels = self.serve.processes()
            except psutil.NoSuchProcess:
                continue
            for process in servers + kernels:
                try:
                    total += process.memory_info().rss / MB
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    pass
            self.peak = max(self.peak, total)


def _only_local(route) -> None:
    if LOCAL_URL.match(route.request.url):
        route.continue_()
    else:
        route.abort()


def label_as(context, url: str, name: str, labels: int) -> None:
    """One annotator: open the page, type the name, start, label ``labels`` items."""
    page = context.new_page()
    page.goto(url, wait_until="commit", timeout=PAGE_TIMEOUT_MS)
    page.locator(".alw-annotator input, .voila-error").first.wait_for(timeout=PAGE_TIMEOUT_MS)
    if page.locator(".voila-error").count():
        raise RuntimeError(page.locator(".voila-error").first.inner_text())
    page.locator(".alw-annotator input").fill(name)
    page.locator("button.alw-start").click()
    page.wait_for_function(JS_ITEM, timeout=PAGE_TIMEOUT_MS)
    for _ in range(labels):
        before = page.evaluate(JS_ITEM)
        page.locator(".alw-labeler .alw-label-button").first.click()
        page.wait_for_function(f"(old) => {{ const now = ({JS_ITEM})(); return now !== null && now !== old; }}",
                               arg=before, timeout=PAGE_TIMEOUT_MS)
    # the model drawn after the last label: "model up to date"
    page.locator(".alw-labeler .alw-status").filter(has_text="model up to date").wait_for(timeout=PAGE_TIMEOUT_MS)


def measure(code: Path, n: int, labels: int, browser) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="alw-memory-"))
    serve = Serve(code, workdir)
    sampler = PeakSampler(serve)
    sampler.start()
    contexts = []
    try:
        for k in range(n):
            context = browser.new_context(viewport={"width": 1300, "height": 1000})
            context.set_default_timeout(PAGE_TIMEOUT_MS)
            context.route("**/*", _only_local)
            contexts.append(context)
            label_as(context, serve.url, f"annotator{k + 1}", labels)
        time.sleep(3)  # every poll and worker settled
        servers, kernels = serve.processes()
        if len(kernels) != n:
            raise RuntimeError(f"expected {n} kernels, found {len(kernels)}:\n{serve.log.read_text()[-3000:]}")
        server = [_memory(p) for p in servers]
        kernel = [_memory(p) for p in kernels]
        sampler.done.set()
        sampler.join()
        return {
            "n": n,
            "server": {key: sum(m[key] for m in server) for key in ("rss", "pss", "uss")},
            "kernels": kernel,
            "peak_rss": max(sampler.peak, sum(m["rss"] for m in server + kernel)),
        }
    finally:
        sampler.done.set()
        for context in contexts:
            context.close()
        serve.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def _mean(values) -> float:
    values = list(values)
    return sum(values) / len(values) if values else float("nan")


def table(results: dict[str, list[dict]]) -> str:
    """One row per measurement; *added per annotator* is the growth of the machine's total PSS from the row above."""
    lines = ["| code | N | kernel RSS (mean / max) | kernel PSS (mean) | kernel USS (mean) | server RSS | server PSS "
             "| all PSS / N | added per annotator (PSS) | peak RSS, all |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for label, rows in results.items():
        previous = None
        for row in sorted(rows, key=lambda r: r["n"]):
            kernels = row["kernels"]
            total_pss = row["server"]["pss"] + sum(k["pss"] for k in kernels)
            added = "—" if previous is None else f"{(total_pss - previous[1]) / (row['n'] - previous[0]):.0f}"
            previous = (row["n"], total_pss)
            lines.append(
                f"| {label} | {row['n']} | {_mean(k['rss'] for k in kernels):.0f} / {max(k['rss'] for k in kernels):.0f} "
                f"| {_mean(k['pss'] for k in kernels):.0f} | {_mean(k['uss'] for k in kernels):.0f} "
                f"| {row['server']['rss']:.0f} | {row['server']['pss']:.0f} | {total_pss / row['n']:.0f} | {added} "
                f"| {row['peak_rss']:.0f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, nargs="+", default=[1, 2, 4], help="annotators at once (default 1 2 4)")
    parser.add_argument("--labels", type=int, default=3, help="labels each annotator gives (default 3)")
    parser.add_argument("--code", action="append", default=[], metavar="LABEL=PATH",
                        help="an alwidgets checkout to measure (default: this one, as 'this checkout')")
    parser.add_argument("--out", type=Path, default=None,
                        help="the markdown report (default benchmarks/results/dashboard_memory.md; a temporary "
                             "folder for other --n or --labels)")
    args = parser.parse_args(argv)
    args.out = _output.file(parser, args.out, "dashboard_memory.md",
                            partial=_output.changed(parser, args, ("n", "labels")))
    codes = {}
    for spec in args.code or [f"this checkout={ROOT}"]:
        label, _, path = spec.partition("=")
        codes[label] = Path(path).resolve()
    from playwright.sync_api import sync_playwright

    results: dict[str, list[dict]] = {label: [] for label in codes}
    load_before = os.getloadavg()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            for n in args.n:
                for label, code in codes.items():
                    row = measure(code, n, args.labels, browser)
                    results[label].append(row)
                    print(f"{label} N={n}: kernels RSS {[round(k['rss']) for k in row['kernels']]} MB, "
                          f"PSS {[round(k['pss']) for k in row['kernels']]} MB; server RSS {row['server']['rss']:.0f} "
                          f"PSS {row['server']['pss']:.0f} MB; peak {row['peak_rss']:.0f} MB", flush=True)
        finally:
            browser.close()
    load_after = os.getloadavg()
    command = "python benchmarks/dashboard_memory.py " + " ".join(
        [f"--code '{label}={path}'" for label, path in codes.items()] if args.code else []
    ) + f" --n {' '.join(map(str, args.n))} --labels {args.labels}"
    text = (
        "# Dashboard memory: the server and one kernel per annotator\n\n"
        f"Measured with `{command.strip()}` (bundled MNIST campaign, 3,750 items; each annotator labels "
        f"{args.labels} items in their own Chromium context). MB = 2^20 bytes. "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after.\n\n"
        "RSS counts shared pages (libraries, a memory-mapped file) in full in every process; PSS divides each "
        "shared page between the processes sharing it (what the machine pays); USS is what only that process "
        "holds. *all PSS / N* is the server and every kernel, divided by the number of annotators.\n\n"
        + table(results) + "\n"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
