"""What bad input at scale costs ``python -m alwidgets serve --check`` (and so each visitor's kernel).

    python benchmarks/hostile_input.py                       # a million-column CSV and a 1 GB one-line text
    python benchmarks/hostile_input.py --quick               # 100,000 columns and a 64 MB text (~1 min)
    python benchmarks/hostile_input.py --code OLD_CHECKOUT   # the same files, first with another checkout's code

Two files are generated in a temporary folder (nothing is downloaded):

- ``wide.csv``: a text column, an id column and ``--columns`` more columns
  (1,000,000 by default: 14 MB), six rows;
- ``huge.csv``: three rows, one of them a single text of ``--text-mb`` MB.

For each, ``serve CONFIG --check`` runs in its own process (the config names
the text and id columns), and the script reports its wall time, CPU time
(user + system), peak resident memory and exit code, next to the same
figures for importing alwidgets alone (the floor every command pays). With
``--code DIR`` every command runs first with ``PYTHONPATH=DIR`` (say, a
checkout of an older commit), then with this checkout, one after the other,
so both are measured on the same machine at nearly the same time. The table
goes to stdout and to ``--out``/hostile_input.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _output  # benchmarks/_output.py: where a run writes

ROOT = Path(__file__).resolve().parents[1]

# Runs one command and prints its wall time, CPU time and peak memory as JSON (the child's own rusage).
MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
last = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1:] or [""]
print(json.dumps({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024,
                  "exit": done.returncode, "last_line": last[0][:160]}))
"""


def write_inputs(folder: Path, columns: int, text_mb: int) -> dict[str, Path]:
    """The two CSV files and their campaign configs; returns the configs by name."""
    with (folder / "wide.csv").open("w") as out:
        out.write("text,id," + ",".join(f"c{k}" for k in range(2, columns)) + "\n")
        for row in range(6):
            out.write(f"review number {row} is {'good' if row % 2 else 'bad'},r{row}" + "," * (columns - 2) + "\n")
    with (folder / "huge.csv").open("w") as out:
        out.write("id,text\nr1,a short review\nr2,")
        block = "x" * 2**20
        for _ in range(text_mb):
            out.write(block)
        out.write("\nr3,another short review\n")
    configs = {}
    for name in ("wide", "huge"):
        configs[name] = folder / f"{name}.toml"
        configs[name].write_text(f'[data]\nsource = "csv"\npath = "{name}.csv"\ntext_column = "text"\n'
                                 f'id_column = "id"\n[labels]\nclasses = ["good", "bad"]\n[store]\nurl = "{name}.db"\n')
    return configs


def measure(command: list[str], code: Path, cwd: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(code)}
    done = subprocess.run([sys.executable, "-c", MEASURE, *command], capture_output=True, text=True, env=env,
                          cwd=cwd, check=True)
    return json.loads(done.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 columns and a 64 MB text")
    parser.add_argument("--columns", type=int, default=None, help="columns of wide.csv (default 1,000,000)")
    parser.add_argument("--text-mb", type=int, default=None, help="size of the one-line text (default 1024)")
    parser.add_argument("--code", type=Path, action="append", default=[],
                        help="also measure with PYTHONPATH set to this checkout, before this one (repeatable)")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder (default benchmarks/results; a temporary folder for a quick or partial run)")
    args = parser.parse_args(argv)
    args.out = _output.folder(parser, args.out, "hostile_input", quick=args.quick,
                              partial=_output.changed(parser, args, ("columns", "text_mb")))
    columns = args.columns or (100_000 if args.quick else 1_000_000)
    text_mb = args.text_mb or (64 if args.quick else 1024)
    checkouts = [c.resolve() for c in args.code] + [ROOT]
    rows = []
    with tempfile.TemporaryDirectory(prefix="alw-hostile-") as tmp:
        folder = Path(tmp)
        configs = write_inputs(folder, columns, text_mb)
        print(f"wrote wide.csv ({(folder / 'wide.csv').stat().st_size / 2**20:.1f} MB, {columns:,} columns) and "
              f"huge.csv ({text_mb:,} MB text) in {folder}", flush=True)
        for code in checkouts:
            for what, command in (
                ("import alwidgets", [sys.executable, "-c", "import alwidgets.serving.cli, alwidgets.serving.config"]),
                (f"serve --check, {columns:,} columns", [sys.executable, "-m", "alwidgets", "serve",
                                                         str(configs["wide"]), "--check"]),
                (f"serve --check, a {text_mb:,} MB text", [sys.executable, "-m", "alwidgets", "serve",
                                                           str(configs["huge"]), "--check"]),
            ):
                for store in folder.glob("*.db"):
                    store.unlink()
                result = measure(command, code, folder)
                rows.append({"code": str(code), "what": what, **result})
                print(f"{code}: {what}: wall {result['wall']:.1f} s, CPU {result['cpu']:.1f} s, "
                      f"peak {result['rss_mb']:.0f} MB, exit {result['exit']}", flush=True)
    load = os.getloadavg()[0]
    lines = [
        "# Bad input at scale: `serve --check`",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M')} on {os.cpu_count()} cores (load average {load:.1f}: the "
        "machine is shared, so wall times vary; CPU time and memory vary less).",
        "",
        f"Command: `python benchmarks/hostile_input.py {' '.join(argv if argv is not None else sys.argv[1:])}`",
        "",
        "| code | what | wall (s) | CPU (s) | peak memory (MB) | exit | last line printed |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        lines.append(f"| {Path(r['code']).name} | {r['what']} | {r['wall']:.1f} | {r['cpu']:.1f} | "
                     f"{r['rss_mb']:.0f} | {r['exit']} | {r['last_line'].replace('|', '/')} |")
    text = "\n".join(lines) + "\n"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "hostile_input.md").write_text(text)
    print("\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
