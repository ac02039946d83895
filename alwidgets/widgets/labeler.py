"""The Labeler: the widget a person labels with.

``display(alw.Labeler(session))`` shows, top to bottom: the item the strategy
wants labeled (with why it was chosen), the label controls, a progress line
and live plots. It reads a :class:`~alwidgets.Session` and calls its methods;
it never touches modAL.

A label click never waits for the model. The click records the label
(:meth:`Session.record`), takes the next item from the latest ranking
(``Session.query(refresh=False)``) and shows it; a background
:class:`~alwidgets.widgets.worker.Worker` then refits, re-ranks and redraws
the plots while a "model updating…" line says so. ``sync=True`` does all of
that inside the click instead: the naive behaviour the latency benchmark
compares against.
"""

from __future__ import annotations

import html
import math
import threading
import time

import ipywidgets as widgets
import numpy as np

from alwidgets import plots as alw_plots
from alwidgets import strategies
from alwidgets.engine import training
from alwidgets.engine.labelstate import LABELED_MEANS
from alwidgets.experiments.baseline import RandomBaseline
from alwidgets.widgets import views as alw_views
from alwidgets.widgets._guard import describe, guarded
from alwidgets.widgets.keys import KeyListener
from alwidgets.widgets.review import ReviewPanel
from alwidgets.widgets.worker import Worker

__all__ = ["Labeler"]

UNDO_KEY = "Backspace"
SKIP_KEY = "s"
SUBMIT_KEY = "Enter"
_WHY_PENDING = "<span style='color:#999'>Why this one? (the model is looking…)</span>"
PLOT_NAMES = ("learning_curve", "regression", "decision_boundary")
LABEL_MODE = "Label"
REVIEW_MODE = "Labeled"
FRESH_PICK_WINDOW = 0.3  # seconds: a fresher pick replaces the shown item only this soon, before anyone can answer


def shortcut_keys(classes) -> list[str | None]:
    """The key for each class: 1-9 then 0 for the first ten; digits 0-9 keep their own key."""
    names = [str(c) for c in classes]
    if len(names) <= 10 and len(set(names)) == len(names) and all(n in "0123456789" and len(n) == 1 for n in names):
        return names
    keys: list[str | None] = [str(i + 1) for i in range(min(9, len(names)))]
    if len(names) >= 10:
        keys.append("0")
    return keys + [None] * (len(names) - len(keys))


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
        self.multi_label = self._check_multi_label(multi_label, batch_size)
        self.batch_size = _check_count(batch_size, "batch_size")
        self.budget = None if budget is None else _check_count(budget, "budget")
        self.sync = bool(sync)
        self.fresh_pick = bool(fresh_pick)
        self.suggest = bool(suggest)
        self.view = alw_views.get(view, session)
        self.classes = self._check_classes(classes)
        self.y_true = self._check_y_true(y_true)
        self.X_grid = X_grid
        self.true_function = true_function
        self.shown: list[int] = []
        self.errors: list[str] = []
        self._batches: list[list[int]] = []  # what each submit labeled, for undo
        self._message = ""  # the last problem, shown until the next action succeeds
        self._model_status = ""
        self._shown_at = 0.0
        self._shown_version = 0
        self._shown_from_ranking = True
        self._ui_lock = threading.RLock()
        self._baseline = self._make_baseline()
        self.suggested: dict[int, tuple] = {}  # item -> (the model's guess, its probability), as shown
        self.relabeling: int | None = None  # the labeled item opened from the "Labeled" view
        self._stashed: list[int] = []  # what was shown before a relabel, shown again after it

        self._build_instance_area()
        self._build_controls()
        self.progress = _html("alw-progress")
        self.status = _html("alw-status")
        self._plots = self._build_plots(plots)
        plot_box = widgets.HBox(
            [p["image"] for p in self._plots], layout=widgets.Layout(flex_flow="row wrap", grid_gap="8px")
        )
        self.review = None
        self.mode = None
        children = [self.instance, self.controls, self.progress, self.status, plot_box]
        if review and self.classes is not None and not self.multi_label:  # the review ranks single labels
            self.review = ReviewPanel(session, self.view, self.open_for_relabel)
            self.review.layout.display = "none"
            self.mode = widgets.ToggleButtons(options=[LABEL_MODE, REVIEW_MODE], value=LABEL_MODE,
                                              style={"button_width": "auto"})
            self.mode.add_class("alw-mode")
            self.mode.observe(self._on_mode, names="value")
            children = [self.mode, self.instance, self.review, *children[1:]]
        self.key_listener = None
        if keyboard:
            on_submit = self._submit_value if self.value is not None else None  # Enter in the y value box
            self.key_listener = KeyListener(self.handle_key, self._listened_keys(), on_submit=on_submit)
            children.append(self.key_listener)
        self.children = children
        self.add_class("alw-labeler")

        self._worker = Worker(self._update, on_error=self._worker_failed, on_busy=self._show_busy,
                              on_idle=self._show_idle)
        self._show(self._next_items())
        self._schedule()

    # ------------------------------------------------------------------ building

    def _check_classes(self, classes):
        if not self.session.is_classifier:
            if classes is not None:
                raise ValueError("classes is for classifiers; this session's model is a regressor, so leave it out")
            return None
        if classes is None:
            classes = self.session.classes
        if classes is None:
            raise ValueError(
                "the Labeler needs the classes a person can choose from: pass classes=[...] (e.g. "
                "classes=['cat', 'dog']), or give the Session classes=... or a labeled test set"
            )
        classes = [c.item() if hasattr(c, "item") else c for c in classes]
        if len(classes) < 2 or len(set(map(str, classes))) != len(classes):
            raise ValueError(f"classes must hold at least two different labels; got {classes!r}")
        known = self.session.classes
        if known is not None:
            unknown = [c for c in classes if c not in known]
            if unknown:
                raise ValueError(f"classes {unknown!r} are not among the session's classes {known!r}")
        return classes

    def _check_multi_label(self, multi_label, batch_size) -> bool:
        session_multi = bool(getattr(self.session, "multi_label", False))
        if multi_label is None:
            multi_label = session_multi
        if bool(multi_label) != session_multi:
            raise ValueError(f"multi_label={multi_label!r} does not match the session: create it with "
                             f"Session(..., multi_label={bool(multi_label)})")
        if multi_label and batch_size != 1:
            raise ValueError("a multi-label Labeler shows one item at a time: leave batch_size at 1")
        return bool(multi_label)

    def _check_y_true(self, y_true):
        if y_true is None:
            return None
        if self.multi_label:  # label sets or an indicator matrix: one set per pool item
            sets = training.label_sets(y_true, self.session.classes)
            if len(sets) != self.session.n_pool:
                raise ValueError(f"y_true must hold one label set per pool item ({self.session.n_pool}); "
                                 f"got {len(sets)}")
            return sets
        y_true = np.asarray(y_true)
        if y_true.ndim != 1 or len(y_true) != self.session.n_pool:
            raise ValueError(
                f"y_true must hold one true label per pool item ({self.session.n_pool}); got shape {y_true.shape}"
            )
        return y_true

    def _make_baseline(self):
        """A shadow learner on random labels, for the dashed line; needs true labels and a test set."""
        session = self.session
        if self.y_true is None or session.X_test is None or self.multi_label:
            return None
        return RandomBaseline(session.learner, session.X_pool, self.y_true, session.X_test, session.y_test,
                              random_state=session.random_state, scoring=session.scoring)

    def _build_instance_area(self) -> None:
        self.caption = widgets.HTML(layout=widgets.Layout(margin="0"))
        self.caption.add_class("alw-caption")
        self.why = _html("alw-why")
        self.suggestion = _html("alw-suggestion")
        self.instance = widgets.VBox(layout=widgets.Layout(min_height="3em"))
        self.instance.add_class("alw-instance")
        self._view_widgets: list[widgets.Widget] = []
        self._cells: list[dict] = []

    def _build_controls(self) -> None:
        self.label_buttons: dict = {}
        self.value = None
        self.submit_button = None
        self.toggles: dict = {}
        rows = []
        if self.multi_label:
            rows.append(self._build_toggles())
        elif self.batch_size == 1 and self.classes is not None:
            for label, key in zip(self.classes, shortcut_keys(self.classes), strict=True):
                button = _class_control(widgets.Button, label, key, f"label this item {label!r}", "alw-label-button")
                button.on_click(lambda _b, label=label: self.label(label))
                self.label_buttons[label] = button
            rows.append(widgets.HBox(list(self.label_buttons.values()), layout=widgets.Layout(flex_flow="row wrap")))
        elif self.batch_size == 1:
            # Synced when committed (Submit, Enter), not per keystroke: no half-typed "0." can reach Python.
            self.value = widgets.Text(placeholder="y value, e.g. 0.5", continuous_update=False,
                                      layout=widgets.Layout(width="12em"))
            self.value.add_class("alw-value")
            self.submit_button = widgets.Button(description="Submit", button_style="primary")
            self.submit_button.add_class("alw-submit")
            self.submit_button.on_click(lambda _b: self._submit_value())
            rows.append(widgets.HBox([self.value, self.submit_button]))
        else:
            self.submit_button = widgets.Button(
                description=f"Submit batch [{SUBMIT_KEY}]", button_style="primary", layout=widgets.Layout(width="auto")
            )
            self.submit_button.add_class("alw-submit")
            self.submit_button.on_click(lambda _b: self.submit_batch())
            rows.append(widgets.HBox([self.submit_button]))

        self.undo_button = widgets.Button(description=f"Undo [{UNDO_KEY}]", icon="undo", layout=widgets.Layout(width="auto"))
        self.undo_button.add_class("alw-undo")
        self.undo_button.on_click(lambda _b: self.undo())
        self.skip_button = widgets.Button(description=f"Skip [{SKIP_KEY.upper()}]", layout=widgets.Layout(width="auto"))
        self.skip_button.add_class("alw-skip")
        self.skip_button.on_click(lambda _b: self.skip())
        self.strategy = None
        buttons = [self.undo_button, self.skip_button]
        if self.choose_strategy:
            self.strategy = widgets.Dropdown(
                options=strategies.available(self.session.learner, multi_label=self.multi_label),
                value=self.session.strategy,
                description="Strategy",
                layout=widgets.Layout(width="auto"),
            )
            self.strategy.add_class("alw-strategy")
            self.strategy.observe(self._on_strategy, names="value")
            buttons.append(self.strategy)
        rows.append(widgets.HBox(buttons, layout=widgets.Layout(grid_gap="6px")))
        self.controls = widgets.VBox(rows)

    def _build_toggles(self) -> widgets.HBox:
        """Multi-label: a toggle per class and a Submit button that records the toggled set."""
        for label, key in zip(self.classes, shortcut_keys(self.classes), strict=True):
            self.toggles[label] = _class_control(widgets.ToggleButton, label, key,
                                                 f"class {label!r} applies to this item", "alw-toggle")
        self.submit_button = widgets.Button(description=f"Submit [{SUBMIT_KEY}]", button_style="primary",
                                            tooltip="record the toggled classes (none toggled: no class applies)",
                                            layout=widgets.Layout(width="auto"))
        self.submit_button.add_class("alw-submit")
        self.submit_button.on_click(lambda _b: self.submit_set())
        return widgets.HBox([*self.toggles.values(), self.submit_button], layout=widgets.Layout(flex_flow="row wrap"))

    @property
    def chosen(self) -> set:
        """Multi-label: the classes toggled on for the shown item."""
        return {label for label, toggle in self.toggles.items() if toggle.value}

    @guarded("submit")
    def submit_set(self) -> None:
        """Multi-label: record the toggled classes as the shown item's label set (none toggled: the empty set)."""
        self.label(self.chosen)

    def _set_toggles(self, chosen) -> None:
        for label, toggle in self.toggles.items():
            toggle.value = label in chosen

    def _listened_keys(self) -> list[str]:
        keys = [UNDO_KEY, SKIP_KEY]
        if self.classes is not None:
            keys += [k for k in shortcut_keys(self.classes) if k]
        if self.batch_size > 1 or self.multi_label or (self.suggest and self.classes is not None):
            keys.append(SUBMIT_KEY)
        return keys

    def _build_plots(self, plots) -> list[dict]:
        names = self._plot_names(plots)
        built = []
        for name in names:
            ax = alw_plots.new_axes()
            image = widgets.Image(format="png", layout=widgets.Layout(width="auto", max_width="100%"))
            image.add_class("alw-plot")
            built.append({"name": name, "ax": ax, "image": image})
        return built

    def _plot_names(self, plots) -> list[str]:
        if plots is None:
            return []
        if isinstance(plots, str) and plots != "auto":
            plots = [plots]
        if not isinstance(plots, str):
            unknown = [p for p in plots if p not in PLOT_NAMES]
            if unknown:
                raise ValueError(f"unknown plots {unknown}; choose among {list(PLOT_NAMES)} or 'auto'")
            return list(plots)
        session = self.session
        names = []
        if session.X_test is not None:
            names.append("learning_curve")
        n_features = _n_features(session.X_pool)
        if not session.is_classifier and n_features == 1:
            names.append("regression")
        if session.is_classifier and n_features == 2 and not self.multi_label:
            names.append("decision_boundary")
        return names

    # ------------------------------------------------------------------ public API

    @property
    def current(self) -> int | None:
        """The pool index shown (the first one in batch mode), or None when labeling is done."""
        return self.shown[0] if self.shown else None

    @property
    def updating(self) -> bool:
        """Whether a model update (refit, re-rank, redraw) is running or asked for."""
        return self._worker.busy

    @property
    def budget_left(self) -> int | None:
        return None if self.budget is None else max(0, self.budget - self.session.n_labeled)

    @guarded("label")
    def label(self, label) -> None:
        """Label the shown item as a person's click would (single mode)."""
        if self.batch_size > 1:
            self._report("in batch mode choose a label for each item, then submit the batch")
            return
        if not self.shown:
            self._report("there is nothing to label: " + self._done_reason())
            return
        idx = self.shown[0]
        guess = self.suggested.get(idx, (None,))[0]
        if self.relabeling == idx:
            self.session.relabel(idx, label, suggested=guess)  # a retraction and the new label, in one write
            self._batches.append([idx])
            self._finish_relabel()
            return
        self.session.record(idx, label, suggested=guess)  # a refused label raises here: not counted, the item stays
        self._batches.append([idx])
        self._after_labels()

    @guarded("accept the suggestion")
    def accept_suggestion(self) -> None:
        """Label the shown item with the model's suggestion (what Enter does)."""
        if self.batch_size > 1 or not self.shown:
            return
        guess = self.suggested.get(self.shown[0])
        if guess is None:
            self._report("there is no suggestion to accept yet: the model is not fitted")
            return
        self.label(guess[0])

    @guarded("relabel")
    def open_for_relabel(self, idx: int) -> None:
        """Show a labeled item in the labeling view; the next label given replaces this annotator's label."""
        idx = self.session.check_index(idx, allow_labeled=True)
        mine = self.session.my_labels
        if idx not in mine:
            who = ", ".join(sorted(self.session.votes.get(idx, {}))) or "nobody"
            raise ValueError(f"item {idx} was labeled by {who}, not by {self.session.annotator!r}: only your own "
                             "labels can be changed here")
        if self.batch_size > 1:
            raise ValueError("relabeling works one item at a time: use a Labeler with batch_size=1")
        with self._ui_lock:
            if self.relabeling is None:
                self._stashed = list(self.shown)
            self.relabeling = idx
            if self.mode is not None:
                self.mode.value = LABEL_MODE
            self._show([idx], from_ranking=False)
        self._message = ""
        self._render_status()

    def _finish_relabel(self, back_to_review: bool = True) -> None:
        """After a relabel (or a skip that cancels it): the stashed item again, and the list."""
        with self._ui_lock:
            self.relabeling = None
            stashed, self._stashed = self._stashed, []
            self._show(stashed, from_ranking=False)
            if back_to_review and self.mode is not None:
                self.mode.value = REVIEW_MODE
        self._message = ""
        self._refresh_progress()
        self._schedule()

    @guarded("submit")
    def submit_batch(self) -> None:
        """Record every item of the batch that has a label; the others go back to the pool."""
        if self.batch_size == 1:
            if self.value is not None:
                self._submit_value()
            return
        chosen, labels = [], []
        for cell in self._cells:
            value = cell["control"].value
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            chosen.append(cell["idx"])
            labels.append(value)
        if not chosen:
            self._report("choose a label for at least one item before submitting the batch")
            return
        if not self.session.is_classifier:
            parsed = [_parse_number(v) for v in labels]
            bad = [v for v, p in zip(labels, parsed, strict=True) if p is None]
            if bad:
                self._report(f"{bad[0]!r} is not a number: type the y value of each item, e.g. 0.5")
                return
            labels = parsed
        self.session.record(chosen, labels, suggested=[self.suggested.get(i, (None,))[0] for i in chosen])
        self._batches.append(chosen)
        self._after_labels()

    @guarded("undo")
    def undo(self) -> None:
        """Take back the last label (the last batch in batch mode) and show that item again.

        The label is retracted in the store at once; the model forgets it at
        the worker's next update, so the click never waits for a refit.
        """
        change = self.session.last_change
        if change is not None and change[1]:  # a relabel: the old label comes back, nothing to show again
            idx, label = self.session.undo(refit=self.sync)
            if self._batches:
                self._batches.pop()
            self._message = ""
            self._say(f"item {idx} has its earlier label again (the relabel to {label!r} is taken back)")
            if self.review is not None:
                self.review.refresh()
            self._refresh_progress()
            self._schedule()
            return
        batch = self._batches[-1] if self._batches else [None]
        undone = []
        for _ in batch:
            result = self.session.undo(refit=self.sync)
            if result is None:
                break
            undone.append(result)
        if self._batches:
            self._batches.pop()
        if not undone:
            self._report("there is no label to take back")
            return
        items = [idx for idx, _ in reversed(undone)]
        prefill = {idx: label for idx, label in undone}
        if self.batch_size == 1:
            items = items[:1]
        self._message = ""
        self._show(items, prefill=prefill, from_ranking=False)
        self._refresh_progress()
        self._schedule()

    @guarded("skip")
    def skip(self) -> None:
        """Set the shown item(s) aside and show the next."""
        if self.relabeling is not None:  # Skip leaves the labeled item as it was
            self._finish_relabel()
            return
        if not self.shown:
            self._report("there is nothing to skip: " + self._done_reason())
            return
        self.session.skip(list(self.shown))
        self._message = ""
        self._show(self._next_items())
        self._refresh_progress()
        self._schedule()

    @guarded("key")
    def handle_key(self, key: str) -> None:
        """What a shortcut key does: a class key labels, Backspace undoes, S skips, Enter submits a batch."""
        if self.multi_label and key != UNDO_KEY and key.lower() != SKIP_KEY:
            self._handle_multi_label_key(key)
        elif key == UNDO_KEY:
            self.undo()
        elif self.mode is not None and self.mode.value == REVIEW_MODE:
            return  # no item is on screen to label
        elif key.lower() == SKIP_KEY:
            self.skip()
        elif key == SUBMIT_KEY and self.batch_size > 1:
            self.submit_batch()
        elif key == SUBMIT_KEY:
            if self.suggest:
                self.accept_suggestion()
        elif self.classes is not None:
            by_key = {k: c for c, k in zip(self.classes, shortcut_keys(self.classes), strict=True) if k}
            if key not in by_key:
                return
            if self.batch_size == 1:
                self.label(by_key[key])
            else:
                empty = [cell for cell in self._cells if cell["control"].value is None]
                if empty:
                    empty[0]["control"].value = by_key[key]

    def _handle_multi_label_key(self, key: str) -> None:
        """A class key toggles its class, Enter submits the set."""
        if key == SUBMIT_KEY:
            self.submit_set()
            return
        by_key = {k: c for c, k in zip(self.classes, shortcut_keys(self.classes), strict=True) if k}
        if key in by_key and self.shown:
            toggle = self.toggles[by_key[key]]
            toggle.value = not toggle.value

    def wait(self, timeout: float | None = 60.0) -> None:
        """Block until the model and plots have caught up with every label given (for tests and notebooks)."""
        if not self._worker.wait(timeout):
            raise TimeoutError(f"the model update did not finish within {timeout} s")

    def simulate(self, n_labels: int) -> None:
        """Give ``n_labels`` labels from ``y_true`` with the widget's own controls, as a person would."""
        if self.y_true is None:
            raise ValueError("simulate needs the true labels: create the Labeler with y_true=...")
        n_labels = _check_count(n_labels, "n_labels")
        start = self.session.n_labeled
        while self.shown and self.session.n_labeled - start < n_labels:
            if self.batch_size > 1:
                for cell in self._cells[: n_labels - (self.session.n_labeled - start)]:
                    truth = self.y_true[cell["idx"]]
                    cell["control"].value = (
                        _match_class(truth, self.classes) if self.classes is not None else f"{float(truth):.6g}"
                    )
                self.submit_button.click()
            elif self.multi_label:
                self._set_toggles(self.y_true[self.shown[0]])
                self.submit_button.click()
            elif self.classes is not None:
                self.label_buttons[_match_class(self.y_true[self.shown[0]], self.classes)].click()
            else:
                self.value.value = f"{float(self.y_true[self.shown[0]]):.6g}"
                self.submit_button.click()

    def close(self) -> None:
        """Stop the background worker and close the widget."""
        worker = getattr(self, "_worker", None)  # None when __init__ failed half-way
        if worker is not None:
            worker.stop()
        if getattr(self, "key_listener", None) is not None:
            self.key_listener.close()
        if getattr(self, "review", None) is not None:
            self.review.close()
        super().close()

    # ------------------------------------------------------------------ the click path

    def _after_labels(self) -> None:
        self._message = ""
        if self.sync:
            self._run_sync()
            self._show(self._next_items(refresh=True))
        else:
            self._show(self._next_items())
            self._refresh_progress()
            self._worker.request()

    def _schedule(self) -> None:
        if self.sync:
            self._run_sync()
        else:
            self._worker.request()

    def _run_sync(self) -> None:
        """The naive path: refit, re-rank and redraw while the person waits."""
        try:
            self._update()
        except Exception as error:  # shown in the status line like the worker's errors
            self._worker_failed(error)
        self._show_idle()

    @guarded("submit")
    def _submit_value(self, text: str | None = None) -> bool:
        """Record the y value in the box (Submit), or ``text``, typed in the box when Enter was pressed.

        Returns whether it was a number (the key listener then empties the box in the browser).
        """
        text = self.value.value if text is None else text
        number = _parse_number(text)
        if number is None:
            self._report(f"{text!r} is not a number: type the y value of the marked point, e.g. 0.5")
            return False
        self.value.value = ""
        self.label(number)
        return True

    def _next_items(self, refresh: bool = False) -> list[int]:
        n = self.batch_size
        if self.budget is not None:
            n = min(n, self.budget_left)
        if n <= 0:
            return []
        return self.session.query(n, refresh=refresh)

    def _show(self, items: list[int], prefill: dict | None = None, from_ranking: bool = True) -> None:
        with self._ui_lock, self.hold_sync():
            old = self._view_widgets
            self.shown = list(items)
            self._shown_at = time.monotonic()
            self._shown_version = self.session.model_version
            self._shown_from_ranking = from_ranking  # an undone item stays until answered
            self._cells = []
            self.suggested = self._suggestions(items)
            if not items:
                self.caption.value = f"<b>{html.escape(self._done_reason())}</b>"
                self.why.value = ""
                self.instance.children = (self.caption,)
                self._view_widgets = []
                self._enable_labeling(False)
            elif self.batch_size == 1:
                idx = items[0]
                shown = self.view(self.session, idx)
                self.caption.value = self._caption_html(idx)
                self.why.value = self._why_html(idx) if self.sync else _WHY_PENDING
                self.suggestion.value = self._suggestion_html(idx)
                self.instance.children = (self.caption, shown, self.suggestion, self.why)
                self._view_widgets = [shown]
                if prefill and self.value is not None and idx in prefill:
                    self.value.value = f"{prefill[idx]:.6g}"
                if self.multi_label:  # a new item starts with nothing toggled; an undone one with its set
                    self._set_toggles((prefill or {}).get(idx, ()))
                self._enable_labeling(True)
            else:
                guesses = {i: g[0] for i, g in self.suggested.items()}
                self._show_batch(items, {**guesses, **(prefill or {})})
                self._enable_labeling(True)
        for widget in old:
            if isinstance(self.view, alw_views.View):
                widget.close()

    def _show_batch(self, items: list[int], prefill: dict) -> None:
        thumbnail = getattr(self.view, "thumbnail", self.view)
        cells = []
        for idx in items:
            caption = widgets.HTML(f"<span style='color:#666'>item {idx}</span>")
            if self.classes is not None:
                keys = shortcut_keys(self.classes)
                options = [("—", None)] + [(f"{c} [{k}]" if k else str(c), c) for c, k in zip(self.classes, keys, strict=True)]
                control = widgets.Dropdown(options=options, value=prefill.get(idx), layout=widgets.Layout(width="auto"))
            else:
                control = widgets.Text(
                    value="" if idx not in prefill else f"{prefill[idx]:.6g}",
                    placeholder="y value",
                    layout=widgets.Layout(width="8em"),
                )
            control.add_class("alw-cell-control")
            shown = thumbnail(self.session, idx)
            cell = widgets.VBox([caption, shown, control], layout=widgets.Layout(border="1px solid #eee", padding="4px"))
            cell.add_class("alw-cell")
            cells.append({"idx": idx, "control": control, "box": cell, "view": shown})
        self._cells = cells
        boxes = [c["box"] for c in cells]
        if isinstance(self.view, alw_views.ImageView):
            area = widgets.GridBox(boxes, layout=widgets.Layout(grid_template_columns="repeat(auto-fill, 130px)",
                                                               grid_gap="6px"))
        else:
            area = widgets.VBox(boxes, layout=widgets.Layout(grid_gap="4px"))
        self.caption.value = f"<span style='color:#666'>{len(items)} items: label each, then submit</span>"
        self.instance.children = (self.caption, area, self.why)
        self._view_widgets = [area]

    def _suggestions(self, items: list[int]) -> dict[int, tuple]:
        """The model's guess for each item about to be shown (none before it is fitted, or with suggest off)."""
        if not self.suggest or self.classes is None or self.multi_label:  # a guess is one class, not a set
            return {}
        guesses = {}
        for idx in items:
            guess = self.session.suggestion(idx)
            if guess is not None and guess[0] in self.classes:
                guesses[idx] = guess
        return guesses

    def _add_missing_suggestions(self) -> None:
        """Items shown before the first model get its guess once it exists; a guess on screen never changes."""
        missing = [i for i in self.shown if i not in self.suggested]
        if not missing:
            return
        fresh = self._suggestions(missing)
        if not fresh:
            return
        self.suggested.update(fresh)
        if self.batch_size == 1:
            self.suggestion.value = self._suggestion_html(self.shown[0])
        else:
            for cell in self._cells:
                if cell["idx"] in fresh and cell["control"].value is None:
                    cell["control"].value = fresh[cell["idx"]][0]

    def _caption_html(self, idx: int) -> str:
        if self.relabeling == idx:
            label = self.session.my_labels.get(idx)
            return (f"<span style='color:#8a6d00'><b>relabeling item {idx}</b> (now {html.escape(repr(label))}): "
                    "choose its new label, or Skip to leave it</span>")
        return f"<span style='color:#666'>item {idx}</span>"

    def _suggestion_html(self, idx: int) -> str:
        for label, button in self.label_buttons.items():
            guess = self.suggested.get(idx)
            button.button_style = "info" if guess is not None and guess[0] == label else ""
        guess = self.suggested.get(idx)
        if guess is None:
            return ""
        return (f"<span style='color:#0b5394'>The model suggests <b>{html.escape(str(guess[0]))}</b> "
                f"({guess[1]:.0%} sure). Enter accepts it; any other key or button overrides it.</span>")

    def _say(self, text: str) -> None:
        """A line on the status that is not a problem."""
        self._message = f"<span style='color:#444'>{html.escape(text)}</span>"
        self._render_status()

    @guarded("switch view")
    def _on_mode(self, change) -> None:
        reviewing = change["new"] == REVIEW_MODE
        if reviewing and self.relabeling is not None:  # leaving a relabel unanswered leaves the label as it was
            self._finish_relabel(back_to_review=False)
        self.instance.layout.display = "none" if reviewing else None
        self.controls.children[0].layout.display = "none" if reviewing else None  # the label buttons or box
        self.skip_button.layout.display = "none" if reviewing else None
        self.review.layout.display = None if reviewing else "none"
        if reviewing:
            self.review.refresh()

    def _enable_labeling(self, enabled: bool) -> None:
        for button in [*self.label_buttons.values(), *self.toggles.values()]:
            button.disabled = not enabled
        if self.submit_button is not None:
            self.submit_button.disabled = not enabled
        if self.value is not None:
            self.value.disabled = not enabled
        self.skip_button.disabled = not enabled

    def _done_reason(self) -> str:
        if self.budget is not None and self.session.n_labeled >= self.budget:
            return f"Budget of {self.budget} labels reached. Thank you! (Undo to change a label.)"
        return "Every item of the pool is labeled or skipped."

    @guarded("strategy switch")
    def _on_strategy(self, change) -> None:
        try:
            self.session.strategy = change["new"]  # served by the next update: the click does not rank
        except ValueError:
            with self.strategy.hold_trait_notifications():
                self.strategy.value = self.session.strategy
            raise
        self._message = ""
        self._schedule()

    # ------------------------------------------------------------------ the worker's half

    def _update(self) -> None:
        """Refit, re-rank, redraw: runs on the worker thread (or in the click with ``sync=True``)."""
        session = self.session
        session.update(self.batch_size)
        if self._worker.superseded and not session.is_current:
            return  # more labels came during the fit: the next update draws, no time spent on a stale picture
        snapshot = session.snapshot
        asks = session.peek(self.batch_size)  # where the current model asks: what the plots mark
        self._maybe_show_fresh_pick(asks)
        shown = list(self.shown)
        why = self._why_html(shown[0]) if shown and self.batch_size == 1 else ""
        pictures = self._draw(asks or shown, snapshot)
        with self._ui_lock, self.hold_sync():
            for plot, png in zip(self._plots, pictures, strict=True):
                if png is not None:
                    plot["image"].value = png
            if self.shown == shown:
                self.why.value = why
                self._add_missing_suggestions()
            self._refresh_progress()

    def _maybe_show_fresh_pick(self, asks: list[int]) -> None:
        """Show the current model's pick instead of one chosen by an older model, if nobody can have started on it.

        A quick refit lands within :data:`FRESH_PICK_WINDOW` of the item being
        shown, and the fresh pick replaces it. A slow one lands later, when the
        person may be about to answer: the item stays, and "why this one?"
        says it was chosen by the previous model.
        """
        with self._ui_lock:
            if not self.fresh_pick or self.batch_size != 1 or not self.shown or not asks or asks[0] == self.shown[0]:
                return
            if not self._shown_from_ranking:
                return
            if self._shown_version == self.session.model_version:
                return
            untouched = self.value is None or not self.value.value.strip()
            if time.monotonic() - self._shown_at <= FRESH_PICK_WINDOW and untouched:
                self.session.release_items(self.shown)
                self._show(self._next_items())

    def _draw(self, marked: list[int], snapshot) -> list[bytes | None]:
        pictures = []
        for plot in self._plots:
            ax = plot["ax"]  # the plot functions empty it themselves, keeping its ticks
            getattr(self, f"_draw_{plot['name']}")(ax, marked, snapshot)
            pictures.append(alw_plots.figure_to_png(ax.figure))
        return pictures

    def _draw_learning_curve(self, ax, shown, snapshot) -> None:
        history = list(snapshot.history)
        baseline = self._baseline_curve(history)
        first_stop = self.session.stopping()["first_stop"]
        alw_plots.plot_learning_curve(
            history, ax=ax, baseline=baseline, ylabel=f"held-out {self._metric_name()}", budget=self.budget,
            stops=None if first_stop is None else first_stop["n_labels"],
        )

    def _draw_regression(self, ax, shown, snapshot) -> None:
        truth = self.true_function if self.true_function is not None else self.y_true
        alw_plots.plot_regression(self.session, ax=ax, X_grid=self.X_grid, query=shown or None, y_true=truth)

    def _draw_decision_boundary(self, ax, shown, snapshot) -> None:
        alw_plots.plot_decision_boundary(self.session, ax=ax, query=shown or None)

    def _baseline_curve(self, history) -> list[dict] | None:
        if self._baseline is None:
            return None
        return self._baseline.for_history([h for h in history if h["n_labels"] > 0])

    # ------------------------------------------------------------------ status, progress, why

    def _why_html(self, idx: int) -> str:
        session = self.session
        if not session.is_fitted:
            need = "labels of two classes" if session.is_classifier else "a label"
            return f"<span style='color:#666'>Why this one? Picked at random: the model needs {need} first.</span>"
        info = session.why(idx)
        parts = [f"{html.escape(info['strategy'])} score {_format_score(info['score'])}"]
        if self._shown_version < info["model_version"]:
            parts.append(f"chosen by model version {self._shown_version}; the plots mark where version "
                         f"{info['model_version']} asks")
        if info["top_classes"] and self.multi_label:  # each class on its own: no "or"
            guesses = ", ".join(f"{html.escape(str(c))} {p:.0%}" for c, p in info["top_classes"])
            parts.append(f"the model gives {guesses}")
        elif info["top_classes"]:
            guesses = " or ".join(f"{html.escape(str(c))} ({p:.0%})" for c, p in info["top_classes"])
            parts.append(f"the model says {guesses}")
        return f"<span style='color:#444'>Why this one? {' · '.join(parts)}</span>"

    def refresh_progress(self) -> None:
        """Redraw the progress line from the session's label state (a dashboard calls it after a sync)."""
        self._refresh_progress()

    def _refresh_progress(self) -> None:
        session = self.session
        parts = [f"<span title='{LABELED_MEANS}'><b>{session.n_labeled}</b> labeled</span>",
                 f"{session.n_pool:,} in the pool"]
        if self.budget is not None:
            parts.append(f"budget {min(session.n_labeled, self.budget)}/{self.budget}")
        scores = [h["score"] for h in session.history if h.get("score") is not None]
        if session.X_test is not None:
            score = f"{scores[-1]:.3f}" if scores else "—"
            parts.append(f"held-out {self._metric_name()} {score}")
        if session.stopping()["stop"]:
            parts.append("<span class='alw-stop' style='color:#2e7d32'>the model has stopped changing: "
                         "more labels are unlikely to help</span>")
        self.progress.value = " · ".join(parts)

    def _metric_name(self) -> str:
        return training.score_name(self.session.scoring, self.session.is_classifier)

    def _show_busy(self) -> None:
        self._model_status = "<span style='color:#8a6d00'>⟳ model updating…</span>"
        self._render_status()

    def _show_idle(self) -> None:
        version = self.session.model_version
        self._model_status = f"<span style='color:#2e7d32'>✓ model up to date (version {version})</span>"
        self._render_status()

    def _render_status(self) -> None:
        self.status.value = " ".join(part for part in (self._model_status, self._message) if part)

    def _worker_failed(self, error: BaseException) -> None:
        self._report_error("model update", error)

    def _report_error(self, action: str, error: BaseException) -> None:
        """What :func:`guarded` calls: the exception in words on the status line."""
        self._report(describe(action, error))

    def _report(self, message: str) -> None:
        """Show a problem on the status line until the next action succeeds; nothing else changes."""
        self.errors.append(message)
        self._message = f"<span style='color:#b00020'>⚠ {html.escape(message)}</span>"
        self._render_status()


# ---------------------------------------------------------------------- helpers


def _class_control(kind, label, key: str | None, tooltip: str, css_class: str) -> widgets.Widget:
    """A button (or toggle) for one class, named with its shortcut key."""
    control = kind(description=f"{label} [{key}]" if key else str(label),
                   tooltip=tooltip + (f" (key {key})" if key else ""),
                   layout=widgets.Layout(width="auto", min_width="4em"))
    control.add_class(css_class)
    return control


def _html(css_class: str) -> widgets.HTML:
    widget = widgets.HTML()
    widget.add_class(css_class)
    return widget


def _n_features(X) -> int:
    shape = getattr(X, "shape", None)
    if shape is None or len(shape) < 2:
        return 1
    return int(np.prod(shape[1:]))


def _check_count(value, name: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def _parse_number(text) -> float | None:
    try:
        value = float(str(text).strip().replace(",", "."))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _format_score(score: float) -> str:
    return "—" if score is None or not math.isfinite(score) else f"{score:.3f}"


def _match_class(value, classes):
    value = value.item() if hasattr(value, "item") else value
    for c in classes:
        if c == value or str(c) == str(value):
            return c
    raise ValueError(f"true label {value!r} is not one of the classes {classes!r}")


