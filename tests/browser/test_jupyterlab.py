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


JS_KERNEL_READY = """() => {
    const kernel = window.jupyterapp?.shell?.currentWidget?.sessionContext?.session?.kernel;
    return !!kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle';
}"""


def run_all_cells(page: Page) -> None:
    """Use the Run menu as a person would, once the notebook's kernel is connected and idle.

    Cells run before the kernel is connected are silently not run by
    JupyterLab, so the test waits for the kernel as a person waits for the
    status bar to say "Idle".
    """
    expect(page.locator(".jp-NotebookPanel .jp-Notebook")).to_be_visible()
    page.wait_for_function(JS_KERNEL_READY, timeout=FIRST_RUN_TIMEOUT_MS)
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()


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
