"""What a projector shows: texts inside the page's width, and the armed ring beside the caption, not over it."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import Page
from test_jupyterlab import FIRST_RUN_TIMEOUT_MS, run_all_cells
from test_notebook_keys import arm

pytestmark = pytest.mark.browser

# Every box of the Labeler fits the page's width, and nothing in it scrolls sideways.
JS_OVERFLOWING = """() => {
    const width = document.documentElement.clientWidth;
    const out = [];
    if (document.scrollingElement.scrollWidth > document.scrollingElement.clientWidth) out.push('the page');
    for (const el of document.querySelectorAll('.alw-labeler, .alw-labeler *')) {
        const box = el.getBoundingClientRect();
        if (box.width === 0) continue;
        const sideways = el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== 'visible';
        if (box.right > width + 0.5 || sideways) out.push(`${el.className} (right ${box.right}, width ${width})`);
    }
    return out;
}"""

# Where the caption's text starts, and where the ring drawn inside the Labeler's edge ends.
JS_CAPTION_AND_RING = """() => {
    const labeler = document.querySelector('.alw-labeler.alw-keys-armed');
    const caption = labeler.querySelector('.alw-caption');
    const range = document.createRange();
    range.selectNodeContents(caption);
    const style = getComputedStyle(labeler);
    // An outline of width w drawn w inside the edge (outline-offset: -w) covers [left, left + w].
    const ringInner = labeler.getBoundingClientRect().left + parseFloat(style.outlineWidth);
    return {text: range.getBoundingClientRect().left, ringInner, caption: caption.innerText};
}"""


@pytest.mark.parametrize("width", [800, 1280])
def test_notebook_02_texts_stay_inside_the_page(open_voila, page: Page, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 800})
    open_voila("02_text.ipynb", ready_selector=".alw-labeler .alw-text")
    assert page.evaluate(JS_OVERFLOWING) == []


@pytest.fixture
def labeler_notebook(tmp_path: Path) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(
        "import numpy as np\nimport alwidgets as alw\nfrom sklearn.linear_model import LogisticRegression\n\n"
        "X = np.random.RandomState(0).rand(3000, 2)\n"
        "labeler = alw.Labeler(alw.Session(LogisticRegression(), X, classes=['a', 'b'], random_state=0), plots=None)\n"
        "labeler.add_class('ringed')\nlabeler")]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "ring_test.ipynb"
    nbformat.write(notebook, path)
    return path


def test_the_armed_ring_leaves_the_captions_first_letter_whole(notebook_frontend, page: Page,
                                                                labeler_notebook: Path) -> None:
    page.goto(notebook_frontend(str(labeler_notebook)), wait_until="commit")
    run_all_cells(page)
    page.locator(".ringed .alw-label-button").first.wait_for(state="visible", timeout=FIRST_RUN_TIMEOUT_MS)
    arm(page, "ringed")
    where = page.evaluate(JS_CAPTION_AND_RING)
    assert where["caption"].startswith("item ")
    assert where["text"] >= where["ringInner"] + 1, where
