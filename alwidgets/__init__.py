"""alwidgets: Jupyter widgets for interactive active learning on modAL.

Importing alwidgets is cheap: each public name imports its module the first
time it is used (PEP 562), so a notebook pays only for what it uses. modAL is
patched to work on today's numpy, scikit-learn and pandas (see
:mod:`alwidgets._compat`) whenever it is imported, by alwidgets or anyone else
(see :mod:`alwidgets._modal_import`), and without PyTorch unless torch is
already loaded.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

from alwidgets import _modal_import

_modal_import.install()

__version__ = "0.1.0"

# public name -> (module, attribute), or (module, None) for the module itself
_LAZY = {
    "Session": ("alwidgets.engine.session", "Session"),
    "LabelingError": ("alwidgets.engine.session", "LabelingError"),
    "Stream": ("alwidgets.experiments.stream", "Stream"),
    "make_committee": ("alwidgets._learners", "make_committee"),
    "strategies": ("alwidgets.strategies", None),
    "datasets": ("alwidgets.datasets", None),
    "plots": ("alwidgets.plots", None),
    "RandomBaseline": ("alwidgets.experiments.baseline", "RandomBaseline"),
    "Labeler": ("alwidgets.widgets.labeler", "Labeler"),
    "views": ("alwidgets.widgets.views", None),
    "Comparison": ("alwidgets.experiments.comparison", "Comparison"),
    "StrategyComparison": ("alwidgets.widgets.comparison", "StrategyComparison"),
    # modules that live in a layer's folder, still reachable as alw.<name>
    "session": ("alwidgets.engine.session", None),
    "review": ("alwidgets.engine.review", None),
    "stopping": ("alwidgets.engine.stopping", None),
    "training": ("alwidgets.engine.training", None),
    "export": ("alwidgets.store.export", None),
    "agreement": ("alwidgets.store.agreement", None),
    "diversity": ("alwidgets.strategies.diversity", None),
    "transfer": ("alwidgets.strategies.transfer", None),
    "multilabel": ("alwidgets.strategies.multilabel", None),
    "min_max": ("alwidgets.strategies.min_max", None),
    "stream": ("alwidgets.experiments.stream", None),
    "comparison": ("alwidgets.experiments.comparison", None),
    "baseline": ("alwidgets.experiments.baseline", None),
    "config": ("alwidgets.serving.config", None),
}

__all__ = ["Session", "Stream", "LabelingError", "make_committee", "strategies", "datasets", "plots",
           "RandomBaseline", "Labeler", "views", "Comparison", "StrategyComparison"]


# `import alwidgets.config` and the other module paths of before the layered layout give the moved module itself
_MOVED = {f"{__name__}.{name}": module for name, (module, attribute) in _LAZY.items()
          if attribute is None and module != f"{__name__}.{name}"}


class _MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds a module under its old path and hands out the one object that lives at the new path."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname in _MOVED:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def __init__(self):
        self._specs = {}

    def create_module(self, spec):
        module = importlib.import_module(_MOVED[spec.name])
        self._specs[module.__name__] = module.__spec__
        return module

    def exec_module(self, module):
        module.__spec__ = self._specs[module.__name__]  # importlib gave it the old path's spec: put its own back


if not any(isinstance(finder, _MovedModuleFinder) for finder in sys.meta_path):
    sys.meta_path.append(_MovedModuleFinder())


def __getattr__(name: str):
    try:
        module_name, attribute = _LAZY[name]
    except KeyError:
        module_name, attribute = f"{__name__}.{name}", None  # a submodule: alw.export, alw.agreement, ...
        if name.startswith("_") or importlib.util.find_spec(module_name) is None:
            raise AttributeError(f"module 'alwidgets' has no attribute {name!r}") from None
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value  # the next access is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
