"""Live plots of an active-learning session: pure functions ``plot_*(..., ax=None) -> ax``.

Every function draws into the matplotlib ``Axes`` it is given (clearing it
first, so a widget can redraw the same axes after each label) or into a new
one from :func:`new_axes`. Nothing here touches pyplot's global state or any
widget: figures are plain :class:`matplotlib.figure.Figure` objects on an Agg
canvas, and :func:`figure_to_png` turns one into PNG bytes for an
``ipywidgets.Image``. That works the same in JupyterLab, Notebook 7, VS Code
and Voila, and from a worker thread.

Colours are stable: a strategy keeps its colour in every plot, panel and
table (:data:`STRATEGY_COLORS`, :func:`strategy_color`); a line that is no
strategy (a stream, your own run) gets a colour that differs from the other
lines of its plot (:func:`strategy_colors`); and a class keeps its colour
across redraws (its position in ``session.classes``). Margins grow when a
label would be cut off (:func:`fit_margins`), and legends let the data show
through.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes

from alwidgets.plots._boundary import class_order, plot_decision_boundary
from alwidgets.plots._figures import (
    _BASELINE_COLOR,
    _LABELED_COLOR,
    _LEGEND,
    _MEAN_COLOR,
    _POOL_COLOR,
    _QUERY_COLOR,
    BASELINE_LABEL,
    DISTINCT_DELTA_E,
    EXTRA_COLORS,
    QUERY_GID,
    QUERY_LABEL,
    REGIONS_GID,
    STRATEGY_COLORS,
    UNCERTAINTY_GID,
    _check_query,
    _display_rows,
    _prepare,
    class_color,
    color_distance,
    figure_to_png,
    fit_margins,
    model_view,
    new_axes,
    pixel_to_data,
    strategy_color,
    strategy_colors,
)
from alwidgets.plots._projection import Projection, make_projection, nearest_item, numeric_rows, pool_xy

__all__ = [
    "BASELINE_LABEL",
    "DISTINCT_DELTA_E",
    "EXTRA_COLORS",
    "STRATEGY_COLORS",
    "QUERY_GID",
    "QUERY_LABEL",
    "REGIONS_GID",
    "UNCERTAINTY_GID",
    "Projection",
    "class_color",
    "class_order",
    "color_distance",
    "figure_to_png",
    "fit_margins",
    "make_projection",
    "mean_curve",
    "nearest_item",
    "NUMBERED_GID",
    "new_axes",
    "number_points",
    "pixel_to_data",
    "plot_decision_boundary",
    "plot_image",
    "plot_learning_curve",
    "plot_ratio_curve",
    "plot_seed_curves",
    "plot_regression",
    "pool_xy",
    "strategy_color",
    "strategy_colors",
]


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


def mean_curve(histories) -> list[dict]:
    """The mean learning curve of several runs: at each label count, the mean score of the runs that got there.

    Each run is a ``Session.history`` (or a list of ``(n_labels, score)``
    pairs, as JSON keeps them); entries without a score are skipped. The
    result has one entry per label count, with ``"runs"``, how many runs it
    averages, and can be drawn with :func:`plot_learning_curve`.
    """
    by_count: dict[int, list[float]] = {}
    for history in histories:
        pairs = [(e["n_labels"], e["score"]) if isinstance(e, Mapping) else tuple(e) for e in history]
        n, score = _points([{"n_labels": n, "score": s} for n, s in pairs])
        for count, value in zip(n, score, strict=True):
            by_count.setdefault(int(count), []).append(float(value))
    return [{"n_labels": count, "score": float(np.mean(values)), "runs": len(values)}
            for count, values in sorted(by_count.items())]


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
    stops=None,
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
    stops : int or dict of str to int, optional
        Where the stopping signal fired (``Session.stopping()["first_stop"]
        ["n_labels"]``): one number for a single curve, ``{name: n_labels}``
        for several. Marked on each curve as a hollow diamond.
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
    ax.locator_params(axis="y", nbins=6)  # fewer tick labels: text is most of the cost of drawing

    scores: list[np.ndarray] = []
    max_n = 0.0
    colors = strategy_colors([name for name, _, _ in lines])
    for name, n, score in lines:
        if len(n):
            marker = "o" if len(n) <= 60 else None
            ax.plot(n, score, marker=marker, markersize=3, linewidth=1.8, color=colors[name], label=name)
            scores.append(score)
            max_n = max(max_n, float(n.max()))
    _mark_stops(ax, lines, stops, colors)
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
        # A fixed place, so a live plot's legend does not jump: learning curves start low and climb to the
        # right, which leaves the top left empty; and it is see-through where a curve does pass.
        ax.legend(loc="upper left", **_LEGEND)
    return ax


STOP_LABEL = "stop signal"


def _mark_stops(ax: Axes, lines, stops, colors) -> None:
    """A hollow diamond on each curve where its stopping signal fired (one legend entry for all)."""
    if stops is None:
        return
    if not isinstance(stops, Mapping):
        stops = {name: stops for name, _, _ in lines}
    labeled = False
    for name, n, score in lines:
        at = stops.get(name)
        if at is None or not len(n):
            continue
        k = int(np.searchsorted(n, float(at), side="right")) - 1  # the score the model had when it fired
        if k < 0:
            continue
        ax.plot([n[k]], [score[k]], marker="D", markersize=9, markerfacecolor="none", markeredgewidth=1.8,
                markeredgecolor=colors[name], linestyle="none", zorder=5, label=None if labeled else STOP_LABEL)
        labeled = True


# ----------------------------------------------------------------------------- over seeds

BAND_PERCENTILES = (10, 90)  # the band drawn around a median over seeds


def _median_band(runs) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Runs ``[(x, y), ...]`` on one x grid (their union; each run interpolated inside its own range)."""
    runs = [(np.asarray(x, dtype=float), np.asarray(y, dtype=float)) for x, y in runs if len(x)]
    if not runs:
        empty = np.array([])
        return empty, empty, empty, empty
    grid = np.unique(np.concatenate([x for x, _ in runs]))
    stack = np.full((len(runs), len(grid)), np.nan)
    for k, (x, y) in enumerate(runs):
        inside = (grid >= x.min()) & (grid <= x.max())
        stack[k, inside] = np.interp(grid[inside], x, y)
    low, high = np.nanpercentile(stack, BAND_PERCENTILES, axis=0)
    return grid, np.nanmedian(stack, axis=0), low, high


def plot_seed_curves(
    runs: Mapping,
    ax: Axes | None = None,
    *,
    mark: float | None = None,
    ylabel: str = "test accuracy",
    title: str = "Learning curves over seeds",
) -> Axes:
    """Median learning curve of each strategy over seeds, with its 10-90% band.

    Parameters
    ----------
    runs : dict of str to list of (n_labels, scores)
        ``{strategy name: [(n_labels, scores) of one seed, ...]}``; each
        strategy is drawn in its own colour. A curve is interpolated between
        its points; the median and band at a number of labels use the seeds
        whose curve reaches it.
    ax : Axes, optional
        Cleared and reused; a new one when None.
    mark : float, optional
        A number of labels to mark with a dashed vertical line (e.g. the budget B).
    ylabel, title : str
    """
    if not isinstance(runs, Mapping):
        raise TypeError(f"runs must be a dict {{name: [(n_labels, scores), ...]}}; got {type(runs).__name__}")
    ax = _prepare(ax, "seed_curves")
    colors = strategy_colors([str(name) for name in runs])
    for name, seeds in runs.items():
        grid, median, low, high = _median_band(seeds)
        if not len(grid):
            continue
        color = colors[str(name)]
        ax.fill_between(grid, low, high, color=color, alpha=0.18, linewidth=0)
        ax.plot(grid, median, color=color, linewidth=1.8, label=f"{name} ({len(seeds)} seed{'s' * (len(seeds) > 1)})")
    if mark is not None:
        ax.axvline(float(mark), color="#666666", linewidth=0.9, linestyle="--", label=f"B = {float(mark):,.0f}")
    ax.set_title(title, fontsize=11)
    ax.set_xlabel("labels given")
    ax.set_ylabel(ylabel)
    ax.grid(True, linewidth=0.5, alpha=0.4)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="lower right", **_LEGEND)
    return ax


def plot_ratio_curve(
    ratios: Mapping,
    ax: Axes | None = None,
    *,
    name: str = "active",
    reached: Mapping | None = None,
    claim: tuple[float, float] | None = None,
    mark: float | None = None,
    title: str = "Labels saved over targets",
) -> Axes:
    """Labels saved against random sampling at each target budget B: median over seeds and 10-90% band.

    Parameters
    ----------
    ratios : dict of float to list of float
        ``{B: [ratio of one seed, ...]}``, a ratio being B divided by the
        labels the strategy needed to reach random's score at B (above 1 it
        saves labels). A budget with no ratio is left out.
    ax : Axes, optional
        Cleared and reused; a new one when None.
    name : str
        The strategy, for its colour and the legend.
    reached : dict of float to list of bool, optional
        ``{B: [whether that seed reached random's score, ...]}``, in the order
        of ``ratios``. A seed that never reached it has only an upper bound
        for its ratio (:func:`alwidgets.experiments.ratio_at`), so the median
        there is one too: drawn as a hollow triangle pointing down.
    claim : (B, ratio), optional
        A reported ratio to compare with, drawn as a star.
    mark : float, optional
        A budget to mark with a dashed vertical line.
    title : str
    """
    if not isinstance(ratios, Mapping):
        raise TypeError(f"ratios must be a dict {{budget: [ratio per seed, ...]}}; got {type(ratios).__name__}")
    reached = {} if reached is None else reached
    for b, flags in reached.items():
        if len(flags) != len(ratios.get(b, ())):
            raise ValueError(f"reached[{b}] has {len(flags)} entries for {len(ratios.get(b, ()))} ratios")
    ax = _prepare(ax, "ratio_curve")
    points = sorted((float(b), np.asarray(r, dtype=float), all(reached.get(b, [True]))) for b, r in ratios.items()
                    if len(r))
    color = strategy_color(name)
    if points:
        budgets = np.array([b for b, _, _ in points])
        median = np.array([np.median(r) for _, r, _ in points])
        low, high = np.array([np.percentile(r, BAND_PERCENTILES) for _, r, _ in points]).T
        exact = np.array([full for _, _, full in points])
        ax.fill_between(budgets, low, high, color=color, alpha=0.18, linewidth=0)
        ax.plot(budgets, median, "-", color=color, linewidth=1.5)
        if exact.any():
            ax.plot(budgets[exact], median[exact], "o", color=color, markersize=4, label=name)
        if not exact.all():
            ax.plot(budgets[~exact], median[~exact], "v", color=color, markerfacecolor="white", markersize=6,
                    label=f"{name}: at most (a seed never reached random's score)")
    ax.axhline(1.0, color="black", linewidth=1.2, label="as many labels as random")
    if claim is not None:
        ax.plot([claim[0]], [claim[1]], marker="*", markersize=13, color="crimson", linestyle="none",
                label=f"the article: {claim[1]:g}x")
    if mark is not None:
        ax.axvline(float(mark), color="#666666", linewidth=0.9, linestyle="--")
    ax.set_title(title, fontsize=11)
    ax.set_xlabel("B: random's labels (target: random's score at B)")
    ax.set_ylabel("B ÷ labels needed")
    ax.grid(True, linewidth=0.5, alpha=0.4)
    ax.legend(loc="upper left", **_LEGEND)
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
    session,
    ax: Axes | None = None,
    *,
    X_grid=None,
    query=None,
    y_true=None,
    max_points: int = 2000,
    legend: bool = True,
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
    max_points : int, default=2000
        At most this many pool items are drawn (a fixed subset; labeled items
        and the query always are).
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

    snapshot, taught, base_X, base_y = model_view(session)
    labeled = sorted(taught)
    y_lab = np.array([float(taught[i]) for i in labeled])
    unlabeled = np.setdiff1d(_display_rows(len(x_pool), max_points), labeled)
    if base_X is not None and base_y is not None:
        x_base, y_base = numeric_rows(base_X)[:, 0], np.asarray(base_y, dtype=float).ravel()
    else:
        x_base = y_base = np.array([])
    mean = std = None
    fitted = snapshot.fitted
    if fitted:
        mean, std = _predict_mean_std(snapshot.learner, grid.reshape(-1, 1))
    curve = np.asarray(y_true(grid.reshape(-1, 1)), dtype=float).ravel() if callable(y_true) else None
    y_values = [v for v in (y_lab, y_base, curve, truth) if v is not None and len(v)]

    ax = _prepare(ax, "regression")
    # Limits first, from the data rather than the bands (an early std band can be
    # huge), so nothing autoscales while the artists are added.
    ax.set_xlim(grid.min(), grid.max())
    ax.set_ylim(*_regression_ylim(y_values, mean, room_for_legend=legend))
    ax.locator_params(nbins=6)  # fewer tick labels: text is most of the cost of drawing
    if mean is not None:
        if std is not None:
            ax.fill_between(grid, mean - 2 * std, mean + 2 * std, color=_MEAN_COLOR, alpha=0.13, linewidth=0,
                            label="±2 std")
            ax.fill_between(grid, mean - std, mean + std, color=_MEAN_COLOR, alpha=0.28, linewidth=0, label="±1 std")
        ax.plot(grid, mean, color=_MEAN_COLOR, linewidth=1.8, label="mean")
    if curve is not None:
        ax.plot(grid, curve, linestyle=":", color="#333333", linewidth=1.2, label="true function")
    if truth is not None:
        ax.scatter(x_pool[unlabeled], truth[unlabeled], s=10, color=_POOL_COLOR, alpha=0.8, linewidths=0,
                   label="pool", zorder=2)
    else:
        ax.plot(x_pool[unlabeled], np.zeros(len(unlabeled)), linestyle="none", marker="|", markersize=7,
                color=_POOL_COLOR, transform=ax.get_xaxis_transform(), label="pool (x only)")
    if len(x_base):
        ax.scatter(x_base, y_base, s=30, color="white", edgecolors=_LABELED_COLOR, linewidths=1.2,
                   label="initial data", zorder=4)
    if labeled:
        ax.scatter(x_pool[labeled], y_lab, s=34, color=_LABELED_COLOR, edgecolors="black", linewidths=0.6,
                   label=f"labeled ({len(labeled)})", zorder=4)
    if queries:
        x_q = x_pool[queries]
        for k, x in enumerate(x_q):
            ax.axvline(x, color=_QUERY_COLOR, linestyle="--", linewidth=1.3, label=QUERY_LABEL if k == 0 else None,
                       zorder=3)
        y_q = np.interp(x_q, grid, mean) if mean is not None else np.full(len(x_q), np.mean(ax.get_ylim()))
        ax.scatter(x_q, y_q, s=110, facecolors="none", edgecolors=_QUERY_COLOR, linewidths=2, zorder=5,
                   gid=QUERY_GID)

    ax.set_xlabel("x")
    ax.set_ylabel("y")
    if fitted:
        what = "mean ± std" if std is not None else "mean (no std from this model)"
        ax.set_title(f"Model {what} · {snapshot.n_labels} labels", fontsize=11)
    else:
        ax.set_title(f"Regression · {snapshot.n_labels} labels", fontsize=11)
        ax.text(0.5, 0.5, "no model yet: label a point to fit one", transform=ax.transAxes, ha="center",
                va="center", fontsize=9, color="#333333", zorder=10,
                bbox={"boxstyle": "round,pad=0.3", "facecolor": "white", "edgecolor": "#bbbbbb", "alpha": 0.9})
    if legend:
        ax.legend(loc="upper center", ncol=4, **_LEGEND)
    return ax


def _regression_ylim(y_values: list[np.ndarray], mean, room_for_legend: bool) -> tuple[float, float]:
    """A y range from the data, with room on top for the legend."""
    values = np.concatenate(y_values) if y_values else (mean if mean is not None else np.array([-1.0, 1.0]))
    low, high = float(np.min(values)), float(np.max(values))
    span = high - low if high > low else 2.0
    return low - 0.15 * span, high + (0.5 if room_for_legend else 0.15) * span


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
    if ax is None:
        ax = new_axes(figsize=(3, 3.2))
        ax.figure.subplots_adjust(left=0.03, right=0.97, bottom=0.03, top=0.9)  # no tick labels to make room for
    ax = _prepare(ax, "image")
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


# ----------------------------------------------------------------------------- numbered points

NUMBERED_GID = "numbered"
_NUMBER_MARKER_SIZE = 170  # points², the area of the white disc behind a number


def number_points(ax: Axes, xy, labels=None, *, size: float = _NUMBER_MARKER_SIZE) -> np.ndarray:
    """Draw numbered discs on the points ``xy`` (data coordinates) so that no two discs overlap.

    A disc that would cover an earlier one moves to the nearest free spot
    around its point and is tied to it by a thin line. Call it after the
    axes limits are set. Returns where the discs were drawn, in data coordinates.

    Parameters
    ----------
    ax : Axes
    xy : array-like of shape (n, 2)
        The points, in order: the first gets "1" unless ``labels`` says otherwise.
    labels : sequence of str, optional
        The text of each disc; default 1, 2, 3, ...
    size : float
        The area of a disc in points², as for ``scatter``.
    """
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    labels = [str(k) for k in range(1, len(xy) + 1)] if labels is None else [str(t) for t in labels]
    if len(labels) != len(xy):
        raise ValueError(f"labels must hold one text per point ({len(xy)}); got {len(labels)}")
    if not len(xy):
        return xy
    diameter = np.sqrt(size) * ax.figure.dpi / 72  # pixels
    points = ax.transData.transform(xy)
    box = ax.bbox
    low = np.array([box.x0, box.y0]) + diameter / 2
    high = np.array([box.x1, box.y1]) - diameter / 2
    angles = np.linspace(0, 2 * np.pi, 12, endpoint=False)
    rings = [np.zeros((1, 2))] + [r * diameter * np.column_stack([np.cos(angles), np.sin(angles)])
                                  for r in (1.05, 1.6, 2.2, 2.9)]
    offsets = np.concatenate(rings)
    placed: list[np.ndarray] = []
    for point in points:
        candidates = np.clip(point + offsets, low, np.maximum(low, high))
        if placed:
            gaps = np.min(np.linalg.norm(candidates[:, None, :] - np.array(placed)[None], axis=2), axis=1)
            free = np.flatnonzero(gaps >= diameter)
            choice = candidates[free[0]] if len(free) else candidates[int(np.argmax(gaps))]
        else:
            choice = candidates[0]
        placed.append(choice)
    where = np.array(placed)
    data = ax.transData.inverted().transform(where)
    moved = np.linalg.norm(where - points, axis=1) > 0.5
    for (x0, y0), (x1, y1) in zip(xy[moved], data[moved], strict=True):
        ax.plot([x0, x1], [y0, y1], color="black", linewidth=0.7, zorder=7)
    ax.scatter(xy[moved, 0], xy[moved, 1], s=6, color="black", zorder=7)
    ax.scatter(data[:, 0], data[:, 1], s=size, facecolors="white", edgecolors="black", linewidths=1.0, zorder=8,
               gid=NUMBERED_GID)
    for (x, y), text in zip(data, labels, strict=True):
        ax.text(x, y, text, ha="center", va="center", fontsize=7, fontweight="bold", zorder=9)
    return data
