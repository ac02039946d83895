"""Live plots of an active-learning session: pure functions ``plot_*(..., ax=None) -> ax``.

Every function draws into the matplotlib ``Axes`` it is given (clearing it
first, so a widget can redraw the same axes after each label) or into a new
one from :func:`new_axes`. Nothing here touches pyplot's global state or any
widget: figures are plain :class:`matplotlib.figure.Figure` objects on an Agg
canvas, and :func:`figure_to_png` turns one into PNG bytes for an
``ipywidgets.Image``. That works the same in JupyterLab, Notebook 7, VS Code
and Voila, and from a worker thread.

Colours are stable: a strategy keeps its colour in every plot
(:func:`strategy_color`), and a class keeps its colour across redraws (its
position in ``session.classes``).
"""

from __future__ import annotations

import contextlib
import io
import zlib
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from scipy.spatial import cKDTree

from . import _learners
from ._learners import take_rows
from ._projection import PoolView, Projection, make_projection, nearest_item, numeric_rows, pool_xy

__all__ = [
    "Projection",
    "class_color",
    "figure_to_png",
    "make_projection",
    "nearest_item",
    "new_axes",
    "pixel_to_data",
    "plot_decision_boundary",
    "plot_image",
    "plot_learning_curve",
    "plot_regression",
    "strategy_color",
]

BASELINE_LABEL = "random (same budget)"
QUERY_LABEL = "next query"
QUERY_GID = "query"  # the gid of the artist that marks the next query, for tests and widgets
_QUERY_COLOR = "#d62728"
_POOL_COLOR = "#a0a0a0"
_LABELED_COLOR = "#ff7f0e"
_MEAN_COLOR = "#1f77b4"
_BASELINE_COLOR = "#222222"

# Strategies named in alwidgets.strategies get fixed, distinct colours; any other
# name gets one from a hash of the name, the same in every plot and every run.
_STRATEGY_COLORS = {
    "random": "#8c8c8c",
    "least_confident": "#1f77b4",
    "margin": "#ff7f0e",
    "entropy": "#2ca02c",
    "vote_entropy": "#d62728",
    "consensus_entropy": "#9467bd",
    "max_disagreement": "#8c564b",
    "expected_error_reduction": "#e377c2",
    "information_density": "#bcbd22",
    "ranked_batch": "#17becf",
    "cluster_diversity": "#7f7f00",
    "max_std": "#1f77b4",
    "you": "#000000",
}
_EXTRA_COLORS = ["#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d", "#31a354", "#756bb1"]

_MARGINS_INCHES = {"left": 0.62, "right": 0.15, "bottom": 0.5, "top": 0.32}
_LEGEND = {"fontsize": 7, "framealpha": 0.85, "borderpad": 0.35, "labelspacing": 0.3, "handletextpad": 0.4}


# ----------------------------------------------------------------------------- figures


def new_axes(figsize: tuple[float, float] = (5, 3.5), dpi: int = 100) -> Axes:
    """A fresh ``Axes`` on its own Agg figure, with fixed margins.

    Fixed margins (not a layout engine) keep redraws fast and keep the picture
    from shifting between frames of a live plot.
    """
    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    width, height = figsize
    fig.subplots_adjust(
        left=_MARGINS_INCHES["left"] / width,
        right=1 - _MARGINS_INCHES["right"] / width,
        bottom=_MARGINS_INCHES["bottom"] / height,
        top=1 - _MARGINS_INCHES["top"] / height,
    )
    return fig.add_subplot()


def _prepare(ax: Axes | None, kind: str, figsize: tuple[float, float] = (5, 3.5)) -> Axes:
    """A new Axes, or ``ax`` emptied for a redraw.

    Redrawing the same kind of plot removes only what the last call drew, so
    the axis ticks survive: rebuilding them, as ``ax.clear()`` does, is most
    of the cost of a small redraw. Anything else gets a full ``ax.clear()``.
    """
    if ax is None:
        ax = new_axes(figsize=figsize)
    elif not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes (for example from alwidgets.plots.new_axes()); got {ax!r}")
    elif getattr(ax, "_alwidgets_plot", None) == kind:
        for artist in [*ax.lines, *ax.collections, *ax.images, *ax.texts, *ax.patches, *ax.artists]:
            artist.remove()
        if ax.legend_ is not None:
            ax.legend_.remove()
        ax.relim()
        ax.set_autoscale_on(True)
    else:
        ax.clear()
    ax._alwidgets_plot = kind
    return ax


def figure_to_png(fig_or_ax, dpi: float | None = None) -> bytes:
    """Render a figure, or the figure of an ``Axes``, to PNG bytes (e.g. for ``ipywidgets.Image``)."""
    fig = fig_or_ax.figure if isinstance(fig_or_ax, Axes) else fig_or_ax
    if not isinstance(fig, Figure):
        raise TypeError(f"fig_or_ax must be a matplotlib Figure or Axes; got {type(fig_or_ax).__name__}")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi if dpi is not None else fig.dpi)
    return buffer.getvalue()


def pixel_to_data(ax: Axes, x_pixel: float, y_pixel: float) -> tuple[float, float]:
    """Data coordinates of a point clicked on the PNG of ``ax``'s figure.

    Pixels count from the top-left corner of the image, as browsers report
    clicks; the PNG must have been rendered at the figure's own dpi.
    """
    height = ax.figure.bbox.height
    x, y = ax.transData.inverted().transform((x_pixel, height - y_pixel))
    return float(x), float(y)


def strategy_color(name: str) -> str:
    """The colour of a strategy: the same in every plot, every panel and every run."""
    name = str(name)
    if name in _STRATEGY_COLORS:
        return _STRATEGY_COLORS[name]
    return _EXTRA_COLORS[zlib.crc32(name.encode()) % len(_EXTRA_COLORS)]


def class_color(position: int, n_classes: int) -> tuple:
    """The colour of the class at ``position`` of ``n_classes`` (tab10; tab20 beyond ten classes)."""
    cmap = colormaps["tab10" if n_classes <= 10 else "tab20"]
    return cmap(position % cmap.N)


def _model_lock(session):
    """The session's model lock, so that a plot never predicts with a half-rebuilt model."""
    return getattr(session, "_model_lock", None) or contextlib.nullcontext()


def _note(ax: Axes, text: str) -> None:
    ax.text(
        0.02, 0.97, text, transform=ax.transAxes, ha="left", va="top", fontsize=8, color="#333333",
        bbox={"boxstyle": "round,pad=0.3", "facecolor": "white", "edgecolor": "#bbbbbb", "alpha": 0.9},
        zorder=10,
    )


def _check_query(query, n_pool: int) -> list[int]:
    if query is None:
        return []
    out = []
    for q in np.atleast_1d(np.asarray(query, dtype=object)).tolist():
        if isinstance(q, (bool, np.bool_)) or not isinstance(q, (int, np.integer)):
            raise TypeError(f"query must be a pool index or a list of pool indices; got {query!r}")
        if not 0 <= int(q) < n_pool:
            raise IndexError(f"query index {q} is out of range for a pool of {n_pool} items (0 to {n_pool - 1})")
        out.append(int(q))
    return out


def _query_handle() -> Line2D:
    return Line2D([], [], linestyle="none", marker="o", markersize=9, markerfacecolor="none",
                  markeredgecolor=_QUERY_COLOR, markeredgewidth=2, label=QUERY_LABEL)


# ----------------------------------------------------------------------------- learning curve


def _points(history) -> tuple[np.ndarray, np.ndarray]:
    """``(n_labels, score)`` of a history: one point per label count (its latest score), sorted.

    After an undo a history goes back to a smaller label count; the latest
    score at each count is what the model with that many labels scores now.
    """
    latest: dict[int, float] = {}
    for entry in history:
        if not isinstance(entry, Mapping) or "n_labels" not in entry or "score" not in entry:
            raise ValueError(f"each history entry must be a dict with 'n_labels' and 'score'; got {entry!r}")
        if entry["score"] is None:
            continue
        latest[int(entry["n_labels"])] = float(entry["score"])
    counts = sorted(latest)
    return np.array(counts, dtype=float), np.array([latest[n] for n in counts], dtype=float)


def _history_name(history) -> str:
    names = list(dict.fromkeys(e.get("strategy") for e in history if isinstance(e, Mapping) and e.get("strategy")))
    return str(names[0]) if len(names) == 1 else "active learning"


def plot_learning_curve(
    curves,
    ax: Axes | None = None,
    *,
    baseline=None,
    target: float | None = None,
    ylabel: str | None = None,
    budget: int | None = None,
    title: str = "Learning curve",
) -> Axes:
    """Held-out score against the number of labels given.

    Parameters
    ----------
    curves : list of dict, or dict of str to list of dict
        One ``Session.history`` (entries need ``"n_labels"`` and ``"score"``;
        entries whose score is None are skipped), or ``{name: history}`` for
        several strategies: one line each, in the strategy's own colour.
    ax : Axes, optional
        Cleared and reused; a new one when None.
    baseline : list of dict, optional
        A history-like curve of random sampling on the same budget (e.g. from
        :class:`alwidgets.RandomBaseline`), drawn dashed.
    target : float, optional
        A score to reach, drawn as a dotted horizontal line.
    ylabel : str, optional
        What the score is (e.g. "accuracy"); default "held-out score".
    budget : int, optional
        Fixes the x axis to 0..budget, so a live plot does not rescale as labels arrive.
    title : str, default="Learning curve"
    """
    if isinstance(curves, Mapping):
        named = [(str(name), history) for name, history in curves.items()]
    elif isinstance(curves, Sequence) and not isinstance(curves, str):
        named = [(_history_name(curves), curves)]
    else:
        raise TypeError(
            "curves must be one history (a list of dicts with 'n_labels' and 'score') "
            f"or a dict {{name: history}}; got {type(curves).__name__}"
        )
    lines = [(name, *_points(history)) for name, history in named]
    base = _points(baseline) if baseline is not None else None
    ax = _prepare(ax, "learning_curve")

    scores: list[np.ndarray] = []
    max_n = 0.0
    for name, n, score in lines:
        if len(n):
            marker = "o" if len(n) <= 60 else None
            ax.plot(n, score, marker=marker, markersize=3, linewidth=1.8, color=strategy_color(name), label=name)
            scores.append(score)
            max_n = max(max_n, float(n.max()))
    if base is not None and len(base[0]):
        ax.plot(base[0], base[1], linestyle="--", linewidth=1.4, color=_BASELINE_COLOR, label=BASELINE_LABEL)
        scores.append(base[1])
        max_n = max(max_n, float(base[0].max()))
    if not scores:
        ax.text(0.5, 0.5, "no held-out scores yet", transform=ax.transAxes, ha="center", va="center",
                color="#666666")
    if target is not None:
        target = float(target)
        ax.axhline(target, linestyle=":", linewidth=1.2, color="#444444", label=f"target {target:g}")
        scores.append(np.array([target]))

    ax.set_title(title, fontsize=11)
    ax.set_xlabel("labels given")
    ax.set_ylabel(ylabel or "held-out score")
    ax.grid(True, linewidth=0.5, alpha=0.4)
    ax.set_xlim(0, (float(budget) if budget is not None else max(max_n, 1.0)) * 1.02)
    values = np.concatenate(scores) if scores else np.array([])
    if values.size and -1 < values.max() <= 1:
        # A bounded score (accuracy, R²): the top stays at 1 so redraws do not
        # rescale, and a very negative early R² is cut at -1 to keep the rest readable.
        ax.set_ylim(max(float(values.min()), -1.0) - 0.03, 1.02)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="lower right", **_LEGEND)
    return ax


# ----------------------------------------------------------------------------- regression


def _predict_mean_std(learner, X):
    """The mean and, when the model gives one, the standard deviation of its predictions at ``X``."""
    try:
        mean, std = learner.predict(X, return_std=True)
    except TypeError:  # a regressor without return_std: the mean alone
        return np.asarray(learner.predict(X), dtype=float).reshape(len(X), -1)[:, 0], None
    mean = np.asarray(mean, dtype=float).reshape(len(X), -1)[:, 0]
    std = np.asarray(std, dtype=float).reshape(len(X), -1)[:, 0]
    return mean, std


def plot_regression(
    session, ax: Axes | None = None, *, X_grid=None, query=None, y_true=None, legend: bool = True
) -> Axes:
    """A 1-D regressor's mean curve with its ±1 and ±2 standard-deviation bands.

    Draws the pool in grey (at its true values when ``y_true`` holds them,
    else as ticks along the bottom), the labeled points in orange, and the next
    query as a red dashed vertical line with a ring on the mean. Before the
    model is fitted it draws the points alone and says "no model yet".

    Parameters
    ----------
    session : Session
        A regressor's session over a pool with one numeric feature. The bands
        need ``predict(X, return_std=True)`` (GaussianProcessRegressor in an
        ActiveLearner, a CommitteeRegressor); other regressors get the mean.
    ax : Axes, optional
        Cleared and reused; a new one when None.
    X_grid : array-like of shape (n_points, 1), optional
        Where to draw the curve; default 300 points spanning the pool.
    query : int or list of int, optional
        Pool index(es) to mark as the next query.
    y_true : array-like of shape (n_pool,) or callable, optional
        The pool's true values (a simulated oracle), drawn as grey points, or
        a function ``f(X)`` drawn as a dotted "true function" line.
    legend : bool, default=True
    """
    if session.is_classifier:
        raise ValueError("plot_regression needs a regressor's session; for a classifier use plot_decision_boundary")
    X = numeric_rows(session.X_pool)
    if X.shape[1] != 1:
        raise ValueError(
            f"plot_regression draws 1-D regression, but X_pool has {X.shape[1]} features; "
            "plot the learning curve instead"
        )
    x_pool = X[:, 0]
    queries = _check_query(query, len(x_pool))
    truth = None
    if y_true is not None and not callable(y_true):
        truth = np.asarray(y_true, dtype=float).ravel()
        if len(truth) != len(x_pool):
            raise ValueError(f"y_true must hold one value per pool item ({len(x_pool)}); got {len(truth)}")
    if X_grid is None:
        span = float(x_pool.max() - x_pool.min()) or 1.0
        grid = np.linspace(x_pool.min() - 0.02 * span, x_pool.max() + 0.02 * span, 300)
    else:
        grid = numeric_rows(X_grid, "X_grid")
        if grid.shape[1] != 1:
            raise ValueError(f"X_grid must have one feature, like X_pool; got {grid.shape[1]}")
        grid = np.sort(grid[:, 0])

    ax = _prepare(ax, "regression")
    labeled = sorted(session.labels)
    y_lab = np.array([float(session.labels[i]) for i in labeled])
    y_values = [y_lab]
    mean = std = None
    fitted = session.is_fitted
    if fitted:
        with _model_lock(session):
            mean, std = _predict_mean_std(session.learner, grid.reshape(-1, 1))
        if std is not None:
            ax.fill_between(grid, mean - 2 * std, mean + 2 * std, color=_MEAN_COLOR, alpha=0.13, linewidth=0,
                            label="±2 std")
            ax.fill_between(grid, mean - std, mean + std, color=_MEAN_COLOR, alpha=0.28, linewidth=0, label="±1 std")
        ax.plot(grid, mean, color=_MEAN_COLOR, linewidth=1.8, label="mean")
    if callable(y_true):
        curve = np.asarray(y_true(grid.reshape(-1, 1)), dtype=float).ravel()
        ax.plot(grid, curve, linestyle=":", color="#333333", linewidth=1.2, label="true function")
        y_values.append(curve)
    if truth is not None:
        unlabeled = np.setdiff1d(np.arange(len(x_pool)), labeled)
        ax.scatter(x_pool[unlabeled], truth[unlabeled], s=10, color=_POOL_COLOR, alpha=0.8, linewidths=0,
                   label="pool", zorder=2)
        y_values.append(truth)
    else:
        ax.plot(x_pool, np.zeros_like(x_pool), linestyle="none", marker="|", markersize=7, color=_POOL_COLOR,
                transform=ax.get_xaxis_transform(), label="pool (x only)")
    base_X, base_y = getattr(session, "_base_X", None), getattr(session, "_base_y", None)
    if base_X is not None and base_y is not None:
        x_base = numeric_rows(base_X)[:, 0]
        y_base = np.asarray(base_y, dtype=float).ravel()
        ax.scatter(x_base, y_base, s=30, color="white", edgecolors=_LABELED_COLOR, linewidths=1.2,
                   label="initial data", zorder=4)
        y_values.append(y_base)
    if labeled:
        ax.scatter(x_pool[labeled], y_lab, s=34, color=_LABELED_COLOR, edgecolors="black", linewidths=0.6,
                   label=f"labeled ({len(labeled)})", zorder=4)
    for k, q in enumerate(queries):
        ax.axvline(x_pool[q], color=_QUERY_COLOR, linestyle="--", linewidth=1.3,
                   label=QUERY_LABEL if k == 0 else None, zorder=3)
    _set_regression_ylim(ax, y_values, mean, room_for_legend=legend)
    if queries:
        x_q = x_pool[queries]
        y_q = np.interp(x_q, grid, mean) if mean is not None else np.full(len(x_q), np.mean(ax.get_ylim()))
        ax.scatter(x_q, y_q, s=110, facecolors="none", edgecolors=_QUERY_COLOR, linewidths=2, zorder=5,
                   gid=QUERY_GID)

    ax.set_xlim(grid.min(), grid.max())
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    if fitted:
        what = "mean ± std" if std is not None else "mean (no std from this model)"
        ax.set_title(f"Model {what} · {session.n_labeled} labels", fontsize=11)
    else:
        ax.set_title(f"Regression · {session.n_labeled} labels", fontsize=11)
        ax.text(0.5, 0.5, "no model yet: label a point to fit one", transform=ax.transAxes, ha="center",
                va="center", fontsize=9, color="#333333", zorder=10,
                bbox={"boxstyle": "round,pad=0.3", "facecolor": "white", "edgecolor": "#bbbbbb", "alpha": 0.9})
    if legend:
        ax.legend(loc="upper center", ncol=4, **_LEGEND)
    return ax


def _set_regression_ylim(ax: Axes, y_values: list[np.ndarray], mean, room_for_legend: bool) -> None:
    """A y range from the data (so an early, wide std band does not squash the picture), with room on top."""
    values = np.concatenate([v for v in y_values if len(v)] or [np.array([])])
    if values.size == 0 and mean is not None:
        values = mean
    if values.size == 0:
        return
    low, high = float(values.min()), float(values.max())
    span = high - low if high > low else 2.0
    ax.set_ylim(low - 0.15 * span, high + (0.5 if room_for_legend else 0.15) * span)


# ----------------------------------------------------------------------------- decision boundary


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def _class_list(session) -> list:
    """Every class the plot may show, in a fixed order: its colours follow this order."""
    classes = [_plain(c) for c in session.classes] if session.classes is not None else []
    if session.is_fitted:
        learned = _learners.proba_classes(session.learner)
        classes += [c for c in map(_plain, learned if learned is not None else []) if c not in classes]
    base_y = getattr(session, "_base_y", None)
    seen = list(session.labels.values()) + ([] if base_y is None else list(np.asarray(base_y).ravel()))
    classes += sorted({_plain(c) for c in seen} - set(classes), key=str)
    return classes


def _predict_classes(session, X, classes: list) -> tuple[np.ndarray, np.ndarray | None]:
    """Position in ``classes`` of each predicted class, and 1 - max probability (None without probabilities)."""
    learner = session.learner
    with _model_lock(session):
        try:
            proba = np.asarray(learner.predict_proba(X), dtype=float)
        except (AttributeError, NotImplementedError):
            proba = None
        if proba is not None:
            columns = _learners.proba_classes(learner)
            columns = list(columns) if columns is not None else classes[: proba.shape[1]]
            predicted = [columns[k] for k in np.argmax(proba, axis=1)]
            uncertainty = 1.0 - proba.max(axis=1)
        else:
            predicted = list(learner.predict(X))
            uncertainty = None
    position = {c: k for k, c in enumerate(classes)}
    lookup = {c: position.get(_plain(c), 0) for c in set(map(_plain, predicted))}
    return np.array([lookup[_plain(c)] for c in predicted], dtype=int), uncertainty


def _grid(P: np.ndarray, resolution: int):
    low, high = P.min(axis=0), P.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    low, high = low - 0.06 * span, high + 0.06 * span
    xx, yy = np.meshgrid(np.linspace(low[0], high[0], resolution), np.linspace(low[1], high[1], resolution))
    return xx, yy, (float(low[0]), float(high[0]), float(low[1]), float(high[1]))


def _display_rows(n_pool: int, max_points: int) -> np.ndarray:
    """A fixed subset of the pool to draw (and, beyond 2-D, to predict on): the same at every redraw."""
    if n_pool <= max_points:
        return np.arange(n_pool)
    return np.sort(np.random.RandomState(0).choice(n_pool, max_points, replace=False))


def _fill(view: PoolView, projection: Projection, P: np.ndarray, shown: np.ndarray):
    """A nearest-neighbour index over the shown pool items, and how far from all of them a cell stays blank."""
    if view.fill is None or view.fill[0] is not projection or not np.array_equal(view.fill[1], shown):
        tree = cKDTree(P[shown])
        spacing = float(np.median(tree.query(P[shown], k=2)[0][:, 1])) if len(shown) > 1 else 0.0
        diagonal = float(np.linalg.norm(P.max(axis=0) - P.min(axis=0))) or 1.0
        view.fill = (projection, shown, tree, max(4 * spacing, 0.06 * diagonal))
    return view.fill[2], view.fill[3]


def _boundary_on_grid(session, view, projection, P, shown, xx, yy, classes, neighbors: int):
    """The predicted class position, the uncertainty and the blank cells of every grid cell.

    2-D data: the model predicts on the grid itself. More features: a grid
    point stands for many inputs, so the model predicts on the shown pool
    items and a cell takes the majority class and the mean uncertainty of its
    ``neighbors`` nearest items in the projection.
    """
    cells = np.column_stack([xx.ravel(), yy.ravel()])
    if projection.kind == "identity":
        X_cells = cells
        if hasattr(session.X_pool, "columns"):
            import pandas as pd

            X_cells = pd.DataFrame(cells, columns=session.X_pool.columns)
        index, uncertainty = _predict_classes(session, X_cells, classes)
        return index, uncertainty, np.zeros(len(cells), dtype=bool)
    tree, radius = _fill(view, projection, P, shown)
    item_index, item_uncertainty = _predict_classes(session, take_rows(session.X_pool, shown), classes)
    k = min(neighbors, len(shown))
    distance, nearest = tree.query(cells, k=k)
    distance, nearest = distance.reshape(len(cells), k), nearest.reshape(len(cells), k)
    votes = np.zeros((len(cells), len(classes) or 1))
    np.add.at(votes, (np.repeat(np.arange(len(cells)), k), item_index[nearest].ravel()), 1.0)
    index = votes.argmax(axis=1)
    uncertainty = item_uncertainty[nearest].mean(axis=1) if item_uncertainty is not None else None
    return index, uncertainty, distance[:, 0] > radius


def _draw_regions(ax, xx, yy, index, uncertainty, blank, colors, extent, smooth: bool) -> None:
    """The uncertainty heatmap, the class regions over it, and (for 2-D data) the boundary lines."""
    shape = xx.shape
    mask = blank.reshape(shape)
    if uncertainty is not None:
        heat = np.ma.masked_array(uncertainty.reshape(shape), mask)
        worst = 1 - 1 / len(colors)
        ax.imshow(heat, origin="lower", extent=extent, aspect="auto", cmap="Greys", vmin=0, vmax=1.5 * worst,
                  interpolation="bilinear" if smooth else "nearest", zorder=0)
    index = index.reshape(shape)
    present = np.unique(index[~mask]) if (~mask).any() else np.array([], dtype=int)
    for k in present:
        # One filled region per class: contouring the class number itself would
        # paint thin bands of the classes numbered in between at every boundary.
        inside = np.ma.masked_array((index == k).astype(float), mask)
        ax.contourf(xx, yy, inside, levels=[0.5, 1.5], colors=[colors[k]], alpha=0.38, zorder=1)
        if smooth and len(present) > 1:
            ax.contour(xx, yy, inside, levels=[0.5], colors="#333333", linewidths=0.8, alpha=0.7, zorder=1.5)


def plot_decision_boundary(
    session,
    ax: Axes | None = None,
    *,
    query=None,
    projection: Projection | None = None,
    resolution: int = 80,
    max_points: int = 2000,
    neighbors: int = 10,
    legend: bool = True,
) -> Axes:
    """Class regions, the model's uncertainty under them, the labeled points and the next query.

    For 2-D data the model predicts on a ``resolution`` x ``resolution`` grid:
    each class's region is filled in its colour over a grey heatmap of the
    uncertainty ``1 - max probability`` (darker = less sure), with the
    boundary drawn as a thin line. Data with more features are drawn in a 2-D
    projection (PCA fitted once on the pool and cached per session, or the
    ``projection`` given). A point of that plane stands for many inputs, so
    there the model predicts on the pool items themselves, and each grid cell
    shows the majority class and the mean uncertainty of its ``neighbors``
    nearest items in the projection; cells far from every item stay blank.
    Labeled points are coloured by label, the unlabeled pool is grey, and the
    query is ringed in red. Before the model is fitted only the points are drawn.

    Parameters
    ----------
    session : Session
        A classifier's session over a numeric pool with at least 2 features.
    ax : Axes, optional
        Cleared and reused; a new one when None.
    query : int or list of int, optional
        Pool index(es) to ring as the next query.
    projection : Projection, optional
        From :func:`make_projection`; give the same one to every plot of a pool.
    resolution : int, default=80
        Grid cells per axis.
    max_points : int, default=2000
        At most this many pool items are drawn (a fixed subset; labeled items
        and the query always are).
    neighbors : int, default=10
        Beyond 2-D, how many projected pool items decide a grid cell.
    legend : bool, default=True
    """
    if not session.is_classifier:
        raise ValueError("plot_decision_boundary needs a classifier's session; for a regressor use plot_regression")
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) or resolution < 2:
        raise ValueError(f"resolution must be an integer of at least 2 grid cells per axis; got {resolution!r}")
    projection, P, view = pool_xy(session, projection)
    queries = _check_query(query, len(P))
    ax = _prepare(ax, "decision_boundary")
    classes = _class_list(session)
    colors = [class_color(k, max(len(classes), 2)) for k in range(max(len(classes), 2))]
    xx, yy, extent = _grid(P, resolution)
    shown = _display_rows(len(P), max_points)

    fitted = session.is_fitted
    if fitted:
        index, uncertainty, blank = _boundary_on_grid(session, view, projection, P, shown, xx, yy, classes, neighbors)
        _draw_regions(ax, xx, yy, index, uncertainty, blank, colors, extent, smooth=projection.kind == "identity")

    labeled = np.array(sorted(session.labels), dtype=int)
    unlabeled = np.setdiff1d(shown, labeled)
    ax.scatter(P[unlabeled, 0], P[unlabeled, 1], s=8, color=_POOL_COLOR, alpha=0.85, linewidths=0,
               label="unlabeled", zorder=2)
    handles = [Line2D([], [], linestyle="none", marker="o", markersize=3.5, color=_POOL_COLOR, label="unlabeled")]
    for k, c in enumerate(classes):
        rows = [i for i in labeled if session.labels[i] == c]
        if rows:
            ax.scatter(P[rows, 0], P[rows, 1], s=34, color=colors[k], edgecolors="black", linewidths=0.7,
                       label=f"label {c}", zorder=4)
        handles.append(Line2D([], [], linestyle="none", marker="o", markersize=5.5, markerfacecolor=colors[k],
                              markeredgecolor="black", markeredgewidth=0.7, label=f"label {c}"))
    if queries:
        ax.scatter(P[queries, 0], P[queries, 1], s=240, facecolors="none", edgecolors="white", linewidths=4.5,
                   zorder=5)
        ax.scatter(P[queries, 0], P[queries, 1], s=240, facecolors="none", edgecolors=_QUERY_COLOR, linewidths=2.2,
                   label=QUERY_LABEL, zorder=6, gid=QUERY_GID)
        handles.append(_query_handle())

    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_xlabel(projection.axis_labels[0])
    ax.set_ylabel(projection.axis_labels[1])
    where = "" if projection.kind == "identity" else f" (PCA of {projection.n_features} features)"
    ax.set_title(f"Decision boundary{where} · {session.n_labeled} labels", fontsize=10)
    if fitted:
        handles.append(Patch(facecolor="#909090", edgecolor="none", label="uncertain (darker)"))
    else:
        _note(ax, "no model yet: label points of two classes")
    if legend:
        ax.legend(handles=handles, loc="upper right", ncol=2 if len(handles) > 7 else 1, **_LEGEND)
    return ax


# ----------------------------------------------------------------------------- images


def plot_image(image, ax: Axes | None = None, *, title: str | None = None) -> Axes:
    """Show an image with crisp pixels (no smoothing), in grey-scale for 2-D arrays.

    Accepts (h, w), (h, w, 1), (h, w, 3) or (h, w, 4) arrays, or a flat row
    whose length is a square (64 -> 8x8 digits, 784 -> 28x28 MNIST). Values
    in [0, 1] (or uint8) are shown on a fixed scale, so a faint digit looks faint.
    """
    array = np.asarray(image)
    if array.ndim == 1:
        side = int(round(np.sqrt(array.size)))
        if side * side != array.size:
            raise ValueError(
                f"image is a flat array of {array.size} values, which is not a square; pass it as (height, width)"
            )
        array = array.reshape(side, side)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise ValueError(f"image must have shape (h, w), (h, w, 1), (h, w, 3) or (h, w, 4); got {array.shape}")
    ax = _prepare(ax, "image", figsize=(3, 3.2))
    kwargs: dict = {"interpolation": "nearest"}
    if array.ndim == 2:
        kwargs["cmap"] = "gray"
        if array.dtype.kind in "fc" and array.size and array.min() >= 0 and array.max() <= 1:
            kwargs.update(vmin=0.0, vmax=1.0)
        elif array.dtype == np.uint8:
            kwargs.update(vmin=0, vmax=255)
    ax.imshow(array, **kwargs)
    ax.set_xticks([])
    ax.set_yticks([])
    if title is not None:
        ax.set_title(str(title), fontsize=10)
    return ax
