"""BackgroundRun: a long computation runs after the cell returns, with progress, partial results and a cache."""

from __future__ import annotations

import json
import stat
import threading

import ipywidgets as widgets
import numpy as np
import pytest

from alwidgets.widgets import background
from alwidgets.widgets.background import BackgroundRun, cached_data, wait_all


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv(background.CACHE_ENV, str(folder))
    return folder


BOUND = 60  # seconds: every wait below is for an event; this only ends a test that would otherwise hang


def texts(run: BackgroundRun) -> list[str]:
    return [child.value for child in run.results.children if isinstance(child, widgets.HTML)]


def test_the_cell_returns_while_compute_runs_and_reports_progress_and_partial_results():
    go_on, reported = threading.Event(), threading.Event()

    def compute(task):
        task.progress(1, 3, "first step")
        task.partial(["a"], force=True)
        reported.set()
        go_on.wait(2 * BOUND)  # the test lets it go on; the bound only ends a test that failed
        task.progress(3, 3)
        return ["a", "b", "c"]

    run = BackgroundRun(compute, render=lambda value: f"<b>{len(value)} results</b>", title="three steps")
    assert reported.wait(BOUND), "compute never started"
    assert not run.done
    assert (run.bar.value, run.bar.max) == (1, 3)
    assert "1/3" in run.status.value and "first step" in run.status.value
    assert texts(run) == ["<b>1 results</b>"]

    go_on.set()
    assert run.get(BOUND) == ["a", "b", "c"]
    assert texts(run) == ["<b>3 results</b>"]
    assert run.bar.bar_style == "success" and "done in" in run.status.value
    assert not run.from_cache


def test_render_may_return_several_parts_png_bytes_and_widgets():
    png = b"\x89PNG fake bytes"
    slider = widgets.IntSlider()
    run = BackgroundRun(lambda task: 2, render=lambda value: ["<i>text</i>", png, slider])
    assert run.wait(BOUND)
    kinds = [type(child) for child in run.results.children]
    assert kinds == [widgets.HTML, widgets.Image, widgets.IntSlider]
    assert run.results.children[1].value == png


def test_a_failing_compute_is_shown_in_red_and_raised_by_get_and_wait_all():
    def compute(task):
        raise ValueError("no data here")

    run = BackgroundRun(compute, title="<b>doomed</b>")
    assert run.wait(BOUND)
    assert isinstance(run.error, ValueError)
    assert run.bar.bar_style == "danger"
    assert "no data here" in run.status.value and "#b00020" in run.status.value
    with pytest.raises(ValueError, match="no data here"):
        run.get(1)
    with pytest.raises(RuntimeError, match="doomed") as raised:
        wait_all(BOUND)
    assert isinstance(raised.value.__cause__, ValueError)


def test_a_cached_result_is_shown_without_computing_again(private_cache):
    calls = []

    def compute(task):
        calls.append(1)
        return {"score": 0.5, "curve": [1, 2]}

    first = BackgroundRun(compute, render=lambda value: f"score {value['score']}", cache_key={"seed": 0})
    assert first.get(BOUND) == {"score": 0.5, "curve": [1, 2]}
    assert first.cache_path.parent == private_cache and first.cache_path.is_file()
    assert "cached in" in first.status.value and str(first.cache_path) in first.status.value

    again = BackgroundRun(compute, render=lambda value: f"score {value['score']}", cache_key={"seed": 0})
    assert again.get(BOUND) == {"score": 0.5, "curve": [1, 2]}
    assert again.from_cache and len(calls) == 1
    assert texts(again) == ["score 0.5"]
    assert "measured" in again.status.value and "delete it to measure again" in again.status.value

    other = BackgroundRun(compute, cache_key={"seed": 1})
    assert other.wait(BOUND)
    assert not other.from_cache and len(calls) == 2


def test_the_cache_folder_is_created_private_and_a_damaged_file_is_measured_again(private_cache):
    run = BackgroundRun(lambda task: 1, cache_key="k")
    assert run.wait(BOUND)
    assert stat.S_IMODE(private_cache.stat().st_mode) == 0o700
    run.cache_path.write_text("{not json")
    again = BackgroundRun(lambda task: 1, cache_key="k")
    assert again.get(BOUND) == 1 and not again.from_cache
    assert json.loads(again.cache_path.read_text())["result"] == 1


def test_a_different_compute_does_not_read_the_cache_of_another():
    def one(task):
        return 1

    def two(task):
        return 2

    assert BackgroundRun(one, cache_key="same").get(BOUND) == 1
    assert BackgroundRun(two, cache_key="same").get(BOUND) == 2


def test_stop_asks_compute_to_return_early_and_nothing_is_cached():
    started = threading.Event()

    def compute(task):
        started.set()
        while not task.stopped:
            task.progress(1, 2)
            threading.Event().wait(0.01)
        return "partial"

    run = BackgroundRun(compute, cache_key="stoppable")
    assert started.wait(BOUND), "compute never started"
    run.stop()
    assert run.get(BOUND) == "partial"
    assert "stopped" in run.status.value
    assert not run.cache_path.exists()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"compute": 3}, TypeError, "compute must be a function"),
        ({"compute": lambda task: 1, "render": "html"}, TypeError, "render must be a function"),
        ({"compute": lambda task: 1, "cache_key": {"model": object()}}, TypeError, "cache_key must be JSON data"),
    ],
)
def test_bad_arguments_are_named(kwargs, error, match):
    with pytest.raises(error, match=match):
        BackgroundRun(**kwargs)


def test_a_run_made_with_start_false_waits_for_start():
    run = BackgroundRun(lambda task: "ran", start=False)
    assert not run.wait(0.2) and "waiting" in run.status.value  # it cannot run before start(), however long one waits
    run.start()
    assert run.get(BOUND) == "ran"


def test_cached_data_loads_once_and_gives_back_the_same_arrays(private_cache):
    calls = []

    def load(n):
        calls.append(n)
        return {"X": np.arange(n * 2, dtype=float).reshape(n, 2), "y": np.array(["a", "b", "a"][:n], dtype=object),
                "images": np.zeros((n, 2, 2), dtype=np.uint8), "target_names": ["a", "b"], "name": "toy"}

    first = cached_data("toy", load, n=3)
    again = cached_data("toy", load, n=3)

    assert calls == [3]
    np.testing.assert_array_equal(again.X, first.X)
    assert again.y.dtype == object and list(again.y) == ["a", "b", "a"]
    assert again.images.dtype == np.uint8 and again.images.shape == (3, 2, 2)
    assert again.target_names == ["a", "b"] and again.name == "toy"
    assert len(list(private_cache.glob("toy-*.npz"))) == 1
    cached_data("toy", load, n=2)
    assert calls == [3, 2]  # other arguments, another entry


def test_cached_data_stores_an_array_and_its_reshaped_view_once(private_cache):
    pixels = np.arange(12.0).reshape(3, 4)
    first = cached_data("pictures", lambda: {"X": pixels, "images": pixels.reshape(3, 2, 2)})
    again = cached_data("pictures", lambda: {})
    assert again.images.shape == (3, 2, 2) and np.shares_memory(again.images, again.X)
    np.testing.assert_array_equal(again.images, first.images)
    with np.load(next(private_cache.glob("pictures-*.npz"))) as stored:
        assert sorted(stored.files) == ["X", "__kinds__"]


def test_cached_data_refuses_what_it_cannot_store_without_pickle():
    with pytest.raises(TypeError, match=r"toy\['model'\] cannot be cached"):
        cached_data("toy", lambda: {"model": object()})
    with pytest.raises(ValueError, match="name must be a plain word"):
        cached_data("../escape", lambda: {})


def test_a_run_writes_its_widgets_only_under_its_lock_and_reports_a_render_error_in_words():
    unlocked = []

    def compute(task):
        task.progress(1, 2, "half")
        task.partial(1, force=True)
        return 2

    def render(value):
        if value == 2:
            raise OSError("cannot draw the result")
        return f"<i>{value}</i>"

    run = BackgroundRun(compute, render, start=False)
    for widget in (run.bar, run.status, run.results):
        widget.observe(lambda _c: unlocked.append(not run._ui_lock._is_owned()), names=["value", "children"])
    run.start()
    assert run.wait(BOUND)
    assert isinstance(run.error, OSError) and run.errors == ["the background run failed (OSError: cannot draw the result)"]
    assert "cannot draw the result" in run.status.value and run.bar.bar_style == "danger"
    assert unlocked and not any(unlocked)  # start()'s word on the kernel's thread, then the worker's
    background._RUNS.discard(run)  # its error is this test's, not a later wait_all's
