"""A label opened to relabel is never offered back as the suggestion (Enter would confirm what was flagged)."""

from __future__ import annotations

import re

import pytest
from sklearn.linear_model import LogisticRegression

import alwidgets as alw
from alwidgets.widgets.labeled_view import REVIEW_MODE


@pytest.fixture(scope="module")
def digits():
    data = alw.datasets.load_digits()
    return data.X[:300], data.y[:300]


def labeler_with_a_wrong_label(digits, cleanup, wrong_item=42):
    X, y = digits
    session = alw.Session(LogisticRegression(C=1e4, max_iter=2000), X, "margin", classes=list(range(10)), random_state=0)
    labels = [int(v) for v in y[:100]]
    labels[wrong_item] = (labels[wrong_item] + 5) % 10
    session.teach(list(range(100)), labels)
    labeler = alw.Labeler(session, y_true=y, suggest=True)
    cleanup(labeler)
    labeler.wait()
    return labeler, labels[wrong_item]


def test_a_flagged_label_opened_to_relabel_suggests_the_model_that_flagged_it(digits, cleanup):
    X, y = digits
    labeler, wrong = labeler_with_a_wrong_label(digits, cleanup)
    # the session's model (barely regularized) was taught the wrong label: its own guess is that label
    assert labeler.session.suggestion(42)[0] == wrong
    labeler.mode.value = REVIEW_MODE
    labeler.review.disagree.value = True
    labeler.review.wait()
    flagged = next(r for r in labeler.review.rows() if r["index"] == 42)
    assert flagged["disagrees"]
    labeler.open_for_relabel(42)
    guess = labeler.suggested[42]
    assert guess[0] == flagged["predicted"] != wrong
    assert guess[1] == pytest.approx(flagged["p_predicted"])
    assert str(flagged["predicted"]) in labeler.suggestion.value
    labeler.accept_suggestion()  # Enter accepts the suggestion: the model's class, never the flagged label
    assert labeler.session.labels[42] == flagged["predicted"]
    assert not labeler.errors


def test_without_a_flag_a_relabel_suggests_nothing_rather_than_the_label_itself(digits, cleanup):
    labeler, wrong = labeler_with_a_wrong_label(digits, cleanup)
    labeler.open_for_relabel(42)  # opened from code, no "the model disagrees" ranking
    assert 42 not in labeler.suggested
    assert labeler.suggestion.value == ""
    assert not labeler.errors


# ----------------------------------------------------------------------------- one screen, named model versions


def _versions(text: str) -> list[int]:
    return [int(v) for v in re.findall(r"model version (\d+)", text)]


def test_a_suggestion_and_why_from_different_models_name_their_versions(digits, cleanup):
    X, y = digits
    session = alw.Session(LogisticRegression(max_iter=300), X, "margin", classes=list(range(10)), random_state=0)
    session.teach(list(range(30)), [int(v) for v in y[:30]])
    labeler = alw.Labeler(session, y_true=y, suggest=True, fresh_pick=False)  # the item stays after a refit
    cleanup(labeler)
    labeler.wait()
    labeler.label(int(y[labeler.current]))  # the next item shows with this model's guess; a refit follows
    labeler.wait()
    (suggested,) = _versions(labeler.suggestion.value)
    assert suggested < session.model_version
    assert f"model version {session.model_version} says" in labeler.why.value
    assert not labeler.errors


def test_a_suggestion_and_why_from_one_model_agree(digits, cleanup):
    X, y = digits
    session = alw.Session(LogisticRegression(max_iter=300), X, "margin", classes=list(range(10)), random_state=0)
    session.teach(list(range(30)), [int(v) for v in y[:30]])
    labeler = alw.Labeler(session, y_true=y, suggest=True, sync=True)  # refit, then the next item and its why
    cleanup(labeler)
    labeler.label(int(y[labeler.current]))
    assert _versions(labeler.suggestion.value) == [session.model_version]
    guess = labeler.suggested[labeler.current][0]
    assert re.search(rf"the model says {guess} \(", labeler.why.value), labeler.why.value
