"""Curves over seeds: the median learning curve with its 10-90% band, and the labels-saved ratio over targets.

What ``benchmarks/seed_mnist.py`` and notebook 06 draw from many runs of one
protocol: :func:`plot_seed_curves` (one band per strategy) and
:func:`plot_ratio_curve` (the article's measure at each target budget B).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.axes import Axes

from alwidgets._validation import InvalidParameterError
from alwidgets.plots._figures import _legend_outside, _prepare, strategy_color, strategy_colors

__all__ = ["plot_seed_curves", "plot_ratio_curve", "BAND_PERCENTILES"]

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
        raise InvalidParameterError(f"runs must be a dict {{name: [(n_labels, scores), ...]}}; got {type(runs).__name__}")
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
        _legend_outside(ax)
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
        raise InvalidParameterError(
            f"ratios must be a dict {{budget: [ratio per seed, ...]}}; got {type(ratios).__name__}")
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
                    label=f"{name}: at most\n(a seed never reached\nrandom's score)")
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
    _legend_outside(ax)
    return ax
