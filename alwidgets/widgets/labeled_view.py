"""The Labeler's "Labeled" side: the Label / Labeled switch, the review panel, and the item opened to relabel.

:class:`LabeledView` holds which labeled item is open for relabeling and what
was on screen before it (shown again after). The Labeler observes the switch
with its own guarded handler and does the labeling; this part only keeps the
state and shows or hides the panel.
"""

from __future__ import annotations

import ipywidgets as widgets

from alwidgets.widgets.review import ReviewPanel

__all__ = ["LabeledView", "LABEL_MODE", "REVIEW_MODE"]

LABEL_MODE = "Label"
REVIEW_MODE = "Labeled"


class LabeledView:
    """The switch between labeling and the labels given, and one relabel at a time.

    Parameters
    ----------
    session : alwidgets.Session
        Whose labels the panel lists.
    view : callable
        How the panel draws an item.
    on_relabel : callable
        ``on_relabel(idx)``: the Labeler's guarded :meth:`~alwidgets.Labeler.open_for_relabel`.
    panel : bool, default=True
        Show the switch and the panel; without them (``panel`` and ``mode``
        None) an item can still be opened for relabeling from code.
    """

    def __init__(self, session, view, on_relabel, panel: bool = True):
        self.session = session
        self.panel = self.mode = None
        if panel:
            self.panel = ReviewPanel(session, view, on_relabel)
            self.panel.layout.display = "none"
            self.mode = widgets.ToggleButtons(options=[LABEL_MODE, REVIEW_MODE], value=LABEL_MODE,
                                              style={"button_width": "auto"})
            self.mode.add_class("alw-mode")
        self.relabeling: int | None = None  # the labeled item opened for relabeling
        self._stashed: list[int] = []  # what was shown before it

    @property
    def reviewing(self) -> bool:
        return self.mode is not None and self.mode.value == REVIEW_MODE

    def check_own(self, idx: int) -> int:
        """``idx`` as a pool index of an item this annotator labeled; ValueError naming who did, if not."""
        idx = self.session.check_index(idx, allow_labeled=True)
        if idx not in self.session.my_labels:
            who = ", ".join(sorted(self.session.votes.get(idx, {}))) or "nobody"
            raise ValueError(f"item {self.session.item_name(idx)} was labeled by {who}, not by {self.session.annotator!r}: only your own "
                             "labels can be changed here")
        return idx

    def open(self, idx: int, shown: list[int]) -> None:
        """Open ``idx`` for relabeling; ``shown`` comes back when it is done (kept from the first open)."""
        if self.relabeling is None:
            self._stashed = list(shown)
        self.relabeling = idx

    def finish(self) -> list[int]:
        """The relabel is done (or left): what was shown before it."""
        stashed, self._stashed, self.relabeling = self._stashed, [], None
        return stashed

    def relabel_guess(self, idx: int, guesses: dict) -> tuple | None:
        """What to suggest for ``idx``, opened to relabel: the guess of the model that flagged it, or none.

        The session's own model was taught this label, so its guess is
        mostly the label itself: suggesting it would let Enter confirm the
        label that was just flagged. Its guess counts only when it differs.
        """
        if self.panel is not None:
            flagged = self.panel.flagged_guess(idx, self.session.annotator)
            if flagged is not None:
                return flagged
        guess = guesses.get(idx)
        if guess is None or guess[0] == self.session.my_labels.get(idx):
            return None
        return guess

    def show_panel(self, visible: bool) -> None:
        if self.panel is not None:
            self.panel.layout.display = None if visible else "none"

    def close(self) -> None:
        if self.panel is not None:
            self.panel.close()
