"""Suggested labels and the "Labeled" view in a real browser: a Labeler served by Voila, its labels in SQLite.

Each test writes a small notebook next to its own store, serves it with Voila,
drives the page in Chromium as a person would, and then reads the store: what
counts is what was saved, not what the page says.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from one_cell import write_notebook
from playwright.sync_api import Page

import alwidgets as alw
from alwidgets.store.sql import SQLStore

pytestmark = pytest.mark.browser

FLIPPED = 42  # the item whose label the notebook gets wrong on purpose

NOTEBOOK = f"""
import alwidgets as alw
from sklearn.linear_model import LogisticRegression

digits = alw.datasets.load_digits()
session = alw.Session(LogisticRegression(max_iter=300), digits.X[:300], "margin", classes=list(range(10)),
                      random_state=0, store="labels.db", annotator="tester")
if session.n_labeled == 0:
    labels = [int(v) for v in digits.y[:60]]
    labels[{FLIPPED}] = (labels[{FLIPPED}] + 5) % 10  # one wrong label, for the review to find
    session.teach(list(range(60)), labels)
else:
    session.update()
labeler = alw.Labeler(session, view=alw.views.image(digits.images[:300]), suggest=True, plots=None)
labeler
"""


# A learning curve whose model stops changing: one answer at a time, so that every label is a model update.
STOPPING_NOTEBOOK = """
import alwidgets as alw
from sklearn.linear_model import LogisticRegression

digits = alw.datasets.load_digits()
session = alw.Session(LogisticRegression(max_iter=300), digits.X[:300], "margin", classes=list(range(10)),
                      X_test=digits.X[1000:1300], y_test=digits.y[1000:1300], random_state=0)
for _ in range(90):
    idx = session.query(1)[0]
    session.teach(idx, int(digits.y[idx]))
labeler = alw.Labeler(session, view=alw.views.image(digits.images[:300]))
labeler
"""


@pytest.fixture(scope="module")
def notebook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_notebook(tmp_path_factory.mktemp("suggest-review"), "suggest_review.ipynb", NOTEBOOK)


def stored_events(folder: Path):
    store = SQLStore(folder / "labels.db", read_only=True)
    try:
        return store.events()
    finally:
        store.close()


def wait_for_events(folder: Path, count: int, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = stored_events(folder)
        if len(events) >= count:
            return events
        time.sleep(0.2)
    pytest.fail(f"the store holds {len(stored_events(folder))} events, expected {count}", pytrace=False)


def test_enter_accepts_the_suggested_label_and_the_store_says_it_was_accepted(open_voila, notebook: Path) -> None:
    page: Page = open_voila(str(notebook))
    page.locator(".alw-labeler .alw-keys").wait_for(state="attached")
    hint = page.locator(".alw-labeler .alw-suggestion")
    hint.filter(has_text="The model suggests").wait_for(timeout=30_000)
    suggested = re.search(r"suggests (\S+) \(", hint.inner_text()).group(1)
    marked = page.locator(".alw-labeler .alw-label-button.mod-info")
    assert marked.count() == 1 and marked.inner_text().startswith(suggested)
    before = len(stored_events(notebook.parent))

    page.keyboard.press("Enter")

    event = wait_for_events(notebook.parent, before + 1)[-1]
    assert (event.kind, str(event.label), str(event.suggested), event.accepted) == ("label", suggested, suggested,
                                                                                    True)


def test_the_model_disagrees_opens_the_wrong_label_and_a_relabel_changes_the_stored_label(open_voila,
                                                                                          notebook: Path) -> None:
    page: Page = open_voila(str(notebook))
    page.locator(".alw-labeler .alw-mode button", has_text="Labeled").click()
    page.locator(".alw-review .alw-disagree").click()
    page.locator(".alw-review-status", has_text="least likely first").wait_for(timeout=60_000)
    first = page.locator(".alw-review-card").first
    right = int(alw.datasets.load_digits().y[FLIPPED])
    wrong = (right + 5) % 10
    assert f"item {FLIPPED}: {wrong}" in first.inner_text()
    before = len(stored_events(notebook.parent))

    first.locator(".alw-relabel").click()
    page.locator(".alw-labeler .alw-caption", has_text=f"relabeling item {FLIPPED}").wait_for()
    page.locator(".alw-labeler .alw-label-button", has_text=re.compile(rf"^{right} \[")).click()

    events = wait_for_events(notebook.parent, before + 2)
    assert [(e.kind, e.label) for e in events[-2:]] == [("retract", wrong), ("label", right)]
    page.locator(".alw-review").wait_for(state="visible")  # back in the list, to go on reviewing


def test_the_stop_signal_is_said_on_the_page_and_marked_on_the_learning_curve(open_voila, tmp_path_factory) -> None:
    path = write_notebook(tmp_path_factory.mktemp("stopping"), "stopping.ipynb", STOPPING_NOTEBOOK)
    page: Page = open_voila(str(path))
    progress = page.locator(".alw-labeler .alw-progress")
    progress.locator(".alw-stop", has_text="the model has stopped changing").wait_for(timeout=60_000)
    page.locator(".alw-labeler .alw-status", has_text="up to date").wait_for(timeout=60_000)
    plot = page.locator(".alw-labeler img.alw-plot, .alw-labeler .alw-plot img").first
    plot.wait_for()
    # the learning curve is on the page (that the diamond is drawn on it: tests/test_suggest_relabel.py)
    assert plot.evaluate("image => image.naturalWidth") > 100
