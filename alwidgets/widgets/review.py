"""The "Labeled" view: look back over the labels given, find the wrong ones, and open one to relabel it.

Labels are listed newest first, as thumbnails or text snippets with their
label and annotator, and can be filtered by class and by annotator. "The model
disagrees" orders them by :meth:`Session.review`: the out-of-fold probability
of the given label, lowest first, so likely mistakes come to the top. That
ranking fits the model several times, so it runs on a background
:class:`~alwidgets.widgets.worker.Worker`, never in a click.

The panel does not label anything itself: its "Relabel" buttons call
``on_relabel(index)``, and the Labeler shows the item in its labeling view.

Threads: the panel's traits are written only under its ``_ui_lock`` (see
:mod:`alwidgets.widgets._guard`), by the kernel's thread or by its own ranking
worker, which computes the ranking off the lock and swaps it in.
"""

from __future__ import annotations

import html
import threading

import ipywidgets as widgets

from alwidgets.widgets._guard import call_apart, guarded, report_error
from alwidgets.widgets.worker import Worker

__all__ = ["ReviewPanel"]

ALL = "all"


class ReviewPanel(widgets.VBox):
    """The labeled items of a session, filterable, with a button to relabel each.

    Parameters
    ----------
    session : alwidgets.Session
        Whose labels to list (every annotator's votes on its store).
    view : callable
        ``view(session, idx) -> widget``; its ``thumbnail`` is used when it has one.
    on_relabel : callable
        Called with the pool index when a "Relabel" button is pressed.
    page_size : int, default=12
        Items shown at a time; "Show more" adds as many again.
    """

    def __init__(self, session, view, on_relabel, *, page_size: int = 12):
        super().__init__()
        self.session = session
        self.view = view
        self.on_relabel = on_relabel
        self.page_size = int(page_size)
        self.errors: list[str] = []
        self._shown_count = self.page_size
        self._ranking = None  # the last out-of-fold ranking, and the labels it was computed on
        self._ranked_labels = None
        self._ui_lock = threading.RLock()  # held while the panel's traits are written, and to swap the ranking in

        self.class_filter = widgets.Dropdown(options=[ALL], description="Class", layout=widgets.Layout(width="auto"))
        self.annotator_filter = widgets.Dropdown(options=[ALL], description="Annotator",
                                                 layout=widgets.Layout(width="auto"))
        self.disagree = widgets.ToggleButton(
            value=False, description="the model disagrees", icon="",
            tooltip="order by the out-of-fold probability of the given label, lowest first (likely mistakes on top)",
            layout=widgets.Layout(width="auto"),
        )
        self.disagree.add_class("alw-disagree")
        for control in (self.class_filter, self.annotator_filter):
            control.observe(self._on_filter, names="value")
        self.disagree.observe(self._on_disagree, names="value")
        self.status = widgets.HTML()
        self.status.add_class("alw-review-status")
        self.items = widgets.GridBox(layout=widgets.Layout(grid_template_columns="repeat(auto-fill, 170px)",
                                                           grid_gap="6px"))
        self.more_button = widgets.Button(description="Show more", layout=widgets.Layout(width="auto"))
        self.more_button.on_click(lambda _b: self._show_more())
        self.children = [
            widgets.HBox([self.class_filter, self.annotator_filter, self.disagree],
                         layout=widgets.Layout(flex_flow="row wrap", grid_gap="6px")),
            self.status, self.items, self.more_button,
        ]
        self.add_class("alw-review")
        self._worker = Worker(self._rank, on_error=self._ranking_failed, name="alwidgets-review")

    # ------------------------------------------------------------------ public

    def refresh(self) -> None:
        """Re-read the labels (after a label, a relabel or an undo) and redraw the list. Thread-safe."""
        with self._ui_lock:
            self._update_filters()
            if self.disagree.value:
                self._request_ranking()
            self._render()

    def rows(self) -> list[dict]:
        """The rows the list shows, in order, before paging: ``index``, ``label``, ``annotator`` and, ranked, more."""
        label, annotator = self.class_filter.value, self.annotator_filter.value
        with self._ui_lock:
            ranking, ranked_on = self._ranking, self._ranked_labels
        if self.disagree.value and ranking is not None and ranked_on == self._votes_key():
            rows = ranking.to_dict("records")
        else:
            rows = self.session.labels_given()
        return [r for r in rows
                if (label == ALL or str(r["label"]) == label) and (annotator == ALL or r["annotator"] == annotator)]

    def flagged_guess(self, idx: int, annotator: str) -> tuple | None:
        """The out-of-fold guess ``(class, probability)`` for ``annotator``'s label of ``idx``, if the model disagrees.

        None when the current ranking does not flag that label (or there is no
        current ranking). What a relabel suggests: the model that disagreed,
        never the label it disagreed with.
        """
        with self._ui_lock:
            ranking, ranked_on = self._ranking, self._ranked_labels
        if ranking is None or ranked_on != self._votes_key():
            return None
        rows = ranking[(ranking["index"] == idx) & (ranking["annotator"] == annotator) & ranking["disagrees"]]
        if rows.empty:
            return None
        row = rows.iloc[0]
        predicted = row["predicted"]
        return (predicted.item() if hasattr(predicted, "item") else predicted), float(row["p_predicted"])

    def wait(self, timeout: float | None = 60.0) -> None:
        """Block until the model's ranking of the labels is ready (for tests and notebooks)."""
        if not self._worker.wait(timeout):
            raise TimeoutError(f"ranking the labels did not finish within {timeout} s")
        self._render()

    def close(self) -> None:
        self._worker.stop()
        super().close()

    # ------------------------------------------------------------------ drawing

    def _votes_key(self):
        return tuple(sorted((i, tuple(sorted(v.items(), key=str))) for i, v in self.session.votes.items()))

    def _update_filters(self) -> None:
        votes = self.session.votes
        classes = self.session.classes or sorted({str(y) for v in votes.values() for y in v.values()})
        annotators = sorted({who for v in votes.values() for who in v})
        for control, options in ((self.class_filter, [str(c) for c in classes]), (self.annotator_filter, annotators)):
            wanted = [ALL, *options]
            if list(control.options) != wanted:
                current = control.value
                control.options = wanted  # the value falls back to the first option, "all", when it is gone
                if current in wanted:
                    control.value = current

    def _render(self) -> None:
        with self._ui_lock:
            self._draw()

    def _draw(self) -> None:
        rows = self.rows()
        shown = rows[: self._shown_count]
        ranked = self.disagree.value and shown and "p_label" in shown[0]
        cards = [self._card(r, ranked) for r in shown]
        self.items.children = cards
        self.more_button.layout.display = None if len(rows) > len(shown) else "none"
        if self.disagree.value and not ranked:
            self._say("checking every label with a model that did not see it…")
        elif not rows:
            self._say("no labels match" if self.session.votes else "nothing is labeled yet")
        elif ranked:
            self._say(f"{len(rows)} labels, the ones the model finds least likely first "
                      "(out-of-fold probability of the given label)")
        else:
            self._say(f"{len(rows)} labels, newest first")

    def _card(self, row: dict, ranked: bool) -> widgets.Widget:
        idx = int(row["index"])
        thumbnail = getattr(self.view, "thumbnail", self.view)
        name = self.session.item_name(idx)
        text = f"<b>item {html.escape(name)}</b>: {html.escape(str(row['label']))}<br><span style='color:#666'>by " \
               f"{html.escape(str(row['annotator']))}</span>"
        if ranked:
            if row.get("checked"):
                text += (f"<br><span style='color:#b00020'>model: {html.escape(str(row['predicted']))} "
                         f"({row['p_predicted']:.0%})</span> · p(label) {row['p_label']:.2f}")
            else:
                text += "<br><span style='color:#999'>too few labels of its class to check</span>"
        caption = widgets.HTML(text)
        button = widgets.Button(description="Relabel", layout=widgets.Layout(width="auto"),
                                tooltip=f"open item {name} to give it another label")
        button.add_class("alw-relabel")
        button.on_click(lambda _b, idx=idx: self._open(idx))
        card = widgets.VBox([thumbnail(self.session, idx), caption, button],
                            layout=widgets.Layout(border="1px solid #eee", padding="4px"))
        card.add_class("alw-review-card")
        return card

    def _say(self, text: str, error: bool = False) -> None:
        color = "#b00020" if error else "#444"
        with self._ui_lock:
            self.status.value = f"<span style='color:{color}'>{html.escape(text)}</span>"

    def _show_problem(self, message: str, error: BaseException) -> None:
        """What :func:`~alwidgets.widgets._guard.report_error` calls: the words on the panel's status line."""
        self._say(message, error=True)

    # ------------------------------------------------------------------ events

    @guarded("relabel")
    def _open(self, idx: int) -> None:
        call_apart(self.on_relabel, idx)  # the Labeler's own guard reports on the Labeler

    @guarded("filter")
    def _on_filter(self, _change) -> None:
        self._render()

    @guarded("show more")
    def _show_more(self) -> None:
        self._shown_count += self.page_size
        self._render()

    @guarded("the model disagrees")
    def _on_disagree(self, change) -> None:
        self._shown_count = self.page_size
        if change["new"]:
            self._request_ranking()
        self._render()

    def _request_ranking(self) -> None:
        with self._ui_lock:
            current = self._ranked_labels == self._votes_key()
        if not current:
            self._worker.request()

    def _rank(self) -> None:
        """The worker's job: rank every label by the model's out-of-fold probability."""
        key = self._votes_key()
        ranking = self.session.review()  # the slow part, off the lock
        with self._ui_lock:
            self._ranking, self._ranked_labels = ranking, key
            self._draw()

    def _ranking_failed(self, error: BaseException) -> None:
        """The worker's failure callback."""
        report_error(self, "ranking the labels", error)
