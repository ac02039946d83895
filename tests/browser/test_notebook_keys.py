"""Keys in JupyterLab 4 and Notebook 7 (a Labeler reacts only while a click has armed it), and in Voila.

A notebook is full of things that read keys. In command mode "1"-"6" make the
selected Markdown cell a heading; a Labeler scrolled out of view must not take
them. The test notebook has a title, a plain Markdown cell, long text and two
Labelers (three classes each: keys 1-3). Each step checks what a person
would see; a key that must do nothing is followed by one that must do
something, and the count after both shows that the first did nothing (the
kernel handles messages in order).
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import Locator, Page, expect
from test_jupyterlab import FIRST_RUN_TIMEOUT_MS, run_all_cells
from test_voila_notebooks import (
    labeled_count,
    shown_item,
    wait_for_item,
    wait_for_key_listener,
    wait_for_labeled,
    wait_for_other_item,
)

pytestmark = pytest.mark.browser

LABELER_CELL = """\
import numpy as np
import alwidgets as alw
from sklearn.linear_model import LogisticRegression

X = np.random.RandomState({seed}).rand(60, 2)
labeler = alw.Labeler(alw.Session(LogisticRegression(), X, classes=["a", "b", "c"], random_state=0), plots=None)
labeler.add_class("{name}")
labeler"""
JS_CELL_SOURCE = """(index) => {
    const notebook = window.jupyterapp.shell.currentWidget.content;
    return notebook.model.cells.get(index).sharedModel.getSource();
}"""
JS_SCROLL_TO_CELL = """async (index) => {
    const notebook = window.jupyterapp.shell.currentWidget.content;
    await notebook.scrollToItem(index, 'start');
}"""
JS_OFF_SCREEN = """(selector) => {
    const labeler = document.querySelector(selector);
    if (!labeler || !labeler.isConnected) return true;  // a windowed notebook may not even render it
    const box = labeler.getBoundingClientRect();
    const scroller = document.querySelector('.jp-WindowedPanel-outer, .jp-Notebook');
    const view = scroller.getBoundingClientRect();  // the notebook scrolls in it (Lab) or in the window (Notebook 7)
    const top = Math.max(view.top, 0), bottom = Math.min(view.bottom, window.innerHeight);
    return box.bottom <= top || box.top >= bottom;
}"""


@pytest.fixture
def keys_notebook(tmp_path: Path) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Keys test\n\nThe title cell."),
        nbformat.v4.new_markdown_cell("Plain text that may become a heading"),
        # Long text between the title and the Labelers (a tall output would be scrolled inside its cell).
        nbformat.v4.new_markdown_cell("\n\n".join(f"Paragraph {i} of the text above the Labelers." for i in range(70))),
        nbformat.v4.new_code_cell(LABELER_CELL.format(seed=0, name="first-labeler")),
        nbformat.v4.new_code_cell(LABELER_CELL.format(seed=1, name="second-labeler")),
    ]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "keys_test.ipynb"
    nbformat.write(notebook, path)
    return path


def labeled(page: Page, name: str) -> Locator:
    return page.locator(f".{name} .alw-progress")


def expect_labeled(page: Page, name: str, count: int) -> None:
    expect(labeled(page, name)).to_contain_text(f"{count} labeled")


def select_cell(page: Page, index: int) -> None:
    """Scroll to a cell and click its prompt area: it becomes the selected cell, in command mode.

    The notebook renders only the cells near the view (windowing), so it is
    scrolled there first, as a person scrolls before clicking.
    """
    page.evaluate(JS_SCROLL_TO_CELL, index)
    page.locator(f".jp-Notebook .jp-Cell[data-windowed-list-index='{index}'] .jp-InputPrompt").click()
    page.keyboard.press("Escape")


def arm(page: Page, name: str) -> None:
    """Click the Labeler's item caption (not a button), as a person clicks a widget to use its keys."""
    page.locator(f".{name} .alw-caption").click()
    expect(page.locator(f".{name}")).to_have_class(_with("alw-keys-armed"))


def _with(css_class: str) -> re.Pattern:
    """Matches a class attribute that holds ``css_class``."""
    return re.compile(rf"(^|\s){css_class}(\s|$)")


def test_notebook_keys_reach_only_the_armed_labeler(notebook_frontend, page: Page, keys_notebook: Path) -> None:
    page.goto(notebook_frontend(str(keys_notebook)), wait_until="commit")
    run_all_cells(page)
    for name in ("first-labeler", "second-labeler"):
        page.locator(f".{name} .alw-label-button").first.wait_for(state="visible", timeout=FIRST_RUN_TIMEOUT_MS)
        expect_labeled(page, name, 0)
    first, second = page.locator(".first-labeler"), page.locator(".second-labeler")
    expect(first).not_to_have_class(_with("alw-keys-armed"))

    # The off-screen case: "1" on the title cell in command mode leaves the Labelers alone.
    select_cell(page, 0)
    assert page.evaluate(JS_OFF_SCREEN, ".first-labeler"), "the Labeler should be scrolled out of view"
    page.keyboard.press("1")
    page.keyboard.press("Backspace")
    # The notebook's own "make heading" shortcut still works on a Markdown cell.
    select_cell(page, 1)
    page.keyboard.press("2")
    page.wait_for_function(f"() => ({JS_CELL_SOURCE})(1).startsWith('## Plain text')")

    # A click arms the first Labeler: ring and hint; its keys label, the other Labeler's count stays.
    arm(page, "first-labeler")
    hint = first.locator(".alw-keys-hint")
    expect(hint).to_be_visible()
    expect(hint).to_contain_text("keys: 1–3 label")
    expect(hint).to_contain_text("Backspace undo")
    page.keyboard.press("1")
    expect_labeled(page, "first-labeler", 1)  # not 2: the "1" on the title cell did nothing
    expect_labeled(page, "second-labeler", 0)

    # Clicking the second Labeler moves the keys there.
    arm(page, "second-labeler")
    expect(first).not_to_have_class(_with("alw-keys-armed"))
    expect(first.locator(".alw-keys-hint")).to_be_hidden()
    page.keyboard.press("2")
    expect_labeled(page, "second-labeler", 1)
    expect_labeled(page, "first-labeler", 1)

    # Editing a cell disarms it: Enter opens the selected cell's editor; after Escape the keys are the notebook's.
    page.keyboard.press("Enter")
    expect(page.locator(".jp-Notebook .jp-Cell.jp-mod-active .cm-content")).to_be_focused()
    expect(second).not_to_have_class(_with("alw-keys-armed"))
    page.keyboard.press("Escape")
    page.keyboard.press("Backspace")  # must not undo the second Labeler's label
    # A click elsewhere disarms too.
    arm(page, "first-labeler")
    select_cell(page, 0)
    expect(first).not_to_have_class(_with("alw-keys-armed"))
    page.keyboard.press("Backspace")  # must not undo the first Labeler's label
    arm(page, "second-labeler")
    page.keyboard.press("3")
    expect_labeled(page, "second-labeler", 2)  # not 1: the Backspace after editing did nothing
    arm(page, "first-labeler")
    page.keyboard.press("1")
    expect_labeled(page, "first-labeler", 2)  # not 1: the Backspace after the click elsewhere did nothing


def test_voila_enter_submits_the_typed_value(open_voila) -> None:
    # Notebook 03: a Gaussian process asks for y values; a person types one and presses Enter.
    page = open_voila("03_regression_gp.ipynb")
    wait_for_key_listener(page)
    item, count = shown_item(page), labeled_count(page)
    box = page.locator(".alw-labeler .alw-value input")
    box.click()
    page.keyboard.type("0.5")
    page.keyboard.press("Enter")
    wait_for_labeled(page, count + 1)
    wait_for_other_item(page, item)
    expect(box).to_have_value("")
    # Voila keeps its page-wide keys: no click arms anything, no ring is drawn.
    expect(page.locator(".alw-labeler")).not_to_have_class(_with("alw-keys-armed"))
    page.locator("body").click(position={"x": 2, "y": 2})
    page.keyboard.press("Backspace")
    wait_for_labeled(page, count)
    wait_for_item(page, item)
