"""The pool a session labels: checking what a user passes, and naming items stably.

Every entry point (a :class:`~alwidgets.Session`, a campaign config, a stream)
checks its pool, held-out set and item ids here, so a bad input gives the same
clear error wherever it comes in, before anything is stored. pandas is imported
only to read a DataFrame or hash rows: a pool of arrays needs none.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import numpy as np

from alwidgets._validation import InvalidParameterError, check_bool, n_rows, to_plain

__all__ = ["check_pool", "check_test", "check_item_ids", "content_ids", "as_oracle", "check_annotator",
           "check_seconds", "check_multi_label", "known_classes", "one_per_row"]


def check_seconds(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidParameterError(f"{name} must be a number of seconds; got {value!r}")
    if not np.isfinite(value) or value <= 0:
        raise InvalidParameterError(f"{name} must be a positive number of seconds; got {value!r}")
    return float(value)


def check_annotator(annotator) -> str:
    name = str(annotator).strip() if annotator is not None else ""
    if not name:
        raise InvalidParameterError(f"annotator must be a non-empty name; got {annotator!r}")
    return name


def _is_text(X) -> bool:
    return len(X) > 0 and all(isinstance(x, str) for x in X[:100])


def _pandas_type(X, name: str) -> bool:
    """Whether ``X`` is a ``pandas.<name>`` (pandas not imported: nothing is one)."""
    pd = sys.modules.get("pandas")
    return pd is not None and isinstance(X, getattr(pd, name))


def check_pool(X_pool, check_values: bool = True):
    """Return the pool as an ndarray or DataFrame; raise a clear error for unusable pools.

    ``check_values=False`` leaves out the scan for NaN and infinite values, which
    reads every number of the pool: a page that follows a campaign service
    never reads the pool's features (the service, which fits, checks them).
    """
    if X_pool is None:
        raise ValueError("X_pool is required: an array of shape (n_items, n_features), a DataFrame or a list of texts")
    if _pandas_type(X_pool, "DataFrame"):
        if len(X_pool) == 0:
            raise ValueError("X_pool is empty: there is nothing to label")
        missing = X_pool.isna().to_numpy().any(axis=1)
        if missing.any():
            raise ValueError(
                f"X_pool has missing values in {missing.sum()} rows (first: position {np.flatnonzero(missing)[0]}); "
                "fill them (e.g. with sklearn.impute.SimpleImputer) or drop those rows"
            )
        return X_pool.reset_index(drop=True)
    if _pandas_type(X_pool, "Series") or (isinstance(X_pool, (list, tuple)) and X_pool and isinstance(X_pool[0], str)):
        X_pool = np.asarray(list(X_pool), dtype=object)
    if hasattr(X_pool, "toarray"):  # sparse matrices are used as they are
        if X_pool.shape[0] == 0:
            raise ValueError("X_pool is empty: there is nothing to label")
        return X_pool.tocsr()
    X = np.asarray(X_pool)
    if X.size == 0:
        raise ValueError("X_pool is empty: there is nothing to label")
    if X.ndim == 1:
        if _is_text(X):
            return X.astype(object)
        raise ValueError(
            f"X_pool must be 2-D (n_items, n_features); got a 1-D array of {X.shape[0]} values. "
            "For a single feature use X.reshape(-1, 1); for texts pass a list of strings"
        )
    if check_values and X.dtype.kind in "fc":
        bad = ~np.isfinite(X.reshape(X.shape[0], -1)).all(axis=1)
        if bad.any():
            raise ValueError(
                f"X_pool has NaN or infinite values in {bad.sum()} rows (first: row {np.flatnonzero(bad)[0]}); "
                "fill them (e.g. with sklearn.impute.SimpleImputer) or drop those rows"
            )
    return X


def check_test(X_test, y_test):
    if (X_test is None) != (y_test is None):
        raise ValueError("X_test and y_test go together: give both for a held-out score, or neither")
    if X_test is None:
        return None, None
    if n_rows(X_test) != len(y_test):
        raise ValueError(f"X_test has {n_rows(X_test)} rows but y_test has {len(y_test)} labels")
    if isinstance(X_test, (list, tuple)) and X_test and isinstance(X_test[0], str):
        X_test = np.asarray(X_test, dtype=object)
    return X_test, np.asarray(y_test)


def check_item_ids(item_ids, X_pool, n_pool) -> list[str]:
    if item_ids is not None:
        ids = [str(i) for i in item_ids]
        if len(ids) != n_pool:
            raise ValueError(f"item_ids has {len(ids)} ids but X_pool has {n_pool} items")
        if len(set(ids)) != len(ids):
            raise ValueError("item_ids must be unique: each names one item")
        return ids
    return content_ids(X_pool)


def content_ids(X) -> list[str]:
    """A stable id per row from its content; repeated rows get ``#2``, ``#3``... suffixes."""
    import pandas as pd

    if isinstance(X, pd.DataFrame):
        frame = X
    elif hasattr(X, "toarray"):
        frame = pd.DataFrame(X.toarray())
    else:
        arr = np.asarray(X)
        frame = pd.DataFrame(arr.reshape(arr.shape[0], -1) if arr.ndim > 1 else arr)
    hashes = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    seen: dict[int, int] = {}
    ids = []
    for h in hashes:
        k = seen.get(h, 0) + 1
        seen[h] = k
        ids.append(f"{h:016x}" if k == 1 else f"{h:016x}#{k}")
    return ids


def as_oracle(oracle, n_pool: int) -> Callable:
    """A callable ``oracle(index) -> label`` from a callable or an array of true labels."""
    if callable(oracle):
        return oracle
    y = np.asarray(oracle)
    if y.ndim == 0 or len(y) != n_pool:
        raise InvalidParameterError(f"oracle must be a callable or an array of {n_pool} true labels, one per pool item")
    return lambda i: y[i]


def check_multi_label(multi_label, classes, is_classifier: bool) -> bool:
    """Whether items take sets of classes; an error unless a classifier is given at least two classes."""
    if not check_bool(multi_label, "multi_label"):
        return False
    if not is_classifier:
        raise ValueError("multi_label=True is for classifiers; this model is a regressor")
    if classes is None or len(classes) < 2:
        raise ValueError("multi_label=True needs the classes an item may take, at least two: pass "
                         "classes=[...], e.g. classes=['Positiv', 'Negativ', 'Strong']")
    return True


def known_classes(classes, is_classifier: bool, y_test, base_y):
    """The classes given, else those of ``y_test`` or of the learner's own training data; None for a regressor."""
    if not is_classifier:
        return None
    for source in (classes, y_test, base_y):
        if source is not None:
            values = source if source is classes else np.unique(np.asarray(source))
            return [to_plain(c) for c in values]
    return None


def one_per_row(values) -> np.ndarray:
    """A 1-D object array holding each of ``values`` as it is (numpy would split equal-sized lists into columns)."""
    values = list(values)
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        out[i] = value
    return out
