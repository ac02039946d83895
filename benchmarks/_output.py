"""Where a benchmark writes: the committed results for a full run, elsewhere for a quick or partial one.

``benchmarks/results`` holds the numbers the README quotes, made by full runs.
A quick run (``--quick``: small data, few seeds, to prove the script runs) or
a partial one (a subset of the scenarios, fewer seeds, other sizes...) would
overwrite them with numbers that mean something else. So every script in
``benchmarks/`` picks its output with :func:`folder` (or :func:`file`):

- a full run writes into ``--out``, by default ``benchmarks/results``;
- a partial run writes into ``--out`` when given, otherwise into a fresh
  temporary folder (it prints which); giving ``--out benchmarks/results``
  is how to add a partial run to the committed results on purpose (e.g.
  ``label_efficiency.py --merge``);
- a quick run writes into ``--out`` or a fresh temporary folder, and never
  into ``benchmarks/results``: asking for that is an error.

Set ``ALW_BENCHMARK_WHERE=1`` to have a script print the folder it would
write into and stop before measuring anything (what the tests check).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
WHERE = "ALW_BENCHMARK_WHERE"  # set: print the chosen output, then exit (nothing is measured or written)


def in_results(path: Path) -> bool:
    """Whether ``path`` is ``benchmarks/results`` or inside it."""
    path = Path(path).resolve()
    return path == RESULTS or RESULTS in path.parents


def changed(parser: argparse.ArgumentParser, args: argparse.Namespace, names: Iterable[str]) -> list[str]:
    """The options among ``names`` (dests) given a value other than their default: what makes a run partial."""
    out = []
    for name in names:
        if not hasattr(args, name):  # an argparse.SUPPRESS default that was not given
            continue
        if getattr(args, name) != parser.get_default(name):
            out.append("--" + name.replace("_", "-"))
    return out


def folder(parser: argparse.ArgumentParser, out: Path | None, name: str, *, quick: bool = False,
           partial: Iterable[str] = (), default: Path = RESULTS) -> Path:
    """The folder a run writes into (see the module's docstring); exits through ``parser.error`` if refused.

    ``out`` is what ``--out`` gave (None: not given); ``partial`` lists the
    options that make the run partial; ``name`` names the temporary folder.
    """
    partial = list(partial)
    if quick and out is not None and in_results(out):
        parser.error(f"--quick never writes into {RESULTS} (the committed results): give another --out, or none "
                     "for a temporary folder")
    if out is None and (quick or partial):
        out = Path(tempfile.mkdtemp(prefix=f"alw-{name}-"))
        why = "--quick" if quick else ", ".join(partial)
        print(f"{why}: writing into {out}, not into benchmarks/results (give --out to choose)", flush=True)
    chosen = default if out is None else Path(out)
    if os.environ.get(WHERE):
        print(f"{WHERE}: {chosen.resolve()}", flush=True)
        sys.exit(0)
    return chosen


def file(parser: argparse.ArgumentParser, out: Path | None, filename: str, *, quick: bool = False,
         partial: Iterable[str] = ()) -> Path:
    """As :func:`folder`, for a script whose ``--out`` names its one output file ``filename``."""
    if out is not None and quick and in_results(out):
        parser.error(f"--quick never writes into {RESULTS} (the committed results): give another --out, or none "
                     "for a temporary folder")
    if out is not None:
        folder(parser, Path(out).parent, Path(filename).stem, quick=False)  # ALW_BENCHMARK_WHERE stops here
        return Path(out)
    return folder(parser, None, Path(filename).stem, quick=quick, partial=partial) / filename
