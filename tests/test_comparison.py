"""Classroom mode: strategies racing on the same pool with a simulated oracle.

The engine (:class:`alwidgets.experiments.comparison.Comparison`) is tested without
Jupyter; the widget (:class:`alwidgets.StrategyComparison`) by pressing its
buttons and reading its Python state.
"""

from __future__ import annotations

import numpy as np
import pytest
from modAL.models import ActiveLearner, Committee
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.linear_model import LogisticRegression

import alwidgets as alw
from alwidgets.experiments.comparison import YOU, Comparison, labels_saved
from alwidgets.experiments.curves import history_points, labels_to_reach, smooth


@pytest.fixture(scope="module")
def moons():
    return alw.datasets.make_moons(n_samples=200, random_state=0)


@pytest.fixture(scope="module")
def blobs():
    return alw.datasets.make_blobs(n_samples=240, centers=3, random_state=0)


def race(data, strategies=("random", "margin"), **kwargs):
    kwargs.setdefault("random_state", 0)
    kwargs.setdefault("budget", 12)
    return Comparison(LogisticRegression(), data.X, data.y, strategies, **kwargs)


def trace(comparison):
    """What a person would compare between two runs: labels asked, in order, and the curves."""
    return {
        name: (list(s.labels.items()), [(h["n_labels"], h["score"]) for h in s.history])
        for name, s in comparison.sessions.items()
    }


# ---------------------------------------------------------------------- racing


@pytest.mark.parametrize("batch_size", [1, 3])
@pytest.mark.parametrize(
    "strategies",
    [("random", "margin"), ("random", "least_confident", "entropy", "vote_entropy"), ("margin", "consensus_entropy")],
)
def test_every_lane_gets_the_same_number_of_labels(blobs, strategies, batch_size):
    comparison = race(blobs, strategies, batch_size=batch_size)
    n_steps = 3

    for _ in range(n_steps):
        asked = comparison.step()
        assert set(asked) == set(comparison.strategy_names)

    for name, session in comparison.sessions.items():
        assert comparison.used(name) == n_steps * batch_size
        assert session.n_labeled == comparison.n_initial + n_steps * batch_size
        assert session.history[-1]["n_labels"] == session.n_labeled
        assert session.history[-1]["score"] is not None
        learner_y = alw._learners.training_data(session.learner)[1]
        assert len(learner_y) == session.n_labeled  # the learner itself was taught every label


def test_lanes_start_from_the_same_initial_labels_one_per_class(blobs):
    comparison = race(blobs, ("random", "margin", "entropy"))

    assert sorted(blobs.y[comparison.initial]) == [0, 1, 2]
    for session in comparison.sessions.values():
        assert sorted(session.labels) == sorted(comparison.initial)
        assert session.history[0]["n_labels"] == 3


def test_random_is_added_as_the_reference_when_missing(moons):
    comparison = race(moons, ["margin", "entropy"])

    assert comparison.strategy_names == ["random", "margin", "entropy"]
    assert set(comparison.labels_saved()) == {"margin", "entropy"}


def test_committee_strategy_races_with_a_committee(moons):
    comparison = race(moons, ["random", "vote_entropy"])
    comparison.run(4)

    assert isinstance(comparison.sessions["vote_entropy"].learner, Committee)
    assert isinstance(comparison.sessions["random"].learner, ActiveLearner)
    assert comparison.used("vote_entropy") == 4


def test_run_stops_when_the_budget_is_spent(moons):
    comparison = race(moons, budget=7, batch_size=3)

    assert comparison.steps_left() == 3
    comparison.run()

    assert comparison.done
    assert all(comparison.used(name) == 7 for name in comparison.names)  # 3 + 3 + 1
    assert comparison.step() == {}


def test_raising_the_budget_lets_the_race_go_on(moons):
    comparison = race(moons, budget=2)
    comparison.run()
    comparison.budget = 4
    comparison.run()

    assert comparison.used("margin") == 4


def test_next_query_is_what_the_next_step_asks(moons):
    comparison = race(moons, ["random", "margin"])
    comparison.step()
    ringed = {name: comparison.next_query(name) for name in comparison.names}

    asked = comparison.step()

    assert asked == ringed


def test_same_seed_same_race_other_seed_other_race(blobs):
    strategies = ("random", "margin", "vote_entropy")
    first = race(blobs, strategies, random_state=0, oracle_noise=0.2)
    second = race(blobs, strategies, random_state=0, oracle_noise=0.2)
    other = race(blobs, strategies, random_state=1, oracle_noise=0.2)
    for comparison in (first, second, other):
        comparison.run(6)

    assert trace(first) == trace(second)
    assert trace(first)["random"] != trace(other)["random"]


def test_active_learning_beats_random_on_moons(moons):
    """The classroom point: an uncertainty strategy reaches random's final score with fewer labels."""
    comparison = race(moons, ["random", "margin"], budget=30)
    comparison.run()

    saved = comparison.labels_saved()["margin"]

    assert saved.needed is not None and saved.saved > 0
    assert saved.target == comparison.scores()["random"]


# ---------------------------------------------------------------------- the oracle


@pytest.mark.parametrize("noise", [0.0, 0.1, 0.35, 1.0])
def test_noise_flips_the_chosen_fraction_of_answers_to_a_wrong_class(blobs, noise):
    comparison = race(blobs, oracle_noise=noise)
    answers = np.array([comparison.answer(i) for i in range(comparison.n_pool)])
    wrong = answers != blobs.y

    assert wrong.sum() == round(noise * comparison.n_pool)
    assert set(answers) <= set(blobs.y)  # a wrong answer is another real class
    assert all(comparison.is_wrong(i) == wrong[i] for i in range(comparison.n_pool))


def test_noisy_answers_reach_the_learners_and_are_counted(blobs):
    comparison = race(blobs, ("random", "margin"), oracle_noise=0.3, budget=40, batch_size=5)
    comparison.run()

    for name, session in comparison.sessions.items():
        asked = [i for i in session.labels if i not in comparison.initial]
        mismatches = sum(session.labels[i] != blobs.y[i] for i in asked)
        assert mismatches == comparison.wrong_answers[name]
    random_wrong = comparison.wrong_answers["random"] / 40
    assert 0.1 < random_wrong < 0.5  # random picks items independently of which ones are wrong


def test_more_noise_keeps_the_earlier_mistakes(blobs):
    """Raising the slider adds wrong answers; it never makes a wrong answer right."""
    comparison = race(blobs, oracle_noise=0.1)
    wrong_low = {i for i in range(comparison.n_pool) if comparison.is_wrong(i)}
    comparison.oracle_noise = 0.3
    wrong_high = {i for i in range(comparison.n_pool) if comparison.is_wrong(i)}

    assert wrong_low < wrong_high


def test_regression_race_and_noise_replace_values():
    data = alw.datasets.load_sin(n_samples=80, random_state=0)
    comparison = Comparison(GaussianProcessRegressor(), data.X, data.y, None, random_state=0, budget=5,
                            oracle_noise=0.5)
    comparison.run()

    assert comparison.strategy_names == ["random", "max_std"]
    assert all(comparison.used(name) == 5 for name in comparison.names)
    answers = np.array([comparison.answer(i) for i in range(comparison.n_pool)])
    assert (answers != data.y).sum() == 40
    assert np.isin(answers, data.y).all()  # a wrong value is another item's value


# ---------------------------------------------------------------------- labels saved


def curve(points):
    return [{"n_labels": n, "score": s} for n, s in points]


def test_labels_to_reach_is_the_first_point_at_or_above_the_target():
    n, scores = history_points(curve([(2, None), (10, 0.5), (20, 0.8), (30, 0.7), (40, 0.9)]))

    assert n.tolist() == [10, 20, 30, 40]  # an entry without a score is no point of the curve
    assert labels_to_reach(n, scores, 0.8) == 20
    assert labels_to_reach(n, scores, 0.85) == 40
    assert labels_to_reach(n, scores, 0.95) is None


def test_labels_saved_on_a_hand_built_curve():
    curves = {
        "random": curve([(10, 0.5), (20, 0.6), (30, 0.7), (40, 0.8), (50, 0.9)]),
        "margin": curve([(10, 0.5), (20, 0.9), (30, 0.95)]),
        "entropy": curve([(10, 0.5), (20, 0.6)]),
    }

    result = labels_saved(curves)  # target: random's last score, 0.9

    assert result["margin"].target == 0.9
    assert (result["margin"].needed, result["margin"].reference_needed) == (20, 50)
    assert result["margin"].saved == 30
    assert result["margin"].ratio == pytest.approx(2.5)
    assert "2.5x fewer" in result["margin"].describe()
    assert result["entropy"].needed is None and result["entropy"].saved is None
    assert "not reached" in result["entropy"].describe()


def test_labels_saved_is_a_lower_bound_when_random_falls_short():
    curves = {"random": curve([(10, 0.5), (40, 0.7)]), "margin": curve([(10, 0.5), (20, 0.85)])}

    result = labels_saved(curves, target=0.8)["margin"]

    assert result.reference_needed is None and result.lower_bound
    assert (result.saved, result.ratio) == (20, 2.0)
    assert "vs more than 40 for random (at least 2.0x fewer" in result.describe()


def test_labels_saved_needs_the_reference():
    with pytest.raises(ValueError, match="reference 'random'"):
        labels_saved({"margin": curve([(10, 0.5)])})
    with pytest.raises(ValueError, match="no score yet"):
        labels_saved({"random": curve([(1, None)]), "margin": curve([(1, None)])})


# ---------------------------------------------------------------------- you vs the strategies


def test_your_picks_are_answered_and_taught_on_the_same_budget(moons):
    comparison = race(moons, budget=3)
    candidates = comparison.candidates(5)

    assert len(candidates) == 5 and not set(candidates) & set(comparison.initial)
    assert comparison.candidates(5) == candidates  # they stay put while you think
    label = comparison.pick(candidates[2])

    you = comparison.sessions[YOU]
    assert label == moons.y[candidates[2]]
    assert you.labels[candidates[2]] == label and comparison.used(YOU) == 1
    assert sorted(set(you.labels) - {candidates[2]}) == sorted(comparison.initial)
    fresh = comparison.candidates(5)
    assert candidates[2] not in fresh and set(candidates) - {candidates[2]} <= set(fresh)
    with pytest.raises(ValueError, match="already labeled"):
        comparison.pick(candidates[2])
    comparison.pick(fresh[0])
    comparison.pick(fresh[1])
    with pytest.raises(ValueError, match="budget of 3 labels is spent"):
        comparison.pick(fresh[3])
    assert "you" in comparison.labels_saved()


def test_steps_do_not_move_your_lane(moons):
    comparison = race(moons)
    comparison.add_you()
    comparison.run(3)

    assert comparison.used(YOU) == 0
    assert not comparison.done  # the strategies have budget left; you are not waited for


# ---------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "strategies, error, match",
    [
        (["margin"], ValueError, "2 to 6 strategies"),
        (["random"], ValueError, "2 to 6 strategies"),
        (["random", "margin", "entropy", "least_confident", "vote_entropy", "consensus_entropy",
          "max_disagreement"], ValueError, "got 7"),
        (["margin", "entropy", "least_confident", "vote_entropy", "consensus_entropy", "max_disagreement"],
         ValueError, "at most 5 others"),
        (["random", "best_guess"], ValueError, "unknown strategy 'best_guess'"),
        (["random", "margin", "margin"], ValueError, "twice"),
        (["random", "you"], ValueError, "person's own lane"),
        (["random", "max_std"], ValueError, "strategy 'max_std' cannot race"),
        ("margin", TypeError, "list of names"),
    ],
)
def test_bad_strategies_are_refused(moons, strategies, error, match):
    with pytest.raises(error, match=match):
        Comparison(LogisticRegression(), moons.X, moons.y, strategies)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"oracle_noise": 1.5}, ValueError, "oracle_noise must be between 0"),
        ({"oracle_noise": "lots"}, TypeError, "oracle_noise must be a number"),
        ({"budget": 0}, ValueError, "budget must be at least 1"),
        ({"budget": 500}, ValueError, "larger than the unlabeled pool"),
        ({"batch_size": 0}, ValueError, "batch_size must be at least 1"),
        ({"n_initial": 200}, ValueError, "leaves nothing to ask"),
        ({"n_members": 1}, ValueError, "n_members"),
        ({"X_test": np.zeros((3, 2))}, ValueError, "X_test and y_test go together"),
    ],
)
def test_bad_settings_are_refused(moons, kwargs, error, match):
    with pytest.raises(error, match=match):
        Comparison(LogisticRegression(), moons.X, moons.y, ["random", "margin"], **kwargs)


def test_bad_model_and_data_are_refused(moons):
    with pytest.raises(TypeError, match="not a modAL learner"):
        Comparison(ActiveLearner(LogisticRegression()), moons.X, moons.y)
    with pytest.raises(ValueError, match="one label per pool item"):
        Comparison(LogisticRegression(), moons.X, moons.y[:-1])
    with pytest.raises(ValueError, match="single class"):
        Comparison(LogisticRegression(), moons.X, np.zeros(len(moons.y)))
    with pytest.raises(ValueError, match="must be 2-D"):
        Comparison(LogisticRegression(), moons.X.ravel(), moons.y)


def test_changing_settings_mid_race_validates_first(moons):
    comparison = race(moons)
    with pytest.raises(ValueError):
        comparison.oracle_noise = -0.1
    with pytest.raises(ValueError):
        comparison.budget = 10_000

    assert (comparison.oracle_noise, comparison.budget) == (0.0, 12)


# ---------------------------------------------------------------------- the widget


def comparison_widget(data, strategies=("random", "margin"), **kwargs):
    kwargs.setdefault("random_state", 0)
    kwargs.setdefault("budget", 10)
    kwargs.setdefault("speed", 20.0)
    return alw.StrategyComparison(LogisticRegression(), data.X, data.y, strategies, **kwargs)


def wait_for(condition, timeout=120.0):
    """Poll ``condition`` until it holds; ``timeout`` only ends a test that would otherwise hang."""
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"the condition did not hold within {timeout} s"
        time.sleep(0.02)


def test_step_button_asks_one_query_per_panel_and_redraws(moons):
    widget = comparison_widget(moons, ("random", "margin", "vote_entropy"))
    before = {name: image.value for name, image in widget.panel_images.items() if image.value}
    curve_before = widget.curve_image.value

    widget.step_button.click()
    assert widget.wait(60)

    assert all(widget.race.used(name) == 1 for name in widget.race.strategy_names)
    assert all(widget.panel_images[name].value != png for name, png in before.items())
    assert widget.curve_image.value != curve_before
    assert "step 1" in widget.status.value and "paused" in widget.status.value


@pytest.mark.parametrize("batch_size", [1, 4])
def test_run_teaches_every_panel_the_same_number_of_labels(blobs, batch_size):
    widget = comparison_widget(blobs, ("random", "least_confident", "entropy"), batch_size=batch_size, budget=20)

    widget.run(3)

    for name in widget.race.strategy_names:
        session = widget.race.sessions[name]
        assert widget.race.used(name) == 3 * batch_size
        assert len(alw._learners.training_data(session.learner)[1]) == widget.race.n_initial + 3 * batch_size
        assert f"{3 * batch_size}/20 labels asked" in widget.panel_captions[name].value


def test_play_runs_off_the_click_path_and_pause_stops_within_one_step(moons):
    widget = comparison_widget(moons, budget=150)

    widget.play_button.click()
    assert widget.running and widget.play_button.disabled  # click returned while the race runs
    wait_for(lambda: widget.race.n_steps >= 2)
    widget.pause_button.click()
    steps_at_pause = widget.race.n_steps
    assert widget.wait(120)

    assert steps_at_pause <= widget.race.n_steps <= steps_at_pause + 1
    assert not widget.race.done and not widget.running
    assert "paused" in widget.status.value and not widget.play_button.disabled


def test_every_step_press_counts_and_the_queue_is_shown(moons, monkeypatch):
    import threading

    widget = comparison_widget(moons, ("random", "margin", "entropy"), budget=40)
    assert widget.wait(120)  # the first drawing is done
    gate, stepping, step = threading.Event(), threading.Event(), widget.race.step

    def held_step():  # a step that lasts until the test has pressed five times
        stepping.set()
        assert gate.wait(120), "the test never let the step finish"
        return step()

    monkeypatch.setattr(widget.race, "step", held_step)
    try:
        for _ in range(5):
            widget.step_button.click()  # faster than a step: presses queue up
        assert stepping.wait(60), "the first press started no step"
        assert not widget.step_button.disabled
        assert widget.queued >= 1 and "queued" in widget.status.value
    finally:
        gate.set()
    assert widget.wait(120)
    assert widget.race.n_steps == 5 and widget.queued == 0
    assert "paused" in widget.status.value


def test_two_widgets_with_the_same_seed_and_presses_give_the_same_race(blobs):
    curves = []
    for _ in range(2):
        widget = comparison_widget(blobs, ("random", "margin"), budget=20)
        for _ in range(4):
            widget.step_button.click()
        assert widget.wait(120)
        curves.append(widget.race.curves)
    assert [[(h["n_labels"], h["score"]) for h in c["margin"]] for c in curves][0] == \
        [[(h["n_labels"], h["score"]) for h in c["margin"]] for c in curves][1]
    assert len(curves[0]["margin"]) == 1 + 4  # the initial fit and one per press


def test_pause_shows_at_once(moons):
    widget = comparison_widget(moons, budget=150)
    widget.play_button.click()
    wait_for(lambda: widget.race.n_steps >= 1)
    widget.pause_button.click()
    # before the step in progress has finished: the buttons and the status already say so
    assert widget.pause_button.disabled and not widget.play_button.disabled
    assert "playing" not in widget.status.value
    assert widget.wait(120)


def test_a_failed_run_is_reported_once_and_a_good_run_clears_it(moons, monkeypatch):
    widget = comparison_widget(moons, budget=20)
    original = widget.race.step

    def broken():
        raise RuntimeError("the model exploded")

    monkeypatch.setattr(widget.race, "step", broken)
    with pytest.raises(RuntimeError, match="exploded"):
        widget.run(1, timeout=30)
    assert "exploded" in widget.status.value and not widget.running
    monkeypatch.setattr(widget.race, "step", original)
    widget.run(2, timeout=60)  # does not re-raise the old error
    assert "exploded" not in widget.status.value and "paused" in widget.status.value
    assert widget.race.n_steps == 2


def test_reset_restarts_the_race_from_the_same_start(moons):
    widget = comparison_widget(moons, budget=10)
    widget.run(3)
    first_race = widget.race
    widget.noise_slider.value = 0.1
    widget.reset_button.click()
    assert widget.race is not first_race and widget.race.n_steps == 0
    assert widget.race.initial == first_race.initial and widget.race.oracle_noise == 0.1
    assert widget.race.sessions["margin"].n_labeled == first_race.n_initial


def test_the_widget_wraps_a_race_it_is_given(moons):
    race = alw.Comparison(LogisticRegression(), moons.X, moons.y, ["random", "margin"], budget=5, random_state=0)
    widget = alw.StrategyComparison(race, speed=20.0)
    assert widget.race is race
    widget.run(2)
    assert race.n_steps == 2
    with pytest.raises(TypeError, match="not both"):
        alw.StrategyComparison(race, budget=5)


def test_play_stops_when_the_budget_is_spent(moons):
    widget = comparison_widget(moons, budget=3)

    widget.play_button.click()
    assert widget.wait(60)

    assert widget.race.done and widget.race.n_steps == 3
    assert "budget spent" in widget.status.value
    widget.budget_input.value = 5
    widget.run(2)
    assert widget.race.used("margin") == 5


def test_same_seed_same_race_in_the_widget(blobs):
    first = comparison_widget(blobs, ("random", "margin", "consensus_entropy"))
    second = comparison_widget(blobs, ("random", "margin", "consensus_entropy"))
    first.run(4)
    second.run(4)

    assert trace(first.race) == trace(second.race)
    first.reset()
    assert first.race.used("margin") == 0
    first.run(4)
    assert trace(first.race) == trace(second.race)


def test_noise_slider_makes_the_oracle_lie(blobs):
    widget = comparison_widget(blobs, budget=30, batch_size=10)

    widget.noise_slider.value = 0.3
    widget.run(3)

    assert widget.race.oracle_noise == 0.3
    assert widget.race.wrong_answers["random"] > 0
    assert "wrong answer" in widget.panel_captions["random"].value
    assert "oracle wrong on 30% of items" in widget.status.value


def test_target_score_sets_the_labels_saved_readout(moons):
    widget = comparison_widget(moons, budget=20)
    widget.run(8)

    widget.target_input.value = "0.8"
    assert widget.target == 0.8
    assert "to reach accuracy 0.800" in widget.saved_html.value
    expected = widget.race.labels_saved(0.8)["margin"]
    assert f"<td style='padding:0 8px'>{expected.needed if expected.needed else 'not yet'}</td>" in (
        widget.saved_html.value
    )

    widget.target_input.value = "high"
    assert "target must be a number" in widget.saved_html.value
    widget.target_input.value = ""
    assert widget.target is None


def test_you_mode_adds_your_panel_and_answers_your_pick(moons):
    widget = comparison_widget(moons, budget=5, n_candidates=6)
    assert widget.panels[YOU] not in widget._grid.children

    widget.you_toggle.value = True
    assert widget.panels[YOU] in widget._grid.children
    assert len(widget.candidate_dropdown.options) == 6
    first_png = widget.panel_images[YOU].value
    chosen = widget.candidate_dropdown.options[2][1]
    widget.candidate_dropdown.value = chosen
    widget.ask_button.click()

    assert widget.race.sessions[YOU].labels[chosen] == moons.y[chosen]
    assert f"item {chosen} is <b>{moons.y[chosen]}</b>" in widget.you_message.value
    assert widget.panel_images[YOU].value != first_png
    assert chosen not in [value for _, value in widget.candidate_dropdown.options]
    assert "you" in widget.saved_html.value

    widget.you_toggle.value = False
    assert widget.panels[YOU] not in widget._grid.children


def test_widget_carries_the_css_classes_the_browser_tests_use(moons):
    widget = comparison_widget(moons)

    assert "alw-comparison" in widget._dom_classes
    assert "alw-play" in widget.play_button._dom_classes
    assert "alw-pause" in widget.pause_button._dom_classes
    assert "alw-step" in widget.step_button._dom_classes
    assert "alw-curve" in widget.curve_image._dom_classes
    assert all("alw-panel" in panel._dom_classes for panel in widget.panels.values())


def test_regression_panels_draw_the_band():
    data = alw.datasets.load_sin(n_samples=60, random_state=0)
    widget = alw.StrategyComparison(GaussianProcessRegressor(), data.X, data.y, ["random", "max_std"],
                                    random_state=0, budget=4)
    widget.run(2)

    assert widget.view == "regression"
    assert all(widget.panel_images[name].value[:4] == b"\x89PNG" for name in widget.race.strategy_names)
    assert "R² " in widget.panel_captions["max_std"].value


def test_the_widget_is_built_before_its_panels_are_drawn_and_the_worker_draws_them():
    """Building the race shows its controls at once; the first drawing of the panels follows on the worker."""
    import threading

    data = alw.datasets.load_digits()
    drawing = threading.Event()
    release = threading.Event()
    original = alw.StrategyComparison.render

    def slow_render(widget):
        drawing.set()
        assert release.wait(120)
        original(widget)

    alw.StrategyComparison.render = slow_render
    try:
        widget = alw.StrategyComparison(LogisticRegression(max_iter=200), data.X[:300], data.y[:300],
                                        ["random", "margin"], images=data.images[:300], random_state=0, budget=4)
        assert drawing.wait(60), "the worker never started drawing"
        assert widget.frames == 0 and not widget.panel_images["margin"].value  # built, not yet drawn
        assert "drawing…" in widget.status.value and not widget.play_button.disabled
        widget.step()  # a press during the first drawing is kept, and runs after it
        release.set()
        assert widget.wait(60)
    finally:
        release.set()
        alw.StrategyComparison.render = original
    assert widget.frames > 0 and widget.panel_images["margin"].value[:4] == b"\x89PNG"
    assert widget.race.n_steps == 1 and "paused" in widget.status.value


def test_image_panels_show_the_item_each_strategy_asks():
    data = alw.datasets.load_digits()
    widget = alw.StrategyComparison(LogisticRegression(max_iter=200), data.X[:300], data.y[:300],
                                    ["random", "margin"], images=data.images[:300], random_state=0, budget=4)
    widget.run(1)
    asks = widget.race.next_query("margin")[0]

    assert widget.view == "image"
    assert f"asks next: item {asks}" in widget.drawing.axes["margin"].get_title()
    widget.you_toggle.value = True
    assert widget.drawing.axes[YOU].get_title() == "your candidates"


def test_image_panels_of_a_mini_batch_show_the_whole_batch():
    data = alw.datasets.load_digits()
    widget = alw.StrategyComparison(LogisticRegression(max_iter=200), data.X[:300], data.y[:300],
                                    ["random", "margin"], images=data.images[:300], random_state=0, budget=20,
                                    batch_size=10)
    assert widget.wait(60)  # the first drawing is the worker's
    ax = widget.drawing.axes["margin"]

    assert ax.get_title() == "asks next: 10 items"
    (picture,) = ax.images
    assert picture.get_array().shape == (2 * 8 + 1, 5 * 8 + 4)  # two rows of five 8x8 digits, 1-pixel gaps


def test_numbered_candidates_on_the_persons_panel_never_overlap(blobs):
    widget = comparison_widget(blobs, n_candidates=20)
    widget.you_toggle.value = True
    ax = widget.drawing.axes[YOU]

    (discs,) = [c for c in ax.collections if c.get_gid() == alw.plots.NUMBERED_GID]
    centres = ax.transData.transform(discs.get_offsets())
    gaps = np.linalg.norm(centres[:, None] - centres[None], axis=2)[np.triu_indices(len(centres), 1)]
    assert len(centres) == 20 and gaps.min() >= np.sqrt(170) * ax.figure.dpi / 72 - 1e-6


def test_labels_saved_headers_are_spaced_like_their_columns(moons):
    widget = comparison_widget(moons)
    widget.run(2)
    table = widget.saved_html.value
    assert table.count("<th style='text-align:left;padding:0 8px'>") == 4


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"view": "radar"}, "view must be one of"),
        ({"view": "regression"}, "needs a regressor"),
        ({"view": "image"}, "needs images="),
        ({"speed": 0}, "speed must be a positive"),
        ({"images": np.zeros((3, 8, 8))}, "one picture per pool item"),
    ],
)
def test_widget_refuses_bad_settings(moons, kwargs, match):
    with pytest.raises(ValueError, match=match):
        comparison_widget(moons, **kwargs)


def test_labels_saved_says_when_a_strategy_needed_more():
    curves = {"random": curve([(10, 0.5), (20, 0.9)]), "entropy": curve([(10, 0.5), (40, 0.9)])}

    result = labels_saved(curves)["entropy"]

    assert (result.saved, result.ratio) == (-20, 0.5)
    assert "2.0x more, 20 more labels" in result.describe()


def test_smoothing_measures_the_trend_not_a_lucky_point():
    # random's last score is 0.80; margin touches it once by luck at 20 labels, then holds it from 50.
    curves = {
        "random": curve([(10, 0.70), (20, 0.72), (30, 0.74), (40, 0.76), (50, 0.78), (60, 0.80)]),
        "margin": curve([(10, 0.70), (20, 0.80), (30, 0.72), (40, 0.78), (50, 0.82), (60, 0.84)]),
    }

    raw = labels_saved(curves)["margin"]
    smoothed = labels_saved(curves, smooth=2)["margin"]

    assert (raw.target, raw.needed) == (0.80, 20)
    assert smoothed.target == pytest.approx(0.79)  # mean of random's last two scores
    assert smoothed.needed == 50  # (0.78 + 0.82) / 2 = 0.80 is the first mean of two at or above 0.79
    assert smoothed.reference_needed == 60
    n, scores = history_points(curve([(1, None), (2, 0.5), (3, 0.7)]))
    assert n.tolist() == [2, 3] and smooth(scores, 2).tolist() == pytest.approx([0.5, 0.6])


def test_same_seed_same_race_in_another_python_process():
    """A teacher prepares a race and replays it in class: string hashing differs per process, results must not."""
    import json
    import os
    import subprocess
    import sys

    script = (
        "import json, alwidgets as alw\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "d = alw.datasets.make_blobs(n_samples=240, centers=3, random_state=0)\n"
        "c = alw.Comparison(LogisticRegression(), d.X, d.y, ['random', 'margin', 'vote_entropy'], random_state=0,\n"
        "                   budget=12, batch_size=3, oracle_noise=0.2)\n"
        "c.run()\n"
        "print(json.dumps({n: [list(map(int, s.labels)), [h['score'] for h in s.history]]\n"
        "                  for n, s in c.sessions.items()}))\n"
    )
    runs = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))

    assert runs[0] == runs[1]


# ---------------------------------------------------------------------- clicking your plot


def click_from_the_browser(image, x, y):
    """Deliver a click as the front-end does: a comm message with the custom content the ES module sends."""
    image._handle_msg({"content": {"data": {"method": "custom", "content": {"event": "click", "x": x, "y": y}}},
                       "buffers": []})


def png_pixel_of(widget, idx):
    """Where pool item ``idx`` is drawn on the PNG of your panel, in the PNG's pixels from its top-left corner."""
    import io

    from PIL import Image

    ax = widget.drawing.axes[YOU]
    height = Image.open(io.BytesIO(widget.panel_images[YOU].value)).size[1]
    plotted = widget.projection.transform(np.asarray(widget.race.X)[[idx]])[0]
    display_x, display_y = ax.transData.transform(plotted)
    return float(display_x), height - float(display_y)


def test_clicking_a_point_on_your_plot_asks_the_oracle_about_it(moons):
    from alwidgets.widgets.clickable import ClickableImage

    widget = comparison_widget(moons, budget=3, oracle_noise=0.2)
    widget.you_toggle.value = True
    image = widget.panel_images[YOU]
    assert isinstance(image, ClickableImage) and "alw-you-plot" in image._dom_classes
    you = widget.race.sessions[YOU]
    # The unlabeled item drawn farthest from any other point: a click near it can mean nothing else.
    pixels = np.array([png_pixel_of(widget, i) for i in range(widget.race.n_pool)])
    gaps = np.linalg.norm(pixels[:, None] - pixels[None], axis=2) + np.eye(len(pixels)) * 1e9
    unlabeled = np.setdiff1d(np.arange(widget.race.n_pool), list(you.labels))
    target = int(unlabeled[np.argmax(gaps[unlabeled].min(axis=1))])
    assert gaps[target].min() > 8
    first_png = image.value

    x, y = pixels[target]
    click_from_the_browser(image, x + 3.0, y - 2.0)  # a person's click lands a few pixels off

    answer = widget.race.answer(target)
    assert set(you.labels) == set(widget.race.initial) | {target}
    assert you.labels[target] == answer and widget.race.used(YOU) == 1
    assert f"item {target} is <b>{answer}</b>" in widget.you_message.value
    assert image.value != first_png  # your panel was redrawn
    assert all(widget.race.used(name) == 0 for name in widget.race.strategy_names)


def test_a_click_far_from_any_point_or_past_the_budget_records_nothing(moons):
    widget = comparison_widget(moons, budget=1)
    widget.you_toggle.value = True
    image = widget.panel_images[YOU]
    you = widget.race.sessions[YOU]
    before = dict(you.labels)

    click_from_the_browser(image, 1.0, 1.0)  # the top-left corner of the figure, outside the axes
    assert you.labels == before and widget.race.used(YOU) == 0
    assert "no unlabeled point where you clicked" in widget.you_message.value

    widget.pick(widget.candidate_dropdown.value)  # the one label of the budget
    spent = dict(you.labels)
    unlabeled = int(you.unlabeled[0])
    click_from_the_browser(image, *png_pixel_of(widget, unlabeled))
    assert you.labels == spent and unlabeled not in you.labels
    assert "budget of 1 labels is spent" in widget.you_message.value


def test_clickable_image_reports_clicks_in_png_pixels_and_ignores_bad_messages():
    from alwidgets.widgets.clickable import ClickableImage

    clicks = []
    image = ClickableImage(value=b"\x89PNG")
    image.on_click(lambda x, y: clicks.append((x, y)))
    click_from_the_browser(image, 10, 20.5)
    for bad in ({"event": "click", "x": "10", "y": 2}, {"event": "click", "x": float("nan"), "y": 1},
                {"event": "hover", "x": 1, "y": 1}, ["not", "a", "dict"]):
        image._handle_msg({"content": {"data": {"method": "custom", "content": bad}}, "buffers": []})
    assert clicks == [(10.0, 20.5)]
