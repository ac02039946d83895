"""One guard for every widget callback: an exception becomes words on the page, never a lost label.

ipywidgets calls a button's handler inside a ``try`` that only logs: a store
that fails during a label click would leave the page saying "model up to
date" while the label was never saved. Every callback of the Labeler, the
classroom race and the dashboard runs behind :func:`guarded` instead, which
hands the exception to the widget's ``_report_error(action, error)``: the
status line says what failed, the item stays on screen, and nothing that was
refused is counted.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from alwidgets.store import StoreError

__all__ = ["guarded", "describe"]

logger = logging.getLogger("alwidgets")

_INPUT_ERRORS = (ValueError, TypeError, IndexError, KeyError)


def describe(action: str, error: BaseException) -> str:
    """A sentence for a person: what failed, and why, in the error's own words."""
    text = str(error) or type(error).__name__
    if action in ("label", "submit"):
        if isinstance(error, _INPUT_ERRORS) and not isinstance(error, StoreError):
            return text
        return f"the label was not saved ({_kind(error)}{text}); the item is still here, try again"
    if isinstance(error, _INPUT_ERRORS):
        return text
    return f"{action} failed ({_kind(error)}{text})"


def _kind(error: BaseException) -> str:
    return "" if isinstance(error, _INPUT_ERRORS) else f"{type(error).__name__}: "


def guarded(action: str) -> Callable:
    """Decorate a widget method so that any exception goes to ``self._report_error(action, error)``."""

    def decorate(method: Callable) -> Callable:
        @functools.wraps(method)
        def run(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except Exception as error:  # shown on the page, never swallowed
                logger.warning("alwidgets %s: %s failed", type(self).__name__, action, exc_info=error)
                self._report_error(action, error)
                return None

        return run

    return decorate
