"""Small helpers over modAL's learner classes, so the Session can treat them alike.

modAL has four learner shapes a user may hand us: ``ActiveLearner``,
``BayesianOptimizer`` (a subclass), ``Committee`` and ``CommitteeRegressor``.
They keep their training data differently (a committee keeps it per member),
and none of them can forget a label. These helpers read and rebuild that data.

modAL and scikit-learn are imported the first time a helper needs them (and
modAL is then patched, see :mod:`alwidgets._compat`): a dashboard page that
follows a campaign service fits nothing and imports neither, though
:func:`take_rows` and :func:`blas_threads` serve it too.
"""

from __future__ import annotations

import contextlib
import copy
import sys
import threading

import numpy as np

from alwidgets._validation import InvalidParameterError, check_int

__all__ = ["make_committee", "BootstrapClassifier", "BootstrapRegressor"]

BootstrapClassifier: type  # scikit-learn estimators, defined on first use (module __getattr__, below)
BootstrapRegressor: type


_MODAL: tuple = ()  # modAL's learner classes, once imported


def _modal() -> tuple:
    """``(ActiveLearner, Committee, CommitteeRegressor, BaseCommittee, BaseLearner)``: imported (and patched) on first use."""
    global _MODAL
    if not _MODAL:
        from modAL.models import ActiveLearner, Committee, CommitteeRegressor
        from modAL.models.base import BaseCommittee, BaseLearner

        from alwidgets import _compat

        _compat.apply()  # done by the import hook already, unless modAL was imported before alwidgets
        _MODAL = (ActiveLearner, Committee, CommitteeRegressor, BaseCommittee, BaseLearner)
    return _MODAL


def _is_committee(learner) -> bool:
    if "modAL" not in sys.modules:  # nothing can be a modAL committee before modAL is imported
        return False
    return isinstance(learner, _modal()[3])


class _BlasLimit:
    """A process-wide BLAS thread limit shared by every context that asks for one.

    BLAS thread counts are process-wide, so two contexts that each set a limit
    and restore "what was there before" (the race's step and a pick, two
    Labelers' workers) unwind out of order and can leave the process at one
    thread for good. Here the first context in sets the limit, the last one
    out restores the original, and the ones in between only count.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._depth = 0
        self._limiter = None
        self._controller = None  # a threadpoolctl.ThreadpoolController, made on first use

    def enter(self, n_threads: int) -> None:
        with self._lock:
            if self._depth == 0:
                if self._controller is None:
                    from threadpoolctl import ThreadpoolController

                    self._controller = ThreadpoolController()
                self._limiter = self._controller.limit(limits=n_threads, user_api="blas")
            self._depth += 1

    def exit(self) -> None:
        with self._lock:
            self._depth -= 1
            if self._depth == 0 and self._limiter is not None:
                self._limiter.restore_original_limits()
                self._limiter = None

    @property
    def depth(self) -> int:
        """How many contexts hold the limit right now."""
        return self._depth


_BLAS_LIMIT = _BlasLimit()


@contextlib.contextmanager
def blas_threads(n_threads: int | None):
    """A context that limits BLAS to ``n_threads`` threads (None: leave it alone).

    Active learning fits small models over and over. A multi-threaded BLAS
    spin-waits between such tiny calls: on a 2-core machine the engine's test
    file ran in 29 s with OpenBLAS's default threads and in 6 s with one.
    Contexts may overlap, on any threads: see :class:`_BlasLimit`.
    """
    if n_threads is None:
        yield
        return
    _BLAS_LIMIT.enter(n_threads)
    try:
        yield
    finally:
        _BLAS_LIMIT.exit()


def take_rows(X, idx):
    """Rows ``idx`` of an array, DataFrame, sparse matrix or list, by position."""
    if hasattr(X, "iloc"):
        return X.iloc[idx]
    if isinstance(X, list):
        return [X[i] for i in np.atleast_1d(idx)]
    return X[idx]


def wrap(model, *, random_state=None):
    """Return a modAL learner for ``model``: an estimator is wrapped in ``ActiveLearner``."""
    ActiveLearner, _, _, BaseCommittee, BaseLearner = _modal()
    if isinstance(model, (BaseLearner, BaseCommittee)):
        return model
    if not hasattr(model, "fit") or not hasattr(model, "predict"):
        raise InvalidParameterError(
            "model must be a scikit-learn estimator (with fit and predict) or a modAL "
            f"learner or committee; got {type(model).__name__}"
        )
    return ActiveLearner(estimator=model)


def members(learner) -> list:
    """The ActiveLearners that hold training data: the learner itself, or a committee's members."""
    if _is_committee(learner):
        return list(learner.learner_list)
    return [learner]


def is_committee(learner) -> bool:
    return _is_committee(learner)


def learner_is_classifier(learner) -> bool:
    from sklearn.base import is_classifier

    _, Committee, CommitteeRegressor, _, _ = _modal()
    if isinstance(learner, Committee):
        return True
    if isinstance(learner, CommitteeRegressor):
        return False
    return is_classifier(learner.estimator)


def learner_is_regressor(learner) -> bool:
    from sklearn.base import is_regressor

    _, Committee, CommitteeRegressor, _, _ = _modal()
    if isinstance(learner, CommitteeRegressor):
        return True
    if isinstance(learner, Committee):
        return False
    return is_regressor(learner.estimator)


def is_multi_label(learner) -> bool:
    """Whether a classifier learner was taught multi-label data: an indicator matrix of several columns."""
    y = members(learner)[0].y_training
    return y is not None and np.ndim(y) == 2 and np.shape(y)[1] > 1 and learner_is_classifier(learner)


def training_data(learner):
    """``(X, y)`` the learner currently knows, or ``(None, None)``."""
    first = members(learner)[0]
    return first.X_training, first.y_training


def is_fitted(learner) -> bool:
    return all(m.X_training is not None and _estimator_fitted(m.estimator) for m in members(learner))


def _estimator_fitted(estimator) -> bool:
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(estimator)
    except NotFittedError:
        return False
    except TypeError:  # not a scikit-learn estimator: trust that it was fitted
        return True
    return True


def fresh(learner, X, y, fit: bool = True, start=None):
    """A new learner of the same kind as ``learner`` that knows exactly ``(X, y)``; ``learner`` is untouched.

    Each estimator is a fresh ``sklearn.base.clone``, fitted on ``(X, y)`` when
    ``fit`` (and ``X`` is not None). The model a plot or a click may be reading
    is never refitted in place: a refit makes a new one, which is then swapped in.
    ``start(estimator)``, if given, is called on every fresh clone before it is
    fitted (a warm start gives it its initial coefficients there).
    """
    from sklearn.base import clone

    _, Committee, _, BaseCommittee, _ = _modal()
    if isinstance(learner, BaseCommittee):
        new = copy.copy(learner)
        new.learner_list = [fresh(member, X, y, fit, start) for member in learner.learner_list]
        if isinstance(new, Committee):
            new._set_classes()
        return new
    new = copy.copy(learner)
    new.estimator = clone(learner.estimator)
    if start is not None:
        start(new.estimator)
    new.X_training, new.y_training = X, y
    if fit and X is not None:
        new._fit_to_known()
        if hasattr(new, "_set_max"):  # a BayesianOptimizer keeps the best point it has seen
            new.X_max, new.y_max = None, -np.inf
            new._set_max(X, y)
    return new


def partially_fitted(learner, X_new, y_new, X_all, y_all, classes=None):
    """A copy of a fitted ``learner`` taught only ``(X_new, y_new)`` with ``partial_fit``; ``learner`` is untouched.

    The copy knows ``(X_all, y_all)`` as its training data, for plots and for
    strategies that look at what is labeled. ``classes`` is passed to the
    estimator's first ``partial_fit`` (scikit-learn needs every class then).
    """
    new = copy.copy(learner)
    new.estimator = copy.deepcopy(learner.estimator)
    if classes is not None and not _estimator_fitted(new.estimator):
        new.estimator.partial_fit(X_new, y_new, classes=classes)
    else:
        new.estimator.partial_fit(X_new, y_new)
    new.X_training, new.y_training = X_all, y_all
    return new


def supports_partial_fit(learner) -> bool:
    return not _is_committee(learner) and hasattr(learner.estimator, "partial_fit")


def proba_classes(learner):
    """The class labels in the column order of ``predict_proba``."""
    if _is_committee(learner) and isinstance(learner, _modal()[1]):
        return learner.classes_
    return getattr(learner.estimator, "classes_", None)


_BOOTSTRAP: dict[str, type] = {}  # the classes below, by name, once defined
_BOOTSTRAP_LOCK = threading.Lock()


def _bootstrap(name: str) -> type:
    """A bagged committee member class (a scikit-learn estimator), defined in this module on first use."""
    with _BOOTSTRAP_LOCK:
        if not _BOOTSTRAP:
            _define_bootstrap()
        return _BOOTSTRAP[name]


def _define_bootstrap() -> None:
    """Define ``_Bootstrap``, ``BootstrapClassifier`` and ``BootstrapRegressor`` (scikit-learn imported here)."""
    from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, RegressorMixin, clone
    from sklearn.utils import check_random_state

    class _Bootstrap(MetaEstimatorMixin, BaseEstimator):
        """Fit a clone of ``estimator`` on a bootstrap sample drawn from ``random_state``.

        Committee members that see the same data and are deterministic always agree,
        so a committee built from one estimator needs bagging to disagree. modAL's
        own ``bootstrap=True`` draws from the global ``np.random``, which breaks
        reproducibility; this draws from the member's own seed.
        """
        __qualname__ = "_Bootstrap"  # pickles find it in this module

        def __init__(self, estimator, random_state=None):
            self.estimator = estimator
            self.random_state = random_state

        def _sample(self, y, rng):
            return rng.randint(0, len(y), size=len(y))

        def fit(self, X, y, **fit_params):
            rng = check_random_state(self.random_state)
            y_arr = np.asarray(y)
            idx = self._sample(y_arr, rng)
            self.estimator_ = clone(self.estimator).fit(take_rows(X, idx), y_arr[idx], **fit_params)
            return self

        def predict(self, X):
            return self.estimator_.predict(X)

    class BootstrapClassifier(ClassifierMixin, _Bootstrap):
        """A classifier fitted on a bootstrap sample that always holds every class at least once."""
        __qualname__ = "BootstrapClassifier"  # pickles find it in this module

        def _sample(self, y, rng):
            idx = super()._sample(y, rng)
            # One of each class first, so every member knows every class.
            firsts = np.array([np.flatnonzero(y == c)[0] for c in np.unique(y)])
            idx[: len(firsts)] = firsts
            return idx

        def fit(self, X, y, **fit_params):
            super().fit(X, y, **fit_params)
            self.classes_ = self.estimator_.classes_
            return self

        def predict_proba(self, X):
            return self.estimator_.predict_proba(X)

    class BootstrapRegressor(RegressorMixin, _Bootstrap):
        """A regressor fitted on a bootstrap sample."""
        __qualname__ = "BootstrapRegressor"  # pickles find it in this module

    _BOOTSTRAP.update(_Bootstrap=_Bootstrap, BootstrapClassifier=BootstrapClassifier,
                      BootstrapRegressor=BootstrapRegressor)


def __getattr__(name: str):
    """``BootstrapClassifier``, ``BootstrapRegressor`` and ``_Bootstrap``, defined when first asked for (PEP 562)."""
    if name in ("_Bootstrap", "BootstrapClassifier", "BootstrapRegressor"):
        return _bootstrap(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def make_committee(estimator, n_members: int = 5, random_state=None):
    """Build a modAL ``Committee`` (classifier) or ``CommitteeRegressor`` of bagged clones.

    Parameters
    ----------
    estimator : scikit-learn estimator
        The model every member clones.
    n_members : int, default=5
        How many members vote.
    random_state : int, RandomState or None
        Seeds each member's bootstrap, so that a committee is reproducible.
    """
    n_members = check_int(n_members, "n_members", minimum=2)  # fewer members cannot disagree
    if not hasattr(estimator, "fit") or not hasattr(estimator, "get_params"):
        raise InvalidParameterError(f"estimator must be a scikit-learn classifier or regressor; "
                                    f"got {type(estimator).__name__}")
    from sklearn.base import clone, is_classifier, is_regressor
    from sklearn.utils import check_random_state

    ActiveLearner, Committee, CommitteeRegressor, _, _ = _modal()
    BootstrapClassifier, BootstrapRegressor = _bootstrap("BootstrapClassifier"), _bootstrap("BootstrapRegressor")
    rng = check_random_state(random_state)
    seeds = rng.randint(0, 2**31 - 1, size=n_members)
    if is_classifier(estimator):
        learners = [ActiveLearner(estimator=BootstrapClassifier(clone(estimator), int(s))) for s in seeds]
        return Committee(learner_list=learners)
    if is_regressor(estimator):
        learners = [ActiveLearner(estimator=BootstrapRegressor(clone(estimator), int(s))) for s in seeds]
        return CommitteeRegressor(learner_list=learners)
    raise InvalidParameterError(f"estimator must be a scikit-learn classifier or regressor; got {type(estimator).__name__}")
