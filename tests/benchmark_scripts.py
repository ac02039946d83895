"""Load a script of benchmarks/ as a module, so that tests can call its functions; run its quick variant once."""

from __future__ import annotations

import atexit
import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"
RESULTS = BENCHMARKS / "results"


def load_script(name: str):
    """``benchmarks/<name>.py`` imported under the module name ``name``."""
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))  # as when the script runs: its folder is on the path, for its siblings
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def results_hashes() -> dict[str, str]:
    """The SHA-256 of every file under benchmarks/results, by its path there."""
    return {str(p.relative_to(RESULTS)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(RESULTS.rglob("*")) if p.is_file()}


@dataclass
class QuickRun:
    """One run of ``benchmarks/<script>.py --quick ...`` as the suite runs it: no ``--out``."""

    command: list[str]
    out: Path  # where the script said it wrote
    stdout: str
    before: dict[str, str]  # results_hashes() before the run
    after: dict[str, str]  # and after


_RUNS: dict[tuple[str, ...], QuickRun] = {}
_WRITING_INTO = re.compile(r"^--quick: writing into (\S+),", re.MULTILINE)


def quick_run(script: str, *args: str, timeout: float = 900) -> QuickRun:
    """Run ``benchmarks/<script>.py --quick *args`` once per test session (later calls reuse the run).

    The run gets no ``--out``: it must pick a temporary folder itself (it is
    told to make it inside a folder of its own, removed when the tests end),
    and leave benchmarks/results as it was; both are recorded, for the tests
    to check.
    """
    key = (script, *args)
    if key not in _RUNS:
        tmp = Path(tempfile.mkdtemp(prefix=f"alw-test-{script}-"))
        atexit.register(shutil.rmtree, tmp, True)
        command = [sys.executable, str(BENCHMARKS / f"{script}.py"), "--quick", *args]
        before = results_hashes()
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                                env={**os.environ, "TMPDIR": str(tmp)})
        after = results_hashes()
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
        said = _WRITING_INTO.search(result.stdout)
        assert said, f"{script} --quick did not say where it writes:\n{result.stdout[:2000]}"
        _RUNS[key] = QuickRun(command, Path(said.group(1)), result.stdout, before, after)
    return _RUNS[key]
