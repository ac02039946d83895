"""A page never seems stuck: a button's click shows at once, a run that waits says what for, and what can start does.

Every background computation here is held on a ``threading.Event`` the test
controls, so each assertion is made while the work is provably unfinished;
no test sleeps for a fixed time.
"""

from __future__ import annotations

import threading

import ipywidgets as widgets
import pytest

from alwidgets.widgets import background
from alwidgets.widgets.background import BackgroundRun, RunButton

BOUND = 60  # seconds: every wait below is for an event; this only ends a test that would otherwise hang


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(background.CACHE_ENV, str(tmp_path / "cache"))


def held_run(release: threading.Event, started: threading.Event | None = None, result="done") -> BackgroundRun:
    """A run that reports one step of three, then waits for ``release``."""

    def compute(task):
        task.progress(1, 3, "first step")
        task.partial(["first"], force=True)
        if started is not None:
            started.set()
        release.wait(2 * BOUND)
        task.progress(3, 3)
        return result

    return BackgroundRun(compute, title="<b>held</b>")


def when_text(widget: widgets.HTML, needle: str) -> threading.Event:
    """An event set once ``widget.value`` contains ``needle`` (now, or on a later change)."""
    seen = threading.Event()

    def look(_change=None):
        if needle in widget.value:
            seen.set()

    widget.observe(look, names="value")
    look()
    return seen


def test_a_click_disables_the_button_says_it_runs_and_shows_the_bar_before_any_work_is_done():
    release = threading.Event()
    runs: list[BackgroundRun] = []

    def make_run():
        runs.append(held_run(release))
        return runs[-1]

    slider = widgets.FloatSlider()
    runner = RunButton(make_run, description="Run the stream", busy="Running the stream…", controls=[slider])
    assert not runner.button.disabled and runner.button.description == "Run the stream"
    assert slider in runner.children[0].children

    runner.button.click()  # as the browser's click: ipywidgets calls the handler on the kernel's thread
    try:
        (run,) = runs
        assert not run.done, "the work was held: the click must be seen before it is done"
        assert runner.button.disabled and runner.button.description == "Running the stream…"
        assert runner.area.children == (run,)
        assert run.status.value in ("<i>starting…</i>",) or "1/3" in run.status.value  # the bar says it runs
        assert when_text(run.status, "first step").wait(BOUND), "the bar never moved"
        assert run.status.value.startswith("1/3 · ") and run.bar.value == 1
        assert not run.done and runner.button.disabled
    finally:
        release.set()
    assert run.wait(BOUND)
    # the button comes back as the run ends: by the time a waiter sees the run over, it is enabled
    assert not runner.button.disabled and runner.button.description == "Run the stream"
    assert not runner.errors and run.error is None


def test_a_second_click_stops_the_run_it_replaces():
    releases = [threading.Event(), threading.Event()]
    runs: list[BackgroundRun] = []

    def make_run():
        runs.append(held_run(releases[len(runs)]))
        return runs[-1]

    runner = RunButton(make_run)
    first = runner.run()
    second = runner.run()  # what a click does (the button is disabled meanwhile, but code may call it)
    assert first._stop.is_set() and not second._stop.is_set()
    assert runner.area.children == (second,)
    releases[0].set()
    assert first.wait(BOUND)
    assert runner.button.disabled, "the first run's end must not enable the button while the second runs"
    releases[1].set()
    assert second.wait(BOUND)
    assert not runner.button.disabled


def test_a_run_that_needs_another_says_what_it_waits_for_and_how_far_that_one_has_got():
    release, started = threading.Event(), threading.Event()
    pool = held_run(release, started, result={"random": [[10, 0.5]]})
    assert started.wait(BOUND)
    stream = BackgroundRun(lambda task: task.wait_for(pool, "the pool-based race above, to compare against"),
                           title="<b>stream</b>")
    try:
        waiting = when_text(stream.status, "waiting for the pool-based race above, to compare against (1/3")
        assert waiting.wait(BOUND), stream.status.value
        assert "first step" in stream.status.value  # how far the awaited run has got, in its own words
        assert not stream.done and not pool.done
    finally:
        release.set()
    assert stream.get(BOUND) == {"random": [[10, 0.5]]}


def test_a_run_draws_with_what_another_has_so_far_instead_of_waiting_for_it():
    release, started = threading.Event(), threading.Event()
    pool = held_run(release, started)
    try:
        assert started.wait(BOUND)
        assert pool.latest == ["first"]  # the partial result, at once
        stream = BackgroundRun(lambda task: ["stream drawn against", *pool.latest])
        assert stream.get(BOUND) == ["stream drawn against", "first"]
        assert not pool.done, "the stream finished while the run it draws against was still held"
    finally:
        release.set()
    assert pool.get(BOUND) == "done" and pool.latest == "done"


def test_a_run_stopped_while_waiting_returns_at_once():
    release, started = threading.Event(), threading.Event()
    pool = held_run(release, started)
    try:
        assert started.wait(BOUND)
        stream = BackgroundRun(lambda task: task.wait_for(pool, "the pool-based race"))
        assert when_text(stream.status, "waiting for the pool-based race").wait(BOUND)
        stream.stop()
        assert stream.wait(BOUND) and stream.result is None and not pool.done
    finally:
        release.set()
    assert pool.wait(BOUND)


def test_when_done_is_called_at_once_for_a_run_already_over():
    run = BackgroundRun(lambda task: 1)
    assert run.wait(BOUND)
    seen = []
    run.when_done(seen.append)
    assert seen == [run]


def test_make_run_must_be_a_function_returning_a_run():
    with pytest.raises(background.InvalidParameterError, match="make_run"):
        RunButton("not a function")
    runner = RunButton(lambda: "no run")
    runner.button.click()
    assert runner.errors and "BackgroundRun" in runner.errors[0]
    assert not runner.button.disabled
