"""The Labeler: the widget a person labels with.

``display(alw.Labeler(session))`` shows, top to bottom: the item the strategy
wants labeled (with why it was chosen), the label controls, a progress line
and live plots. It reads a :class:`~alwidgets.Session` and calls its methods;
it never touches modAL, and it copies no rule of the engine: labels are
checked, recorded and taken back by the session.

The Labeler composes its parts, each in its own module, and wires their
buttons to its own guarded handlers:

- :class:`~alwidgets.widgets.item_area.ItemArea`: the item or batch shown;
- :class:`~alwidgets.widgets.label_controls.LabelControls`: class buttons,
  value box or toggles, Undo, Skip, the strategy menu, what each key means;
- :class:`~alwidgets.widgets.status_line.StatusLine`: progress and status;
- :class:`~alwidgets.widgets.live_plots.LivePlots`: the plots;
- :class:`~alwidgets.widgets.labeled_view.LabeledView`: the "Labeled" view
  and the item opened from it to relabel;
- :class:`~alwidgets.widgets.model_updates.ModelUpdates`: the worker's half.

The module stays above 500 lines because ninety of them are the numpy
docstring of the Labeler's fifteen parameters and its thread notes, and the
rest is the one job none of the parts owns: turning each click or key into
one Session call and showing the next item.

A label click never waits for the model. The click records the label
(:meth:`Session.record`), takes the next item from the latest ranking
(``Session.query(refresh=False)``) and shows it; a background
:class:`~alwidgets.widgets.worker.Worker` then refits, re-ranks and redraws
the plots while a "model updating…" line says so. ``sync=True`` does all of
that inside the click instead: the naive behaviour the latency benchmark
compares against.
"""

from __future__ import annotations

import threading
import time

import ipywidgets as widgets

from alwidgets._validation import check_int
from alwidgets.widgets._guard import call_apart, guarded
from alwidgets.widgets.item_area import WHY_PENDING, ItemArea, caption_html, model_guesses, why_html
from alwidgets.widgets.keys import KeyListener
from alwidgets.widgets.label_controls import SKIP_KEY, SUBMIT_KEY, UNDO_KEY, LabelControls, parse_number, shortcut_keys
from alwidgets.widgets.labeled_view import LABEL_MODE, REVIEW_MODE, LabeledView
from alwidgets.widgets.labeler_checks import check_multi_label, check_y_true, resolve_classes
from alwidgets.widgets.live_plots import PLOT_NAMES, LivePlots, plot_names
from alwidgets.widgets.model_updates import FRESH_PICK_WINDOW, ModelUpdates
from alwidgets.widgets.status_line import StatusLine
from alwidgets.widgets.views import View
from alwidgets.widgets.views import get as get_view

__all__ = ["Labeler", "shortcut_keys"]

# Re-exported: tests, notebooks and the dashboard import these names from here.
__all__ += ["LABEL_MODE", "REVIEW_MODE", "PLOT_NAMES", "SKIP_KEY", "SUBMIT_KEY", "UNDO_KEY", "FRESH_PICK_WINDOW"]



class Labeler(widgets.VBox):
    """Label the items an active-learning session asks for, and watch the model learn.

    Parameters
    ----------
    session : alwidgets.Session
        The loop to drive: its pool, learner, strategy and labels.
    view : None, str or callable, default=None
        How an item is shown: ``None`` picks from the data; a name
        (``"image"``, ``"text"``, ``"table"``, ``"regression_point"``,
        ``"point"``); an :mod:`alwidgets.views` object; or any callable
        ``view(session, idx) -> widget``.
    classes : sequence, optional
        The labels a person can give a classifier's items, in button order.
        Default: ``session.classes``.
    batch_size : int, default=1
        Items shown and submitted together; above 1, a grid of thumbnails
        (images) or a list, each with its own label control.
    budget : int, optional
        How many labels the person means to give; labeling stops there.
    y_true : array-like, optional
        True labels of the pool, when known (a classroom, a simulation). Used
        to draw the dashed random-sampling baseline on the learning curve and
        by :meth:`simulate`.
    plots : "auto", sequence of str, or None
        Live plots among ``"learning_curve"`` (needs a held-out set),
        ``"regression"`` and ``"decision_boundary"``; ``"auto"`` picks those
        that suit the session; None or ``()`` draws none.
    X_grid : array-like, optional
        Where the regression plot draws the mean and band (default: a grid
        over the pool's range).
    true_function : callable, optional
        ``f(x)``, the function a regression should find, drawn dotted on the
        regression plot (without it, ``y_true`` is drawn as grey points).
    sync : bool, default=False
        Refit, re-rank and redraw inside the click (the person waits).
    fresh_pick : bool, default=False
        When a refit lands within 0.3 s of an item being shown, show the
        fresher model's pick instead. Off by default: an item that changes
        under a fast labeler's click would take the label meant for the other.
    choose_strategy : bool, default=True
        Show a menu to switch the query strategy. A team's dashboard hides it
        unless the campaign's config allows it (``annotators_choose_strategy``):
        the strategy is then :attr:`strategy` None and only the session's.
        Either way the plots mark where the current model asks.
    keyboard : bool, default=True
        Listen for shortcut keys, and for Enter in the y value box: page-wide
        in Voila, in a notebook while a click on the Labeler has armed it
        (see :mod:`alwidgets.widgets.keys`).
    suggest : bool, default=False
        Once the model is fitted, mark its guess on the class button and say
        how sure it is; Enter accepts it, any other key or button overrides
        it (in batch mode each item's control starts on the guess). Whether
        each label took the suggestion is stored and exported. Off by default:
        a suggestion biases a lesson that compares people with strategies.
    review : bool, default=True
        A "Labeled" view next to the labeling one (classifiers): the labels
        given, filterable by class and annotator, or ordered by how much the
        model disagrees; any of them can be opened and relabeled.
    multi_label : bool, optional
        One toggle button per class instead of label buttons: a person toggles
        the classes that apply (keys 1–9 toggle, 0 the tenth) and presses
        Submit (or Enter) to record the set; none toggled records the empty
        set ("no class applies"). Default: ``session.multi_label``; True needs
        a ``Session(..., multi_label=True)``. One item at a time
        (``batch_size=1``).

    Notes
    -----
    Threads and locks. Three threads write this widget's traits:

    - the kernel's thread (clicks, keys, the constructor): ``shown``,
      ``suggested``, the item area, the controls, the mode switch and the
      status line;
    - the :class:`~alwidgets.widgets.worker.Worker`'s thread
      (:class:`~alwidgets.widgets.model_updates.ModelUpdates`): the plot
      images, the "why this one?" line, the suggestion of an item shown before
      the model existed (its line, its button's colour, an empty batch cell),
      the progress line, the status line, and with ``fresh_pick`` the shown
      item itself (``shown``, the item area, the controls);
    - a dashboard's poll thread, through :meth:`show_progress` only: the
      progress line.

    Every trait write of the worker and of the poll holds ``_ui_lock`` (an
    RLock), and so does every write of the kernel's thread to what the worker
    also writes (``_show``, the status line), as does
    :func:`~alwidgets.widgets._guard.report_error` when it puts a problem on
    the status line. Slow work (a fit, a ranking, drawing a plot) runs before
    the lock is taken. The worker's own lock is taken before ``_ui_lock``
    (``on_busy`` and ``on_idle`` run under it), never after: the Labeler
    never asks the worker for an update while it holds ``_ui_lock``.
    """

    def __init__(
        self,
        session,
        view=None,
        classes=None,
        *,
        batch_size: int = 1,
        budget: int | None = None,
        y_true=None,
        plots="auto",
        X_grid=None,
        true_function=None,
        sync: bool = False,
        keyboard: bool = True,
        fresh_pick: bool = False,
        suggest: bool = False,
        review: bool = True,
        multi_label: bool | None = None,
        choose_strategy: bool = True,
    ):
        super().__init__()
        self.choose_strategy = bool(choose_strategy)
        self.session = session
        self.multi_label = check_multi_label(session, multi_label, batch_size)
        self.batch_size = check_int(batch_size, "batch_size")
        self.budget = None if budget is None else check_int(budget, "budget")
        self.sync = bool(sync)
        self.fresh_pick = bool(fresh_pick)
        self.suggest = bool(suggest)
        self.view = get_view(view, session)
        self.classes = resolve_classes(session, classes)
        self.y_true = check_y_true(session, y_true, self.multi_label)
        self.X_grid = X_grid
        self.true_function = true_function
        self.shown: list[int] = []
        self.errors: list[str] = []
        self.suggested: dict[int, tuple] = {}  # item -> (the model's guess, its probability), as shown
        self._shown_at = 0.0
        self._shown_version = 0
        self._suggested_version: int | None = None  # the model version the suggestion on screen came from
        self._shown_from_ranking = True
        self._ui_lock = threading.RLock()

        self.instance = ItemArea(self.view, self.classes, batch=self.batch_size > 1)
        self.caption, self.why, self.suggestion = self.instance.caption, self.instance.why, self.instance.suggestion
        offered = None
        if self.choose_strategy:  # only then: a page that follows a campaign service builds no model otherwise
            from alwidgets import strategies

            offered = strategies.available(session.learner, multi_label=self.multi_label)
        self.controls = LabelControls(self.classes, batch_size=self.batch_size, multi_label=self.multi_label,
                                      strategies=offered, strategy=session.strategy)
        self._wire_controls()
        self.status_line = StatusLine()
        self.progress, self.status = self.status_line.progress, self.status_line.status
        self.live_plots = LivePlots(session, plot_names(plots, session, self.multi_label), budget=self.budget,
                                    y_true=self.y_true, X_grid=X_grid, true_function=true_function,
                                    multi_label=self.multi_label)
        self._plots = self.live_plots.panels  # {"name", "ax", "image"} per plot
        panel = review and self.classes is not None and not self.multi_label  # the review ranks single labels
        self.labeled = LabeledView(session, self.view, self.open_for_relabel, panel=panel)
        self.review, self.mode = self.labeled.panel, self.labeled.mode
        children = [self.instance, self.controls, self.progress, self.status, self.live_plots]
        if panel:
            self.mode.observe(self._on_mode, names="value")
            children = [self.mode, self.instance, self.review, *children[1:]]
        self.key_listener = None
        if keyboard:
            self.key_listener = KeyListener(self.handle_key, self.controls.listened_keys(self.suggest),
                                            on_submit=self._submit_value if self.value is not None else None)
            children.append(self.key_listener)
        self.children = children
        self.add_class("alw-labeler")

        self.updates = ModelUpdates(self)
        self._show(self._next_items())
        self.updates.request()

    def _wire_controls(self) -> None:
        controls = self.controls
        self.label_buttons, self.toggles = controls.label_buttons, controls.toggles
        self.value, self.submit_button = controls.value, controls.submit_button
        self.undo_button, self.skip_button, self.strategy = controls.undo_button, controls.skip_button, controls.strategy
        for button in self.label_buttons.values():
            button.on_click(self._on_label_button)
        if self.submit_button is not None:
            self.submit_button.on_click(self._on_submit_button)
        self.undo_button.on_click(self._on_undo_button)
        self.skip_button.on_click(self._on_skip_button)
        if self.strategy is not None:
            self.strategy.observe(self._on_strategy, names="value")

    # ------------------------------------------------------------------ public API

    @property
    def current(self) -> int | None:
        """The pool index shown (the first one in batch mode), or None when labeling is done."""
        return self.shown[0] if self.shown else None

    @property
    def updating(self) -> bool:
        """Whether a model update (refit, re-rank, redraw) is running or asked for."""
        return self.updates.busy

    @property
    def budget_left(self) -> int | None:
        return None if self.budget is None else max(0, self.budget - self.session.n_labeled)

    @property
    def chosen(self) -> set:
        """Multi-label: the classes toggled on for the shown item."""
        return self.controls.chosen

    @property
    def relabeling(self) -> int | None:
        """The labeled item opened from the "Labeled" view, whose next label replaces the old one."""
        return self.labeled.relabeling

    @property
    def _cells(self) -> list[dict]:
        """Batch mode: ``{"idx", "control", "box", "view"}`` for each item shown."""
        return self.instance.cells

    @guarded("label")
    def label(self, label) -> None:
        """Label the shown item as a person's click would (single mode)."""
        if self.batch_size > 1:
            raise ValueError("in batch mode choose a label for each item, then submit the batch")
        if not self.shown:
            raise ValueError("there is nothing to label: " + self._done_reason())
        idx = self.shown[0]
        guess = self.suggested.get(idx, (None,))[0]
        if self.relabeling == idx:
            self.session.relabel(idx, label, suggested=guess)  # a retraction and the new label, in one write
            self._finish_relabel()
            return
        self.session.record(idx, label, suggested=guess)  # a refused label raises here: not counted, the item stays
        self._after_labels()

    @guarded("label")
    def accept_suggestion(self) -> None:
        """Label the shown item with the model's suggestion (what Enter does)."""
        if self.batch_size > 1 or not self.shown:
            return
        guess = self.suggested.get(self.shown[0])
        if guess is None:
            raise ValueError("there is no suggestion to accept yet: the model is not fitted")
        self.label(guess[0])

    @guarded("submit")
    def submit_set(self) -> None:
        """Multi-label: record the toggled classes as the shown item's label set (none toggled: the empty set)."""
        self.label(self.chosen)

    @guarded("submit")
    def submit_batch(self) -> None:
        """Record every item of the batch that has a label; the others go back to the pool."""
        if self.batch_size == 1:
            if self.value is not None:
                self._submit_value()
            return
        chosen, labels = self.instance.batch_answers()  # y values typed are numbers by now
        self.session.record(chosen, labels, suggested=[self.suggested.get(i, (None,))[0] for i in chosen])
        self._after_labels()

    @guarded("relabel")
    def open_for_relabel(self, idx: int) -> None:
        """Show a labeled item in the labeling view; the next label given replaces this annotator's label."""
        idx = self.labeled.check_own(idx)
        if self.batch_size > 1:
            raise ValueError("relabeling works one item at a time: use a Labeler with batch_size=1")
        with self._ui_lock:
            self.labeled.open(idx, self.shown)
            self._show([idx], from_ranking=False)
            self.status_line.clear()
        if self.mode is not None:
            self.mode.value = LABEL_MODE  # its observer shows the labeling view
        self.updates.request()  # "Why this one?" for the item opened, once the worker has looked

    @guarded("undo")
    def undo(self) -> None:
        """Take back the last label (the whole last batch, or the last relabel) and show its item(s) again.

        One call to :meth:`Session.undo`, which takes back the last change
        whole, in one store transaction; if the store refuses, nothing is taken
        back and the status line says so. The model forgets at the worker's
        next update, so the click never waits for a refit.
        """
        change = self.session.undo(refit=self.sync)
        if change is None:
            raise ValueError("there is no label to take back")
        if change.relabel:  # the earlier label is back; the item being labeled stays on screen
            idx, label, earlier = change.items[0], change.labels[0], change.previous[0]
            with self._ui_lock:
                self.status_line.say(f"item {self.session.item_name(idx)} has its earlier label again ({earlier!r}; the relabel to "
                                     f"{label!r} is taken back)")
            if self.review is not None:
                self.review.refresh()
        else:
            items = list(change.items)[: 1 if self.batch_size == 1 else None]
            with self._ui_lock:
                self.status_line.clear()
                self._show(items, prefill=dict(zip(change.items, change.labels, strict=True)), from_ranking=False)
        self.show_progress()
        self.updates.request()

    @guarded("skip")
    def skip(self) -> None:
        """Set the shown item(s) aside and show the next."""
        if self.relabeling is not None:  # Skip leaves the labeled item as it was
            self._finish_relabel()
            return
        if not self.shown:
            raise ValueError("there is nothing to skip: " + self._done_reason())
        self.session.skip(list(self.shown))
        with self._ui_lock:
            self.status_line.clear()
            self._show(self._next_items())
        self.show_progress()
        self.updates.request()

    @guarded("key")
    def handle_key(self, key: str) -> None:
        """What a shortcut key does: a class key labels, Backspace undoes, S skips, Enter submits a batch.

        Each action runs under its own guard (``call_apart``), so a refused
        label is said as a label's problem, not a key's.
        """
        action, label = self.controls.key_action(key, self.suggest)
        if action == "undo":
            call_apart(self.undo)
        elif not action or self.labeled.reviewing:
            return  # nothing to do, or no item on screen to label
        elif action in ("toggle", "fill"):
            with self._ui_lock:
                if action == "fill":
                    self.instance.fill_next_empty(label)
                elif self.shown:
                    self.controls.flip_toggle(label)
        elif action == "label":
            call_apart(self.label, label)
        else:
            call_apart({"skip": self.skip, "submit": self._on_submit_button, "accept": self.accept_suggestion}[action])

    def show_progress(self) -> None:
        """Redraw the progress line from the session's label state. Thread-safe: a dashboard's poll calls it."""
        with self._ui_lock:
            self.status_line.show_progress(self.session, self.budget)

    def wait(self, timeout: float | None = 60.0) -> None:
        """Block until the model and plots have caught up with every label given (for tests and notebooks)."""
        if not self.updates.wait(timeout):
            raise TimeoutError(f"the model update did not finish within {timeout} s")

    def simulate(self, n_labels: int) -> None:
        """Give ``n_labels`` labels from ``y_true`` with the widget's own controls, as a person would.

        A true label stands for a class by the engine's rule
        (:func:`alwidgets._validation.match_class`): ``"1"`` is not class ``1``.
        """
        if self.y_true is None:
            raise ValueError("simulate needs the true labels: create the Labeler with y_true=...")
        n_labels = check_int(n_labels, "n_labels")
        start = self.session.n_labeled
        while self.shown and self.session.n_labeled - start < n_labels:
            if self.batch_size > 1:
                left = n_labels - (self.session.n_labeled - start)
                self.instance.fill_answers({c["idx"]: self.y_true[c["idx"]] for c in self._cells[:left]})
                self.submit_button.click()
            else:
                self.controls.give(self.y_true[self.shown[0]])

    def close(self) -> None:
        """Stop the background worker and close the widget."""
        updates = getattr(self, "updates", None)  # None when __init__ failed half-way
        if updates is not None:
            updates.stop()
        if getattr(self, "key_listener", None) is not None:
            self.key_listener.close()
        if getattr(self, "labeled", None) is not None:  # the review panel's worker
            self.labeled.close()
        super().close()

    # ------------------------------------------------------------------ handlers (each behind the guard)

    @guarded("label")
    def _on_label_button(self, button) -> None:
        self.label(self.controls.class_of(button))

    @guarded("submit")
    def _on_submit_button(self, _button=None) -> None:
        """Submit (the button, or Enter): the toggled set (multi-label), the batch, or the y value in the box."""
        if self.multi_label:
            self.submit_set()
        else:
            self.submit_batch()

    @guarded("undo")
    def _on_undo_button(self, _button) -> None:
        self.undo()

    @guarded("skip")
    def _on_skip_button(self, _button) -> None:
        self.skip()

    @guarded("submit")
    def _submit_value(self, text: str | None = None) -> bool:
        """Record the y value in the box (Submit), or ``text``, typed in the box when Enter was pressed.

        Returns whether it was a number (the key listener then empties the box in the browser).
        """
        text = self.value.value if text is None else text
        number = parse_number(text)
        if number is None:
            raise ValueError(f"{text!r} is not a number: type the y value of the marked point, e.g. 0.5")
        with self._ui_lock:
            self.value.value = ""
        self.label(number)
        return True

    @guarded("switch view")
    def _on_mode(self, change) -> None:
        reviewing = change["new"] == REVIEW_MODE
        if reviewing and self.relabeling is not None:  # leaving a relabel unanswered leaves the label as it was
            self._finish_relabel(back_to_review=False)
        with self._ui_lock:
            self.instance.layout.display = "none" if reviewing else None
            self.controls.show_entry(not reviewing)
            self.labeled.show_panel(reviewing)
        if reviewing:
            self.review.refresh()

    @guarded("strategy switch")
    def _on_strategy(self, change) -> None:
        try:
            self.session.strategy = change["new"]  # served by the next update: the click does not rank
        except ValueError:
            with self.strategy.hold_trait_notifications():
                self.strategy.value = self.session.strategy
            raise
        with self._ui_lock:
            self.status_line.clear()
        self.updates.request()

    def _show_problem(self, message: str, error: BaseException) -> None:
        """What :func:`~alwidgets.widgets._guard.report_error` calls (holding ``_ui_lock``): the words on the status line.

        Nothing else changes: a refused label leaves its item on screen.
        """
        self.status_line.problem(message)

    # ------------------------------------------------------------------ the click path

    def _after_labels(self) -> None:
        with self._ui_lock:
            self.status_line.clear()
        if self.sync:
            self.updates.run_now(show_next=lambda: self._show(self._next_items(refresh=True)))
        else:
            with self._ui_lock:
                self._show(self._next_items())
            self.show_progress()
            self.updates.request()

    def _finish_relabel(self, back_to_review: bool = True) -> None:
        """After a relabel (or a skip that cancels it): the stashed item again, and the list."""
        with self._ui_lock:
            self._show(self.labeled.finish(), from_ranking=False)
            self.status_line.clear()
        if back_to_review and self.mode is not None:
            self.mode.value = REVIEW_MODE
        self.show_progress()
        self.updates.request()

    def _next_items(self, refresh: bool = False) -> list[int]:
        n = self.batch_size if self.budget is None else min(self.batch_size, self.budget_left)
        return self.session.query(n, refresh=refresh) if n > 0 else []

    def _show(self, items: list[int], prefill: dict | None = None, from_ranking: bool = True) -> None:
        """Show ``items``, their controls prefilled with ``prefill``'s ``{idx: label}``; takes ``_ui_lock``."""
        with self._ui_lock, self.hold_sync():
            self.shown = list(items)
            self._shown_at, self._shown_version = time.monotonic(), self.session.model_version
            self._shown_from_ranking = from_ranking  # an undone item stays until answered
            self.suggested = self._suggestions(items)
            # the session's model version, unless the guess is the review's (a label opened to relabel)
            own = self.suggested and self.relabeling not in self.suggested
            self._suggested_version = self.session.model_version if own else None
            one = items[0] if items and self.batch_size == 1 else None
            why = WHY_PENDING
            if one is not None and self.sync:
                why = why_html(self.session, one, self._shown_version, self.multi_label, self._suggested_version)
            old = self.instance.show(self.session, items, prefill=prefill or {}, guesses=self.suggested, why=why,
                                     caption=self._caption(one), done=self._done_reason(),
                                     guesses_version=self._suggested_version)
            self.controls.show_item(bool(items), one, prefill, self.suggested.get(one, (None,))[0])
        if isinstance(self.view, View):
            for widget in old:
                widget.close()

    def _caption(self, idx: int | None) -> str:
        if idx is None:
            return ""
        relabeling = self.relabeling == idx
        return caption_html(self.session.item_name(idx), self.session.my_labels.get(idx) if relabeling else None,
                            relabeling)

    def _suggestions(self, items: list[int]) -> dict[int, tuple]:
        """The model's guess for each item about to be shown (none before it is fitted, or with suggest off)."""
        if not self.suggest or self.classes is None or self.multi_label:  # a guess is one class, not a set
            return {}
        guesses = model_guesses(self.session, items, self.classes)
        idx = self.relabeling
        if idx in items:
            guess = self.labeled.relabel_guess(idx, guesses)
            guesses.pop(idx, None)
            if guess is not None and guess[0] in self.classes:
                guesses[idx] = guess
        return guesses

    def _done_reason(self) -> str:
        if self.budget is not None and self.session.n_labeled >= self.budget:
            return f"Budget of {self.budget} labels reached. Thank you! (Undo to change a label.)"
        return "Every item of the pool is labeled or skipped."
