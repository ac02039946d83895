"""The Labeler's live plots: the learning curve, the regression fit and the decision boundary.

:class:`LivePlots` is a row of PNG images, one per plot. :meth:`LivePlots.draw`
renders them from a model snapshot (on the Labeler's worker thread, off the
click path; no widget is touched there) and :meth:`LivePlots.show` puts the
pictures on the page (under the Labeler's UI lock). Each plot name maps to
one drawing function in :data:`DRAW`.
"""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as widgets
import numpy as np
import traitlets

from alwidgets import plots as alw_plots
from alwidgets._validation import InvalidParameterError
from alwidgets.engine import training
from alwidgets.experiments.baseline import RandomBaseline

__all__ = ["LivePlots", "PLOT_NAMES", "plot_names"]


def plot_names(plots, session, multi_label: bool) -> list[str]:
    """The plots to draw: those asked for (checked), or with ``"auto"`` those that suit the session."""
    if plots is None:
        return []
    if isinstance(plots, str) and plots != "auto":
        plots = [plots]
    if not isinstance(plots, str):
        unknown = [p for p in plots if p not in DRAW]
        if unknown:
            raise InvalidParameterError(f"plots: unknown plots {unknown}; choose among {list(PLOT_NAMES)} or 'auto'")
        return list(plots)
    names = []
    if session.X_test is not None:
        names.append("learning_curve")
    n_features = _n_features(session.X_pool)
    if not session.is_classifier and n_features == 1:
        names.append("regression")
    if session.is_classifier and n_features == 2 and not multi_label:
        names.append("decision_boundary")
    return names


class LivePlots(widgets.HBox):
    """One image per plot, redrawn from each new model.

    Parameters
    ----------
    session : alwidgets.Session
        What to draw.
    names : list of str
        Plot names, keys of :data:`DRAW`.
    budget : int, optional
        Marked on the learning curve.
    y_true : array-like, optional
        The pool's true labels: the random-sampling baseline on the learning
        curve (with a held-out set), the grey points of the regression plot.
    X_grid, true_function : optional
        Where the regression plot draws its mean and band; the function it should find.
    multi_label : bool
        No random baseline for label sets.
    """

    def __init__(self, session, names, *, budget=None, y_true=None, X_grid=None, true_function=None,
                 multi_label: bool = False):
        super().__init__(layout=widgets.Layout(flex_flow="row wrap", grid_gap="8px"))
        self.session = session
        self.budget = budget
        self.y_true = y_true
        self.X_grid = X_grid
        self.true_function = true_function
        self.baseline = None  # a shadow learner on random labels, for the dashed line
        if y_true is not None and session.X_test is not None and not multi_label:
            self.baseline = RandomBaseline(session.learner, session.X_pool, y_true, session.X_test, session.y_test,
                                           random_state=session.random_state, scoring=session.scoring)
        self.panels: list[dict] = []  # {"name", "ax", "image"} per plot
        for name in names:
            image = _PlotImage(format="png", layout=widgets.Layout(width="auto", max_width="100%"))
            image.add_class("alw-plot")
            self.panels.append({"name": name, "ax": alw_plots.new_axes(), "image": image})
        self.children = [p["image"] for p in self.panels]

    def draw(self, marked: list[int], snapshot, next_picks=()) -> list[bytes]:
        """Render every plot (the worker's thread): the pictures, in panel order.

        ``marked`` are the items on screen (the ones asked now); ``next_picks``
        where ``snapshot``'s model would ask next, drawn apart and named so.

        A plot is drawn again only when what it shows changed: a new model
        (``snapshot.version``), or other items to mark for the plots that mark
        them. A page that follows a campaign service's model gets a label's
        update after every click, but a new model only every few labels; the
        picture it already has is kept (rendering is most of a page's CPU).
        """
        pictures = []
        for panel in self.panels:
            name = panel["name"]
            key = (snapshot.version, (tuple(marked), tuple(next_picks)) if name in MARKING else None)
            if panel.get("drawn") != key:
                ax = panel["ax"]  # the plot functions empty it themselves, keeping its ticks
                DRAW[name](self, ax, list(marked), snapshot, list(next_picks))
                panel["marks"] = _marks_in_words(self.session, ax, name, list(marked), list(next_picks))
                panel["png"], panel["drawn"] = alw_plots.figure_to_png(ax.figure), key
            pictures.append(panel["png"])
        return pictures

    def show(self, pictures: list[bytes]) -> None:
        """Put the pictures on the page (the caller holds the Labeler's UI lock)."""
        for panel, png in zip(self.panels, pictures, strict=True):
            panel["image"].value = png
            panel["image"].tooltip = panel.get("marks") or None  # its title: what the plot marks, in words

    @property
    def marks_items(self) -> bool:
        """Whether a plot here marks the items asked (and the model's next pick): the 2-D and regression plots."""
        return any(panel["name"] in MARKING for panel in self.panels)

    def baseline_curve(self, history) -> list[dict] | None:
        if self.baseline is None:
            return None
        return self.baseline.for_history([h for h in history if h["n_labels"] > 0])


def _draw_learning_curve(plots: LivePlots, ax, marked, snapshot, next_picks) -> None:
    session = plots.session
    history = list(snapshot.history)
    first_stop = session.stopping()["first_stop"]
    alw_plots.plot_learning_curve(
        history, ax=ax, baseline=plots.baseline_curve(history), budget=plots.budget,
        ylabel=f"held-out {training.score_name(session.scoring, session.is_classifier)}",
        stops=None if first_stop is None else first_stop["n_labels"],
    )


def _draw_regression(plots: LivePlots, ax, marked, snapshot, next_picks) -> None:
    truth = plots.true_function if plots.true_function is not None else plots.y_true
    alw_plots.plot_regression(plots.session, ax=ax, X_grid=plots.X_grid, query=marked or None,
                              next_query=next_picks or None, y_true=truth)


def _draw_decision_boundary(plots: LivePlots, ax, marked, snapshot, next_picks) -> None:
    alw_plots.plot_decision_boundary(plots.session, ax=ax, query=marked or None, next_query=next_picks or None)


class _PlotImage(widgets.Image):
    """A plot's picture, titled with what it marks (its ``tooltip``).

    The front end titles a widget with its tooltip only when its description is
    empty, and an Image has none: this one syncs an empty description.
    """

    description = traitlets.Unicode("").tag(sync=True)


def _marks_in_words(session, ax, name: str, marked: list[int], next_picks: list[int]) -> str:
    """What the plot marks, read from the drawn artists: "asked now: item 7 at x = 8.371 · model's next pick: ...".

    The picture's title (a screen reader reads it, a test checks it): the
    items are named as on the page (:meth:`Session.item_name`), the places are
    where the plot drew them.
    """
    if name not in MARKING:
        return ""
    next_items = [i for i in next_picks if i not in marked]  # the plots mark an item asked now as asked
    parts = []
    for label, gid, items in ((alw_plots.QUERY_LABEL, alw_plots.QUERY_GID, marked),
                              (alw_plots.NEXT_QUERY_LABEL, alw_plots.NEXT_QUERY_GID, next_items)):
        said = [f"item {session.item_name(idx)} at {_place(point, one_axis=name == 'regression')}"
                for idx, point in zip(items, _drawn_at(ax, gid), strict=False)]
        if said:
            parts.append(f"{label}: {', '.join(said)}")
    return " · ".join(parts)


def _drawn_at(ax, gid: str) -> list[tuple[float, ...]]:
    """Where the artists tagged ``gid`` are drawn, in order: a scatter's points, a vertical line's x."""
    points = []
    for artist in ax.get_children():
        if artist.get_gid() != gid:
            continue
        if hasattr(artist, "get_offsets"):
            points.extend(tuple(float(v) for v in row) for row in np.asarray(artist.get_offsets()))
        elif hasattr(artist, "get_xdata"):
            points.append((float(np.asarray(artist.get_xdata())[0]),))
    return points


def _place(point: tuple[float, ...], one_axis: bool) -> str:
    if one_axis:  # the regression plot: the item is an x; its y on the plot is the model's mean
        return f"x = {point[0]:.4g}"
    return "(" + ", ".join(f"{v:.4g}" for v in point) + ")"


MARKING = frozenset({"regression", "decision_boundary"})  # the plots that mark the items asked about
DRAW: dict[str, Callable] = {
    "learning_curve": _draw_learning_curve,
    "regression": _draw_regression,
    "decision_boundary": _draw_decision_boundary,
}
PLOT_NAMES = tuple(DRAW)


def _n_features(X) -> int:
    shape = getattr(X, "shape", None)
    if shape is None or len(shape) < 2:
        return 1
    return int(np.prod(shape[1:]))
