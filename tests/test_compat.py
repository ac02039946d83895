"""modAL 0.4.2.1 on today's numpy, scikit-learn and pandas: what alwidgets mends."""

import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from modAL.models import ActiveLearner
from sklearn.linear_model import LogisticRegression

import alwidgets  # noqa: F401  (applies the compatibility patches)

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
