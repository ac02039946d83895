"""Team load: N annotators label the MNIST campaign at once, one label every 2 s each, through a dashboard page's code.

Each annotator is a process of its own, as a dashboard kernel is: it builds the
campaign's ``Dashboard`` headless, starts labeling under its name, and every
``--interval`` seconds presses the true class of the item on screen
(``Labeler.label``, the click path of a page); the Labeler's worker updates the
model and redraws after each label, as on a page. Two ways of serving the
campaign are run for each N in the same run:

- **service**: ``python -m alwidgets service`` (what ``serve`` starts): one
  process writes the store and trains the campaign's one model; the pages
  follow the model it publishes and fit nothing;
- **kernels**: what every dashboard kernel did before the campaign service:
  each page opens the SQLite store itself and trains its own model on
  everyone's labels.

The store starts with ``--seeded`` labels already given (true labels of the
first items), as a campaign under way. Measured per run:

- **key → next item**: the time ``Labeler.label`` takes (record the label,
  lease and show the next item), p50 and p95 over every click of every page;
- **model updates per minute**: fits made, by the service or by all kernels together;
- **CPU seconds per label**: user + system CPU of every process of the run
  (annotators, and the service with its trainer process) divided by the labels given;
- **staleness**: at each click, the labels the page knows of minus those the
  model that ranks its items was fitted on; median and p95;
- **annotator kernel USS**: memory only that process has (psutil), median over the annotators.

    .venv/bin/python benchmarks/team_load.py                     # N = 1 2 4 8 16, 60 s each: about 15 min
    .venv/bin/python benchmarks/team_load.py --quick --out /tmp/team_load   # what the suite runs

Writes ``team_load.md`` and ``team_load.json`` to ``--out`` (default benchmarks/results; a quick or partial run
writes into a temporary folder unless ``--out`` is given, and a quick one never into benchmarks/results: see
``benchmarks/_output.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import _output  # benchmarks/_output.py: where a run writes
import numpy as np
import psutil

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
MODES = ("service", "kernels")


# ---------------------------------------------------------------------- one annotator (a process of its own)


def annotate(name: str, config: str, go: str, offset: float, seconds: float, interval: float, out: str) -> None:
    """Build the page, say so, wait for the word go, then label as a page would for ``seconds``; write the measures.

    ``out + ".ready"`` says the page is built; the file ``go`` holds the time
    everyone starts at (this annotator ``offset`` seconds later, so that the
    clicks of N people are spread over the interval).
    """
    from alwidgets import datasets
    from alwidgets.serving.config import load_campaign
    from alwidgets.widgets.dashboard import Dashboard

    truth = datasets.load_mnist().y
    campaign = load_campaign(config)
    page = Dashboard(campaign)
    labeler = page.start(name)  # what Start does on a page opened for its visitor
    assert labeler is not None, page.message.value
    session = labeler.session
    clicks, stale = [], []
    Path(out + ".ready").write_text(name)
    while not Path(go).exists():  # the run starts once every page is built
        time.sleep(0.05)
    start_at = float(Path(go).read_text()) + offset
    time.sleep(max(0.0, start_at - time.time()))
    versions_before = session.model_version
    cpu_before = psutil.Process().cpu_times()
    next_click = time.time()
    end = start_at + seconds
    while time.time() < end and labeler.shown:
        time.sleep(max(0.0, next_click - time.time()))
        next_click += interval
        idx = labeler.shown[0]
        true = int(truth[int(session.item_ids[idx].split("-")[1])])
        stale.append(session.n_labeled - session.snapshot.n_labels)
        started = time.perf_counter()
        labeler.label(true)
        clicks.append(time.perf_counter() - started)
    labeler.wait(900)  # the last update of an overloaded run (kernels, N = 16) can take minutes
    cpu = psutil.Process().cpu_times()
    result = {"name": name, "clicks": clicks, "stale": stale, "errors": list(labeler.errors),
              "fits": session.model_version - versions_before if not _follows(session) else 0,
              "cpu": (cpu.user - cpu_before.user) + (cpu.system - cpu_before.system),
              "uss": psutil.Process().memory_full_info().uss}
    Path(out).write_text(json.dumps(result))
    page.close()


def _follows(session) -> bool:
    from alwidgets.engine.following import FollowingTrainer

    return isinstance(session.trainer, FollowingTrainer)


# ---------------------------------------------------------------------- one run: a mode and a number of annotators


def write_config(folder: Path, store: Path) -> Path:
    config = folder / "campaign.toml"
    config.write_text(f'title = "Team load"\n\n[data]\nsource = "mnist"\n\n[store]\nurl = "{store}"\n')
    return config


def seed_store(config: Path, n: int) -> None:
    """Give the first ``n`` items their true labels, under one annotator: a campaign under way."""
    from alwidgets import datasets
    from alwidgets.serving.config import load_campaign
    from alwidgets.store import LABEL, LabelEvent

    truth = datasets.load_mnist().y
    campaign = load_campaign(str(config))
    store = campaign.open_store()
    try:
        store.append_many([LabelEvent(item_id=item, kind=LABEL, label=int(truth[int(item.split("-")[1])]),
                                      annotator="earlier")
                           for item in campaign.item_ids[:n]])
    finally:
        store.close()


def cpu_seconds(process) -> dict[int, float]:
    """CPU seconds so far of ``process`` and of each of its children (the service trains in one), by pid."""
    found = {}
    for each in [process, *process.children(recursive=True)]:
        try:
            times = each.cpu_times()
        except psutil.NoSuchProcess:
            continue
        found[each.pid] = times.user + times.system
    return found


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the campaign service ended with code {process.returncode}")
        try:
            urllib.request.urlopen(f"{url}/api/health", timeout=5).read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the campaign service did not answer in time")


def wait_until_ready(annotators: list[subprocess.Popen], outs: list[Path], folder: Path) -> None:
    """Wait until every annotator's page is built (its ``.ready`` file); fail with its log if one ends before."""
    deadline = time.monotonic() + 600
    while not all(Path(f"{out}.ready").exists() for out in outs):
        for k, process in enumerate(annotators):
            if process.poll() is not None:
                raise RuntimeError(f"annotator {k} ended before its page was built: "
                                   + (folder / f"a{k}.log").read_text()[-3000:])
        if time.monotonic() > deadline:
            raise RuntimeError("the pages were not built within 10 minutes")
        time.sleep(0.1)


def model_version(url: str) -> int:
    return json.loads(urllib.request.urlopen(f"{url}/api/model", timeout=30).read())["version"]


def run(mode: str, n: int, args) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"team-load-{mode}-{n}-") as tmp:
        folder = Path(tmp)
        config = write_config(folder, folder / "labels.db")
        seed_store(config, args.seeded)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("ALW_SERVICE_URL", None)
        service = None
        if mode == "service":
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            service = subprocess.Popen([sys.executable, "-m", "alwidgets", "service", str(config), "--port", str(port),
                                        "--identity", "standalone"], env=env, stdout=subprocess.DEVNULL,
                                       stderr=open(folder / "service.log", "w"))
            wait_until_up(url, service)
            env["ALW_SERVICE_URL"] = url
            version_before = model_version(url)
            service_cpu_before = cpu_seconds(psutil.Process(service.pid))
        outs = [folder / f"annotator-{k}.json" for k in range(n)]
        go = folder / "go"
        annotators = [subprocess.Popen([sys.executable, __file__, "--annotator", f"annotator-{k}", "--config",
                                        str(config), "--go", str(go), "--offset", str(k * args.interval / n),
                                        "--seconds", str(args.seconds), "--interval", str(args.interval),
                                        "--result", str(outs[k])], env=env, stderr=open(folder / f"a{k}.log", "w"))
                      for k in range(n)]
        wait_until_ready(annotators, outs, folder)
        go.write_text(str(time.time() + 1.0))
        for process in annotators:
            process.wait(timeout=args.seconds + 600)
        failed = [k for k, p in enumerate(annotators) if p.returncode != 0]
        if failed:
            raise RuntimeError(f"annotator {failed[0]} failed: " + (folder / f"a{failed[0]}.log").read_text()[-3000:])
        results = [json.loads(out.read_text()) for out in outs]
        fits = sum(r["fits"] for r in results)
        cpu = sum(r["cpu"] for r in results)
        if service is not None:
            fits = model_version(env["ALW_SERVICE_URL"]) - version_before
            cpu += sum(seconds - service_cpu_before.get(pid, 0.0)
                       for pid, seconds in cpu_seconds(psutil.Process(service.pid)).items())
            service.terminate()
            service.wait(60)
    clicks = np.concatenate([r["clicks"] for r in results]) * 1000
    stale = np.concatenate([r["stale"] for r in results])
    labels = len(clicks)
    return {"mode": mode, "n": n, "labels": labels, "click_p50_ms": float(np.percentile(clicks, 50)),
            "click_p95_ms": float(np.percentile(clicks, 95)), "updates_per_min": fits / (args.seconds / 60),
            "cpu_s_per_label": cpu / max(labels, 1), "stale_median": float(np.median(stale)),
            "stale_p95": float(np.percentile(stale, 95)),
            "uss_mb": float(np.median([r["uss"] for r in results]) / 2**20),
            "errors": sum(len(r["errors"]) for r in results)}


def table(rows: list[dict]) -> str:
    lines = ["| serving | N | labels | key → next item p50 / p95 | model updates / min | CPU s / label | "
             "staleness median / p95 | annotator kernel USS |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        lines.append(f"| {r['mode']} | {r['n']} | {r['labels']} | {r['click_p50_ms']:.1f} / {r['click_p95_ms']:.1f} ms | "
                     f"{r['updates_per_min']:.1f} | {r['cpu_s_per_label']:.2f} | {r['stale_median']:.0f} / "
                     f"{r['stale_p95']:.0f} | {r['uss_mb']:.0f} MB |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the annotators label in each run")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between two labels of one annotator")
    parser.add_argument("--seeded", type=int, default=1000, help="labels already in the store when a run starts")
    parser.add_argument("--quick", action="store_true", help="N = 1 and 2, 12 s each, 200 labels seeded")
    parser.add_argument("--out", type=Path, default=None)
    # one annotator's process
    parser.add_argument("--annotator", help=argparse.SUPPRESS)
    parser.add_argument("--config", help=argparse.SUPPRESS)
    parser.add_argument("--go", help=argparse.SUPPRESS)
    parser.add_argument("--offset", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.annotator:
        annotate(args.annotator, args.config, args.go, args.offset, args.seconds, args.interval, args.result)
        return 0
    out = _output.folder(parser, args.out, "team_load", quick=args.quick,
                         partial=_output.changed(parser, args, ("n", "modes", "seconds", "interval", "seeded")))
    if args.quick:
        args.n, args.seconds, args.seeded = [1, 2], 12.0, 200
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in args.n:
        for mode in args.modes:
            started = time.perf_counter()
            rows.append(run(mode, n, args))
            print(f"{mode:8} N={n:2}: {rows[-1]} ({time.perf_counter() - started:.0f} s)", flush=True)
    command = "python benchmarks/team_load.py " + " ".join(argv if argv is not None else sys.argv[1:])
    text = (f"# Team load\n\n`{command.strip()}` on {platform.node()} ({os.cpu_count()} cores), "
            f"{time.strftime('%Y-%m-%d')}: {args.seeded} labels in the store before each run, each annotator "
            f"labeling every {args.interval:g} s for {args.seconds:g} s.\n\n{table(rows)}\n")
    (out / "team_load.md").write_text(text)
    (out / "team_load.json").write_text(json.dumps(rows, indent=1))
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
