"""One background thread that keeps the model and plots up to date, off the click path.

A label click only records the label and shows the next item; it then asks
the :class:`Worker` for an update. The worker runs one update at a time, in
the order asked. Requests made while an update runs are served together by
the next one: the labels are already recorded in the session, and one refit
teaches the learner all of them, so no label is lost and the person never
waits for a fit that is already out of date.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["Worker"]


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
    ):
        self._task = task
        self._on_error = on_error
        self._on_busy = on_busy
        self._on_idle = on_idle
        self._name = name
        self._cond = threading.Condition()
        self._requested = 0  # updates asked for so far
        self._served = 0  # updates whose request an update has covered
        self._running = False
        self._stopped = False
        self._thread: threading.Thread | None = None
        self.errors: list[BaseException] = []

    @property
    def busy(self) -> bool:
        """Whether an update is running or waiting to run."""
        with self._cond:
            return self._running or self._served < self._requested

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
            self._cond.notify_all()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every requested update is done; returns False if ``timeout`` passed first."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._running and self._served >= self._requested, timeout)

    def stop(self) -> None:
        """Let the thread finish the current update and end."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    def _loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._stopped or self._served < self._requested)
                if self._stopped:
                    self._served = self._requested
                    self._cond.notify_all()
                    return
                covered = self._requested
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
