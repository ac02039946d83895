"""One guard for every widget callback: an exception becomes words on the page, never a lost label.

ipywidgets calls a button's handler inside a ``try`` that only logs: a store
that fails during a label click would leave the page saying "model up to
date" while the label was never saved. Every widget callback runs behind
:func:`guarded` instead: the status line says what failed, the item stays on
screen, and nothing that was refused is counted.

State and threads
-----------------
A widget's traits (everything the page shows) are written only while holding
that widget's own ``_ui_lock`` (a ``threading.RLock``), and only by the
kernel's thread or by the widget's own :class:`~alwidgets.widgets.worker.Worker`
or :class:`~alwidgets.widgets.worker.Poller`. Another widget's thread never
writes them: it calls a method of that widget documented as thread-safe,
which takes the lock itself (the dashboard's poll calls
``Labeler.show_progress()``, never the Labeler's private redraws). Slow work
(a fit, a ranking, a store read) runs before the lock is taken, and its
result is handed over by one assignment of an immutable value, so the lock is
held only while traits are written and a click never waits for a fit.
:func:`report_error` takes the widget's ``_ui_lock`` too, so an error from any
thread is put on the page under the same rule.

The protocol
------------
- ``@guarded(action)`` decorates every method that a widget hands to
  ipywidgets or to a thread: ``on_click``, ``observe``, ``on_msg``,
  ``on_submit``, key listeners, and the tasks and callbacks of a Worker or
  Poller that touch widgets. Handlers are registered as ``self.method`` (or a
  lambda that only calls one guarded method); ``tests/test_widget_callbacks.py``
  reads every module of :mod:`alwidgets.widgets` and fails on any other.
- :func:`report_error` ``(widget, action, error)`` is the only place an
  exception becomes words: it logs the error with its traceback, builds the
  message with :func:`describe`, appends the message to ``widget.errors`` (a
  list every guarded widget has), then calls ``widget._show_problem(message,
  error)``: the one method each guarded widget implements to put the words on
  its own page (the dashboard's says a store problem without host names).
  A worker's failure callback calls ``report_error(self, "model update", error)``.
- Nested guards keep the outer action's name: a guarded method called while
  another guarded call runs on the same thread (a guarded click handler
  calling another guarded method) re-raises, and the outermost guard reports
  the error under its own action, once.
- :func:`call_apart` ``(callback, *args)`` calls a callback that belongs to
  another widget (a PageLink running the dashboard's ``start``, a key
  listener running the Labeler's ``handle_key``) outside the caller's guard:
  its own guard reports its errors, on its own widget's page.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable

from alwidgets.store import StoreError

__all__ = ["call_apart", "describe", "guarded", "is_guarded", "report_error"]

logger = logging.getLogger("alwidgets")

_INPUT_ERRORS = (ValueError, TypeError, IndexError, KeyError)
_running = threading.local()  # .depth: guarded calls running on this thread, outermost first
GUARD_ATTRIBUTE = "__alw_guarded__"  # set on a guarded method: its action


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


def report_error(widget, action: str, error: BaseException) -> str:
    """Log ``error``, append its words to ``widget.errors`` and show them with ``widget._show_problem``.

    Holds ``widget._ui_lock`` (when the widget has one) while doing so, so it
    may be called from any thread. A refused input (a ValueError, TypeError,
    IndexError or KeyError) and a store's error are logged in one line;
    anything else with its traceback. Returns the message. Never raises: a
    failure to show the message is logged beside the error itself.
    """
    message = describe(action, error)
    if isinstance(error, _INPUT_ERRORS) and not isinstance(error, StoreError):
        # a refused input ("no label to take back"): the page says it; the operator's log needs no traceback
        logger.info("alwidgets %s: %s refused: %s", type(widget).__name__, action, message)
    elif isinstance(error, StoreError):  # the store's own words say what is wrong (its details are logged there)
        logger.warning("alwidgets %s: %s", type(widget).__name__, message)
    else:
        logger.warning("alwidgets %s: %s failed", type(widget).__name__, action, exc_info=error)
    lock = getattr(widget, "_ui_lock", None)
    try:
        if lock is None:
            widget.errors.append(message)
            widget._show_problem(message, error)
        else:
            with lock:
                widget.errors.append(message)
                widget._show_problem(message, error)
    except Exception as failure:  # the page cannot say it (closed, half built): the log still does
        logger.error("alwidgets %s: could not show %r on the page", type(widget).__name__, message, exc_info=failure)
    return message


def guarded(action: str) -> Callable:
    """Decorate a widget method so that an exception it raises goes to :func:`report_error` under ``action``.

    The decorated method returns None when it failed. Called inside another
    guarded call on the same thread, it re-raises instead, and the outermost
    guard reports under its own action.
    """

    def decorate(method: Callable) -> Callable:
        @functools.wraps(method)
        def run(self, *args, **kwargs):
            depth = getattr(_running, "depth", 0)
            _running.depth = depth + 1
            try:
                return method(self, *args, **kwargs)
            except Exception as error:  # shown on the page, never swallowed
                if depth:
                    raise  # an outer guarded call reports it, under its own action
                report_error(self, action, error)
                return None
            finally:
                _running.depth = depth

        setattr(run, GUARD_ATTRIBUTE, action)
        return run

    return decorate


def is_guarded(function) -> bool:
    """Whether ``function`` (or the function of a bound method) was decorated with :func:`guarded`."""
    return hasattr(getattr(function, "__func__", function), GUARD_ATTRIBUTE)


def call_apart(callback: Callable, *args, **kwargs):
    """``callback(*args, **kwargs)`` as if no guarded call were running on this thread.

    For a widget that runs another widget's callback from its own guarded
    handler: the callback's own guard then reports its errors on its own page,
    instead of re-raising them to the caller's guard (see :func:`guarded`).
    """
    depth = getattr(_running, "depth", 0)
    _running.depth = 0
    try:
        return callback(*args, **kwargs)
    finally:
        _running.depth = depth
