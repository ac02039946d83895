"""Learning-curve analysis: one place for smoothing a curve and reading labels off it.

A learning curve is two aligned sequences, the labels given (``n_labels``)
and the held-out score after them; :func:`history_points` reads one from a
``Session.history``. On it:

- :func:`smooth`: the trailing mean over a window of points;
- :func:`labels_to_reach`: the labels at the first *measured* point at or
  above a target (what a race reports: a count some learner really had);
- :func:`interpolated_labels_to_reach`: the same crossing, interpolated
  linearly between the two points around it (what the MNIST benchmark
  reports: mini-batches of 10 would otherwise round every ratio);
- :func:`score_at`, :func:`aubc`: the score at a budget, the area under the curve;
- :func:`labels_saved` and :func:`ratio_at`: a strategy's curve against random
  sampling's, the measure of the classroom race and of the MNIST article.

No widget and no plot code: the race's view and the benchmarks call these.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from alwidgets._validation import InvalidParameterError, check_int

__all__ = [
    "REFERENCE",
    "LabelsSaved",
    "Ratio",
    "aubc",
    "history_points",
    "interpolated_labels_to_reach",
    "labels_saved",
    "labels_to_reach",
    "ratio_at",
    "score_at",
    "smooth",
]

REFERENCE = "random"


def history_points(history: Sequence[Mapping]) -> tuple[np.ndarray, np.ndarray]:
    """``(n_labels, scores)`` of a ``Session.history``: the entries with a finite score, in order."""
    scored = [(e["n_labels"], e["score"]) for e in history
              if e.get("score") is not None and np.isfinite(e["score"])]
    n = np.array([int(count) for count, _ in scored], dtype=int)
    return n, np.array([float(score) for _, score in scored], dtype=float)


def smooth(scores, window: int) -> np.ndarray:
    """Trailing mean over ``window`` consecutive scores (fewer at the start).

    One mini-batch moves a held-out score by a percent or so (a few test items
    flip); "the first time a curve reaches a target" is then partly luck. A
    trailing mean follows the trend and uses no future point. ``window=1``
    returns the scores as they are.
    """
    scores = np.asarray(scores, dtype=float)
    window = check_int(window, "window")
    if window == 1:
        return scores.copy()
    # each mean on its own window (not a running sum): a score equal to a target stays equal to it
    return np.array([scores[max(0, k - window + 1): k + 1].mean() for k in range(len(scores))], dtype=float)


_smooth = smooth  # for :func:`labels_saved`, whose parameter ``smooth`` hides the function


def _first_at_or_above(scores: np.ndarray, target: float) -> int | None:
    above = np.flatnonzero(scores >= target)
    return int(above[0]) if len(above) else None


def labels_to_reach(n_labels, scores, target: float) -> int | None:
    """The labels at the first measured point scoring ``target`` or better; None if no point does."""
    n, s = np.asarray(n_labels), np.asarray(scores, dtype=float)
    i = _first_at_or_above(s, target)
    return None if i is None else int(n[i])


def interpolated_labels_to_reach(n_labels, scores, target: float) -> float | None:
    """Labels at which a curve first reaches ``target``, interpolated between its points; None if never.

    Between the last point below the target and the first one at or above it
    the curve is a straight line; a curve that starts above the target reaches
    it at its first point.
    """
    n, s = np.asarray(n_labels, dtype=float), np.asarray(scores, dtype=float)
    i = _first_at_or_above(s, target)
    if i is None:
        return None
    if i == 0:
        return float(n[0])
    return float(n[i - 1] + (target - s[i - 1]) * (n[i] - n[i - 1]) / (s[i] - s[i - 1]))


def score_at(n_labels, scores, budget: float) -> float:
    """A curve's score at ``budget`` labels, interpolated; NaN outside the curve."""
    n, s = np.asarray(n_labels, dtype=float), np.asarray(scores, dtype=float)
    if len(n) == 0 or budget < n[0] or budget > n[-1]:
        return float("nan")
    return float(np.interp(budget, n, s))


def aubc(n_labels, scores, start: float | None = None, stop: float | None = None) -> float:
    """Area under the budget curve between ``start`` and ``stop`` labels, divided by its width: in [0, 1].

    The curve is interpolated linearly (the trapezoidal rule), as in Lu et
    al., *Re-Benchmarking Pool-Based Active Learning for Binary
    Classification* (TMLR 2023); a curve whose score is always 1 has AUBC 1.
    Default window: the whole curve.
    """
    n, s = np.asarray(n_labels, dtype=float), np.asarray(scores, dtype=float)
    if len(n) < 2:
        raise ValueError("AUBC needs a curve of at least two points")
    start = n[0] if start is None else float(start)
    stop = n[-1] if stop is None else float(stop)
    if not n[0] <= start < stop <= n[-1]:
        raise ValueError(f"AUBC window [{start}, {stop}] must lie inside the curve's labels [{n[0]}, {n[-1]}]")
    inside = (n > start) & (n < stop)
    x = np.concatenate([[start], n[inside], [stop]])
    y = np.interp(x, n, s)
    return float(np.sum((y[1:] + y[:-1]) * np.diff(x)) / 2.0 / (stop - start))


# ---------------------------------------------------------------------- against random, as the MNIST article


@dataclass(frozen=True)
class Ratio:
    """Labels saved at one target: ``budget / needed``; a bound when the strategy never got there."""

    budget: float
    target: float
    needed: float | None
    ratio: float
    reached: bool


def ratio_at(random_curve, active_curve, budget: float, metric: str = "accuracy", window: int = 1) -> Ratio:
    """The article's measure at budget ``budget``, for one seed.

    ``random_curve`` and ``active_curve`` are DataFrames with ``n_labels`` and
    a ``metric`` column. The target is random sampling's score at ``budget``
    labels; the ratio is ``budget`` divided by the labels the active curve
    needed to reach it (:func:`interpolated_labels_to_reach`; 20,000 / 8,000 =
    2.5x in the article). Both curves are first smoothed with :func:`smooth`
    over ``window`` points. When the active curve never reaches the target,
    ``reached`` is False and ``ratio`` is the bound ``budget / (labels it
    used)``: the true ratio is lower.
    """
    r_n, r_s = random_curve["n_labels"].to_numpy(), smooth(random_curve[metric], window)
    a_n, a_s = active_curve["n_labels"].to_numpy(), smooth(active_curve[metric], window)
    target = score_at(r_n, r_s, budget)
    if np.isnan(target):
        raise ValueError(f"random's curve does not cover budget {budget} (it runs {r_n[0]}..{r_n[-1]})")
    needed = interpolated_labels_to_reach(a_n, a_s, target)
    if needed is None:
        return Ratio(budget, target, None, float(budget / a_n[-1]), False)
    return Ratio(budget, target, needed, float(budget / needed), True)


# ---------------------------------------------------------------------- against random, in a race


@dataclass(frozen=True)
class LabelsSaved:
    """How many labels a strategy needed to reach ``target``, against the reference.

    ``needed`` and ``reference_needed`` are None when that learner has not
    reached the target yet. When only the reference has not, ``saved`` and
    ``ratio`` are computed with the labels the reference has used so far and
    ``lower_bound`` is True: the true saving is at least that.
    """

    strategy: str
    target: float
    needed: int | None
    reference_needed: int | None
    saved: int | None
    ratio: float | None
    lower_bound: bool = False

    def cells(self) -> tuple[str, str, str]:
        """``(labels needed, random's labels, verdict)`` as words: one table row, or one line of :meth:`describe`."""
        if self.needed is None:
            return "not yet", "", ""
        if self.ratio is None:
            return str(self.needed), "random not there yet", ""
        at_least = "at least " if self.lower_bound else ""
        reference = f"more than {self.needed + self.saved}" if self.lower_bound else str(self.reference_needed)
        if self.saved < 0:
            verdict = f"{self.needed / self.reference_needed:.1f}x more, {-self.saved} more labels"
        else:
            verdict = f"{at_least}{self.ratio:.1f}x fewer, {at_least}{self.saved} saved"
        return str(self.needed), reference, verdict

    def describe(self) -> str:
        """One line for a person: 'margin: 40 labels vs 95 for random (2.4x fewer, 55 saved)'."""
        needed, reference, verdict = self.cells()
        if self.needed is None:
            return f"{self.strategy}: has not reached {self.target:.3f} yet"
        if self.ratio is None:
            return f"{self.strategy}: {needed} labels to reach {self.target:.3f}; random has not reached it"
        return f"{self.strategy}: {needed} labels vs {reference} for random ({verdict})"


def labels_saved(curves: Mapping[str, Sequence[Mapping]], target: float | None = None,
                 reference: str = REFERENCE, smooth: int = 1) -> dict[str, LabelsSaved]:
    """Labels each strategy needed to reach ``target``, compared with ``reference``.

    Parameters
    ----------
    curves : dict of name -> history
        Learning curves: lists of ``{"n_labels", "score"}`` as in ``Session.history``.
    target : float, optional
        The score to reach. Default: the reference's latest score, i.e. "how
        many labels did each strategy need to do as well as random does with
        all of its labels" (the measure of the MNIST article).
    reference : str, default="random"
        The curve the others are compared with.
    smooth : int, default=1
        Measure on trailing means of this many consecutive scores of every
        curve (see :func:`smooth`); 1 uses the scores as they are.

    Returns
    -------
    dict of name -> LabelsSaved, for every curve but the reference.

    A crossing is the first measured point at or above the target
    (:func:`labels_to_reach`). Label counts are those of the curves
    (``n_labels``), so they include any initial labels every learner started with.
    """
    if reference not in curves:
        raise InvalidParameterError(
            f"reference {reference!r} is not among the curves {list(curves)}; add a {reference!r} run")
    window = check_int(smooth, "smooth")
    points = {}
    for name, history in curves.items():
        n, s = history_points(history)
        points[name] = (n, _smooth(s, window))
    ref_n, ref_s = points[reference]
    if target is None:
        if not len(ref_s):
            raise ValueError(f"the {reference!r} curve has no score yet, so there is no default target; pass target=")
        target = ref_s[-1]
    try:
        score = float(target)
    except (TypeError, ValueError):
        score = float("nan")
    if isinstance(target, (bool, np.bool_)) or not np.isfinite(score):
        raise InvalidParameterError(f"target must be a finite score; got {target!r}")
    target = score
    ref_needed = labels_to_reach(ref_n, ref_s, target)
    ref_used = int(curves[reference][-1]["n_labels"]) if len(curves[reference]) else 0
    out = {}
    for name, (n, s) in points.items():
        if name == reference:
            continue
        needed = labels_to_reach(n, s, target)
        saved = ratio = None
        lower = False
        if needed is not None:
            ref_count = ref_needed
            if ref_count is None:
                # The reference has not got there with what it used so far: a lower bound.
                ref_count, lower = ref_used, True
                if ref_count <= needed:
                    ref_count = None
            if ref_count is not None:
                saved = ref_count - needed
                ratio = ref_count / needed if needed > 0 else float("inf")
        out[name] = LabelsSaved(name, target, needed, ref_needed, saved, ratio, lower)
    return out
