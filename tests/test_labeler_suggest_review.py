"""The Labeler's suggested label and its "Labeled" view, driven headlessly with buttons and keys."""

from __future__ import annotations

import html

import pytest
from sklearn.linear_model import LogisticRegression

import alwidgets as alw
from alwidgets.store import LABEL, RETRACT
from alwidgets.widgets.labeler import LABEL_MODE, REVIEW_MODE, SUBMIT_KEY


@pytest.fixture(scope="module")
def digits():
    data = alw.datasets.load_digits()
    return data.X[:300], data.y[:300], data.X[1000:1200], data.y[1000:1200], data.images[:300]


def make_labeler(digits, cleanup, n_labels=30, **kwargs):
    X, y, X_test, y_test, _ = digits
    session = alw.Session(LogisticRegression(max_iter=300), X, "margin", X_test=X_test, y_test=y_test,
                          classes=list(range(10)), random_state=0)
    session.teach(list(range(n_labels)), [int(v) for v in y[:n_labels]])
    labeler = alw.Labeler(session, y_true=y, **kwargs)
    cleanup(labeler)
    labeler.wait()
    return labeler


# ---------------------------------------------------------------------- suggested label


def test_the_suggestion_is_marked_on_its_button_and_enter_accepts_it(digits, cleanup):
    labeler = make_labeler(digits, cleanup, suggest=True)
    idx = labeler.current
    guess, probability = labeler.session.suggestion(idx)
    assert labeler.suggested[idx] == (guess, probability)
    marked = [label for label, button in labeler.label_buttons.items() if button.button_style == "info"]
    assert marked == [guess]
    assert f"<b>{guess}</b>" in labeler.suggestion.value and f"{probability:.0%} sure" in labeler.suggestion.value
    assert SUBMIT_KEY in labeler.key_listener.shortcuts

    labeler.handle_key(SUBMIT_KEY)
    event = labeler.session.store.events()[-1]
    assert (event.item_id, event.label, event.suggested, event.accepted) == (
        labeler.session.item_ids[idx], guess, guess, True)
    assert labeler.current != idx and not labeler.errors


def test_another_button_overrides_the_suggestion_and_the_store_says_so(digits, cleanup):
    labeler = make_labeler(digits, cleanup, suggest=True)
    idx = labeler.current
    guess = labeler.suggested[idx][0]
    other = next(c for c in labeler.classes if c != guess)
    labeler.label_buttons[other].click()
    event = labeler.session.store.events()[-1]
    assert (event.label, event.suggested, event.accepted) == (other, guess, False)


def test_without_suggest_nothing_is_suggested_and_enter_labels_nothing(digits, cleanup):
    labeler = make_labeler(digits, cleanup)
    assert labeler.suggested == {} and labeler.suggestion.value == ""
    assert all(button.button_style == "" for button in labeler.label_buttons.values())
    assert SUBMIT_KEY not in labeler.key_listener.shortcuts
    before = len(labeler.session.store.events())
    labeler.handle_key(SUBMIT_KEY)
    labeler.label_buttons[labeler.classes[0]].click()
    events = labeler.session.store.events()
    assert len(events) == before + 1 and events[-1].suggested is None


def test_before_a_model_exists_enter_says_there_is_nothing_to_accept(digits, cleanup):
    X, y, X_test, y_test, _ = digits
    session = alw.Session(LogisticRegression(max_iter=300), X, "margin", classes=list(range(10)), random_state=0)
    labeler = alw.Labeler(session, suggest=True)
    cleanup(labeler)
    labeler.handle_key(SUBMIT_KEY)
    assert session.n_labeled == 0
    assert "no suggestion to accept" in labeler.status.value


def test_in_batch_mode_each_control_starts_on_the_models_guess(digits, cleanup):
    labeler = make_labeler(digits, cleanup, suggest=True, batch_size=4)
    cells = labeler._cells
    assert [cell["control"].value for cell in cells] == [labeler.session.suggestion(c["idx"])[0] for c in cells]
    cells[0]["control"].value = next(c for c in labeler.classes if c != cells[0]["control"].value)
    labeler.submit_button.click()
    new = labeler.session.store.events()[-4:]
    assert [e.accepted for e in new] == [False, True, True, True]


# ---------------------------------------------------------------------- the "Labeled" view


def test_the_labeled_view_lists_labels_newest_first_and_filters_them(digits, cleanup):
    labeler = make_labeler(digits, cleanup, n_labels=20)
    labeler.simulate(3)
    labeler.wait()
    labeler.mode.value = REVIEW_MODE
    review = labeler.review
    assert labeler.instance.layout.display == "none" and review.layout.display is None
    rows = review.rows()
    assert len(rows) == 23
    newest = [e.item_id for e in labeler.session.store.events()[-3:]][::-1]
    assert [labeler.session.item_ids[r["index"]] for r in rows[:3]] == newest
    assert len(review.items.children) == review.page_size
    review.more_button.click()
    assert len(review.items.children) == 23

    review.class_filter.value = "3"
    assert {r["label"] for r in review.rows()} == {3}
    assert len(review.items.children) == len(review.rows())
    review.class_filter.value = "all"
    review.annotator_filter.value = "local"
    assert len(review.rows()) == 23


def test_the_model_disagrees_puts_a_wrong_label_first_and_a_relabel_fixes_it_with_undo(digits, cleanup):
    X, y, X_test, y_test, _ = digits
    session = alw.Session(LogisticRegression(max_iter=300), X, "margin", X_test=X_test, y_test=y_test,
                          classes=list(range(10)), random_state=0)
    labels = [int(v) for v in y[:100]]
    wrong = (labels[42] + 5) % 10
    labels[42] = wrong
    session.teach(list(range(100)), labels)
    labeler = alw.Labeler(session, y_true=y)
    cleanup(labeler)
    labeler.wait()
    shown_before = labeler.current

    labeler.mode.value = REVIEW_MODE
    labeler.review.disagree.value = True
    labeler.review.wait()
    first = labeler.review.rows()[0]
    assert first["index"] == 42 and first["label"] == wrong
    card = labeler.review.items.children[0]
    card.children[-1].click()  # "Relabel"
    assert labeler.mode.value == LABEL_MODE and labeler.current == 42 and labeler.relabeling == 42
    assert "relabeling item 42" in labeler.caption.value

    labeler.label_buttons[int(y[42])].click()
    assert session.labels[42] == int(y[42])
    assert [(e.kind, e.label) for e in session.store.events()[-2:]] == [(RETRACT, wrong), (LABEL, int(y[42]))]
    assert labeler.mode.value == REVIEW_MODE and labeler.relabeling is None
    assert labeler.current == shown_before  # the item the person was labeling is back, unchanged
    labeler.wait()
    assert session.snapshot.label_dict()[42] == int(y[42])

    labeler.undo_button.click()
    assert session.labels[42] == wrong
    assert "earlier label again" in labeler.status.value
    assert labeler.current == shown_before
    assert not labeler.errors


def test_skip_leaves_a_label_opened_for_relabeling_as_it_was(digits, cleanup):
    labeler = make_labeler(digits, cleanup, n_labels=20)
    before = dict(labeler.session.labels)
    labeler.open_for_relabel(5)
    assert labeler.current == 5
    labeler.skip_button.click()
    assert labeler.session.labels == before and labeler.relabeling is None
    assert 5 not in labeler.session.skipped


def test_an_item_opened_for_relabeling_gets_its_why_line(digits, cleanup):
    labeler = make_labeler(digits, cleanup, n_labels=20)
    labeler.open_for_relabel(5)
    labeler.wait()
    assert labeler.current == 5 and not labeler.errors
    assert "looking" not in labeler.why.value and "score" in labeler.why.value


def test_keys_in_the_labeled_view_label_nothing(digits, cleanup):
    labeler = make_labeler(digits, cleanup, n_labels=20)
    labeler.mode.value = REVIEW_MODE
    before = len(labeler.session.store.events())
    labeler.handle_key("1")
    labeler.handle_key("s")
    assert len(labeler.session.store.events()) == before


def test_another_annotators_label_cannot_be_relabeled_and_the_page_says_why(digits, cleanup):
    X, y, X_test, y_test, _ = digits
    store = alw.store.MemoryStore()
    alice = alw.Session(LogisticRegression(max_iter=300), X, store=store, annotator="alice", classes=list(range(10)))
    alice.record(7, int(y[7]))
    bob = alw.Session(LogisticRegression(max_iter=300), X, store=store, annotator="bob", classes=list(range(10)))
    labeler = alw.Labeler(bob)
    cleanup(labeler)
    labeler.mode.value = REVIEW_MODE
    assert [r["annotator"] for r in labeler.review.rows()] == ["alice"]
    labeler.review.items.children[0].children[-1].click()
    assert "labeled by alice, not by 'bob'" in html.unescape(labeler.status.value)
    assert [e.kind for e in store.events()] == [LABEL]
