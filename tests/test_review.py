"""Engine tests of the "the model disagrees" ranking (alwidgets.engine.review)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from modAL.models import ActiveLearner
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC
from sklearn.utils.validation import check_is_fitted

import alwidgets as alw
from alwidgets import review
from alwidgets.engine.review import COLUMNS, filter_ranking, rank_disagreement, rank_labels_table


@pytest.fixture(scope="module")
def digits():
    d = alw.datasets.load_digits()
    return d.X[:400], d.y[:400]


def flip(y, n_wrong, seed):
    """``y`` with ``n_wrong`` random labels moved to another class; and which ones."""
    rng = np.random.RandomState(seed)
    wrong = rng.choice(len(y), n_wrong, replace=False)
    noisy = y.copy()
    noisy[wrong] = (noisy[wrong] + rng.randint(1, 10, size=n_wrong)) % 10
    return noisy, set(wrong.tolist())


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("n_wrong", [5, 20])
def test_flipped_labels_rank_first(digits, seed, n_wrong):
    X, y = digits
    noisy, wrong = flip(y, n_wrong, seed)
    table = rank_disagreement(X, noisy, LogisticRegression(max_iter=1000), random_state=seed)
    top = set(table["index"][:n_wrong].tolist())
    assert len(top & wrong) >= 0.6 * n_wrong  # a random list would hold about n_wrong**2 / 400 of them
    assert len(set(table["index"][: 2 * n_wrong].tolist()) & wrong) >= 0.9 * n_wrong
    assert table["p_label"][table["index"].isin(wrong)].mean() < 0.2 < table["p_label"].mean()


def test_probabilities_are_out_of_fold(digits):
    """A 1-nearest-neighbour model fitted on every row gives each row its own label: only held-out fits catch errors."""
    X, y = digits
    noisy, wrong = flip(y, 10, 0)
    in_sample = KNeighborsClassifier(n_neighbors=1).fit(X, noisy).predict_proba(X)
    assert np.all(in_sample[np.arange(len(y)), noisy] == 1.0)  # what a model that saw the row says
    table = rank_disagreement(X, noisy, KNeighborsClassifier(n_neighbors=1), random_state=0)
    p_label = table.set_index("index")["p_label"]
    assert (p_label[sorted(wrong)] == 0.0).all()  # their neighbours, not themselves, answer
    assert (p_label == 1.0).sum() > 0.8 * len(y)  # most right labels are confirmed by a neighbour


def test_the_estimator_passed_in_is_not_fitted(digits):
    X, y = digits
    model = LogisticRegression(max_iter=1000)
    rank_disagreement(X, y, model, random_state=0)
    with pytest.raises(NotFittedError):
        check_is_fitted(model)


def test_table_columns_and_order(digits):
    X, y = digits
    noisy, _ = flip(y, 20, 3)
    table = rank_disagreement(X, noisy, LogisticRegression(max_iter=1000), random_state=0)
    assert list(table.columns) == COLUMNS
    assert sorted(table["index"].tolist()) == list(range(len(y)))
    assert table["checked"].all() and table["annotator"].isna().all()
    assert np.all(np.diff(table["p_label"]) >= 0)  # lowest first
    assert np.all(table["p_label"] <= table["p_predicted"] + 1e-12)
    np.testing.assert_array_equal(table["disagrees"], table["predicted"] != table["label"])
    agree = ~table["disagrees"]
    np.testing.assert_allclose(table["p_label"][agree], table["p_predicted"][agree])
    np.testing.assert_array_equal(table["label"], noisy[table["index"]])  # each row keeps its own label


def test_same_random_state_same_ranking(digits):
    X, y = digits[0][:200], digits[1][:200]
    noisy, _ = flip(y, 10, 4)
    for seed in (lambda: 7, lambda: np.random.RandomState(7)):
        first = rank_disagreement(X, noisy, LogisticRegression(max_iter=1000), random_state=seed())
        again = rank_disagreement(X, noisy, LogisticRegression(max_iter=1000), random_state=seed())
        pd.testing.assert_frame_equal(first, again)


@pytest.mark.parametrize("counts", [(2, 30, 30), (3, 3, 3), (2, 2, 40)])
def test_folds_adapt_to_small_classes(counts):
    rng = np.random.RandomState(0)
    centers = np.array([[0, 0], [6, 0], [0, 6]])
    y = np.repeat([0, 1, 2], counts)
    X = centers[y] + rng.normal(scale=0.5, size=(len(y), 2))
    table = rank_disagreement(X, y, LogisticRegression(), cv=5, random_state=0)
    assert table["checked"].all()
    assert table["p_label"].notna().all()


def test_a_class_with_one_item_is_listed_last_unchecked():
    rng = np.random.RandomState(0)
    y = np.array([0] * 20 + [1] * 20 + [2])
    X = rng.normal(size=(41, 3)) + y[:, None] * 3
    table = rank_disagreement(X, y, LogisticRegression(), random_state=0)
    last = table.iloc[-1]
    assert last["index"] == 40 and not last["checked"] and np.isnan(last["p_label"]) and last["predicted"] is None
    assert not last["disagrees"]
    assert table["checked"][:-1].all()
    assert set(table["predicted"][:-1]) <= {0, 1}  # the single "2" was left out of the fits


def test_nothing_is_checked_with_fewer_than_two_classes_of_two_items():
    table = rank_disagreement(np.arange(6).reshape(6, 1), [0, 0, 0, 0, 0, 1], LogisticRegression())
    assert len(table) == 6 and not table["checked"].any() and table["p_label"].isna().all()


def test_rows_of_one_item_stay_in_the_same_fold():
    """Two annotators agree on a wrong label: with the item split across folds, its twin row would vouch for it."""
    rng = np.random.RandomState(0)
    y = np.repeat([0, 1], 30)
    X = y[:, None] * 4.0 + rng.normal(size=(60, 2))
    X_rows = np.vstack([X, X[[5]]])  # item 5 labeled twice
    y_rows = np.r_[y, 0]
    y_rows[5] = y_rows[60] = 1  # both say 1; item 5 is a 0
    index = np.r_[np.arange(60), 5]
    annotators = ["alice"] * 60 + ["bob"]
    table = rank_disagreement(X_rows, y_rows, KNeighborsClassifier(n_neighbors=1), index=index,
                              annotators=annotators, random_state=0)
    item5 = table[table["index"] == 5]
    assert sorted(item5["annotator"]) == ["alice", "bob"]
    assert (item5["p_label"] == 0.0).all()
    assert set(table["index"][:2]) == {5}


@pytest.fixture(scope="module")
def annotated(digits):
    """A ranking of digits with 30 wrong labels, given by three annotators."""
    X, y = digits
    noisy, _ = flip(y, 30, 5)
    annotators = np.where(np.arange(len(y)) % 3 == 0, "bob", "alice").astype(object)
    annotators[::7] = "carol"
    table = rank_disagreement(X, noisy, LogisticRegression(max_iter=1000), annotators=annotators, random_state=0)
    return X, noisy, annotators, table


@pytest.mark.parametrize("label, annotator, disagree_only", [
    (3, None, False), ([1, 7], None, False), (None, "bob", False), (None, ["alice", "bob"], True), (3, "alice", False),
    (None, None, True),
])
def test_filters_keep_the_order(annotated, label, annotator, disagree_only):
    *_, full = annotated
    part = filter_ranking(full, label=label, annotator=annotator, disagree_only=disagree_only)
    keep = np.ones(len(full), dtype=bool)
    if label is not None:
        keep &= full["label"].isin(np.atleast_1d(label))
    if annotator is not None:
        keep &= full["annotator"].isin(np.atleast_1d(annotator))
    if disagree_only:
        keep &= full["disagrees"]
    assert 0 < len(part) < len(full)
    pd.testing.assert_frame_equal(part, full[keep].reset_index(drop=True))
    assert np.all(np.diff(part["p_label"]) >= 0)


def test_filters_apply_after_ranking_every_row(annotated):
    X, noisy, annotators, full = annotated
    part = rank_disagreement(X, noisy, LogisticRegression(max_iter=1000), annotators=annotators, random_state=0,
                             label=[3, 5], annotator="alice", disagree_only=True)
    assert len(part) > 0
    pd.testing.assert_frame_equal(part, filter_ranking(full, label=[3, 5], annotator="alice", disagree_only=True))


def test_labels_table_takes_rows_from_the_pool(digits):
    X, y = digits
    noisy, _ = flip(y, 20, 6)
    labeled = np.random.RandomState(0).choice(len(y), 150, replace=False)
    labels = pd.DataFrame({"index": labeled, "label": noisy[labeled],
                           "annotator": ["ann" if i % 2 else "ben" for i in labeled]})
    table = rank_labels_table(labels, X, LogisticRegression(max_iter=1000), random_state=0)
    direct = rank_disagreement(X[labeled], noisy[labeled], LogisticRegression(max_iter=1000), index=labeled,
                               annotators=labels["annotator"].to_numpy(), random_state=0)
    pd.testing.assert_frame_equal(table, direct)
    assert set(table["index"]) == set(labeled.tolist())
    bens = rank_labels_table(labels, X, LogisticRegression(max_iter=1000), annotator="ben", random_state=0)
    assert set(bens["annotator"]) == {"ben"} and len(bens) == (labels.annotator == "ben").sum()


@pytest.mark.parametrize("labels, error, message", [
    (pd.DataFrame({"item": [0, 1], "label": [0, 1]}), ValueError, "'index'"),
    (pd.DataFrame({"index": [0, 999], "label": [0, 1]}), ValueError, "999"),
    (pd.DataFrame({"index": [0.5, 1.0], "label": [0, 1]}), TypeError, "integers"),
])
def test_labels_table_errors_name_the_column(digits, labels, error, message):
    X, _ = digits
    with pytest.raises(error, match=message):
        rank_labels_table(labels, X, LogisticRegression())


@pytest.mark.parametrize("estimator, message", [
    (LinearRegression(), "regressor"),
    (SVC(), "predict_proba"),
    ("logistic", "scikit-learn classifier"),
])
def test_estimators_that_cannot_rank_are_refused(digits, estimator, message):
    X, y = digits
    with pytest.raises(TypeError, match=message):
        rank_disagreement(X, y, estimator)


@pytest.mark.parametrize("kwargs, message", [
    ({"y": np.zeros((400, 2))}, "1-D"),
    ({"y": np.zeros(399)}, "399 labels"),
    ({"index": np.arange(10)}, "index must hold one value per row"),
    ({"annotators": ["a"] * 3}, "annotators must hold one value per row"),
    ({"cv": 1}, "cv must be at least 2"),
])
def test_bad_arguments_are_named(digits, kwargs, message):
    X, y = digits
    arguments = {"X": X, "y": y, "estimator": LogisticRegression(), **kwargs}
    with pytest.raises(ValueError, match=re.escape(message)):
        rank_disagreement(**arguments)


def test_a_modal_learner_stands_for_its_estimator(digits):
    X, y = digits[0][:200], digits[1][:200]
    noisy, _ = flip(y, 10, 8)
    direct = rank_disagreement(X, noisy, LogisticRegression(max_iter=1000), random_state=0)
    learner = ActiveLearner(estimator=LogisticRegression(max_iter=1000), X_training=X[:20], y_training=y[:20])
    through = rank_disagreement(X, noisy, learner, random_state=0)
    pd.testing.assert_frame_equal(direct, through)
    committee = alw.make_committee(LogisticRegression(max_iter=1000), n_members=2, random_state=0)
    pd.testing.assert_frame_equal(direct, rank_disagreement(X, noisy, committee, random_state=0))


def test_text_labels_through_a_pipeline():
    rng = np.random.RandomState(0)
    good, bad, neutral = ["great", "loved", "wonderful", "superb"], ["dull", "hated", "awful", "boring"], \
        ["film", "story", "acting", "plot", "the", "a"]
    texts = [" ".join(rng.choice(words, 2).tolist() + rng.choice(neutral, 4).tolist())
             for words in [good] * 30 + [bad] * 30]
    labels = np.array(["pos"] * 30 + ["neg"] * 30, dtype=object)
    labels[[3, 40]] = ["neg", "pos"]  # two wrong labels
    table = rank_disagreement(texts, labels, make_pipeline(TfidfVectorizer(), LogisticRegression()), random_state=0)
    assert set(table["index"][:2]) == {3, 40}
    assert table["disagrees"][:2].all() and table["disagrees"].sum() == 2
    assert table["label"].map(type).eq(str).all()


def test_module_docstring_example_finds_the_three_wrong_labels():
    code = re.search(r"Example::\n\n(.*?)\n\nColumns", review.__doc__, re.S).group(1)
    namespace: dict = {}
    exec(compile("\n".join(line[4:] for line in code.splitlines()), "review example", "exec"), namespace)
    assert set(namespace["table"]["index"][:3]) == {5, 17, 42}


# ---------------------------------------------------------------------- the panel: guarded, and drawn under its lock


@pytest.fixture
def panel(digits):
    import ipywidgets as widgets

    from alwidgets.widgets.review import ReviewPanel

    X, y = digits
    session = alw.Session(LogisticRegression(max_iter=300), X[:120], "margin", classes=list(range(10)),
                          random_state=0)
    session.record(list(range(40)), y[:40].tolist())
    opened = []
    made = ReviewPanel(session, lambda _s, idx: widgets.HTML(f"item {idx}"), opened.append, page_size=4)
    made.refresh()
    made.opened = opened
    yield made
    made.close()


def test_a_filter_whose_redraw_fails_says_so_on_the_panel(panel, monkeypatch):
    panel.class_filter.value = "3"
    assert all(r["label"] == 3 for r in panel.rows()) and panel.errors == []
    monkeypatch.setattr(panel, "view", lambda _s, _idx: (_ for _ in ()).throw(OSError("image missing")))
    panel.annotator_filter.value = "local"
    assert panel.errors == ["filter failed (OSError: image missing)"]
    assert "image missing" in panel.status.value and "#b00020" in panel.status.value


def test_the_ranking_worker_draws_only_under_the_panels_lock(panel):
    unlocked = []
    for widget in (panel.items, panel.status):
        widget.observe(lambda _c: unlocked.append(not panel._ui_lock._is_owned()), names=["children", "value"])
    panel.disagree.value = True
    panel.wait(120)
    assert unlocked and not any(unlocked)
    assert "least likely first" in panel.status.value
    panel.items.children[0].children[-1].click()  # Relabel
    assert panel.opened and panel.errors == []


def test_a_ranking_that_fails_is_reported_once_in_words(panel, monkeypatch):
    monkeypatch.setattr(panel.session, "review", lambda **_kw: (_ for _ in ()).throw(RuntimeError("no folds")))
    panel.disagree.value = True
    assert panel._worker.wait(120), "the ranking did not end within 120 s"
    assert panel.errors == ["ranking the labels failed (RuntimeError: no folds)"]
    assert "no folds" in panel.status.value
