"""Review and relabel: which given labels does the model disagree with?

A wrong label is hard to find by looking through hundreds of right ones. The
model can point at the suspects: fit it on the other labels and ask how likely
it finds each given label. An item whose label gets a low probability from a
model that never saw that item is either hard or mislabeled, and is worth a
second look. This is the idea behind confident learning (Northcutt, Jiang and
Chuang, "Confident Learning: Estimating Uncertainty in Dataset Labels", JAIR
2021, https://arxiv.org/abs/1911.00068); alwidgets uses its simplest form, the
ranking by out-of-fold probability of the given label.

:func:`rank_disagreement` takes the labeled data as plain arguments
``(X, y, estimator)``: it runs scikit-learn's ``cross_val_predict`` with
``method="predict_proba"`` on a clone of ``estimator`` (the estimator passed in
is never fitted or changed) and returns a table, lowest probability first.
:func:`rank_labels_table` does the same from a table of labels
(``index``, ``label``, ``annotator``) and the pool's rows.

Example::

    import alwidgets as alw
    from alwidgets.engine.review import filter_ranking, rank_disagreement
    from sklearn.linear_model import LogisticRegression

    digits = alw.datasets.load_digits()
    X, y = digits.X[:300], digits.y[:300].copy()
    y[[5, 17, 42]] = (y[[5, 17, 42]] + 1) % 10          # three wrong labels
    table = rank_disagreement(X, y, LogisticRegression(max_iter=1000), random_state=0)
    print(table.head(3))        # the three wrong labels come first: items 42, 5 and 17
    filter_ranking(table, label=3)                      # only the items labeled 3, same order

Columns of the result:

- ``index``: the item (position in ``X``, or the ``index`` given);
- ``label``: the label given; ``annotator``: who gave it (None if not given);
- ``p_label``: the out-of-fold probability of ``label`` (lowest first);
- ``predicted``, ``p_predicted``: the out-of-fold most likely class and its probability;
- ``disagrees``: whether ``predicted`` differs from ``label``;
- ``checked``: False for rows that could not be checked (NaN probabilities,
  listed last): their class has fewer than two labeled items, so no model
  trained without the item knows the class; or fewer than two classes have
  two items each, so no model can be fitted at all.

Measured by ``benchmarks/review.py`` (results in
``benchmarks/results/review.md``): on digits, with a simulated oracle that
answers 10% of the pool wrongly, the first 20 items of the ranking of 200
labels collected by margin sampling were wrong labels in 74% of cases on
average (precision 0.74 over 10 seeds; 0.82 for 200 labels collected at
random), against 0.10 for a random list.

Folds: ``cv`` (default 5) stratified folds, fewer when the smallest checkable
class has fewer items than that (down to 2). Rows that share an ``index`` (the
same item labeled by several annotators) stay in the same fold, so no model
sees the item it is asked about. Rows of unchecked classes are left out of
the fits.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.base import clone, is_regressor
from sklearn.model_selection import StratifiedGroupKFold, cross_val_predict

from alwidgets import _learners
from alwidgets._learners import members, take_rows
from alwidgets._validation import InvalidParameterError, check_int, n_rows, to_plain

__all__ = ["rank_disagreement", "rank_labels_table", "rank_votes", "filter_ranking", "COLUMNS"]

COLUMNS = ["index", "label", "annotator", "p_label", "predicted", "p_predicted", "disagrees", "checked"]


def rank_disagreement(X, y, estimator, *, index=None, annotators=None, label=None, annotator=None,
                      disagree_only: bool = False, cv: int = 5, random_state=None,
                      blas_threads: int | None = 1) -> pd.DataFrame:
    """Rank labeled items by the out-of-fold probability of their given label, lowest first.

    Parameters
    ----------
    X : array-like, DataFrame, sparse matrix or list of str
        The labeled items, one row each.
    y : array-like of shape (n_rows,)
        The label given to each row.
    estimator : scikit-learn classifier with ``predict_proba``, or a modAL learner
        The model to check the labels with; it is cloned, never fitted. A
        modAL ``ActiveLearner`` or ``Committee`` stands for its (first member's)
        estimator; a committee from :func:`alwidgets.make_committee` for the
        estimator its members bag.
    index : array-like of shape (n_rows,), optional
        The item of each row (e.g. its pool position); default ``0..n_rows-1``.
        Rows with the same index are one item labeled several times.
    annotators : array-like of shape (n_rows,), optional
        Who gave each label.
    label, annotator : value or list of values, optional
        Keep only rows with these labels / by these annotators (applied after
        the ranking is computed on every row).
    disagree_only : bool, default=False
        Keep only rows whose out-of-fold prediction differs from the label.
    cv : int, default=5
        The most folds to use (at least 2).
    random_state : int, RandomState or None
        Seeds the shuffling of the folds.
    blas_threads : int or None, default=1
        BLAS threads during the fits, as in :class:`alwidgets.Session`: the
        fits are small, and several BLAS threads spend longer waking up than
        computing (6x slower measured on a busy 2-core machine); None leaves
        BLAS alone.

    Returns
    -------
    DataFrame with the columns in :data:`COLUMNS` (see the module docstring).
    """
    cv = check_int(cv, "cv", minimum=2)
    blas_threads = None if blas_threads is None else check_int(blas_threads, "blas_threads")
    model = _plain_estimator(estimator)
    y = np.asarray(y, dtype=object if np.asarray(y).dtype.kind == "O" else None)
    if y.ndim != 1:
        raise ValueError(f"y must be one label per row (1-D); got shape {y.shape}")
    n = n_rows(X)
    if len(y) != n:
        raise ValueError(f"X has {n} rows but y has {len(y)} labels")
    index = np.arange(n) if index is None else _per_row(index, n, "index")
    annotators = np.full(n, None, dtype=object) if annotators is None else _per_row(annotators, n, "annotators")

    p_label = np.full(n, np.nan)
    p_predicted = np.full(n, np.nan)
    predicted = np.full(n, None, dtype=object)
    checked = _checkable(y, index)
    if checked.any():
        rows = np.flatnonzero(checked)
        y_checked, groups = y[rows], index[rows]
        classes = np.unique(y_checked)  # cross_val_predict's column order (it label-encodes y)
        splits = min(cv, min(len(np.unique(groups[y_checked == c])) for c in classes))
        folds = StratifiedGroupKFold(n_splits=splits, shuffle=True, random_state=_seed(random_state))
        with warnings.catch_warnings(), _learners.blas_threads(blas_threads):
            # a class may be missing from a training fold when items repeat across annotators: its column is 0
            warnings.filterwarnings("ignore", message=".*[Nn]umber of classes in training fold.*")
            warnings.filterwarnings("ignore", message=".*least populated class.*")
            proba = cross_val_predict(clone(model), take_rows(X, rows), y_checked, groups=groups, cv=folds,
                                      method="predict_proba")
        proba = np.asarray(proba, dtype=float)
        p_label[rows] = proba[np.arange(len(rows)), np.searchsorted(classes, y_checked)]
        best = proba.argmax(axis=1)
        p_predicted[rows] = proba[np.arange(len(rows)), best]
        predicted[rows] = [to_plain(c) for c in classes[best]]

    table = pd.DataFrame({
        "index": index,
        "label": pd.Series([to_plain(v) for v in y], dtype=object),
        "annotator": pd.Series(list(annotators), dtype=object),
        "p_label": p_label,
        "predicted": pd.Series(list(predicted), dtype=object),
        "p_predicted": p_predicted,
        "disagrees": checked & (predicted != y),
        "checked": checked,
    }, columns=COLUMNS)
    table = table.sort_values(["checked", "p_label", "p_predicted", "index"], ascending=[False, True, False, True],
                              kind="stable", na_position="last").reset_index(drop=True)
    return filter_ranking(table, label=label, annotator=annotator, disagree_only=disagree_only)


def rank_labels_table(labels, X_pool, estimator, *, label=None, annotator=None, disagree_only: bool = False,
                      cv: int = 5, random_state=None, blas_threads: int | None = 1) -> pd.DataFrame:
    """:func:`rank_disagreement` for a table of labels over a pool.

    ``labels`` is a DataFrame (or anything ``pandas.DataFrame`` accepts) with
    the columns ``index`` (the item's position in ``X_pool``), ``label`` and,
    optionally, ``annotator``: one row per label given, so an item labeled by
    three annotators has three rows. The other arguments are those of
    :func:`rank_disagreement`.
    """
    labels = pd.DataFrame(labels)
    missing = {"index", "label"} - set(labels.columns)
    if missing:
        raise ValueError(f"labels needs the columns 'index' and 'label' (and optionally 'annotator'); "
                         f"missing {sorted(missing)}, got {list(labels.columns)}")
    positions = labels["index"].to_numpy()
    if len(positions) and not np.issubdtype(positions.dtype, np.integer):
        raise TypeError(f"labels['index'] must hold pool positions (integers); got dtype {positions.dtype}")
    n_pool = n_rows(X_pool)
    outside = positions[(positions < 0) | (positions >= n_pool)]
    if len(outside):
        raise ValueError(f"labels['index'] refers to row(s) {sorted(set(outside.tolist()))[:5]} outside X_pool "
                         f"({n_pool} rows)")
    annotators = labels["annotator"].to_numpy(dtype=object) if "annotator" in labels else None
    return rank_disagreement(take_rows(X_pool, positions), labels["label"].to_numpy(), estimator, index=positions,
                             annotators=annotators, label=label, annotator=annotator, disagree_only=disagree_only,
                             cv=cv, random_state=random_state, blas_threads=blas_threads)


def rank_votes(votes: dict, X_pool, estimator, **options) -> pd.DataFrame:
    """:func:`rank_labels_table` of ``{pool index: {annotator: label}}``: one row per vote, in index order."""
    rows = [{"index": i, "label": y, "annotator": who} for i, item_votes in sorted(votes.items())
            for who, y in sorted(item_votes.items())]
    return rank_labels_table(pd.DataFrame(rows, columns=["index", "label", "annotator"]), X_pool, estimator, **options)


def filter_ranking(table: pd.DataFrame, *, label=None, annotator=None, disagree_only: bool = False) -> pd.DataFrame:
    """Rows of a ranking with the given label(s), by the given annotator(s), or where the model disagrees.

    The order (lowest ``p_label`` first) is kept; the index is renumbered.
    """
    keep = np.ones(len(table), dtype=bool)
    if label is not None:
        keep &= table["label"].isin(_as_list(label)).to_numpy()
    if annotator is not None:
        keep &= table["annotator"].isin(_as_list(annotator)).to_numpy()
    if disagree_only:
        keep &= table["disagrees"].to_numpy(dtype=bool)
    return table[keep].reset_index(drop=True)


# ---------------------------------------------------------------------- helpers


def _plain_estimator(estimator):
    """The scikit-learn classifier to clone: a modAL learner stands for its (first member's) estimator."""
    if hasattr(estimator, "learner_list") or hasattr(estimator, "query_strategy"):
        estimator = members(estimator)[0].estimator
    if isinstance(estimator, _learners._Bootstrap):  # a member of alw.make_committee: check with the plain model
        estimator = estimator.estimator
    if not hasattr(estimator, "fit") or not hasattr(estimator, "get_params"):
        raise InvalidParameterError(f"estimator must be a scikit-learn classifier (or a modAL learner); "
                        f"got {type(estimator).__name__}")
    if is_regressor(estimator):
        raise InvalidParameterError(f"estimator is a regressor ({type(estimator).__name__}): reviewing ranks "
                                    "class labels "
                        "by their predicted probability, which needs a classifier")
    if not hasattr(estimator, "predict_proba"):
        raise InvalidParameterError(f"estimator {type(estimator).__name__} has no predict_proba: the review "
                                    "ranks labels by "
                        "their out-of-fold probability (e.g. SVC(probability=True), LogisticRegression)")
    return estimator


def _checkable(y: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Rows whose class has at least two distinct items, if at least two such classes exist."""
    keys = np.array([repr(v) for v in y])  # one key per label, whatever its type
    items_per_class = {k: len(set(index[keys == k].tolist())) for k in set(keys.tolist())}
    ok = np.array([items_per_class[k] >= 2 for k in keys], dtype=bool)
    if len({k for k, count in items_per_class.items() if count >= 2}) < 2:
        return np.zeros(len(y), dtype=bool)
    return ok


def _per_row(values, n: int, name: str) -> np.ndarray:
    values = np.asarray(values, dtype=object if not hasattr(values, "dtype") else None)
    if values.ndim != 1 or len(values) != n:
        raise ValueError(f"{name} must hold one value per row of X ({n}); got shape {values.shape}")
    return values


def _as_list(value) -> list:
    if isinstance(value, (list, tuple, set, np.ndarray, pd.Series)):
        return list(value)
    return [value]


def _seed(random_state):
    """An int seed for the fold splitter (which also takes a RandomState, but then changes it)."""
    if random_state is None or isinstance(random_state, (int, np.integer)):
        return random_state
    return int(random_state.randint(2**31 - 1))
