"""The image-labeling notebook in JupyterLab 4: open it, run all cells, label, see the next item."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

NOTEBOOK = "01_images.ipynb"
FIRST_RUN_TIMEOUT_MS = 120_000
JS_ITEM = r"""() => {
    const node = document.querySelector('.alw-labeler .alw-instance');
    const found = node && node.innerText.match(/item\s+(\d+)/);
    return found ? found[1] : null;
}"""


def run_all_cells(page: Page) -> None:
    """Use the Run menu as a person would, once the kernel is ready."""
    expect(page.locator(".jp-NotebookPanel .jp-Notebook")).to_be_visible()
    expect(page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")).to_be_attached()
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    page.wait_for_timeout(8000); page.screenshot(path="/tmp/alw_nb/after.png"); open("/tmp/alw_nb/after.html","w").write(page.content())


def test_jupyterlab_run_all_then_label(jupyterlab, page: Page) -> None:
    page.goto(jupyterlab(NOTEBOOK), wait_until="commit")
    run_all_cells(page)

    page.locator(".alw-labeler .alw-label-button").first.wait_for(state="visible", timeout=FIRST_RUN_TIMEOUT_MS)
    item = page.evaluate(JS_ITEM)
    assert item is not None, "the instance caption should read 'item <N>'"
    tracebacks = page.locator(".jp-OutputArea-output", has_text="Traceback (most recent call last)")
    assert tracebacks.count() == 0, tracebacks.first.inner_text()

    page.locator(".alw-labeler .alw-label-button").first.click()

    page.wait_for_function(f"(old) => {{ const now = ({JS_ITEM})(); return now !== null && now !== old; }}", arg=item)
    expect(tracebacks).to_have_count(0)
