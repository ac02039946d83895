"""Learning curves: a session's held-out score against the labels given, one line per strategy.

:func:`plot_learning_curve` draws one ``Session.history`` or several
(``{name: history}``), a random baseline, a target and where the stopping
signal fired; :func:`mean_curve` averages the curves of several runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from alwidgets._validation import InvalidParameterError
from alwidgets.plots._figures import _BASELINE_COLOR, BASELINE_LABEL, _legend_outside, _prepare, strategy_colors

__all__ = ["plot_learning_curve", "mean_curve", "STOP_LABEL"]


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
        raise InvalidParameterError(
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
    elif not values.size:
        ax.set_ylim(0.0, 1.0)  # nothing to scale to: a score's range, not ticks of ±0.04 around nothing
    ax.xaxis.set_major_locator(MaxNLocator(nbins="auto", steps=[1, 2, 2.5, 5, 10], integer=True))  # whole labels
    if ax.get_legend_handles_labels()[0]:
        _legend_outside(ax)  # beside the curves: a fixed place that covers none of them
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
