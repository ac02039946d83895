"""Wall clock of importing alwidgets and of a notebook's first steps, in fresh Python processes.

Each snippet runs ``--runs`` times (default 5) in a new interpreter with
``PYTHONPATH`` set to a source tree; with ``--before TREE`` (e.g. a
``git archive`` of an older commit, unpacked), the two trees take turns, so
both see the same load. Prints the median, min and max per snippet and tree,
whether PyTorch ended up loaded, and the load average.

    python benchmarks/import_time.py
    git archive 356879a | tar -x -C /tmp/before && python benchmarks/import_time.py --before /tmp/before

For where the time goes, ``python -X importtime -c "import alwidgets"``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNIPPETS = {
    "import alwidgets": "import alwidgets",
    "from alwidgets import Labeler, Session, datasets": "from alwidgets import Labeler, Session, datasets",
    "notebook 04 up to its Labeler (moons, GP classifier)": """
import alwidgets as alw
from sklearn.gaussian_process import GaussianProcessClassifier
from sklearn.gaussian_process.kernels import RBF
moons = alw.datasets.make_moons(n_samples=300, noise=0.2, random_state=0)
pool, test = alw.datasets.split(moons, test_size=0.25, random_state=0)
session = alw.Session(GaussianProcessClassifier(1.0 * RBF(1.0), random_state=0), pool.X, strategy='margin',
                      X_test=test.X, y_test=test.y, random_state=0)
labeler = alw.Labeler(session, y_true=pool.y, budget=40)
""",
}


def run_once(code: str, tree: Path) -> tuple[float, bool | None]:
    """Seconds for a fresh interpreter to run ``code`` with ``tree`` first on the path; whether torch got loaded.

    A process that fails is reported on stderr, and its time is not counted (None for torch).
    """
    env = {**os.environ, "PYTHONPATH": str(tree)}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code + "\nimport sys; print('torch' in sys.modules)"], env=env,
                          capture_output=True, text=True, cwd=tree.anchor)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        print(f"{tree}: exit code {done.returncode}\n{done.stderr[-2000:]}", file=sys.stderr, flush=True)
        return seconds, None
    return seconds, done.stdout.split()[-1] == "True"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per snippet and tree (default 5)")
    parser.add_argument("--before", type=Path, help="an older source tree, measured in turn with this one")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    trees = {"now": ROOT} if args.before is None else {"before": args.before.resolve(), "now": ROOT}
    print("| snippet | tree | median s | min s | max s | torch loaded |\n| --- | --- | ---: | ---: | ---: | --- |")
    for name, code in SNIPPETS.items():
        times = {tree: [] for tree in trees}
        torch, failed = {}, {tree: 0 for tree in trees}
        for _ in range(args.runs):
            for tree, path in trees.items():
                seconds, loaded = run_once(code, path)
                if loaded is None:
                    failed[tree] += 1
                    continue
                torch[tree] = loaded
                times[tree].append(seconds)
        for tree, ts in times.items():
            note = f" ({failed[tree]} failed)" if failed[tree] else ""
            if not ts:
                print(f"| {name} | {tree} | — | — | — | every run failed |", flush=True)
                continue
            print(f"| {name} | {tree}{note} | {statistics.median(ts):.2f} | {min(ts):.2f} | {max(ts):.2f} | "
                  f"{'yes' if torch[tree] else 'no'} |", flush=True)
    print("\nload average when done: " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
