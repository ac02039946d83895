"""The multi-label Labeler, driven headlessly: toggle classes, submit the set, keys, undo."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_multilabel_classification
from sklearn.linear_model import LogisticRegression

import alwidgets as alw
from alwidgets import multilabel
from alwidgets._validation import LabelSet

CLASSES = ["joy", "fear", "anger"]


@pytest.fixture(autouse=True)
def _quiet_constant_columns():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Label .* is present in all training examples")
        yield


@pytest.fixture
def case():
    X, Y = make_multilabel_classification(n_samples=80, n_features=5, n_classes=3, random_state=1)
    session = alw.Session(multilabel.default_model(), X[:60], X_test=X[60:], y_test=Y[60:], multi_label=True,
                          classes=CLASSES, random_state=0)
    labeler = alw.Labeler(session, multi_label=True, y_true=Y[:60])
    yield labeler, Y[:60]
    labeler.close()


def test_toggled_classes_are_submitted_as_one_set(case):
    labeler, _ = case
    first = labeler.current
    labeler.toggles["joy"].value = True
    labeler.toggles["anger"].value = True
    labeler.submit_button.click()
    assert labeler.session.labels == {first: LabelSet({"joy", "anger"})}
    assert labeler.current != first
    assert labeler.chosen == set()  # the next item starts with nothing toggled
    assert not labeler.errors


def test_submitting_nothing_toggled_records_the_empty_set(case):
    labeler, _ = case
    first = labeler.current
    labeler.submit_button.click()
    assert labeler.session.labels == {first: LabelSet()}


def test_keys_toggle_classes_and_enter_submits(case):
    labeler, _ = case
    first = labeler.current
    labeler.handle_key("1")
    labeler.handle_key("2")
    labeler.handle_key("1")  # pressed again: off
    labeler.handle_key("3")
    assert labeler.chosen == {"fear", "anger"}
    assert labeler.session.labels == {}  # toggling records nothing
    labeler.handle_key("Enter")
    assert labeler.session.labels == {first: LabelSet({"fear", "anger"})}
    assert "Enter" in labeler.key_listener.shortcuts


def test_undo_shows_the_item_again_with_its_set_toggled(case):
    labeler, _ = case
    first = labeler.current
    labeler.toggles["fear"].value = True
    labeler.submit_button.click()
    labeler.undo_button.click()
    assert labeler.current == first and labeler.session.labels == {}
    assert labeler.chosen == {"fear"}


def test_the_strategy_menu_offers_multi_label_strategies_only(case):
    labeler, _ = case
    options = set(labeler.strategy.options)
    assert options == set(multilabel.MULTI_LABEL_STRATEGIES) | {"random"}
    labeler.strategy.value = "max_loss"
    assert labeler.session.strategy == "max_loss"


def test_simulate_gives_the_true_sets_and_the_model_learns(case):
    labeler, Y = case
    labeler.simulate(12)
    labeler.wait()
    labels = labeler.session.labels
    assert len(labels) == 12
    assert all(labels[i] == LabelSet(np.array(CLASSES)[Y[i] == 1]) for i in labels)
    assert labeler.session.is_fitted and "the model gives" in labeler.why.value


def test_a_multi_label_labeler_needs_a_multi_label_session():
    X = np.random.RandomState(0).rand(20, 2)
    session = alw.Session(LogisticRegression(), X, classes=[0, 1])
    with pytest.raises(ValueError, match="multi_label=True"):
        alw.Labeler(session, multi_label=True, plots=None)
