"""Files every kernel of this machine can reuse: where they live, and read-only arrays shared through them.

A team's dashboard runs one kernel per annotator, and each would hold its
own copy of the campaign's arrays (the MNIST pool alone is 22 MB of float64).
:func:`shared_arrays` computes them once, writes them as ``.npy`` files in
:func:`cache_dir`, and hands every process a read-only memory map of the same
file: the operating system keeps one copy in its page cache for all of them.
No widget code here.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

__all__ = ["CACHE_ENV", "cache_dir", "shared_arrays"]

CACHE_ENV = "ALW_CACHE_DIR"
_FORMAT = 1


def cache_dir() -> Path:
    """Where cached results live: ``$ALW_CACHE_DIR``, else ``alwidgets-cache-<uid>`` in the temp folder."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    return Path(tempfile.gettempdir()) / f"alwidgets-cache-{uid}"


def _private_folder() -> Path | None:
    """The cache folder, made if needed; None unless it is this user's and nobody else may write in it."""
    folder = cache_dir()
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.lstat()
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or (hasattr(os, "getuid") and info.st_uid != os.getuid()):
        return None
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return None
    return folder


def shared_arrays(name: str, key: dict, compute: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """``compute()`` (named arrays of numbers), computed once per machine and memory-mapped read-only.

    The files are ``<cache_dir()>/<name>-<digest>-<array>.npy`` plus a list of
    the arrays written last, so a half-written set is never read. ``key`` (JSON
    data) must name everything the arrays depend on. If the cache folder
    cannot be used (not this user's, not writable, full), the arrays are
    computed and kept in memory, as without a cache.
    """
    digest = hashlib.sha256(json.dumps({"key": key, "format": _FORMAT}, sort_keys=True).encode()).hexdigest()[:16]
    folder = _private_folder()
    if folder is not None:
        manifest = folder / f"{name}-{digest}.json"
        try:
            names = json.loads(manifest.read_text())
            return {k: np.load(folder / f"{name}-{digest}-{k}.npy", mmap_mode="r", allow_pickle=False) for k in names}
        except (OSError, ValueError, TypeError):
            pass  # not there yet, or damaged: compute it again
    arrays = compute()
    if folder is None:
        return arrays
    try:
        for k, array in arrays.items():
            array = np.asarray(array)
            if array.dtype.hasobject:
                raise TypeError(f"array {k!r} holds Python objects; only numbers can be shared")
            path = folder / f"{name}-{digest}-{k}.npy"
            partial = path.with_name(f"{path.name}.{os.getpid()}.part")
            with partial.open("wb") as out:  # a file object: np.save would add ".npy" to a name
                np.save(out, array, allow_pickle=False)
            os.replace(partial, path)
        partial = manifest.with_name(f"{manifest.name}.{os.getpid()}.part")
        partial.write_text(json.dumps(sorted(arrays)))
        os.replace(partial, manifest)
        return {k: np.load(folder / f"{name}-{digest}-{k}.npy", mmap_mode="r", allow_pickle=False) for k in arrays}
    except OSError:
        return arrays
