"""Stream-based selective sampling: items arrive one at a time; each is asked or passed.

Pool-based sampling (:meth:`Session.query`) ranks the whole pool and asks the
best item. In stream-based selective sampling the items come one by one, as
they would from a camera or an inbox, and for each one the model decides on
the spot: ask a person (the model is unsure) or pass (it is sure enough).
Passed items are not thrown away: they are counted, listed in
:attr:`Stream.passed`, stay unlabeled in the session's pool, and
:meth:`Stream.revisit_passed` lets them arrive again once the model has changed.

    >>> stream = alw.Stream(session, threshold=0.2)    # ask when top-class p < 0.8
    >>> idx = stream.next_query()                       # the next arriving item worth asking
    >>> session.teach(idx, "7")
    >>> stream.n_passed, stream.n_asked

Before the model can be fitted (no labels yet, or one class only) every
arriving item is asked: a model that knows nothing is unsure about everything.
Mind the ceiling of the measure: with "least_confident" a model that has seen
only k classes is never more than ``1 - 1/k`` unsure (0.5 for two classes), so
a threshold above that asks nothing more until labels of other classes arrive.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable

import numpy as np

from alwidgets import _learners, strategies
from alwidgets._learners import take_rows
from alwidgets._validation import InvalidParameterError, check_choice, check_int
from alwidgets.engine.pool import as_oracle
from alwidgets.engine.session import Session

__all__ = ["Stream"]

MEASURES = {"least_confident": "least_confident", "margin": "margin", "entropy": "entropy", "std": "max_std"}
"""Each stream measure and the registered strategy whose measure it is."""


class Stream:
    """Stream-based selective sampling over a :class:`Session`'s pool.

    Parameters
    ----------
    session : Session
        Whose pool the items come from and whose model decides.
    threshold : float or None, default=0.2
        Ask an item when its uncertainty is at least this. Uncertainty is
        ``1 - p(top class)`` for "least_confident" (0.2 asks whenever the model
        is less than 80% sure), ``1 - (p1 - p2)`` for "margin", entropy divided
        by ``log(n_classes)`` for "entropy" (all in [0, 1]), and the predictive
        standard deviation, in label units, for "std" (regressors). None asks
        every item the budget allows.
    budget : int, float or None, default=None
        A limit on questions. An int is the most items to ask in total; a float
        in (0, 1] is the most to ask as a fraction of the items seen so far
        (0.1 asks at most one in ten). Items over budget are passed.
    source : iterable of pool indices or None, default=None
        The order items arrive in; None streams the pool in order. Items
        already labeled or skipped in the session are left out silently.
    measure : str, default="auto"
        One of "least_confident", "margin", "entropy" (classifiers) or "std"
        (regressors); "auto" picks "least_confident" or "std".
    """

    def __init__(self, session: Session, threshold: float | None = 0.2, budget: int | float | None = None,
                 source: Iterable[int] | None = None, measure: str = "auto"):
        if not isinstance(session, Session):
            raise InvalidParameterError(f"session must be an alwidgets Session; got {type(session).__name__}")
        if threshold is None and budget is None:
            raise InvalidParameterError("give a threshold (ask when uncertainty >= threshold), a budget, or both")
        if threshold is not None:
            if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not np.isfinite(threshold):
                raise InvalidParameterError(f"threshold must be a number such as 0.2, or None; got {threshold!r}")
            if threshold < 0:
                raise InvalidParameterError(f"threshold must be at least 0; got {threshold}")
        self.budget = _check_budget(budget)
        self.session = session
        self.threshold = None if threshold is None else float(threshold)
        self.measure = _check_measure(measure, session)
        self._source = iter(range(session.n_pool) if source is None else source)
        self._again: deque[int] = deque()  # passed items sent round again
        self.asked: list[int] = []
        self.passed: list[int] = []
        self.decisions: list[dict] = []  # one per arriving item: index, uncertainty, decision, reason
        self.n_seen = 0
        self.exhausted = False

    # ------------------------------------------------------------------ counts

    @property
    def n_asked(self) -> int:
        return len(self.asked)

    @property
    def n_passed(self) -> int:
        """Items passed so far (including any later sent round again by :meth:`revisit_passed`)."""
        return sum(d["decision"] == "passed" for d in self.decisions)

    # ------------------------------------------------------------------ the stream

    def uncertainty(self, idx: int) -> float:
        """How unsure the session's model is about pool item ``idx`` (inf before it can be fitted)."""
        snapshot = self.session.snapshot
        if not snapshot.fitted:
            return float("inf")
        x = take_rows(self.session.X_pool, [int(idx)])
        score = float(strategies.get(MEASURES[self.measure]).scores(snapshot.learner, x)[0])
        if self.measure == "entropy":  # scaled to [0, 1] so one threshold means the same for any class count
            n_classes = len(_learners.proba_classes(snapshot.learner))
            return score / np.log(n_classes) if n_classes > 1 else 0.0
        return score

    def _within_budget(self) -> bool:
        if self.budget is None:
            return True
        if isinstance(self.budget, int):
            return self.n_asked < self.budget
        return self.n_asked + 1 <= self.budget * self.n_seen

    def _arrive(self) -> tuple[int, str] | None:
        """Let one unlabeled item arrive and decide on it: ``(index, "asked" or "passed")``, or None at the end."""
        session = self.session
        while True:
            if self._again:
                idx = self._again.popleft()
            else:
                try:
                    idx = next(self._source)
                except StopIteration:
                    self.exhausted = True
                    return None
            idx = session.check_index(idx, allow_labeled=True)
            if idx not in session.labels and idx not in session.skipped:
                break
        self.n_seen += 1
        u = self.uncertainty(idx)
        if self.threshold is not None and u < self.threshold:
            decision, reason = "passed", "sure enough"
        elif not self._within_budget():
            decision, reason = "passed", "over budget"
        else:
            decision, reason = "asked", "unsure" if self.threshold is not None else "within budget"
        self.decisions.append({"index": idx, "uncertainty": u, "decision": decision, "reason": reason,
                               "model_version": session.model_version})
        (self.asked if decision == "asked" else self.passed).append(idx)
        return idx, decision

    def next_query(self) -> int | None:
        """Let items arrive until one is worth asking; return its pool index, or None when the stream ends.

        Every item passed on the way is added to :attr:`passed`.
        """
        while (arrival := self._arrive()) is not None:
            if arrival[1] == "asked":
                return arrival[0]
        return None

    def revisit_passed(self) -> int:
        """Send every passed item round again, to be judged by the current model; returns how many."""
        n = len(self.passed)
        self._again.extend(self.passed)
        self.passed = []
        self.exhausted = False
        return n

    def simulate(self, oracle, n_items: int, progress: Callable | None = None) -> dict:
        """Let up to ``n_items`` items arrive; an oracle answers each one asked, and the model learns it.

        ``oracle`` is an array of true labels for the pool or ``oracle(index) -> label``.
        ``progress(seen, n_items)`` is called after each arriving item. Returns a
        summary: items seen, asked and passed in this call, labels in the
        session, and the held-out score.
        """
        n_items = check_int(n_items, "n_items", 0)
        answer = as_oracle(oracle, self.session.n_pool)
        seen = asked = 0
        while seen < n_items and (arrival := self._arrive()) is not None:
            seen += 1
            idx, decision = arrival
            if decision == "asked":
                asked += 1
                self.session.teach(idx, answer(idx))
            if progress is not None:
                progress(seen, n_items)
        return {
            "seen": seen,
            "asked": asked,
            "passed": seen - asked,
            "n_labeled": self.session.n_labeled,
            "score": self.session.score(),
        }

    def __repr__(self) -> str:
        rule = f"threshold={self.threshold}" if self.threshold is not None else "no threshold"
        return (f"Stream({rule}, budget={self.budget}, seen={self.n_seen}, asked={self.n_asked}, "
                f"passed={self.n_passed})")


def _check_budget(budget):
    if budget is None:
        return None
    if isinstance(budget, (int, np.integer, bool, np.bool_)):  # a bool is refused by check_int, naming budget
        return check_int(budget, "budget", 0)
    if isinstance(budget, (float, np.floating)) and 0 < budget <= 1:
        return float(budget)
    raise InvalidParameterError(
        f"budget must be an int (the most questions to ask) or a fraction in (0, 1] of the items seen; got {budget!r}"
    )


def _check_measure(measure: str, session: Session) -> str:
    if measure == "auto":
        return "least_confident" if session.is_classifier else "std"
    check_choice(measure, "measure", ("auto", *MEASURES))
    problem = strategies.get(MEASURES[measure]).problem(session.learner)
    if problem:
        raise ValueError(problem.replace(f"strategy {MEASURES[measure]!r}", f"measure {measure!r}"))
    return measure
