"""The Labeler's two lines of text: the progress line and the status line.

The progress line counts labels, the budget and the held-out score; the
status line says whether the model is up to date and shows the last problem
(or note) until the next action succeeds. :class:`StatusLine` only writes
HTML; the Labeler calls it under its UI lock, from whichever thread.
"""

from __future__ import annotations

import html

import ipywidgets as widgets

from alwidgets.engine import training
from alwidgets.engine.labelstate import LABELED_MEANS

__all__ = ["StatusLine"]


class StatusLine:
    """The ``progress`` and ``status`` HTML widgets, and what they say."""

    def __init__(self):
        self.progress = _html("alw-progress")
        self.status = _html("alw-status")
        self._model = ""  # "model updating…" or "model up to date"
        self._message = ""  # the last problem or note, shown until the next action succeeds

    def busy(self) -> None:
        self._model = "<span style='color:#8a6d00'>⟳ model updating…</span>"
        self._render()

    def idle(self, version: int) -> None:
        self._model = f"<span style='color:#2e7d32'>✓ model up to date (version {version})</span>"
        self._render()

    def problem(self, message: str) -> None:
        self._message = f"<span style='color:#b00020'>⚠ {html.escape(message)}</span>"
        self._render()

    def say(self, text: str) -> None:
        """A line that is not a problem."""
        self._message = f"<span style='color:#444'>{html.escape(text)}</span>"
        self._render()

    def clear(self) -> None:
        """The action succeeded: the last problem goes."""
        if self._message:
            self._message = ""
            self._render()

    def _render(self) -> None:
        self.status.value = " ".join(part for part in (self._model, self._message) if part)

    def show_progress(self, session, budget: int | None) -> None:
        """Count the session's labels (and budget, held-out score, stopping point) on the progress line."""
        parts = [f"<span title='{LABELED_MEANS}'><b>{session.n_labeled}</b> labeled</span>",
                 f"{session.n_pool:,} in the pool"]
        if budget is not None:
            parts.append(f"budget {min(session.n_labeled, budget)}/{budget}")
        scores = [h["score"] for h in session.history if h.get("score") is not None]
        if session.X_test is not None:
            score = f"{scores[-1]:.3f}" if scores else "—"
            parts.append(f"held-out {training.score_name(session.scoring, session.is_classifier)} {score}")
        if session.stopping()["stop"]:
            parts.append("<span class='alw-stop' style='color:#2e7d32'>the model has stopped changing: "
                         "more labels are unlikely to help</span>")
        self.progress.value = " · ".join(parts)


def _html(css_class: str) -> widgets.HTML:
    widget = widgets.HTML()
    widget.add_class(css_class)
    return widget
