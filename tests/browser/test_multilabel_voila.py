"""The multi-label notebook in Voila: keys toggle classes, Enter submits the set, undo brings the set back."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from test_voila_notebooks import (
    labeled_count,
    park_mouse_outside_the_widget,
    shown_item,
    wait_for_item,
    wait_for_key_listener,
    wait_for_labeled,
    wait_for_other_item,
)

pytestmark = pytest.mark.browser

NOTEBOOK = "09_multilabel.ipynb"
TOGGLED = ".alw-labeler .alw-toggle.mod-active"


def toggled_classes(page: Page) -> list[str]:
    """The classes whose toggle is on, as the page shows them (the description before " [key]")."""
    return [text.split(" [")[0].strip() for text in page.locator(TOGGLED).all_inner_texts()]


def wait_for_toggled(page: Page, classes: list[str]) -> None:
    """Wait until exactly ``classes`` are on: each key's toggle makes a round trip to the kernel, in order,
    so a count alone can match a state on the way."""
    page.wait_for_function(
        """([selector, want]) => JSON.stringify(Array.from(document.querySelectorAll(selector))
            .map(node => node.innerText.split(' [')[0].trim()).sort()) === JSON.stringify(want)""",
        arg=[TOGGLED, sorted(classes)])


def test_keys_toggle_classes_and_enter_records_the_set(open_voila) -> None:
    page = open_voila(NOTEBOOK)
    wait_for_key_listener(page)
    park_mouse_outside_the_widget(page)
    item, labeled = shown_item(page), labeled_count(page)
    names = [text.split(" [")[0].strip() for text in page.locator(".alw-labeler .alw-toggle").all_inner_texts()]
    assert len(names) == 6, names

    page.keyboard.press("2")
    page.keyboard.press("2")  # on, then off again
    page.keyboard.press("1")
    page.keyboard.press("3")  # only the last key gives the final set: a wait for it cannot stop on the way
    wait_for_toggled(page, [names[0], names[2]])
    assert sorted(toggled_classes(page)) == sorted([names[0], names[2]])
    assert labeled_count(page) == labeled  # toggling records nothing

    page.keyboard.press("Enter")
    wait_for_other_item(page, item)
    wait_for_labeled(page, labeled + 1)
    expect(page.locator(TOGGLED)).to_have_count(0)  # the next item starts with nothing toggled

    # Undo takes the label back from the store and shows the item with the set it recorded.
    page.keyboard.press("Backspace")
    wait_for_labeled(page, labeled)
    wait_for_item(page, item)
    wait_for_toggled(page, [names[0], names[2]])
    assert sorted(toggled_classes(page)) == sorted([names[0], names[2]])
