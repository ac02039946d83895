"""What the lessons mark and name, checked in Chromium on pages Voila serves.

- Notebooks 03 (GP regression) and 04 (decision boundary): after labels that
  refitted the model, the item on screen is the one the plot marks "asked
  now". The plot is a PNG; its title (``img[title]``, which a screen reader
  reads too) says what the plot marks and where it drew it, read from the
  drawn artists: "asked now: item 7 at x = 8.371".
- Relabeling a label the model flagged never suggests the flagged label.
- A page of a Session given item ids (a labeler page, a dashboard page) names
  items by the id the store and the export hold ("img_42.png", "mnist-907").
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from one_cell import write_notebook
from playwright.sync_api import Page
from serving import start_serve, stop_serve

import alwidgets as alw
from alwidgets.store import open_store
from alwidgets.store.sql import SQLStore

pytestmark = pytest.mark.browser

UPDATE_TIMEOUT_MS = 60_000
JS_STATE = r"""() => {
    const root = document.querySelector('.alw-labeler');
    if (!root) return null;
    const text = selector => (root.querySelector(selector)?.innerText || '');
    const version = text('.alw-status').match(/model up to date \(version (\d+)\)/);
    const titles = Array.from(root.querySelectorAll('img.alw-plot, .alw-plot img')).map(i => i.getAttribute('title') || '');
    return {
        caption: text('.alw-caption'),
        instance: text('.alw-instance'),
        version: version ? Number(version[1]) : null,
        marks: titles.find(title => title.includes('asked now')) || null,
    };
}"""
NUMBER = r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?"


def settled_state(page: Page, after_version: int) -> dict:
    """The Labeler's state once a model newer than ``after_version`` is up to date and its plot marks an item."""
    handle = page.wait_for_function(
        f"(after) => {{ const s = ({JS_STATE})(); "
        "return s && s.version !== null && s.version > after && s.marks ? s : null; }",
        arg=after_version, timeout=UPDATE_TIMEOUT_MS)
    return handle.json_value()


def check_the_plot_marks_the_item_on_screen(state: dict) -> None:
    shown = re.fullmatch(r"item (\S+)", state["caption"].strip())
    assert shown, f"the caption should name the item on screen; it reads {state['caption']!r}"
    asked = re.search(rf"asked now: item (\S+) at (?:x = ({NUMBER})|\(({NUMBER}), ({NUMBER})\))", state["marks"])
    assert asked, f"the plot's title should say which item it marks as asked now; it reads {state['marks']!r}"
    assert asked.group(1) == shown.group(1), (f"the page shows item {shown.group(1)} but the plot marks item "
                                              f"{asked.group(1)} as asked now ({state['marks']!r})")
    drawn = [float(v) for v in asked.groups()[1:] if v is not None]
    if len(drawn) == 1:  # notebook 03's view: "x0 = 8.371"
        on_screen = [float(re.search(rf"x0 = ({NUMBER})", state["instance"]).group(1))]
    else:  # notebook 04's view: "(0.1234, -0.5)"
        on_screen = [float(v) for v in re.search(rf"\(({NUMBER}), ({NUMBER})\)", state["instance"]).groups()]
    assert drawn == pytest.approx(on_screen, rel=1e-3, abs=1e-3), (
        f"the item on screen is at {on_screen}, the plot marks {drawn} as asked now")


def give_a_label(page: Page, control: str) -> None:
    if control == "button":
        page.locator(".alw-labeler .alw-label-button").first.click()
    else:
        page.locator(".alw-labeler .alw-value input").first.fill("0.5")
        page.locator(".alw-labeler .alw-submit").first.click()


@pytest.mark.parametrize("notebook, control", [("03_regression_gp.ipynb", "value"),
                                               ("04_decision_boundary.ipynb", "button")])
def test_after_refits_the_item_on_screen_is_the_item_the_plot_marks_asked_now(open_voila, notebook, control):
    page = open_voila(notebook)  # the quick notebook's autopilot has already given a few labels, each refitting
    state = settled_state(page, 0)
    check_the_plot_marks_the_item_on_screen(state)
    for _ in range(2):  # and after labels given on the page
        give_a_label(page, control)
        state = settled_state(page, state["version"])
        check_the_plot_marks_the_item_on_screen(state)


# ---------------------------------------------------------------------- relabel, and a page's item ids

FLIPPED = 42  # the item whose label the notebook gets wrong on purpose
NOTEBOOK = f"""
import alwidgets as alw
from sklearn.linear_model import LogisticRegression

digits = alw.datasets.load_digits()
session = alw.Session(LogisticRegression(max_iter=300), digits.X[:300], "margin", classes=list(range(10)),
                      random_state=0, store="labels.db", annotator="tester",
                      item_ids=[f"img_{{k}}.png" for k in range(300)])
if session.n_labeled == 0:
    labels = [int(v) for v in digits.y[:60]]
    labels[{FLIPPED}] = (labels[{FLIPPED}] + 5) % 10  # one wrong label, for the review to flag
    session.teach(list(range(60)), labels)
labeler = alw.Labeler(session, view=alw.views.image(digits.images[:300]), suggest=True, plots=None)
labeler
"""


def stored_events(folder: Path, count: int, timeout: float = 60.0) -> list:
    """The store's events once it holds ``count`` of them (the page writes them from its kernel)."""
    deadline = time.monotonic() + timeout
    while True:
        store = SQLStore(folder / "labels.db", read_only=True)
        try:
            events = store.events()
        finally:
            store.close()
        if len(events) >= count or time.monotonic() > deadline:
            assert len(events) >= count, f"the store holds {len(events)} events, expected {count}"
            return events
        time.sleep(0.2)


def test_a_flagged_label_opened_to_relabel_is_never_the_suggestion_and_items_go_by_their_ids(
        open_voila, tmp_path_factory):
    folder = tmp_path_factory.mktemp("relabel")
    page = open_voila(str(write_notebook(folder, "relabel.ipynb", NOTEBOOK)))
    before = len(stored_events(folder, 0))
    caption = page.locator(".alw-labeler .alw-caption")
    shown = re.fullmatch(r"item (img_\d+\.png)", caption.inner_text().strip())
    assert shown, f"the caption should name the item by its id; it reads {caption.inner_text()!r}"

    page.locator(".alw-labeler .alw-label-button").first.click()
    assert stored_events(folder, before + 1)[-1].item_id == shown.group(1)  # the id on the page is the store's

    right = int(alw.datasets.load_digits().y[FLIPPED])
    wrong = (right + 5) % 10
    page.locator(".alw-labeler .alw-mode button", has_text="Labeled").click()
    page.locator(".alw-review .alw-disagree").click()
    page.locator(".alw-review-status", has_text="least likely first").wait_for(timeout=UPDATE_TIMEOUT_MS)
    first = page.locator(".alw-review-card").first
    assert f"item img_{FLIPPED}.png: {wrong}" in first.inner_text()
    first.locator(".alw-relabel").click()
    page.locator(".alw-labeler .alw-caption", has_text=f"relabeling item img_{FLIPPED}.png").wait_for()

    hint = page.locator(".alw-labeler .alw-suggestion").inner_text()
    marked = page.locator(".alw-labeler .alw-label-button.mod-info").all_inner_texts()
    suggested = re.search(r"suggests (\S+) \(", hint)  # the guess of the model that flagged it
    assert suggested, f"a flagged label opened to relabel should come with the flagging model's guess: {hint!r}"
    assert suggested.group(1) != str(wrong), f"the flagged label is suggested: {hint!r}"
    assert not any(text.startswith(f"{wrong} [") for text in marked), f"the flagged label's button is marked: {marked}"
    page.locator(".alw-labeler .alw-keys").wait_for(state="attached")
    events = stored_events(folder, 0)
    page.keyboard.press("Enter")  # takes the suggestion: Enter cannot confirm the flagged label
    relabel = stored_events(folder, len(events) + 2)[-2:]
    assert [(e.kind, e.item_id) for e in relabel] == [("retract", f"img_{FLIPPED}.png"), ("label", f"img_{FLIPPED}.png")]
    assert str(relabel[-1].label) == suggested.group(1)


CAMPAIGN = """
title = "Digits, named"
[data]
source = "mnist"
limit = 120
[model]
strategy = "margin"
[store]
url = "labels.db"
"""


def test_a_dashboard_page_names_items_by_the_campaigns_ids(page, jupyter_env, tmp_path_factory):
    folder = tmp_path_factory.mktemp("named-campaign")
    (folder / "campaign.toml").write_text(CAMPAIGN)
    server = start_serve(folder, jupyter_env)
    try:
        page.goto(server["url"], wait_until="commit", timeout=120_000)
        page.locator(".alw-dashboard .alw-annotator input").wait_for(timeout=120_000)
        page.locator(".alw-annotator input").fill("tess")
        page.locator("button.alw-start").click()
        caption = page.locator(".alw-labeler .alw-caption", has_text=re.compile(r"item mnist-\d+"))
        caption.wait_for(timeout=120_000)
        shown = caption.inner_text().strip().removeprefix("item ")
        page.locator(".alw-labeler .alw-label-button").first.click()
        page.wait_for_function("(old) => { const c = document.querySelector('.alw-labeler .alw-caption'); "
                               "return c && /item mnist-\\d+/.test(c.innerText) && c.innerText.trim() !== old; }",
                               arg=f"item {shown}")
        store = open_store(server["store"], create=False, read_only=True)
        try:
            assert [e.item_id for e in store.events() if e.kind == "label"] == [shown]
        finally:
            store.close()
    finally:
        stop_serve(server)
