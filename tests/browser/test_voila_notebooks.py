"""The labeling notebooks served by Voila, driven in Chromium as a person would use them.

Widget contract (CSS classes the Labeler puts on its parts): ``alw-labeler``
(root), ``alw-instance`` (the shown item; its caption reads "item <N>"),
``alw-label-button`` (one per class), ``alw-value`` + ``alw-submit``
(regression), ``alw-toggle`` + ``alw-submit`` (multi-label), ``alw-progress``, ``alw-plot`` (the live plot
images).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page

pytestmark = pytest.mark.browser

# notebook -> how a person gives a label in it
LABELER_NOTEBOOKS = {
    "01_images.ipynb": "button",
    "02_text.ipynb": "button",
    "03_regression_gp.ipynb": "value",
    "04_decision_boundary.ipynb": "button",
    "09_multilabel.ipynb": "toggle",  # toggles per class, then Submit (none toggled: the empty set)
}
CLASSIFIER_NOTEBOOKS = [name for name, control in LABELER_NOTEBOOKS.items() if control == "button"]
# JavaScript shared by the waits below.
JS_ITEM = r"""() => {
    const node = document.querySelector('.alw-labeler .alw-instance');
    const found = node && node.innerText.match(/item\s+(\d+)/);
    return found ? found[1] : null;
}"""
JS_PLOT_SOURCES = """() => Array.from(document.querySelectorAll('.alw-labeler .alw-plot img, .alw-labeler img.alw-plot'))
    .map(image => image.src).join(' ')"""
JS_LABELED = r"""() => {
    const node = document.querySelector('.alw-labeler .alw-progress');
    const found = node && node.innerText.match(/\d+/);
    return found ? Number(found[0]) : null;
}"""


def shown_item(page: Page) -> str:
    """The number N of the "item N" caption of the instance on screen."""
    item = page.evaluate(JS_ITEM)
    caption = page.locator(".alw-labeler .alw-instance").first.inner_text()
    assert item is not None, f'the instance caption should read "item <N>", it reads {caption!r}'
    return item


def plot_sources(page: Page) -> str:
    sources = page.evaluate(JS_PLOT_SOURCES)
    assert sources, "the Labeler shows no plot image (.alw-plot img)"
    return sources


def labeled_count(page: Page) -> int:
    count = page.evaluate(JS_LABELED)
    progress = page.locator(".alw-labeler .alw-progress").first.inner_text()
    assert count is not None, f"the progress line should start with the number of labels, it reads {progress!r}"
    return count


def wait_for_other_item(page: Page, item: str) -> None:
    page.wait_for_function(f"(old) => {{ const now = ({JS_ITEM})(); return now !== null && now !== old; }}", arg=item)


def wait_for_item(page: Page, item: str) -> None:
    page.wait_for_function(f"(want) => ({JS_ITEM})() === want", arg=item)


def wait_for_other_plot(page: Page, sources: str) -> None:
    page.wait_for_function(f"(old) => {{ const now = ({JS_PLOT_SOURCES})(); return now && now !== old; }}", arg=sources)


def wait_for_labeled(page: Page, count: int) -> None:
    page.wait_for_function(f"(want) => ({JS_LABELED})() === want", arg=count)


def give_first_label(page: Page, control: str) -> None:
    """Label the shown item the way a person would: first class button, or type a value and submit."""
    if control == "button":
        page.locator(".alw-labeler .alw-label-button").first.click()
    elif control == "toggle":
        page.locator(".alw-labeler .alw-toggle").first.click()
        page.locator(".alw-labeler .alw-submit").first.click()
    else:
        value = page.locator(".alw-labeler .alw-value input").first
        value.fill("0.5")
        page.locator(".alw-labeler .alw-submit").first.click()


def wait_for_key_listener(page: Page) -> None:
    """Wait until the Labeler's key listener has rendered (its module loads after the page shows)."""
    page.locator(".alw-labeler .alw-keys").wait_for(state="attached")


def park_mouse_outside_the_widget(page: Page) -> None:
    """Move the mouse to a point of the page that is not over the Labeler (keys must not need hover)."""
    viewport = page.viewport_size
    assert viewport is not None
    width, height = viewport["width"], viewport["height"]
    for x, y in [(width - 2, height - 2), (width - 2, 2), (2, height - 2), (2, 2)]:
        outside = page.evaluate(
            "([x, y]) => { const hit = document.elementFromPoint(x, y); return !hit || !hit.closest('.alw-labeler'); }",
            [x, y],
        )
        if outside:
            page.mouse.move(x, y)
            return
    pytest.fail("the Labeler covers every corner of the page; no place to park the mouse", pytrace=False)


@pytest.mark.parametrize("notebook", list(LABELER_NOTEBOOKS))
def test_voila_label_shows_next_item_and_redraws_plot(open_voila, notebook: str) -> None:
    page = open_voila(notebook)
    item, sources, labeled = shown_item(page), plot_sources(page), labeled_count(page)

    give_first_label(page, LABELER_NOTEBOOKS[notebook])

    wait_for_other_item(page, item)
    wait_for_labeled(page, labeled + 1)
    wait_for_other_plot(page, sources)


@pytest.mark.parametrize("notebook", CLASSIFIER_NOTEBOOKS)
def test_voila_keyboard_shortcuts_work_without_hovering(open_voila, notebook: str) -> None:
    page = open_voila(notebook)
    wait_for_key_listener(page)
    park_mouse_outside_the_widget(page)
    item, labeled = shown_item(page), labeled_count(page)

    page.keyboard.press("1")
    wait_for_other_item(page, item)
    wait_for_labeled(page, labeled + 1)

    page.keyboard.press("Backspace")
    wait_for_labeled(page, labeled)
    wait_for_item(page, item)  # undo shows the taken-back item again


JS_BACKGROUND = """() => Array.from(document.querySelectorAll('.alw-background')).map(run => ({
    title: run.querySelector('.alw-background-title')?.innerText || '',
    done: !!run.querySelector('.progress-bar-success'),
    failed: !!run.querySelector('.progress-bar-danger'),
    status: run.querySelector('.alw-background-status')?.innerText || '',
    images: run.querySelectorAll('.alw-background-results img').length,
}))"""


def test_voila_background_runs_report_progress_then_results(open_voila) -> None:
    page = open_voila("06_mnist_random_vs_active.ipynb", ready_selector=".alw-background")
    page.wait_for_function(f"() => {{ const runs = ({JS_BACKGROUND})(); "
                           "return runs.length === 2 && runs.every(run => run.done || run.failed); }",
                           timeout=240_000)
    runs = page.evaluate(JS_BACKGROUND)
    assert not any(run["failed"] for run in runs), runs
    assert all("seed" in run["title"] and "article's protocol" in run["title"] for run in runs), runs
    assert all(run["images"] == 2 for run in runs), runs  # the curves over seeds and the ratio over targets
    assert all("done in" in run["status"] or "measured" in run["status"] for run in runs), runs
    ratios = page.locator(".alw-background-results pre").all_inner_texts()
    assert len(ratios) == 2 and all(re.search(r"median over \d seed\(s\): \d+\.\d\dx", r) for r in ratios), ratios
    # the benchmark's ablation, read from benchmarks/results/, with its figure
    assert page.locator(".jp-RenderedMarkdown table:has-text('article (all)')").count() >= 2
    # both scales: the article's, on Fashion-MNIST, and the early budgets on these digits, each with its figure
    assert page.locator(".jp-RenderedMarkdown table:has-text('ten kinds of clothing')").count() >= 1
    assert page.locator(".jp-RenderedMarkdown:has-text('target met (band at or above 1')").count() >= 1
    assert page.locator(".jp-RenderedMarkdown table:has-text('+ diverse, 100 random first')").count() >= 2
    assert page.locator(".jp-RenderedImage img").count() >= 3
    assert page.locator(".alw-comparison .alw-panel").count() == 2  # the live race is there too


def test_voila_stream_threshold_stops_where_the_model_can_still_ask(open_voila) -> None:
    page = open_voila("08_stream_vs_pool.ipynb", ready_selector=".alw-background")
    note = page.get_by_text("so the slider stops there").first.inner_text()
    most_unsure = float(re.search(r"at most (\d\.\d+) unsure", note).group(1))
    handle = page.locator(".widget-slider .noUi-handle").first
    assert float(handle.get_attribute("aria-valuemax")) <= most_unsure  # was 0.9, where the stream never asks
