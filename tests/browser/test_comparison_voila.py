"""Classroom mode in a real browser: notebook 05 served by Voila, raced with Play and stopped with Pause.

Widget contract (CSS classes of :class:`alwidgets.StrategyComparison`):
``alw-comparison`` (root), ``alw-play`` / ``alw-pause`` / ``alw-step``,
``alw-curve`` (the shared learning-curve image), ``alw-panel`` (one per
strategy), ``alw-status`` (the line that says "step N ... running/paused").
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page

pytestmark = pytest.mark.browser

NOTEBOOK = "05_compare_strategies.ipynb"
JS_CURVE = """() => {
    const image = document.querySelector('.alw-comparison .alw-curve img, .alw-comparison img.alw-curve');
    return image ? image.src : null;
}"""
JS_STATUS = """() => {
    const node = document.querySelector('.alw-comparison .alw-status');
    return node ? node.innerText : '';
}"""


def curve_source(page: Page) -> str:
    source = page.evaluate(JS_CURVE)
    assert source, "the comparison shows no learning-curve image (.alw-curve img)"
    return source


def status(page: Page) -> str:
    return page.evaluate(JS_STATUS)


def test_play_races_the_strategies_and_pause_stops_them(open_voila) -> None:
    page = open_voila(NOTEBOOK, ready_selector=".alw-comparison")
    race = page.locator(".alw-comparison").first
    assert race.locator(".alw-panel").count() == 5  # random, least_confident, margin, entropy, vote_entropy
    page.wait_for_function(f"() => ({JS_CURVE})() !== null")
    before = curve_source(page)
    assert "step 0" in status(page)

    race.locator(".alw-play").first.click()
    page.wait_for_function(f"(old) => {{ const now = ({JS_CURVE})(); return now && now !== old; }}", arg=before)
    race.locator(".alw-pause").first.click()
    page.wait_for_function(f"() => /paused|budget spent/.test(({JS_STATUS})())")

    stopped_at = curve_source(page)
    line = status(page)
    steps = int(re.search(r"step (\d+)", line).group(1))
    assert steps >= 1 and "paused" in line, f"the race should be paused after a step or more; status reads {line!r}"
    page.wait_for_timeout(2_000)
    assert curve_source(page) == stopped_at, "the learning curve kept changing after Pause"
    assert f"step {steps}" in status(page)
