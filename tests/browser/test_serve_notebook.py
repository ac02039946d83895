"""A notebook served with ``python -m alwidgets serve NOTEBOOK.ipynb``: pages kept ready, run before anyone comes.

The notebook stamps the time its cells ran and leaves a file named after its
kernel's process once they have. The test waits for that file, so the page it
opens was run before it was requested; the stamp on the page says so, and
the Labeler on it labels. The next visitor gets a page of their own, from the
pool refilled behind the first.
"""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import Page
from serving import server_errors, start_serve, stop_serve

pytestmark = pytest.mark.browser

READY_TIMEOUT_S = 120
CELLS = [
    "import os, time\n"
    "import ipywidgets as widgets\n"
    "from sklearn.linear_model import LogisticRegression\n"
    "import alwidgets as alw",
    "moons = alw.datasets.make_moons(n_samples=80, random_state=0)\n"
    "session = alw.Session(LogisticRegression(), moons.X, strategy='margin', random_state=0)\n"
    "labeler = alw.Labeler(session, classes=[0, 1], y_true=moons.y, budget=20)\n"
    "stamp = widgets.HTML(f\"<span class='ran-at'>{time.time():.3f}</span>\")\n"
    "widgets.VBox([stamp, labeler])",
    "open(f'ran-{os.getpid()}', 'w').close()  # every cell above has run",
]
JS_ITEM = r"""() => {
    const node = document.querySelector('.alw-labeler .alw-instance');
    const found = node && node.innerText.match(/item\s+(\d+)/);
    return found ? found[1] : null;
}"""


def wait_for_runs(folder: Path, count: int) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while len(list(folder.glob("ran-*"))) < count:
        log = server_errors((folder / "serve.log").read_text(errors="replace"))
        assert "Traceback (most recent call last)" not in log, log[-5000:]
        assert time.monotonic() < deadline, f"fewer than {count} pages were run within {READY_TIMEOUT_S} s"
        time.sleep(0.2)


def open_page(page: Page, url: str) -> float:
    """Open the page; returns when (epoch seconds) it was requested."""
    asked = time.time()
    page.goto(url, wait_until="commit")
    page.locator(".alw-labeler, .voila-error").first.wait_for(timeout=READY_TIMEOUT_S * 1000)
    assert not page.locator(".voila-error").count(), page.locator(".voila-error").first.inner_text()
    return asked


def test_a_served_notebook_is_run_before_its_visitor_comes_and_labels(new_local_context, jupyter_env, tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in CELLS])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, tmp_path / "lesson.ipynb")
    server = start_serve(tmp_path, jupyter_env, target="lesson.ipynb", options=["--pool", "1"])
    try:
        wait_for_runs(tmp_path, 1)
        first = new_local_context().new_page()
        asked = open_page(first, server["url"])
        ran_at = float(first.locator(".ran-at").inner_text())
        assert ran_at < asked, "the page's cells ran after it was requested: it was not kept ready"

        item = first.evaluate(JS_ITEM)
        first.locator(".alw-labeler .alw-label-button").first.click()
        first.wait_for_function(f"(old) => {{ const now = ({JS_ITEM})(); return now !== null && now !== old; }}",
                                arg=item)
        first.locator(".alw-labeler .alw-progress").filter(has_text="1 label").wait_for()

        wait_for_runs(tmp_path, 2)  # the pool was refilled behind the first visitor
        second = new_local_context().new_page()
        asked_again = open_page(second, server["url"])
        second_ran_at = float(second.locator(".ran-at").inner_text())
        assert asked < second_ran_at < asked_again  # another kernel, run after the first visit, before this one
        assert "1 label" not in second.locator(".alw-labeler .alw-progress").inner_text()
    finally:
        stop_serve(server)
    log = server["log"].read_text(errors="replace")
    assert log.count("Using pre-heated kernel") == 2 and "1 page kept ready" in log
    assert "Traceback (most recent call last)" not in server_errors(log), log[-5000:]
