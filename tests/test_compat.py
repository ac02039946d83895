"""modAL 0.4.2.1 on today's numpy, scikit-learn and pandas: what alwidgets mends."""

import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from modAL.models import ActiveLearner
from sklearn.linear_model import LogisticRegression

import alwidgets  # noqa: F401  (applies the compatibility patches)
from alwidgets import _compat

BROKEN_WITHOUT_COMPAT = {
    "np.float in modAL.expected_error": ("has no attribute 'float'", "import modAL.expected_error"),
    "force_all_finite in teach": ("force_all_finite", textwrap.dedent(
        """
        import numpy as np
        from modAL.models import ActiveLearner
        from sklearn.linear_model import LogisticRegression
        X = np.random.RandomState(0).rand(10, 2); y = np.arange(10) % 2
        learner = ActiveLearner(LogisticRegression(), X_training=X[:4], y_training=y[:4])
        learner.teach(X[4:6], y[4:6])
        """
    )),
    "DataFrame.append in teach": ("'DataFrame' object has no attribute 'append'", textwrap.dedent(
        """
        import numpy as np, pandas as pd
        import modAL.models.learners as learners
        from sklearn.utils import check_X_y
        learners.check_X_y = lambda X, y, **kw: None   # isolate the pandas failure
        from modAL.models import ActiveLearner
        from sklearn.linear_model import LogisticRegression
        X = pd.DataFrame(np.random.RandomState(0).rand(10, 2)); y = np.arange(10) % 2
        learner = ActiveLearner(LogisticRegression(), X_training=X.iloc[:4], y_training=y[:4])
        learner.teach(X.iloc[4:6], y[4:6])
        """
    )),
}


@pytest.mark.parametrize("case", sorted(BROKEN_WITHOUT_COMPAT))
def test_plain_modal_is_broken_on_this_stack(case):
    # If this starts passing, modAL was fixed upstream and the patch can go.
    message, code = BROKEN_WITHOUT_COMPAT[case]
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode != 0, f"{case}: plain modAL no longer fails; the compat patch may be dropped"
    assert message in result.stderr


def test_expected_error_module_imports_and_np_float_stays_removed():
    import modAL.expected_error as ee

    assert callable(ee.expected_error_reduction)
    assert not hasattr(np, "float")


@pytest.mark.parametrize("as_frame", [False, True])
def test_teach_works_with_arrays_and_dataframes(as_frame):
    rng = np.random.RandomState(0)
    X = rng.rand(20, 3)
    y = (X[:, 0] > 0.5).astype(int)
    if as_frame:
        X = pd.DataFrame(X, columns=["a", "b", "c"])
    take = (lambda i: X.iloc[i]) if as_frame else (lambda i: X[i])
    learner = ActiveLearner(LogisticRegression(), X_training=take(slice(0, 6)), y_training=y[:6])
    learner.teach(take(slice(6, 10)), y[6:10])
    assert learner.X_training.shape == (10, 3)
    assert isinstance(learner.X_training, pd.DataFrame) is as_frame
    assert learner.predict(take(slice(0, 20))).shape == (20,)


def test_query_calls_a_strategy_returning_bare_indices_once():
    calls = []

    def bare(learner, X, n_instances=1):
        calls.append(1)
        return np.arange(n_instances)

    X = np.random.RandomState(0).rand(10, 2)
    learner = ActiveLearner(LogisticRegression(), query_strategy=bare, X_training=X[:4], y_training=[0, 1, 0, 1])
    idx, rows = learner.query(X, n_instances=3)
    assert len(calls) == 1
    np.testing.assert_array_equal(idx, [0, 1, 2])
    assert rows.shape == (3, 2)


def test_alwidgets_strategy_plugs_into_modal_query():
    calls = []
    margin = alwidgets.strategies.get("margin")

    def counted(learner, X, n_instances=1):
        calls.append(1)
        return margin(learner, X, n_instances)

    X = np.random.RandomState(0).rand(30, 2)
    learner = ActiveLearner(LogisticRegression(), query_strategy=counted, X_training=X[:4], y_training=[0, 1, 0, 1])
    idx, rows, scores = learner.query(X, n_instances=2, return_metrics=True)
    assert len(calls) == 1
    assert len(idx) == 2 and len(scores) == 30


# ------------------------------------------------- every input type modAL's own data_vstack accepted

MODAL_DATA = Path(importlib.util.find_spec("modAL.utils.data").origin)


def _original_modal_data():
    """modAL's own ``modAL/utils/data.py``, loaded fresh under another name (alwidgets patched the real one)."""
    spec = importlib.util.spec_from_file_location("_modal_data_as_released", MODAL_DATA)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tensor(values):
    torch = pytest.importorskip("torch")
    return torch.as_tensor(np.asarray(values))


KINDS = {
    "list": lambda a: np.asarray(a).tolist(),
    "ndarray": np.asarray,
    "sparse": sp.csr_matrix,
    "dataframe": lambda a: pd.DataFrame(np.asarray(a), columns=[f"f{i}" for i in range(np.shape(a)[1])]),
    "tensor": _tensor,
}


def _dense(X):
    """Any of KINDS back to an ndarray, to compare results."""
    if sp.issparse(X):
        return X.toarray()
    if hasattr(X, "to_numpy"):
        return X.to_numpy()
    return np.asarray(X)


@pytest.mark.parametrize("kind", ["list", "ndarray", "sparse", "tensor"])
@pytest.mark.parametrize("stack", ["data_vstack", "data_hstack"])
def test_stacking_matches_modal_where_modal_still_works(kind, stack):
    blocks = [KINDS[kind]([[1.0, 2.0], [3.0, 4.0]]), KINDS[kind]([[5.0, 6.0], [7.0, 8.0]])]
    original = getattr(_original_modal_data(), stack)(blocks)
    ours = getattr(_compat, stack)(blocks)
    assert type(ours) is type(original)
    np.testing.assert_array_equal(_dense(ours), _dense(original))


def test_dataframes_stack_as_dataframe_append_did():
    a = KINDS["dataframe"]([[1.0, 2.0], [3.0, 4.0]])
    b = KINDS["dataframe"]([[5.0, 6.0]]).set_axis([7], axis=0)
    rows = _compat.data_vstack([a, b])
    assert list(rows.index) == [0, 1, 7] and list(rows.columns) == ["f0", "f1"]
    np.testing.assert_array_equal(rows.to_numpy(), [[1, 2], [3, 4], [5, 6]])
    # modAL's add_row hands a DataFrame row as a Series (from iterrows): it is one more row.
    row = _compat.data_vstack([a, b.iloc[0]])
    assert row.shape == (3, 2) and row.index[-1] == 7
    assert (row.dtypes == np.float64).all()
    np.testing.assert_array_equal(row.to_numpy()[-1], [5, 6])
    columns = _compat.data_hstack([a, a.set_axis(["g0", "g1"], axis=1)])
    assert isinstance(columns, pd.DataFrame) and columns.shape == (2, 4)


@pytest.mark.parametrize("first", ["dataframe", "tensor"])
@pytest.mark.parametrize("rows", ["ndarray", "list"])
def test_typed_training_data_takes_plain_rows_of_a_pool(first, rows):
    # A learner built on a DataFrame or tensor is taught rows the Session takes from an array pool.
    X = KINDS[first]([[1.0, 2.0], [3.0, 4.0]])
    stacked = _compat.data_vstack([X, KINDS[rows]([[5.0, 6.0]])])
    assert type(stacked) is type(X)
    np.testing.assert_array_equal(_dense(stacked), [[1, 2], [3, 4], [5, 6]])
    single = _compat.data_vstack([X, KINDS[rows]([5.0, 6.0])])  # a single row, as modAL's add_row passes
    np.testing.assert_array_equal(_dense(single), [[1, 2], [3, 4], [5, 6]])


@pytest.mark.parametrize("stack", ["data_vstack", "data_hstack"])
@pytest.mark.parametrize("blocks", [[{"a": 1}, {"a": 2}], ["ab", "cd"], []], ids=["dicts", "strings", "empty"])
def test_unstackable_data_is_refused_by_name(stack, blocks):
    with pytest.raises((TypeError, ValueError), match=stack):
        getattr(_compat, stack)(blocks)


def _typed_session(kind, strategy, rng_seed=0):
    """A Session whose learner starts from 4 labeled rows of ``kind`` and whose pool is of ``kind``."""
    rng = np.random.RandomState(rng_seed)
    X = rng.rand(44, 3)
    y = (X[:, 0] + 0.3 * X[:, 1] > 0.65).astype(int)
    base = ActiveLearner(LogisticRegression(), X_training=KINDS[kind](X[:4]), y_training=np.array([0, 1, 0, 1]))
    session = alwidgets.Session(base, KINDS[kind](X[4:]), strategy=strategy, random_state=0)
    return session, X, y


@pytest.mark.parametrize("strategy", ["margin", "expected_error_reduction"])
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_session_teaches_and_queries_every_modal_input_type(kind, strategy):
    session, X, y = _typed_session(kind, strategy)
    taught = []
    for _ in range(5):
        (idx,) = session.query()
        assert 0 <= idx < 40 and idx not in taught
        session.teach(idx, int(y[4 + idx]))
        taught.append(idx)
    X_training = session.learner.X_training
    assert type(X_training) is type(KINDS[kind](X[:1])), "the learner keeps the type it was given"
    expected_rows = np.vstack([X[:4], X[4:][taught]])
    np.testing.assert_allclose(_dense(X_training), expected_rows)
    # The learner is fitted on exactly those rows: same coefficients as a plain fit on arrays.
    plain = LogisticRegression().fit(expected_rows, np.r_[[0, 1, 0, 1], y[4:][taught]])
    np.testing.assert_allclose(session.learner.estimator.coef_, plain.coef_, rtol=1e-6)
    assert session.undo().items == (taught[-1],)
    assert session.query()[0] not in taught[:-1]


def test_modal_expected_error_reduction_runs_on_dataframes():
    # modAL's own EER adds a pool row (a Series from iterrows) to DataFrame training data.
    from modAL.expected_error import expected_error_reduction

    rng = np.random.RandomState(1)
    X = rng.rand(24, 2)
    picks = []
    for kind in ("ndarray", "dataframe"):
        learner = ActiveLearner(LogisticRegression(), query_strategy=expected_error_reduction,
                                X_training=KINDS[kind](X[:4]), y_training=[0, 1, 0, 1])
        np.random.seed(0)
        idx, _rows = learner.query(KINDS[kind](X[4:]))
        picks.append(int(np.ravel(idx)[0]))
    assert picks[0] == picks[1]


def test_importing_alwidgets_does_not_import_torch_and_modal_still_finds_it_later():
    """modAL imports torch when it is installed (some 300 MB per process); alwidgets keeps it out until used."""
    pytest.importorskip("torch")
    code = ("import sys, numpy as np, alwidgets, modAL.utils.data as data\n"
            "assert 'torch' not in sys.modules, 'torch was imported'\n"
            "assert not data.torch.is_tensor(np.zeros(2))\n"
            "import torch\n"
            "assert data.torch.is_tensor(torch.zeros(2)) and data.torch.cat is torch.cat\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
