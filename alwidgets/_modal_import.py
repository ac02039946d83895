"""Mend modAL when it is imported, and keep it from importing PyTorch.

``import alwidgets`` must be cheap (a notebook's first widget waits for it),
so it no longer imports modAL. It installs :class:`ModALHook` instead, an
import hook that acts the first time anything imports modAL:

- ``modAL.utils.data`` runs ``try: import torch`` at import, which costs over
  a second when PyTorch is installed, only to stack tensors. The functions that
  do so are replaced by :mod:`alwidgets._compat`, which finds torch among the
  loaded modules when it is handed a tensor. So this module is run with torch
  reported missing, unless torch is already loaded (then modAL gets it).
- Once ``modAL`` is imported, :func:`alwidgets._compat.apply` patches it for
  today's numpy, scikit-learn and pandas, as ``import alwidgets`` used to.

Only the import of ``modAL.utils.data`` itself sees torch as missing: while it
runs, ``sys.modules["torch"]`` is None (Python's way to say "not importable"),
then the entry is removed again. ``modAL.dropout``, which needs torch, imports
it for itself whenever someone imports that module.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
import threading

__all__ = ["install", "ModALHook"]

_DATA = "modAL.utils.data"
_LOCK = threading.Lock()


class _Loader(importlib.abc.Loader):
    """The real loader of a modAL module, with something done around ``exec_module``."""

    def __init__(self, loader, name: str):
        self.loader = loader
        self.name = name

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        if self.name == _DATA and "torch" not in sys.modules:
            sys.modules["torch"] = None  # type: ignore[assignment]  (makes `import torch` raise ImportError)
            try:
                self.loader.exec_module(module)
            finally:
                if sys.modules.get("torch", 0) is None:
                    del sys.modules["torch"]
            return
        self.loader.exec_module(module)
        if self.name == "modAL":
            from alwidgets import _compat

            _compat.apply()

    def __getattr__(self, name):  # get_code, get_source, is_package... of the real loader
        return getattr(self.loader, name)


class ModALHook(importlib.abc.MetaPathFinder):
    """Finds ``modAL`` and ``modAL.utils.data`` as the other finders do, then wraps their loaders."""

    names = ("modAL", _DATA)

    def find_spec(self, fullname, path, target=None):
        if fullname not in self.names:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is None:
            return spec
        spec.loader = _Loader(spec.loader, fullname)
        return spec


def install() -> None:
    """Patch modAL now if it is loaded, else when it is first imported. Safe to call more than once."""
    with _LOCK:
        if "modAL" in sys.modules:
            from alwidgets import _compat

            _compat.apply()
            return
        if not any(isinstance(finder, ModALHook) for finder in sys.meta_path):
            sys.meta_path.insert(0, ModALHook())
