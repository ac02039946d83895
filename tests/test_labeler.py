"""The Labeler, driven headlessly the way a person drives it: buttons, keys, typed values."""

from __future__ import annotations

import html

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

import alwidgets as alw
from alwidgets.widgets.labeler import shortcut_keys


def digits_case():
    data = alw.datasets.load_digits()
    pool, test = alw.datasets.split(alw.datasets.Bunch(X=data.X[:400], y=data.y[:400], images=data.images[:400]))
    session = alw.Session(LogisticRegression(max_iter=300), pool.X, X_test=test.X, y_test=test.y, random_state=0)
    return session, pool.y, "image"


def texts_case():
    rng = np.random.RandomState(0)
    good = ["great", "moving", "brilliant", "funny"]
    bad = ["dull", "boring", "awful", "slow"]
    y = np.array(["fresh", "rotten"] * 40)
    texts = [
        " ".join(rng.choice(good if label == "fresh" else bad, 3)) + f" film <b>#{i}</b>" for i, label in enumerate(y)
    ]
    model = make_pipeline(TfidfVectorizer(), LogisticRegression())
    session = alw.Session(model, texts[:60], X_test=texts[60:], y_test=y[60:], random_state=0)
    return session, y[:60], "text"


def moons_case():
    data = alw.datasets.make_moons(n_samples=120)
    pool, test = alw.datasets.split(data)
    session = alw.Session(LogisticRegression(), pool.X, X_test=test.X, y_test=test.y, random_state=0)
    return session, pool.y, "point"


def sin_case():
    data = alw.datasets.load_sin(n_samples=80)
    pool, test = alw.datasets.split(data)
    session = alw.Session(GaussianProcessRegressor(), pool.X, "max_std", X_test=test.X, y_test=test.y, random_state=0)
    return session, pool.y, "regression_point"


CLASSIFICATION_CASES = [digits_case, texts_case, moons_case]
ALL_CASES = CLASSIFICATION_CASES + [sin_case]


def give_true_label(labeler, y_true):
    """What a person does: press the button of the shown item's class, or type its value."""
    idx = labeler.current
    if labeler.session.is_classifier:
        labeler.label_buttons[y_true[idx].item()].click()
    else:
        labeler.value.value = f"{y_true[idx]:.4f}"
        labeler.submit_button.click()
    return idx


# ---------------------------------------------------------------------- building


@pytest.mark.parametrize("case", ALL_CASES)
def test_labeler_shows_item_controls_progress_and_plots(case, cleanup):
    session, y_true, view = case()
    labeler = alw.Labeler(session)
    cleanup(labeler)
    labeler.wait()
    assert type(labeler.view).__name__.lower().startswith(view.replace("_", ""))
    assert "alw-labeler" in labeler._dom_classes
    assert "alw-instance" in labeler.instance._dom_classes
    assert f"item {labeler.current}" in labeler.caption.value
    assert labeler.caption in labeler.instance.children
    assert "0</b> labeled" in labeler.progress.value and f"{session.n_pool:,} in the pool" in labeler.progress.value
    assert "up to date" in labeler.status.value and "alw-status" in labeler.status._dom_classes
    assert labeler._plots and all(bytes(p["image"].value).startswith(b"\x89PNG") for p in labeler._plots)
    assert all("alw-plot" in p["image"]._dom_classes for p in labeler._plots)
    assert labeler.strategy.options == tuple(alw.strategies.available(session.learner))
    assert "alw-undo" in labeler.undo_button._dom_classes and "alw-skip" in labeler.skip_button._dom_classes
    if session.is_classifier:
        assert len(labeler.label_buttons) == len(session.classes)
        assert all("alw-label-button" in b._dom_classes for b in labeler.label_buttons.values())
    else:
        assert "alw-value" in labeler.value._dom_classes and "alw-submit" in labeler.submit_button._dom_classes


def test_plots_picked_for_the_data(cleanup):
    moons = alw.Labeler(moons_case()[0])
    sin = alw.Labeler(sin_case()[0])
    digits = alw.Labeler(digits_case()[0])
    for labeler in (moons, sin, digits):
        cleanup(labeler)
    assert [p["name"] for p in moons._plots] == ["learning_curve", "decision_boundary"]
    assert [p["name"] for p in sin._plots] == ["learning_curve", "regression"]
    assert [p["name"] for p in digits._plots] == ["learning_curve"]


# ---------------------------------------------------------------------- labeling


@pytest.mark.parametrize("case", ALL_CASES)
def test_a_label_is_recorded_and_the_next_item_shown(case, cleanup):
    session, y_true, _ = case()
    labeler = alw.Labeler(session)
    cleanup(labeler)
    labeler.wait()
    plots_before = [p["image"].value for p in labeler._plots]
    first = give_true_label(labeler, y_true)
    assert session.labels == {first: pytest.approx(y_true[first].item(), abs=1e-3)}
    assert labeler.current not in (None, first)
    assert f"item {labeler.current}" in labeler.caption.value
    assert "1</b> labeled" in labeler.progress.value
    for _ in range(3):
        give_true_label(labeler, y_true)
    labeler.wait()
    assert session.n_labeled == 4 and session.history[-1]["n_labels"] == 4
    plots_after = [p["image"].value for p in labeler._plots]
    assert all(a != b for a, b in zip(plots_before, plots_after, strict=True)), "every plot must redraw after labels"
    assert "up to date" in labeler.status.value


@pytest.mark.parametrize("case", CLASSIFICATION_CASES)
def test_why_shows_the_strategy_score_and_top_two_classes(case, cleanup):
    session, y_true, _ = case()
    labeler = alw.Labeler(session, y_true=y_true)
    cleanup(labeler)
    labeler.wait()
    assert "Picked at random" in labeler.why.value
    labeler.simulate(6)
    labeler.wait()
    assert session.is_fitted
    info = session.why(labeler.current)
    assert f"{info['strategy']} score {info['score']:.3f}" in labeler.why.value
    for cls, p in info["top_classes"]:
        assert f"{cls} ({p:.0%})" in labeler.why.value


def test_shortcut_keys_follow_the_classes():
    assert shortcut_keys([0, 1, 2]) == ["0", "1", "2"]  # digit classes keep their own key
    assert shortcut_keys(["cat", "dog"]) == ["1", "2"]
    assert shortcut_keys([f"c{i}" for i in range(12)]) == [*"123456789", "0", None, None]


def test_buttons_show_their_keys(cleanup):
    session = alw.Session(LogisticRegression(), np.random.RandomState(0).rand(30, 3), classes=["cat", "dog", "emu"])
    labeler = alw.Labeler(session)
    cleanup(labeler)
    assert [b.description for b in labeler.label_buttons.values()] == ["cat [1]", "dog [2]", "emu [3]"]
    assert labeler.undo_button.description == "Undo [Backspace]" and labeler.skip_button.description == "Skip [S]"
    assert set(labeler.key_listener.shortcuts) == {"1", "2", "3", "Backspace", "s"}


def test_keys_label_undo_and_skip(cleanup):
    session = alw.Session(LogisticRegression(), np.random.RandomState(0).rand(30, 3), classes=["cat", "dog"])
    labeler = alw.Labeler(session)
    cleanup(labeler)
    first = labeler.current
    labeler.handle_key("2")
    assert session.labels == {first: "dog"}
    second = labeler.current
    assert second != first

    labeler.handle_key("Backspace")
    assert session.labels == {}
    assert labeler.current == first, "undo shows the item that was taken back"

    labeler.handle_key("s")
    assert first in session.skipped and labeler.current not in (first, None)

    labeler.handle_key("7")  # no class has this key: nothing happens
    assert session.labels == {}
    labeler.wait()
    assert "up to date" in labeler.status.value


def test_key_messages_from_the_browser_reach_the_labeler(cleanup):
    session = alw.Session(LogisticRegression(), np.random.RandomState(0).rand(30, 3), classes=["cat", "dog"])
    labeler = alw.Labeler(session)
    cleanup(labeler)
    shown = labeler.current
    # The front end sends {"key": ...} through the widget's comm; this is the Python end of it.
    labeler.key_listener._receive(labeler.key_listener, {"key": "1"}, [])
    assert session.labels == {shown: "cat"}
    labeler.key_listener._receive(labeler.key_listener, {"key": "x"}, [])
    labeler.key_listener._receive(labeler.key_listener, {"nonsense": True}, [])
    assert session.n_labeled == 1


def test_keyboard_can_be_left_out(cleanup):
    session = alw.Session(LogisticRegression(), np.random.RandomState(0).rand(30, 3), classes=["cat", "dog"])
    labeler = alw.Labeler(session, keyboard=False)
    cleanup(labeler)
    assert labeler.key_listener is None
    assert not any(type(c).__name__ == "KeyListener" for c in labeler.children)


def test_undo_with_nothing_to_take_back_says_so(cleanup):
    session = alw.Session(LogisticRegression(), np.random.RandomState(0).rand(30, 3), classes=["cat", "dog"])
    labeler = alw.Labeler(session)
    cleanup(labeler)
    shown = labeler.current
    labeler.undo_button.click()
    assert "no label to take back" in labeler.status.value
    assert labeler.current == shown


def test_undo_after_the_model_learned_makes_it_forget(cleanup):
    session, y_true, _ = moons_case()
    labeler = alw.Labeler(session, y_true=y_true)
    cleanup(labeler)
    labeler.simulate(6)
    labeler.wait()
    last = list(session.my_labels)[-1]
    labeler.undo_button.click()
    labeler.wait()
    assert last not in session.labels and labeler.current == last
    assert len(session.learner.X_training) == 5
    assert "5</b> labeled" in labeler.progress.value


# ---------------------------------------------------------------------- strategy


def test_strategy_can_be_switched_any_time(cleanup):
    session, y_true, _ = digits_case()
    labeler = alw.Labeler(session, y_true=y_true)
    cleanup(labeler)
    labeler.simulate(5)
    labeler.strategy.value = "entropy"
    assert session.strategy == "entropy"
    labeler.wait()
    assert "entropy score" in labeler.why.value
    labeler.simulate(2)
    labeler.wait()
    assert session.history[-1]["strategy"] == "entropy"


def test_strategy_options_are_those_valid_for_the_model(cleanup):
    regression = alw.Labeler(sin_case()[0])
    classification = alw.Labeler(moons_case()[0])
    for labeler in (regression, classification):
        cleanup(labeler)
    assert "max_std" in regression.strategy.options and "margin" not in regression.strategy.options
    assert "margin" in classification.strategy.options and "max_std" not in classification.strategy.options
    assert "vote_entropy" not in classification.strategy.options  # needs a committee


# ---------------------------------------------------------------------- regression entry


def test_regression_value_is_recorded(cleanup):
    session, _, _ = sin_case()
    labeler = alw.Labeler(session)
    cleanup(labeler)
    shown = labeler.current
    labeler.value.value = " 0,25 "
    labeler.submit_button.click()
    assert session.labels == {shown: 0.25}
    assert labeler.value.value == "" and labeler.current != shown


@pytest.mark.parametrize("typed", ["abc", "", "nan", "inf", "1e400", "1.2.3"])
def test_bad_regression_input_records_nothing(typed, cleanup):
    session, _, _ = sin_case()
    labeler = alw.Labeler(session)
    cleanup(labeler)
    shown = labeler.current
    labeler.value.value = typed
    labeler.submit_button.click()
    assert session.labels == {}
    assert labeler.current == shown
    message = html.unescape(labeler.status.value)
    assert "is not a number" in message and repr(typed) in message


# ---------------------------------------------------------------------- batch mode


def test_batch_of_images_is_a_grid_submitted_together(cleanup):
    session, y_true, _ = digits_case()
    labeler = alw.Labeler(session, batch_size=4)
    cleanup(labeler)
    batch = list(labeler.shown)
    assert len(batch) == 4 and len(set(batch)) == 4
    grid = labeler.instance.children[1]
    assert type(grid).__name__ == "GridBox" and len(grid.children) == 4
    assert all(f"item {idx}" in cell["box"].children[0].value for idx, cell in zip(batch, labeler._cells, strict=True))
    for cell in labeler._cells[:3]:
        cell["control"].value = y_true[cell["idx"]].item()
    labeler.submit_button.click()
    assert session.labels == {idx: y_true[idx].item() for idx in batch[:3]}
    assert batch[3] not in session.labels and batch[3] not in session.skipped  # back to the pool
    assert len(labeler.shown) == 4 and not set(labeler.shown) & set(batch[:3])
    labeler.wait()
    assert session.history[-1]["n_labels"] == 3


def test_batch_of_texts_is_a_list_filled_by_keys(cleanup):
    session, y_true, _ = texts_case()
    labeler = alw.Labeler(session, batch_size=3)
    cleanup(labeler)
    assert type(labeler.instance.children[1]).__name__ == "VBox"
    batch = list(labeler.shown)
    assert all("&lt;b&gt;" in cell["view"].value and "<b>#" not in cell["view"].value for cell in labeler._cells)
    labeler.handle_key("2")
    labeler.handle_key("1")
    assert [c["control"].value for c in labeler._cells] == ["rotten", "fresh", None]
    labeler.handle_key("Enter")
    assert session.labels == {batch[0]: "rotten", batch[1]: "fresh"}


def test_empty_batch_submit_says_what_to_do(cleanup):
    session, _, _ = moons_case()
    labeler = alw.Labeler(session, batch_size=3)
    cleanup(labeler)
    labeler.submit_button.click()
    assert session.labels == {} and "choose a label for at least one item" in labeler.status.value


def test_batch_undo_takes_back_the_whole_batch(cleanup):
    session, y_true, _ = moons_case()
    labeler = alw.Labeler(session, batch_size=3, y_true=y_true)
    cleanup(labeler)
    labeler.simulate(3)
    labeler.simulate(3)
    second_batch = sorted(i for i in session.labels if i not in list(session.my_labels)[:3])
    labeler.undo_button.click()
    assert session.n_labeled == 3
    assert sorted(labeler.shown) == second_batch
    assert [c["control"].value for c in labeler._cells] == [y_true[c["idx"]].item() for c in labeler._cells]


class RefusesOneRetraction(alw.store.MemoryStore):
    """A store whose first write that retracts a label fails, as a database that drops a connection would."""

    def __init__(self):
        super().__init__()
        self.refusals = 1

    def append_many(self, events):
        if self.refusals and any(e.kind == alw.store.RETRACT for e in events):
            self.refusals -= 1
            raise alw.store.StoreError("the database went away")
        return super().append_many(events)


def test_a_failed_undo_keeps_the_batch_and_the_next_undo_takes_back_exactly_that_batch(cleanup):
    session, y_true, _ = moons_case()
    session = alw.Session(LogisticRegression(), session.X_pool, store=RefusesOneRetraction(), classes=[0, 1],
                          random_state=0)
    labeler = alw.Labeler(session, batch_size=3, y_true=y_true, plots=None)
    cleanup(labeler)
    labeler.simulate(3)
    first = dict(session.labels)
    labeler.simulate(3)
    second = {i: y for i, y in session.labels.items() if i not in first}
    assert len(first) == 3 and len(second) == 3

    labeler.undo_button.click()  # the store refuses: nothing is taken back, and the page says so
    assert session.labels == {**first, **second}
    assert "database went away" in html.unescape(labeler.status.value) and labeler.errors

    labeler.undo_button.click()  # the whole last batch, and only it
    assert session.labels == first
    assert sorted(labeler.shown) == sorted(second)
    assert {c["idx"]: c["control"].value for c in labeler._cells} == second, "shown again with their labels"
    assert "⚠" not in labeler.status.value

    labeler.undo_button.click()  # then the batch before, whole
    assert session.labels == {}
    assert sorted(labeler.shown) == sorted(first)


def test_undo_of_a_relabel_says_the_earlier_label_is_back(cleanup):
    session = alw.Session(LogisticRegression(), np.random.RandomState(0).rand(30, 2), classes=["cat", "dog"])
    labeler = alw.Labeler(session, plots=None)
    cleanup(labeler)
    first = labeler.current
    labeler.label_buttons["cat"].click()
    shown = labeler.current
    labeler.open_for_relabel(first)
    assert labeler.current == first and labeler.relabeling == first
    labeler.label_buttons["dog"].click()
    assert session.labels[first] == "dog" and labeler.current == shown and labeler.relabeling is None
    labeler.undo_button.click()
    assert session.labels[first] == "cat" and labeler.current == shown
    message = html.unescape(labeler.status.value)
    assert "earlier label again ('cat'" in message and "relabel to 'dog'" in message
    assert not labeler.errors


def test_simulate_matches_true_labels_to_classes_by_the_engines_rule(cleanup):
    X = np.random.RandomState(0).rand(30, 2)
    session = alw.Session(LogisticRegression(), X, classes=[0, 1])
    y_true = np.arange(30) % 2
    numbers = alw.Labeler(session, y_true=y_true, plots=None)  # np.int64(1) is class 1
    cleanup(numbers)
    numbers.simulate(4)
    assert session.labels == {i: int(y_true[i]) for i in session.labels} and len(session.labels) == 4
    assert all(type(y) is int for y in session.labels.values())
    texts = alw.Labeler(alw.Session(LogisticRegression(), X, classes=[0, 1]), y_true=np.array(["0", "1"] * 15),
                        plots=None)
    cleanup(texts)
    with pytest.raises(ValueError, match="not one of the known classes"):  # "1" is not class 1
        texts.simulate(1)
    assert texts.session.labels == {}


def test_show_progress_redraws_the_progress_line_from_another_thread(cleanup):
    import threading

    session = alw.Session(LogisticRegression(), np.random.RandomState(0).rand(30, 2), classes=["cat", "dog"])
    labeler = alw.Labeler(session, plots=None)
    cleanup(labeler)
    labeler.wait()
    session.record(29 if labeler.current != 29 else 28, "cat")  # a label the page has not drawn yet
    assert "0</b> labeled" in labeler.progress.value
    poll = threading.Thread(target=labeler.show_progress)
    poll.start()
    poll.join()
    assert "1</b> labeled" in labeler.progress.value


def test_batch_regression_rejects_bad_values(cleanup):
    session, _, _ = sin_case()
    labeler = alw.Labeler(session, batch_size=2)
    cleanup(labeler)
    labeler._cells[0]["control"].value = "0.5"
    labeler._cells[1]["control"].value = "abc"
    labeler.submit_button.click()
    assert session.labels == {} and "'abc' is not a number" in html.unescape(labeler.status.value)


# ---------------------------------------------------------------------- never make the person wait


def test_worker_keeps_every_label_in_order_under_fast_clicks(cleanup):
    session, y_true, _ = digits_case()
    labeler = alw.Labeler(session)
    cleanup(labeler)
    given = []
    for _ in range(25):
        given.append(give_true_label(labeler, y_true))
    assert len(set(given)) == 25, "each click showed a new item at once"
    labeler.wait()
    assert list(session.labels) == given
    assert list(session.my_labels) == given
    assert len(session.learner.X_training) == 25
    counts = [h["n_labels"] for h in session.history]
    versions = [h["model_version"] for h in session.history]
    assert counts == sorted(counts) and counts[-1] == 25
    assert versions == sorted(versions) and session.model_version == versions[-1]
    assert "25</b> labeled" in labeler.progress.value
    assert f"version {session.model_version}" in labeler.status.value
    assert labeler.errors == []


def test_sync_mode_updates_everything_inside_the_click(cleanup):
    session, y_true, _ = moons_case()
    labeler = alw.Labeler(session, sync=True)
    cleanup(labeler)
    for _ in range(6):
        give_true_label(labeler, y_true)
    assert session.is_fitted
    before = [p["image"].value for p in labeler._plots]
    give_true_label(labeler, y_true)
    after = [p["image"].value for p in labeler._plots]  # no wait(): the click did it all
    assert all(a != b for a, b in zip(before, after, strict=True))
    assert session.history[-1]["n_labels"] == 7 and session.is_current


class FailsAfterTwoLabels(LogisticRegression):
    """A model that breaks once it sees a third label, like a real model might on bad data."""

    def fit(self, X, y, sample_weight=None):
        if len(y) > 2:
            raise RuntimeError("the solver ran out of patience")
        return super().fit(X, y, sample_weight)


@pytest.mark.parametrize("sync", [False, True])
def test_errors_of_the_model_update_show_in_the_status_line(sync, cleanup):
    X = np.random.RandomState(0).rand(30, 2)
    session = alw.Session(FailsAfterTwoLabels(), X, classes=[0, 1], random_state=0)
    labeler = alw.Labeler(session, sync=sync, plots=None)
    cleanup(labeler)
    labeler.label_buttons[0].click()
    labeler.label_buttons[1].click()
    labeler.wait()
    assert "⚠" not in labeler.status.value
    labeler.label_buttons[1].click()
    labeler.wait()
    assert "model update failed" in labeler.status.value and "ran out of patience" in labeler.status.value
    assert session.n_labeled == 3, "the label is kept even though the model failed"
    assert labeler.errors and "ran out of patience" in labeler.errors[-1]
    labeler.skip_button.click()  # a later update that has nothing to fit keeps the error visible
    labeler.wait()
    assert "ran out of patience" in labeler.status.value


def test_status_says_model_updating_while_the_worker_runs(cleanup):
    session, y_true, _ = digits_case()
    labeler = alw.Labeler(session)
    cleanup(labeler)
    labeler.wait()
    seen = []
    labeler.status.observe(lambda change: seen.append(change["new"]), names="value")
    give_true_label(labeler, y_true)
    labeler.wait()
    assert any("model updating" in value for value in seen)
    assert "up to date" in seen[-1]


# ---------------------------------------------------------------------- budget, baseline, simulate


def test_budget_stops_labeling_and_undo_resumes(cleanup):
    session, y_true, _ = moons_case()
    labeler = alw.Labeler(session, budget=2, y_true=y_true)
    cleanup(labeler)
    labeler.simulate(2)
    assert labeler.current is None and "Budget of 2 labels reached" in labeler.caption.value
    assert all(b.disabled for b in labeler.label_buttons.values())
    assert "budget 2/2" in labeler.progress.value
    labeler.handle_key("1")
    assert session.n_labeled == 2
    labeler.handle_key("Backspace")
    assert labeler.current is not None and not any(b.disabled for b in labeler.label_buttons.values())


def test_learning_curve_draws_the_random_baseline_dashed(cleanup):
    session, y_true, _ = moons_case()
    labeler = alw.Labeler(session, y_true=y_true, sync=True)
    cleanup(labeler)
    labeler.simulate(8)
    ax = labeler._plots[0]["ax"]
    dashed = [line for line in ax.lines if line.get_linestyle() == "--"]
    assert len(dashed) == 1
    assert max(dashed[0].get_xdata()) == 8


def test_without_true_labels_there_is_no_baseline(cleanup):
    session, y_true, _ = moons_case()
    labeler = alw.Labeler(session, sync=True)
    cleanup(labeler)
    for _ in range(4):
        give_true_label(labeler, y_true)
    assert not [line for line in labeler._plots[0]["ax"].lines if line.get_linestyle() == "--"]
    with pytest.raises(ValueError, match="y_true"):
        labeler.simulate(2)


# ---------------------------------------------------------------------- bad arguments


def test_arguments_are_checked_with_clear_errors():
    X = np.random.RandomState(0).rand(20, 2)
    unknown_classes = alw.Session(LogisticRegression(), X)
    with pytest.raises(ValueError, match="pass classes="):
        alw.Labeler(unknown_classes)
    known = alw.Session(LogisticRegression(), X, classes=[0, 1])
    with pytest.raises(ValueError, match=r"\[7\] are not among"):
        alw.Labeler(known, classes=[0, 7])
    with pytest.raises(ValueError, match="batch_size must be at least 1"):  # the engine's check_int
        alw.Labeler(known, batch_size=0)
    with pytest.raises(TypeError, match="budget must be an integer"):
        alw.Labeler(known, budget=2.5)
    with pytest.raises(ValueError, match="one true label per pool item"):
        alw.Labeler(known, y_true=[0, 1])
    with pytest.raises(ValueError, match="unknown plots"):
        alw.Labeler(known, plots=["pie"])
    regression = alw.Session(GaussianProcessRegressor(), X[:, :1], "max_std")
    with pytest.raises(ValueError, match="classes is for classifiers"):
        alw.Labeler(regression, classes=[0, 1])


def test_a_custom_view_callable_is_used(cleanup):
    import ipywidgets as widgets

    session = alw.Session(LogisticRegression(), np.random.RandomState(0).rand(20, 2), classes=[0, 1])
    labeler = alw.Labeler(session, view=lambda s, idx: widgets.Label(f"custom view of {idx}"))
    cleanup(labeler)
    assert labeler.instance.children[1].value == f"custom view of {labeler.current}"
