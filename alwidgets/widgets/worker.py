"""One background thread that keeps the model and plots up to date, off the click path.

A label click only records the label and shows the next item; it then asks
the :class:`Worker` for an update. The worker runs one update at a time, in
the order asked. Requests made while an update runs are served together by
the next one: the labels are already recorded in the session, and one refit
teaches the learner all of them, so no label is lost and the person never
waits for a fit that is already out of date.

The threads here send widget updates to the page. When the kernel ends, they
are stopped and given a few seconds to finish before the kernel closes its
sockets (see :func:`stop_before_exit`): an update sent on a closed socket would
end in a traceback in the server's log instead of a quiet exit.

A task or callback that touches widgets is a ``@guarded`` method of its
widget, and writes that widget's traits only under the widget's own
``_ui_lock``; the rule, and the error protocol, are in
:mod:`alwidgets.widgets._guard`.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections.abc import Callable

__all__ = ["Poller", "Worker", "stop_before_exit"]

log = logging.getLogger("alwidgets")
EXIT_GRACE_SECONDS = 5.0  # how long the kernel's exit waits for running updates, all threads together
_STOP_AT_EXIT: weakref.WeakSet = weakref.WeakSet()  # owners of threads that are running
_exit_hook: list = []  # the atexit function, once registered


def stop_before_exit(owner) -> None:
    """Have ``owner.stop()`` then ``owner.join(timeout)`` called as the kernel exits, before its sockets close.

    ``atexit`` runs the last function registered first. ipykernel registers the
    closing of its sockets as it starts, before any cell runs; this hook is
    registered later (on the first thread started), so it runs before that.
    """
    _STOP_AT_EXIT.add(owner)
    if not _exit_hook:
        _exit_hook.append(_stop_all)
        atexit.register(_stop_all)


def _stop_all(owners=None, grace: float | None = None) -> None:
    """Stop ``owners`` (all running ones by default) and wait up to ``grace`` (:data:`EXIT_GRACE_SECONDS`,
    read when called, so a test can lengthen it) for them all together."""
    if grace is None:
        grace = EXIT_GRACE_SECONDS
    owners = list(_STOP_AT_EXIT if owners is None else owners)
    for owner in owners:
        owner.stop()
    deadline = time.monotonic() + grace
    for owner in owners:
        owner.join(max(0.0, deadline - time.monotonic()))


class Worker:
    """Run ``task()`` on a background thread whenever an update is requested.

    Parameters
    ----------
    task : callable
        The update; runs on the worker thread, never two at once.
    on_error : callable, optional
        Called with the exception when ``task`` raises; the worker keeps going.
    on_busy, on_idle : callable, optional
        Called when the worker goes from idle to busy (on the requesting
        thread) and back (on the worker thread). Both run under the worker's
        lock, so they are applied in the order they happen; keep them short.
    cancel : callable, optional
        Called by :meth:`stop` to ask a running ``task`` to end early (a long
        background run); without it, the running update is let finish.
    name : str
        The thread's name, to recognise it in a debugger.
    """

    def __init__(
        self,
        task: Callable[[], None],
        on_error: Callable[[BaseException], None] | None = None,
        on_busy: Callable[[], None] | None = None,
        on_idle: Callable[[], None] | None = None,
        name: str = "alwidgets-worker",
        cancel: Callable[[], None] | None = None,
    ):
        self._task = task
        self._cancel = cancel
        self._on_error = on_error
        self._on_busy = on_busy
        self._on_idle = on_idle
        self._name = name
        self._cond = threading.Condition()
        self._requested = 0  # updates asked for so far
        self._served = 0  # updates whose request an update has covered
        self._running = False
        self._covering = 0  # the requests the running update serves
        self._stopped = False
        self._thread: threading.Thread | None = None
        self.errors: list[BaseException] = []

    @property
    def busy(self) -> bool:
        """Whether an update is running or waiting to run."""
        with self._cond:
            return self._running or self._served < self._requested

    @property
    def superseded(self) -> bool:
        """Whether updates were asked for after the running one started (its result is already out of date)."""
        with self._cond:
            return self._running and self._requested > self._covering

    def request(self) -> None:
        """Ask for an update; returns at once."""
        with self._cond:
            if self._stopped:
                raise RuntimeError("this worker was stopped; create a new Labeler to go on labeling")
            was_idle = not self._running and self._served >= self._requested
            self._requested += 1
            if was_idle and self._on_busy is not None:
                self._on_busy()
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
                self._thread.start()
                stop_before_exit(self)
            self._cond.notify_all()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every requested update is done; returns False if ``timeout`` passed first."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._running and self._served >= self._requested, timeout)

    def stop(self) -> None:
        """Let the thread finish the current update (or cancel it, see ``cancel``) and end."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        if self._cancel is not None:
            self._cancel()

    def join(self, timeout: float | None = None) -> bool:
        """After :meth:`stop`, wait for the thread to end; returns False if ``timeout`` passed first."""
        thread = self._thread
        if thread is None or thread is threading.current_thread():
            return True
        thread.join(timeout)
        return not thread.is_alive()

    def _loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._stopped or self._served < self._requested)
                if self._stopped:
                    self._served = self._requested
                    self._cond.notify_all()
                    return
                covered = self._requested
                self._covering = covered
                self._running = True
            try:
                self._task()
            except Exception as error:  # shown to the person by on_error, never dropped
                self.errors.append(error)
                if self._on_error is not None:
                    self._on_error(error)
            with self._cond:
                self._served = covered
                self._running = False
                if self._served >= self._requested and self._on_idle is not None:
                    try:
                        self._on_idle()  # sees the worker idle: ``busy`` is False here
                    except Exception as error:
                        self.errors.append(error)
                        if self._on_error is not None:
                            self._on_error(error)
                self._cond.notify_all()


class Poller:
    """Call ``task()`` on a thread of its own every ``seconds`` (only when woken, if None) and on :meth:`wake`.

    For reading what others change (a shared store's progress) off the click
    path: a wake that comes while ``task`` runs is served by one more call.
    """

    def __init__(self, task: Callable[[], None], seconds: float | None, name: str = "alwidgets-poll"):
        self._task = task
        self._seconds = seconds
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()
        stop_before_exit(self)

    def wake(self) -> None:
        """Call ``task`` soon, without waiting for the next period."""
        self._wake.set()

    def stop(self) -> None:
        """End the thread after the call in progress, if any."""
        self._stopped.set()
        self._wake.set()

    def join(self, timeout: float | None = None) -> bool:
        """After :meth:`stop`, wait for the thread to end; returns False if ``timeout`` passed first."""
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _loop(self) -> None:
        while True:
            self._wake.wait(self._seconds)
            self._wake.clear()
            if self._stopped.is_set():
                return
            try:
                self._task()  # a guarded method: its errors are on its page already
            except Exception as error:  # an unguarded task: logged, and the poll goes on
                log.error("alwidgets: the poll %s failed", self._thread.name, exc_info=error)
