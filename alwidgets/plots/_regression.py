"""1-D regression: a model's mean curve with its standard-deviation bands (a Gaussian process's), and the pool.

:func:`plot_regression` draws what a regressor's session knows: the pool,
the labeled points, the item asked, and the mean ±1 and ±2 std of the model
when it gives one (``predict(X, return_std=True)``).
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes

from alwidgets._validation import InvalidParameterError
from alwidgets.plots._figures import (
    _LABELED_COLOR,
    _MEAN_COLOR,
    _NEXT_QUERY_COLOR,
    _POOL_COLOR,
    _QUERY_COLOR,
    NEXT_QUERY_GID,
    NEXT_QUERY_LABEL,
    QUERY_GID,
    QUERY_LABEL,
    _check_query,
    _display_rows,
    _legend_outside,
    _legend_place,
    _next_queries,
    _prepare,
    model_view,
)
from alwidgets.plots._projection import numeric_rows

__all__ = ["plot_regression"]


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
    next_query=None,
    y_true=None,
    max_points: int = 2000,
    legend: bool | str = True,
) -> Axes:
    """A 1-D regressor's mean curve with its ±1 and ±2 standard-deviation bands.

    Draws the pool in grey (at its true values when ``y_true`` holds them,
    else as ticks along the bottom), the labeled points in orange, the item asked
    now (``query``) as a red dashed vertical line with a ring on the mean and,
    when the latest model would ask another x next (``next_query``), that x as
    a dark dotted line, named apart. Before the
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
        Pool index(es) of the item(s) asked now (on screen), marked in red.
    next_query : int or list of int, optional
        Pool index(es) the latest model would ask next; drawn only where they
        are not asked now.
    y_true : array-like of shape (n_pool,) or callable, optional
        The pool's true values (a simulated oracle), drawn as grey points, or
        a function ``f(X)`` drawn as a dotted "true function" line.
    max_points : int, default=2000
        At most this many pool items are drawn (a fixed subset; labeled items
        and the query always are).
    legend : bool or {"right", "below"}, default=True
        Beside the axes, where it covers no data: right of them (True), or
        along the figure's bottom edge ("below", for a small panel); False: none.
    """
    if session.is_classifier:
        raise InvalidParameterError(
            "plot_regression needs a regressor's session; for a classifier use plot_decision_boundary")
    legend_place = _legend_place(legend)
    X = numeric_rows(session.X_pool)
    if X.shape[1] != 1:
        raise ValueError(
            f"plot_regression draws 1-D regression, but X_pool has {X.shape[1]} features; "
            "plot the learning curve instead"
        )
    x_pool = X[:, 0]
    queries = _check_query(query, len(x_pool))
    next_queries = _next_queries(next_query, queries, len(x_pool))
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
    ax.set_ylim(*_regression_ylim(y_values, mean))
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
    for k, x in enumerate(x_pool[next_queries]):
        ax.axvline(x, color=_NEXT_QUERY_COLOR, linestyle=":", linewidth=1.3, zorder=3, gid=NEXT_QUERY_GID,
                   label=NEXT_QUERY_LABEL if k == 0 else None)

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
    if legend_place:
        _legend_outside(ax, where=legend_place)
    return ax


def _regression_ylim(y_values: list[np.ndarray], mean) -> tuple[float, float]:
    """A y range from the data (the legend is beside the axes: it needs no room above the data)."""
    values = np.concatenate(y_values) if y_values else (mean if mean is not None else np.array([-1.0, 1.0]))
    low, high = float(np.min(values)), float(np.max(values))
    span = high - low if high > low else 2.0
    return low - 0.15 * span, high + 0.15 * span
