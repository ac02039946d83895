"""The strategy registry: names, utility measures, selectors and what each needs from a learner.

A strategy is a *measure* (``measure(learner, X, random_state=None) -> scores``,
higher means more wanted, NaN where a row was not scored) and a *selector*
that turns the scores into the items to ask (``top_n`` unless a batch needs
to be diverse). Keeping the two apart, as modAL does, lets stream-based
sampling reuse a measure on one item at a time, and lets a widget show why
an item was chosen.

This module imports no strategy: the package ``alwidgets.strategies`` and
its plug-ins (``diversity``, ``min_max``, ``multilabel``, ``transfer``)
import it and register theirs, so nothing imports in a circle. Importing this
module runs the package's ``__init__`` first, which registers the built-in
strategies before anything else can, so they are there for every caller and
come first in every list.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.pipeline import Pipeline

from alwidgets import _learners
from alwidgets._validation import InvalidParameterError, check_int, n_rows

__all__ = ["Strategy", "register", "unregister", "get", "available", "top_n", "features", "REQUIREMENTS"]


# ---------------------------------------------------------------------- selection


def top_n(scores: np.ndarray, n: int, **context) -> np.ndarray:
    """Positions of the ``n`` highest scores, best first; NaN ranks last, ties by position.

    As a selector it is handed the learner, pool and random state as keywords
    (``context``), which a plain ranking does not need.
    """
    n = check_int(n, "n", minimum=0)
    scores = np.where(np.isnan(scores), -np.inf, np.asarray(scores, dtype=float))
    if n >= len(scores):
        return np.argsort(-scores, kind="stable")
    part = np.argpartition(-scores, n - 1)[:n]
    return part[np.argsort(-scores[part], kind="stable")]


def features(learner, X) -> np.ndarray:
    """The feature space a strategy measures distances in.

    For a scikit-learn ``Pipeline`` this is the output of every step but the
    last (TF-IDF vectors for a text pipeline); otherwise the rows of ``X`` as
    floats. Committees use their first member's estimator.
    """
    estimator = _learners.members(learner)[0].estimator
    estimator = getattr(estimator, "estimator_", estimator)  # a bagged committee member
    if isinstance(estimator, Pipeline) and len(estimator.steps) > 1:
        Z = estimator[:-1].transform(X)
    else:
        Z = X
    if hasattr(Z, "toarray") and not hasattr(Z, "iloc"):
        return Z  # sparse stays sparse: scikit-learn's distances accept it
    Z = np.asarray(Z, dtype=float)
    return Z.reshape(Z.shape[0], -1)


# ---------------------------------------------------------------------- requirements


def _describe(learner) -> str:
    if _learners.is_committee(learner):
        return type(learner).__name__
    return type(learner.estimator).__name__


def _accepts_return_std(estimator) -> bool:
    try:
        return "return_std" in inspect.signature(estimator.predict).parameters
    except (TypeError, ValueError):
        return False


@dataclass(frozen=True)
class Requirement:
    """Something a strategy needs from a learner, and what to tell a person whose learner lacks it."""

    holds: Callable[[object], bool]
    advice: str  # formatted with {name} (the strategy) and {kind} (the learner)


REQUIREMENTS: dict[str, Requirement] = {
    "committee": Requirement(
        _learners.is_committee,
        "strategy {name!r} measures disagreement between committee members, but the model is a single "
        "learner ({kind}); pass a modAL Committee, e.g. alw.make_committee(LogisticRegression(), n_members=5), "
        "or use 'margin' or 'entropy'",
    ),
    "classifier": Requirement(
        _learners.learner_is_classifier,
        "strategy {name!r} is for classifiers, but {kind} is a regressor; use 'max_std' or 'random'",
    ),
    "regressor": Requirement(
        _learners.learner_is_regressor,
        "strategy {name!r} is for regressors (it ranks by predictive standard deviation), but {kind} is a "
        "classifier; use 'margin', 'entropy' or 'least_confident'",
    ),
    "proba": Requirement(
        lambda learner: _learners.is_committee(learner) or hasattr(learner.estimator, "predict_proba"),
        "strategy {name!r} needs class probabilities, but {kind} has no predict_proba; use an estimator with "
        "predict_proba (LogisticRegression, or CalibratedClassifierCV(SVC())), or strategy='random'",
    ),
    "return_std": Requirement(
        lambda learner: _learners.is_committee(learner) or _accepts_return_std(learner.estimator),
        "strategy {name!r} needs a predictive standard deviation, but {kind}.predict has no return_std; "
        "use GaussianProcessRegressor, or a committee from alw.make_committee",
    ),
    "single_estimator": Requirement(
        lambda learner: not _learners.is_committee(learner),
        "strategy {name!r} refits a single estimator; pass one estimator, not a committee",
    ),
    # A property of the task, not only of the learner: a Session says it (multi_label=True); a fitted learner
    # shows it by the indicator matrix it was taught. Strategies without it are for single-label tasks.
    "multi_label": Requirement(
        _learners.is_multi_label,
        "strategy {name!r} is for multi-label sessions (a set of classes per item), and this one gives one "
        "label per item; use 'margin', 'entropy' or 'random', or Session(..., multi_label=True)",
    ),
}

SINGLE_LABEL_ADVICE = ("strategy {name!r} ranks items for one label each, and this session gives each item a set of "
                       "classes (multi_label=True); use one of the multi-label strategies ({choices}) or 'random'")
# Strategies that do not look at the model's labels at all, so they serve both kinds of task.
TASK_FREE = {"random"}


# ---------------------------------------------------------------------- strategies


@dataclass(frozen=True)
class Strategy:
    """A named query strategy: a utility measure, a selector, and what it requires of the learner."""

    name: str
    measure: Callable
    select: Callable = top_n
    requires: tuple[str, ...] = ()

    @property
    def batch_aware(self) -> bool:
        """Whether a batch is chosen as a whole (diverse), not as the top scores."""
        return self.select is not top_n

    @property
    def description(self) -> str:
        """The first line of the docstring: what the strategy prefers."""
        function = self.select if self.batch_aware else self.measure
        return (function.__doc__ or "").strip().splitlines()[0]

    def problem(self, learner, multi_label: bool | None = None) -> str | None:
        """Why this strategy cannot run on ``learner``, or None.

        ``multi_label`` says whether the task gives each item a set of classes;
        None reads it from the learner (a fitted one shows it by its labels).
        A strategy that ``requires`` "multi_label" runs only on such tasks, and
        every other one (but "random") only on single-label tasks.
        """
        multi = _learners.is_multi_label(learner) if multi_label is None else bool(multi_label)
        if multi and "multi_label" not in self.requires and self.name not in TASK_FREE:
            choices = ", ".join(repr(n) for n, s in _REGISTRY.items() if "multi_label" in s.requires)
            return SINGLE_LABEL_ADVICE.format(name=self.name, choices=choices)
        for requirement in self.requires:
            if requirement == "multi_label":
                if not multi:
                    return REQUIREMENTS[requirement].advice.format(name=self.name, kind=_describe(learner))
                continue
            rule = REQUIREMENTS[requirement]
            if not rule.holds(learner):
                return rule.advice.format(name=self.name, kind=_describe(learner))
        return None

    def check(self, learner, multi_label: bool | None = None) -> None:
        """Raise ``ValueError`` if this strategy cannot run on ``learner`` (for the task ``multi_label`` names)."""
        problem = self.problem(learner, multi_label)
        if problem:
            raise ValueError(problem)

    def scores(self, learner, X, random_state=None) -> np.ndarray:
        """The utility of every row of ``X`` (higher is more wanted)."""
        return np.asarray(self.measure(learner, X, random_state=random_state), dtype=float)

    def __call__(self, learner, X, n_instances: int = 1, random_state=None):
        """``(indices, scores)``: the rows of ``X`` to ask, best first, and every row's score."""
        self.check(learner)
        n_instances = min(check_int(n_instances, "n_instances"), n_rows(X))
        scores = self.scores(learner, X, random_state)
        indices = self.select(scores, n_instances, learner=learner, X=X, random_state=random_state)
        return np.asarray(indices, dtype=int), scores


_REGISTRY: dict[str, Strategy] = {}


def register(name: str, measure: Callable, select: Callable = top_n, requires: Sequence[str] = (), *,
             replace: bool = False) -> Strategy:
    """Add a strategy under ``name``; returns it.

    ``requires`` names entries of :data:`REQUIREMENTS` (``"classifier"``,
    ``"proba"``, ``"committee"``...), checked in order: the first one a
    learner lacks is the error a person sees. A name already registered is
    refused (:class:`~alwidgets._validation.InvalidParameterError`) unless
    ``replace=True``, which puts the new strategy in the old one's place.
    """
    if not isinstance(name, str) or not name:
        raise InvalidParameterError(f"name must be a non-empty string; got {name!r}")
    if not callable(measure):
        raise InvalidParameterError(f"measure must be callable as measure(learner, X, random_state=None); "
                                    f"got {measure!r}")
    if not callable(select):
        raise InvalidParameterError(f"select must be callable as select(scores, n, **context); got {select!r}")
    unknown = [r for r in requires if r not in REQUIREMENTS]
    if unknown:
        raise InvalidParameterError(f"unknown requirements {unknown}; known: {sorted(REQUIREMENTS)}")
    if name in _REGISTRY and not replace:
        raise InvalidParameterError(f"a strategy named {name!r} is already registered; pick another name, "
                                    "or pass replace=True to replace it")
    strategy = Strategy(name, measure, select, tuple(requires))
    _REGISTRY[name] = strategy
    return strategy


def unregister(name: str) -> None:
    """Remove the strategy ``name`` (one a user or a test registered)."""
    _REGISTRY.pop(name, None)


def get(name) -> Strategy:
    """The strategy registered as ``name`` (a Strategy passes through)."""
    if isinstance(name, Strategy):
        return name
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise InvalidParameterError(f"unknown strategy {name!r}; available strategies: {', '.join(_REGISTRY)}") from None


def available(learner=None, multi_label: bool | None = None) -> list[str]:
    """Names of registered strategies; with a learner, only those that can run on it.

    ``multi_label`` (True for a multi-label session) lists only the strategies
    for that kind of task; None reads it from a fitted learner.
    """
    if learner is None:
        if multi_label is None:
            return list(_REGISTRY)
        return [name for name, s in _REGISTRY.items()
                if ("multi_label" in s.requires) == bool(multi_label) or name in TASK_FREE]
    return [name for name, s in _REGISTRY.items() if s.problem(learner, multi_label) is None]
