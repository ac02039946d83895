"""Where pool items sit in a 2-D picture, computed once per pool so live redraws do not jump.

:func:`make_projection` is the identity for 2-D data and PCA otherwise. The
plots keep, per session, the pool as floats and its projected coordinates, so
a redraw after each label costs no new projection.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from alwidgets._validation import InvalidParameterError

__all__ = ["Projection", "make_projection", "nearest_item"]


def numeric_rows(X, name: str = "X_pool") -> np.ndarray:
    """Rows of ``X`` as a float array of shape (n, n_features); images are flattened."""
    if hasattr(X, "toarray") and not hasattr(X, "iloc"):
        X = X.toarray()
    try:
        array = np.asarray(X, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must hold numbers to be plotted (texts and other objects have no place on axes); "
            "plot a numeric representation of them instead"
        ) from None
    if array.ndim == 1:
        array = array.reshape(-1, 1)
    return array.reshape(array.shape[0], -1)


class Projection:
    """Maps rows of a pool to 2-D plot coordinates; fitted once, so redraws do not jump.

    Made by :func:`make_projection`: the identity for 2-D data, otherwise the
    first two principal components of the pool. Share one between the plots of
    a pool (e.g. the panels of a strategy comparison) so that they line up.

    Attributes
    ----------
    kind : {"identity", "pca"}
    n_features : int
        How many features the rows it transforms must have.
    axis_labels : tuple of str
        What the two plot axes show.
    """

    def __init__(self, kind: str, n_features: int, *, mean=None, components=None, explained_variance_ratio=None,
                 axis_labels: tuple[str, str] = ("x₀", "x₁")):
        self.kind = kind
        self.n_features = int(n_features)
        self.mean = mean
        self.components = components
        self.explained_variance_ratio = explained_variance_ratio
        self.axis_labels = axis_labels

    def transform(self, X) -> np.ndarray:
        """2-D coordinates of the rows of ``X``, shape (n, 2)."""
        array = numeric_rows(X, "X")
        if array.shape[1] != self.n_features:
            raise ValueError(
                f"X has {array.shape[1]} features but this projection was made for {self.n_features}; "
                "make a projection of this data with make_projection"
            )
        if self.kind == "identity":
            return array.copy()
        return (array - self.mean) @ self.components.T

    def __repr__(self) -> str:
        return f"Projection({self.kind!r}, n_features={self.n_features}, axes={self.axis_labels})"


def make_projection(X_pool, *, max_rows: int = 10_000, random_state=0) -> Projection:
    """A 2-D projection of the pool: itself if it has 2 features, else PCA fitted once on it.

    PCA is fitted on at most ``max_rows`` rows (a fixed random subset, drawn
    with ``random_state``), so a 100k pool costs no more than a 10k one, and
    the same pool always gives the same projection.
    """
    X = numeric_rows(X_pool)
    n_rows, n_features = X.shape
    if n_features < 2:
        raise ValueError("X_pool has 1 feature: a 2-D picture needs at least 2. For 1-D regression use plot_regression")
    columns = getattr(X_pool, "columns", None)
    if n_features == 2:
        labels = (str(columns[0]), str(columns[1])) if columns is not None else ("x₀", "x₁")
        return Projection("identity", 2, axis_labels=labels)
    if n_rows < 2:
        raise ValueError("X_pool needs at least 2 rows to fit a projection")
    from sklearn.decomposition import PCA
    from sklearn.utils import check_random_state

    fit_rows = X
    if n_rows > max_rows:
        chosen = check_random_state(random_state).choice(n_rows, max_rows, replace=False)
        fit_rows = X[np.sort(chosen)]
    pca = PCA(n_components=2, svd_solver="full").fit(fit_rows)
    ratio = pca.explained_variance_ratio_
    labels = (f"PC1 ({ratio[0]:.0%} of variance)", f"PC2 ({ratio[1]:.0%} of variance)")
    return Projection("pca", n_features, mean=pca.mean_.copy(), components=pca.components_.copy(),
                      explained_variance_ratio=ratio.copy(), axis_labels=labels)


@dataclass(eq=False)
class PoolView:
    """What the plots of one session keep between redraws."""

    source: object  # the session's X_pool this was computed from
    X: np.ndarray  # the pool as floats
    projection: Projection | None = None  # the default projection, made on first use
    projected: tuple | None = None  # (projection, 2-D coordinates of every pool row)
    fill: tuple | None = None  # (projection, displayed rows, cKDTree, blank radius) for >2-D fills


_VIEWS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def pool_view(session) -> PoolView:
    """The cached view of a session's pool (recomputed if the session's pool object changed)."""
    view = _VIEWS.get(session)
    if view is None or view.source is not session.X_pool:
        view = PoolView(session.X_pool, numeric_rows(session.X_pool))
        _VIEWS[session] = view
    return view


def pool_xy(session, projection: Projection | None = None) -> tuple[Projection, np.ndarray, PoolView]:
    """The projection to draw with and the 2-D coordinates of every pool row, both cached per session.

    Without a ``projection`` the session's own is made once, on first use.
    """
    view = pool_view(session)
    if projection is None:
        if view.projection is None:
            view.projection = make_projection(session.X_pool)
        projection = view.projection
    elif not isinstance(projection, Projection):
        raise InvalidParameterError(
            f"projection must come from alwidgets.plots.make_projection; got {type(projection).__name__}")
    if view.projected is None or view.projected[0] is not projection:
        view.projected = (projection, projection.transform(view.X))
    return projection, view.projected[1], view


def nearest_item(session, xy, *, projection: Projection | None = None, unlabeled_only: bool = True) -> int | None:
    """The pool index drawn closest to the point ``xy`` of a decision-boundary plot, e.g. where a person clicked.

    Returns None when no item qualifies (every item labeled or skipped).
    """
    point = np.asarray(xy, dtype=float).ravel()
    if point.shape != (2,):
        raise InvalidParameterError(f"xy must be one 2-D point (x, y) in plot coordinates; got {xy!r}")
    _, P, _ = pool_xy(session, projection)
    candidates = session.unlabeled if unlabeled_only else np.arange(len(P))
    if len(candidates) == 0:
        return None
    distances = np.sum((P[candidates] - point) ** 2, axis=1)
    return int(candidates[int(np.argmin(distances))])
