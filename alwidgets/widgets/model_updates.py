"""The Labeler's worker half: refit, re-rank and redraw, off the click path.

A click records a label and asks :class:`ModelUpdates` for an update; the
update runs on a :class:`~alwidgets.widgets.worker.Worker` thread (or inside
the click with ``Labeler(sync=True)``): the session refits and re-ranks, the
plots are drawn (slow, with no lock held), then the pictures, the "why this
one?" line, suggestions that were missing and the progress line are put on
the page in one go under the Labeler's ``_ui_lock``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from alwidgets.widgets._guard import guarded, report_error
from alwidgets.widgets.item_area import suggestion_html, why_html
from alwidgets.widgets.worker import Worker

__all__ = ["ModelUpdates", "FRESH_PICK_WINDOW"]

FRESH_PICK_WINDOW = 0.3  # seconds: a fresher pick replaces the shown item only this soon, before anyone can answer


class ModelUpdates:
    """Keep a Labeler's model, plots and lines up to date with its session.

    Parameters
    ----------
    labeler : alwidgets.Labeler
        The widget to update: its session, what it shows, its plots and status line.

    Notes
    -----
    A problem here is the Labeler's: :func:`~alwidgets.widgets._guard.report_error`
    puts it in the Labeler's ``errors`` and on its status line, under its ``_ui_lock``.
    """

    def __init__(self, labeler):
        self.labeler = labeler
        self.worker = Worker(self._update, on_error=self._failed, on_busy=self._busy, on_idle=self._idle)

    @property
    def busy(self) -> bool:
        return self.worker.busy

    def request(self) -> None:
        """Ask for an update: on the worker (returns at once), or now with ``sync=True``.

        Never called while holding the Labeler's ``_ui_lock`` (see the Labeler's Notes).
        """
        if self.labeler.sync:
            self.run_now()
        else:
            self.worker.request()

    def run_now(self, show_next: Callable[[], None] | None = None) -> None:
        """The naive path: refit, re-rank, show the next items (``show_next``) and redraw while the person waits.

        The next items are shown between the refit and the drawing, so that the
        plots mark the items on screen. They are shown even if the refit fails.
        """
        pending = [show_next] if show_next is not None else []

        def show() -> None:
            if pending:
                pending.pop()()

        try:
            self._update(show)
        except Exception as error:  # shown in the status line like the worker's errors
            self._failed(error)
        show()
        self._idle()

    def wait(self, timeout: float | None) -> bool:
        return self.worker.wait(timeout)

    def stop(self) -> None:
        self.worker.stop()

    # ------------------------------------------------------------------ on the worker's thread

    def _update(self, show_next: Callable[[], None] | None = None) -> None:
        labeler = self.labeler
        session = labeler.session
        session.update(labeler.batch_size)
        if show_next is not None:
            show_next()
        if self.worker.superseded and not session.is_current:
            return  # more labels came during the fit: the next update draws, no time spent on a stale picture
        snapshot = session.snapshot
        asks = session.peek(labeler.batch_size)  # where the current model asks next
        self._maybe_show_fresh_pick(asks)
        shown = list(labeler.shown)
        single = len(shown) == 1 and labeler.batch_size == 1
        why = (why_html(session, shown[0], labeler._shown_version, labeler.multi_label, labeler._suggested_version,
                        next_picks=asks, marked_apart=labeler.live_plots.marks_items) if single else "")
        # the items on screen are the ones asked: marked as such; where the latest model would ask next, apart
        pictures = labeler.live_plots.draw(shown, snapshot, next_picks=asks)  # slow: before the lock
        with labeler._ui_lock, labeler.hold_sync():
            labeler.live_plots.show(pictures)
            if labeler.shown == shown:
                if single:
                    labeler.why.value = why
                self._add_missing_suggestions()
            labeler.status_line.show_progress(session, labeler.budget)

    def _add_missing_suggestions(self) -> None:
        """Items shown before the first model get its guess once it exists; a guess on screen never changes."""
        labeler = self.labeler
        missing = [i for i in labeler.shown if i not in labeler.suggested]
        fresh = labeler._suggestions(missing) if missing else {}
        if not fresh:
            return
        labeler.suggested.update(fresh)
        labeler._suggested_version = labeler.session.model_version
        if labeler.batch_size == 1:
            guess = labeler.suggested.get(labeler.shown[0])
            labeler.controls.mark_suggestion(None if guess is None else guess[0])
            labeler.suggestion.value = suggestion_html(guess, labeler._suggested_version)
        else:
            labeler.instance.fill_guesses(fresh)

    def _maybe_show_fresh_pick(self, asks: list[int]) -> None:
        """Show the current model's pick instead of one chosen by an older model, if nobody can have started on it.

        A quick refit lands within :data:`FRESH_PICK_WINDOW` of the item being
        shown, and the fresh pick replaces it. A slow one lands later, when the
        person may be about to answer: the item stays, and "why this one?"
        says it was chosen by the previous model.
        """
        labeler = self.labeler
        with labeler._ui_lock:
            shown = labeler.shown
            if not labeler.fresh_pick or labeler.batch_size != 1 or not shown or not asks or asks[0] == shown[0]:
                return
            if not labeler._shown_from_ranking or labeler._shown_version == labeler.session.model_version:
                return
            untouched = labeler.value is None or not labeler.value.value.strip()
            if time.monotonic() - labeler._shown_at <= FRESH_PICK_WINDOW and untouched:
                labeler.session.release_items(shown)
                labeler._show(labeler._next_items())

    @guarded("model update")
    def _busy(self) -> None:
        """``on_busy``: on the requesting thread, under the worker's lock."""
        with self.labeler._ui_lock:
            self.labeler.status_line.busy()

    @guarded("model update")
    def _idle(self) -> None:
        """``on_idle``: on the worker's thread, under the worker's lock."""
        with self.labeler._ui_lock:
            self.labeler.status_line.idle(self.labeler.session.model_version)

    def _failed(self, error: BaseException) -> None:
        """``on_error``: the update failed; the labels stay recorded, the Labeler's status line says what went wrong."""
        report_error(self, "model update", error)

    # ------------------------------------------------------------------ the guard's protocol, on the Labeler's page

    @property
    def errors(self) -> list[str]:
        return self.labeler.errors

    @property
    def _ui_lock(self):
        return self.labeler._ui_lock

    def _show_problem(self, message: str, error: BaseException) -> None:
        self.labeler._show_problem(message, error)
