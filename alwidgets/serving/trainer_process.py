"""The campaign's one trainer in a process of its own, so that no fit holds the interpreter that answers pages.

A :class:`~alwidgets.serving.service.Trainer` thread shares the service's
interpreter lock: while it fits, a page's request waits its turn, and a
lowered thread priority makes that worse (the niced thread is descheduled
while it holds the lock). Here the fitting runs in a child process, niced as
a whole, that builds the same campaign from the same config and reads the
same store, read-only. The service wakes it after each write; everything
that arrives during an update waits for one more. Each new model comes back
whole (the snapshot, and the JSON pages are sent for it, made in the child),
and the service publishes it with one assignment.

If the child dies, no label is lost (they are all in the store): the
failure is recorded, and the next label starts another, which goes on from
the last published model (its version, history and coefficients; the stop
signal's window starts again).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading

__all__ = ["TrainerProcess"]

log = logging.getLogger("alwidgets.service")
_WAKE, _STOP = b"w", b"s"


class TrainerProcess:
    """Runs the campaign's updates in a child process; the same interface as :class:`~alwidgets.serving.service.Trainer`.

    Parameters
    ----------
    config : alwidgets.serving.config.Config
        The campaign's config: the child builds the campaign and opens its store from it.
    session : Session
        The service's session, whose model is replaced by each one the child publishes.
    publish : callable
        ``publish(snapshot, body, text)``, called on a thread of this process for each new model.
    nice : int
        How far below the service's priority the child runs.
    """

    def __init__(self, config, session, publish, *, nice: int | None = None):
        from alwidgets.serving.service import TRAINER_NICE

        self.config, self.session, self.publish = config, session, publish
        self.nice = TRAINER_NICE if nice is None else nice
        self.updates = 0
        self.failures: list[str] = []
        self._published = threading.Condition()
        self._lock = threading.Lock()  # wake() runs on the request thread, stop() on another
        self._process = None
        self._conn = None
        self._stopping = False

    @property
    def pid(self) -> int | None:
        """The child's process id, or None before :meth:`start`."""
        return None if self._process is None else self._process.pid

    def start(self) -> TrainerProcess:
        with self._lock:
            self._spawn()
        return self

    def _spawn(self) -> None:
        context = multiprocessing.get_context("spawn")  # no fork of a process with threads and open connections
        conn, child_end = context.Pipe()
        # the child starts from the model published last: versions and history go on, and no label is refitted
        process = context.Process(target=serve_updates, args=(child_end, self.config, self.nice, self.session.snapshot),
                                  name="alwidgets-trainer", daemon=True)
        process.start()
        child_end.close()
        self._conn, self._process = conn, process
        threading.Thread(target=self._receive, args=(conn, process), name="alwidgets-trainer-results",
                         daemon=True).start()

    def wake(self) -> None:
        """A label was written: the child updates once it is free (a dead child is started again)."""
        with self._lock:
            if self._stopping:
                return
            if not self._process.is_alive():
                self._spawn()  # its first update covers every label in the store
                return
            try:
                self._conn.send_bytes(_WAKE)
            except OSError:  # ended just now: _receive records it, and the next label starts another
                pass

    def _receive(self, conn, process) -> None:
        while True:
            try:
                kind, *message = conn.recv()
            except (EOFError, OSError):
                break
            if kind == "published":
                self.publish(*message)
                self.updates += 1
            else:
                log.warning("campaign update failed: %s", message[0])
                self.failures.append(message[0])
            with self._published:
                self._published.notify_all()
        process.join(30)
        if not self._stopping:
            error = f"the trainer process ended (exit code {process.exitcode}); the next label starts another"
            log.error(error)
            self.failures.append(error)
        with self._published:
            self._published.notify_all()

    def stop(self, timeout: float = 30.0) -> None:
        with self._lock:
            self._stopping = True
            process, conn = self._process, self._conn
        if process is None:
            return
        try:
            conn.send_bytes(_STOP)
        except OSError:
            pass
        process.join(timeout)
        if process.is_alive():
            process.kill()
            process.join(timeout)
        conn.close()

    def wait_for(self, condition, timeout: float) -> bool:
        """Wait until ``condition(snapshot)`` holds for the service's published snapshot (checked after each update)."""
        with self._published:
            return self._published.wait_for(lambda: condition(self.session.snapshot), timeout)


def serve_updates(conn, config, nice: int, start=None) -> None:
    """The child: build the campaign, then update and send each new model until told to stop or the service ends.

    ``start``: the snapshot to go on from (the service's latest), whose labels need no fit again.
    """
    from alwidgets.engine.trainer import LabelingError
    from alwidgets.serving.config import build_campaign
    from alwidgets.serving.service import published
    from alwidgets.store import open_store

    try:
        os.nice(nice)
    except (AttributeError, OSError) as error:
        log.info("the trainer process keeps its priority: %s", error)
    campaign = build_campaign(config)
    store = open_store(config.store_target(), create=False, read_only=True)  # the service alone writes
    try:
        session = campaign.session("campaign service", store=store, warm_start=True)
        if start is not None:
            session.trainer.adopt(start)
        sent = None
        while True:
            try:
                session.update()
                if session.snapshot is not sent:
                    sent = session.snapshot
                    conn.send(("published", *published(session)))
            except LabelingError as error:  # the labels stay stored; the last model stays published
                conn.send(("failed", str(error)))
            except Exception as error:  # the store unreachable a moment, say: the next label tries again
                log.exception("campaign update failed")
                conn.send(("failed", f"{type(error).__name__}: {error}"))
            try:
                words = [conn.recv_bytes()]
                while conn.poll():  # everything that arrived during the update: one more update covers it all
                    words.append(conn.recv_bytes())
            except (EOFError, OSError):  # the service has ended
                return
            if _STOP in words:
                return
    finally:
        store.close()
