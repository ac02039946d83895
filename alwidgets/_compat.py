"""Make modAL-python 0.4.2.1 work on today's numpy, scikit-learn and pandas.

modAL's last release breaks in three places on the current stack:

1. ``modAL.expected_error`` annotates an argument with ``np.float``, removed in
   numpy 1.24, so importing the module raises ``AttributeError``.
2. ``ActiveLearner`` passes ``force_all_finite`` to ``sklearn.utils.check_X_y``;
   scikit-learn 1.8 removed that name in favour of ``ensure_all_finite``, so every
   ``teach()`` raises ``TypeError``.
3. ``modAL.utils.data.data_vstack`` stacks DataFrames with ``DataFrame.append``,
   removed in pandas 2, so ``teach()`` with DataFrames raises ``AttributeError``.
   The replacement accepts every type the original did (arrays, lists of
   rows, sparse matrices, DataFrames with Series as rows, torch tensors) and
   also stacks a learner's tensor or DataFrame with the array rows of a pool.

And ``modAL.utils.data`` imports torch whenever it is installed: some 300 MB
of memory in every process (every dashboard kernel) that never sees a tensor.
:mod:`alwidgets._modal_import` runs that module with torch hidden, and
:func:`apply` gives it a stand-in that finds torch once the user has imported
it (a tensor cannot exist before).

It also runs a query strategy twice when the strategy returns bare indices
(``BaseLearner.query`` retries inside a bare ``except:``), and its
``data_hstack`` forgets to return stacked DataFrames.

Two of ``modAL.multilabel``'s functions fail the way modAL itself calls them,
with the learner as first argument (``ActiveLearner(query_strategy=max_loss)``):

4. ``_SVM_loss`` (behind ``max_loss`` and ``mean_max_loss``) reads
   ``classes_`` from what it is given, which a learner lacks
   (``AttributeError``), and counts rows with ``len``, which a sparse matrix
   refuses. The mended one counts classes by the columns the model predicts.
5. ``SVM_binary_minimum`` takes no ``n_instances`` (``learner.query(X,
   n_instances=2)`` raises ``TypeError``), reaches into
   ``estimator.estimators_`` (an error for a ``Pipeline`` ending in a
   one-vs-rest classifier), and with ``random_tie_break=True`` picks the
   *largest* distance to a boundary instead of the smallest. The mended one
   asks the model's own ``decision_function`` and picks the smallest.

:func:`apply` mends each of these once, in place, and is called when
``alwidgets`` is imported. Each patch is idempotent and only touches the names
modAL itself looks up, so user code that uses modAL directly benefits too.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import sys
import types
from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.utils import check_X_y as _sklearn_check_X_y

_APPLIED = False

# Modules that did ``from modAL.utils.data import data_vstack`` keep their own
# reference, so each must be patched by name.
_VSTACK_USERS = (
    "modAL.utils.data",
    "modAL.utils",
    "modAL.models.learners",
    "modAL.batch",
    "modAL.expected_error",
)
_HSTACK_USERS = ("modAL.utils.data", "modAL.models.base")

_CHECK_X_Y_ACCEPTS_FORCE = "force_all_finite" in inspect.signature(_sklearn_check_X_y).parameters


def check_X_y(X, y, *args, **kwargs):
    """``sklearn.utils.check_X_y`` that still accepts modAL's ``force_all_finite``."""
    if "force_all_finite" in kwargs and not _CHECK_X_Y_ACCEPTS_FORCE:
        kwargs["ensure_all_finite"] = kwargs.pop("force_all_finite")
    return _sklearn_check_X_y(X, y, *args, **kwargs)


def _torch_for(value):
    """The ``torch`` module when ``value`` is a torch tensor, else None.

    A tensor can only exist once torch was imported, so this looks torch up
    among the loaded modules instead of importing it: alwidgets never pays
    torch's import time and memory for people who do not use it.
    """
    torch = sys.modules.get("torch")
    if torch is not None and torch.is_tensor(value):
        return torch
    return None


def _frame_rows(block, like: pd.DataFrame) -> pd.DataFrame:
    """``block`` as rows of a DataFrame with ``like``'s columns.

    A Series is one row (modAL's ``add_row`` hands a row of ``iterrows``),
    as ``DataFrame.append`` took it; arrays and lists of rows get ``like``'s
    column names.
    """
    if isinstance(block, pd.DataFrame):
        return block
    if isinstance(block, pd.Series):
        return block.to_frame().T.infer_objects()
    values = np.asarray(block)
    if values.ndim == 1:
        values = values.reshape(1, -1)
    return pd.DataFrame(values, columns=like.columns)


def _tensor_rows(torch, block, like):
    """``block`` as a tensor of ``like``'s dtype and device; a single row gains its row axis."""
    tensor = block if torch.is_tensor(block) else torch.as_tensor(np.asarray(block), dtype=like.dtype)
    tensor = tensor.to(device=like.device)
    if tensor.dim() == like.dim() - 1:
        tensor = tensor.unsqueeze(0)
    return tensor


def _unsupported(function: str, first) -> TypeError:
    return TypeError(
        f"{function} cannot stack {type(first).__name__} data: modAL data must be a numpy array, a list of "
        "rows, a scipy sparse matrix, a pandas DataFrame or a torch tensor"
    )


def data_vstack(blocks: Sequence):
    """Stack rows like modAL's ``data_vstack``, on pandas 2 and with torch tensors.

    The first block decides the result's type, as in modAL: any sparse block
    gives a sparse matrix; a DataFrame gives a DataFrame (a Series, array or
    list among the blocks is taken as rows with its columns); a Series gives
    a Series; an array an array; a list of rows a list of rows; a torch
    tensor a tensor (other blocks converted to its dtype).
    """
    blocks = list(blocks)
    if not blocks:
        raise ValueError("data_vstack needs at least one block to stack")
    if any(sp.issparse(b) for b in blocks):
        return sp.vstack(blocks)
    first = blocks[0]
    if isinstance(first, pd.DataFrame):
        return pd.concat([_frame_rows(b, first) for b in blocks])
    if isinstance(first, pd.Series):
        return pd.concat([b if isinstance(b, pd.Series) else pd.Series(np.ravel(b)) for b in blocks])
    if isinstance(first, np.ndarray):
        return np.concatenate(blocks)
    if isinstance(first, list):
        return np.concatenate(blocks).tolist()
    torch = _torch_for(first)
    if torch is not None:
        return torch.cat([_tensor_rows(torch, b, first) for b in blocks])
    raise _unsupported("data_vstack", first)


def data_hstack(blocks: Sequence):
    """Stack columns like modAL's ``data_hstack``, which also forgot to return DataFrames and to raise."""
    blocks = list(blocks)
    if not blocks:
        raise ValueError("data_hstack needs at least one block to stack")
    if any(sp.issparse(b) for b in blocks):
        return sp.hstack(blocks)
    first = blocks[0]
    if isinstance(first, pd.DataFrame):
        return pd.concat(blocks, axis=1)
    if isinstance(first, np.ndarray):
        return np.hstack(blocks)
    if isinstance(first, list):
        return np.hstack(blocks).tolist()
    torch = _torch_for(first)
    if torch is not None:
        return torch.cat([b if torch.is_tensor(b) else torch.as_tensor(np.asarray(b), dtype=first.dtype) for b in blocks],
                         dim=1)
    raise _unsupported("data_hstack", first)


def _query_once(self, X_pool, *query_args, return_metrics: bool = False, **query_kwargs):
    """``BaseLearner.query`` that calls the strategy exactly once.

    modAL's version tries to unpack ``(indices, metrics)`` and, on any error,
    calls the strategy a second time; a strategy returning bare indices paid
    double.
    """
    from modAL.utils.data import retrieve_rows

    result = self.query_strategy(self, X_pool, *query_args, **query_kwargs)
    if isinstance(result, tuple) and len(result) == 2:
        query_result, query_metrics = result
    else:
        query_result, query_metrics = result, None
    if return_metrics:
        return query_result, retrieve_rows(X_pool, query_result), query_metrics
    return query_result, retrieve_rows(X_pool, query_result)


def _svm_loss(multiclass_classifier, X, most_certain_classes=None) -> np.ndarray:
    """modAL's ``_SVM_loss`` for a learner or an estimator, on arrays, DataFrames or sparse matrices."""
    predictions = 2 * np.asarray(multiclass_classifier.predict(X), dtype=float) - 1
    predictions = predictions.reshape(predictions.shape[0], -1)
    n_rows, n_classes = predictions.shape
    if most_certain_classes is None:
        cls_mtx = 2 * np.eye(n_classes, n_classes) - 1
        return np.maximum(1 - predictions @ cls_mtx, 0).mean(axis=1)
    cls_mtx = -np.ones((n_rows, n_classes))
    cls_mtx[np.arange(n_rows), np.asarray(most_certain_classes, dtype=int)] = 1
    return np.maximum(1 - cls_mtx * predictions, 0).sum(axis=1)


def svm_binary_minimum(classifier, X_pool, n_instances: int = 1, random_tie_break: bool = False):
    """modAL's ``SVM_binary_minimum``: the items one of whose classes lies closest to its boundary.

    Returns ``(indices, distances)`` like modAL's other selectors.
    """
    from modAL.utils.selection import multi_argmin, shuffled_argmin

    decision = np.asarray(classifier.estimator.decision_function(X_pool), dtype=float)
    min_abs_dist = np.abs(decision.reshape(decision.shape[0], -1)).min(axis=1)
    if random_tie_break:
        return shuffled_argmin(min_abs_dist, n_instances)
    return multi_argmin(min_abs_dist, n_instances)


def _import_expected_error():
    """Import ``modAL.expected_error``, whose signature mentions ``np.float``.

    The annotation is evaluated once, when the module is executed; ``np.float``
    exists only for that moment.
    """
    import sys

    if "modAL.expected_error" in sys.modules:
        return sys.modules["modAL.expected_error"]
    had_float = hasattr(np, "float")
    if not had_float:
        np.float = float  # type: ignore[attr-defined]
    try:
        return importlib.import_module("modAL.expected_error")
    finally:
        if not had_float:
            del np.float


class _TorchWhenImported:
    """What ``modAL.utils.data`` calls ``torch``: torch itself once imported by someone, never importing it.

    modAL only asks ``torch.is_tensor(x)`` before it uses torch, and a tensor
    exists only once torch is imported.
    """

    def is_tensor(self, value) -> bool:
        torch = sys.modules.get("torch")
        return torch is not None and torch.is_tensor(value)

    def __getattr__(self, name):
        return getattr(importlib.import_module("torch"), name)


def _import_modal_without_torch() -> None:
    """Import ``modAL.utils.data`` (which :mod:`alwidgets._modal_import` runs with torch hidden) and give it a stand-in."""
    data = importlib.import_module("modAL.utils.data")
    if not isinstance(getattr(data, "torch", None), types.ModuleType):  # torch was hidden, or is not installed
        data.torch = _TorchWhenImported()


def apply() -> None:
    """Patch modAL in place. Safe to call more than once."""
    global _APPLIED
    if _APPLIED:
        return
    _import_modal_without_torch()
    import modAL.batch  # noqa: F401  (imported so that its names can be patched)
    import modAL.models.base as base
    import modAL.models.learners as learners

    _import_expected_error()
    for name in _VSTACK_USERS:
        importlib.import_module(name).data_vstack = data_vstack
    for name in _HSTACK_USERS:
        importlib.import_module(name).data_hstack = data_hstack
    import modAL.multilabel as multilabel

    multilabel._SVM_loss = _svm_loss
    multilabel.SVM_binary_minimum = functools.wraps(multilabel.SVM_binary_minimum)(svm_binary_minimum)
    learners.check_X_y = check_X_y
    base.BaseLearner.query = functools.wraps(base.BaseLearner.query)(_query_once)
    base.BaseCommittee.query = functools.wraps(base.BaseCommittee.query)(_query_once)
    _APPLIED = True
