"""The Labeler's item area: the item (or batch of items) to label, why it was chosen, and the model's guess.

:class:`ItemArea` is the box the Labeler shows an item in. It draws what it
is told and keeps, for batch mode, one cell per item with its own label
control; it records nothing and asks the session only to draw (the view, the
"why this one?" line). The Labeler holds its UI lock around every change.
"""

from __future__ import annotations

import html
import math

import ipywidgets as widgets

from alwidgets._validation import match_class
from alwidgets.widgets.label_controls import parse_number, shortcut_keys
from alwidgets.widgets.views import ImageView

__all__ = ["ItemArea", "WHY_PENDING", "caption_html", "model_guesses", "why_html", "suggestion_html"]

WHY_PENDING = "<span style='color:#999'>Why this one? (the model is looking…)</span>"


class ItemArea(widgets.VBox):
    """The shown item(s): a caption, the view, the model's suggestion and "why this one?".

    Parameters
    ----------
    view : callable
        ``view(session, idx) -> widget``; its ``thumbnail`` draws batch cells when it has one.
    classes : list or None
        A batch cell's choices (a dropdown); None: a y value box per cell.
    batch : bool
        Items are shown as a batch of cells, each with its own control.
    """

    def __init__(self, view, classes, batch: bool = False):
        super().__init__(layout=widgets.Layout(min_height="3em"))
        self.add_class("alw-instance")
        self.view = view
        self.classes = classes
        self.batch = batch
        self.caption = widgets.HTML(layout=widgets.Layout(margin="0"))
        self.caption.add_class("alw-caption")
        self.why = _html("alw-why")
        self.suggestion = _html("alw-suggestion")
        self.cells: list[dict] = []  # batch mode: {"idx", "control", "box", "view"} per item
        self._drawn: list[widgets.Widget] = []  # what the view drew for the shown item(s)

    # ------------------------------------------------------------------ drawing

    def show(self, session, items: list[int], *, prefill: dict, guesses: dict, caption: str, why: str,
             done: str, guesses_version: int | None = None) -> list[widgets.Widget]:
        """Show ``items``: ``done`` if there are none, else the item or the batch. Returns the widgets replaced.

        ``guesses`` are the model's ``{idx: (label, probability)}``: said for
        one item (with the model version they came from, ``guesses_version``),
        the starting value of a batch cell (``prefill`` wins).
        """
        if not items:
            return self.show_done(done)
        if self.batch:
            return self.show_batch(session, items, {**{i: g[0] for i, g in guesses.items()}, **prefill})
        return self.show_one(session, items[0], caption=caption, why=why,
                             suggestion=suggestion_html(guesses.get(items[0]), guesses_version))

    def show_done(self, reason: str) -> list[widgets.Widget]:
        """Nothing left to label: say why. Returns the view widgets no longer shown."""
        self.caption.value = f"<b>{html.escape(reason)}</b>"
        self.why.value = ""
        self.children = (self.caption,)
        return self._replace([], [])

    def show_one(self, session, idx: int, *, caption: str, suggestion: str, why: str) -> list[widgets.Widget]:
        """One item, drawn by the view. Returns the view widgets no longer shown."""
        shown = self.view(session, idx)
        self.caption.value = caption
        self.why.value = why
        self.suggestion.value = suggestion
        self.children = (self.caption, shown, self.suggestion, self.why)
        return self._replace([shown], [])

    def show_batch(self, session, items: list[int], prefill: dict) -> list[widgets.Widget]:
        """A grid (images) or a list of cells, each with its own control starting on ``prefill.get(idx)``."""
        thumbnail = getattr(self.view, "thumbnail", self.view)
        cells = []
        for idx in items:
            caption = widgets.HTML(f"<span style='color:#666'>item {html.escape(session.item_name(idx))}</span>")
            control = self._cell_control(prefill.get(idx))
            shown = thumbnail(session, idx)
            box = widgets.VBox([caption, shown, control], layout=widgets.Layout(border="1px solid #eee", padding="4px"))
            box.add_class("alw-cell")
            cells.append({"idx": idx, "control": control, "box": box, "view": shown})
        boxes = [c["box"] for c in cells]
        if isinstance(self.view, ImageView):
            area = widgets.GridBox(boxes, layout=widgets.Layout(grid_template_columns="repeat(auto-fill, 130px)",
                                                               grid_gap="6px"))
        else:
            area = widgets.VBox(boxes, layout=widgets.Layout(grid_gap="4px"))
        self.caption.value = f"<span style='color:#666'>{len(items)} items: label each, then submit</span>"
        self.children = (self.caption, area, self.why)
        return self._replace([area], cells)

    def _cell_control(self, value) -> widgets.Widget:
        if self.classes is not None:
            keys = shortcut_keys(self.classes)
            options = [("—", None)] + [(f"{c} [{k}]" if k else str(c), c)
                                       for c, k in zip(self.classes, keys, strict=True)]
            control = widgets.Dropdown(options=options, value=value, layout=widgets.Layout(width="auto"))
        else:
            control = widgets.Text(value="" if value is None else f"{value:.6g}", placeholder="y value",
                                   layout=widgets.Layout(width="8em"))
        control.add_class("alw-cell-control")
        return control

    def _replace(self, drawn: list[widgets.Widget], cells: list[dict]) -> list[widgets.Widget]:
        old, self._drawn, self.cells = self._drawn, drawn, cells
        return old

    # ------------------------------------------------------------------ batch cells

    def batch_answers(self) -> tuple[list[int], list]:
        """The items of the batch a label was chosen (or a y value typed) for, and those labels.

        ValueError if there is none, or if a typed value is not a number.
        """
        chosen, labels = [], []
        for cell in self.cells:
            value = cell["control"].value
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            if self.classes is None and parse_number(value) is None:
                raise ValueError(f"{value!r} is not a number: type the y value of each item, e.g. 0.5")
            chosen.append(cell["idx"])
            labels.append(value if self.classes is not None else parse_number(value))
        if not chosen:
            raise ValueError("choose a label for at least one item before submitting the batch")
        return chosen, labels

    def fill_next_empty(self, label) -> None:
        """A class key in batch mode: the first cell without a label gets it."""
        empty = [cell for cell in self.cells if cell["control"].value is None]
        if empty:
            empty[0]["control"].value = label

    def fill_answers(self, answers: dict) -> None:
        """Set cells to the labels in ``{idx: label}`` (a class by the engine's rule, or a y value)."""
        for cell in self.cells:
            if cell["idx"] in answers:
                answer = answers[cell["idx"]]
                cell["control"].value = (match_class(answer, self.classes) if self.classes is not None
                                         else f"{float(answer):.6g}")

    def fill_guesses(self, guesses: dict) -> None:
        """Cells still without a label start on the model's guess (``{idx: (label, probability)}``)."""
        for cell in self.cells:
            if cell["idx"] in guesses and cell["control"].value is None:
                cell["control"].value = guesses[cell["idx"]][0]


# ---------------------------------------------------------------------- what the lines say


def model_guesses(session, items: list[int], classes) -> dict[int, tuple]:
    """The session's guess ``(label, probability)`` for each item that has one among ``classes``."""
    guesses = {}
    for idx in items:
        guess = session.suggestion(idx)
        if guess is not None and guess[0] in classes:
            guesses[idx] = guess
    return guesses


def caption_html(name: str, relabeling_from=None, relabeling: bool = False) -> str:
    """"item mnist-907" (``name``: :meth:`Session.item_name`), or, for an item opened to relabel, its label and what to do."""
    name = html.escape(str(name))
    if relabeling:
        return (f"<span style='color:#8a6d00'><b>relabeling item {name}</b> (now {html.escape(repr(relabeling_from))}):"
                " choose its new label, or Skip to leave it</span>")
    return f"<span style='color:#666'>item {name}</span>"


def suggestion_html(guess, version: int | None = None) -> str:
    """The model's guess ``(label, probability)`` in words, naming the model ``version`` it came from; "" without one.

    "Why this one?" may speak of a newer model than the suggestion's (a guess
    on screen never changes): the version tells which model said what.
    """
    if guess is None:
        return ""
    which = f", model version {version}" if version else ""
    return (f"<span style='color:#0b5394'>The model suggests <b>{html.escape(str(guess[0]))}</b> "
            f"({guess[1]:.0%} sure{which}). Enter accepts it; any other key or button overrides it.</span>")


def why_html(session, idx: int, shown_version: int, multi_label: bool, suggested_version: int | None = None,
             next_picks=None, marked_apart: bool = True) -> str:
    """"Why this one?": the strategy's score, which model chose it, and the model's top classes.

    When the suggestion on screen came from another model version
    (``suggested_version``), the classes are said to be the current version's.
    ``next_picks``, where the latest model asks next (as the plots mark it),
    tells whether that model would ask this very item too; ``marked_apart``,
    whether a plot on the page marks that pick (a learning curve alone does not).
    """
    if not session.is_fitted:
        need = "labels of two classes" if session.is_classifier else "a label"
        return f"<span style='color:#666'>Why this one? Picked at random: the model needs {need} first.</span>"
    info = session.why(idx)
    parts = [f"{html.escape(info['strategy'])} score {_format_score(info['score'])}"]
    if shown_version < info["model_version"] and next_picks is not None and idx in list(next_picks)[:1]:
        parts.append(f"chosen by model version {shown_version}; version {info['model_version']} asks for it too")
    elif shown_version < info["model_version"]:
        where = "is marked apart on the plots" if marked_apart else "is another item"
        parts.append(f"chosen by model version {shown_version}; version {info['model_version']}'s own next pick {where}")
    who = "the model" if suggested_version in (None, info["model_version"]) else f"model version {info['model_version']}"
    if info["top_classes"] and multi_label:  # each class on its own: no "or"
        guesses = ", ".join(f"{html.escape(str(c))} {p:.0%}" for c, p in info["top_classes"])
        parts.append(f"{who} gives {guesses}")
    elif info["top_classes"]:
        guesses = " or ".join(f"{html.escape(str(c))} ({p:.0%})" for c, p in info["top_classes"])
        parts.append(f"{who} says {guesses}")
    return f"<span style='color:#444'>Why this one? {' · '.join(parts)}</span>"


def _format_score(score: float) -> str:
    return "—" if score is None or not math.isfinite(score) else f"{score:.3f}"


def _html(css_class: str) -> widgets.HTML:
    widget = widgets.HTML()
    widget.add_class(css_class)
    return widget
