"""Jupyter widgets over a Session: the only part of alwidgets that imports ipywidgets.

:class:`Labeler` is the widget a person labels with; :mod:`views` holds the
ways an item can be shown. Both load on first use (PEP 562), so importing a
light module such as :mod:`alwidgets.widgets.background` does not load the
Labeler, the Session and modAL.
"""

from __future__ import annotations

import importlib

__all__ = ["Labeler", "views"]
_LAZY = {"Labeler": ("alwidgets.widgets.labeler", "Labeler"), "views": ("alwidgets.widgets.views", None)}


def __getattr__(name: str):
    try:
        module_name, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'alwidgets.widgets' has no attribute {name!r}") from None
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
