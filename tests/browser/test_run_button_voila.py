"""Notebook 08 in Voila: "Run the stream" shows its click within a second, and the stream does not wait for the race.

The button is disabled and says it runs before any of the stream's work is
done; the new run's bar and status line appear under it; the button comes back
when the run is over. (Headless, with the work held on an event:
tests/test_background_progress.py.)
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

SEEN_WITHIN_MS = 1_000  # what the page promises: a click is seen within a second
RUN_TIMEOUT_MS = 240_000  # a quick-mode stream on a loaded machine; the bound only ends a test that failed


def test_run_the_stream_is_seen_at_once_and_comes_back_when_the_run_is_over(open_voila) -> None:
    page = open_voila("08_stream_vs_pool.ipynb", ready_selector="button.alw-run-button")
    button = page.locator("button.alw-run-button")
    expect(button).to_be_enabled(timeout=RUN_TIMEOUT_MS)  # the stream the page started as it loaded is over
    expect(button).to_have_text("Run the stream")
    old_status = page.locator(".alw-run-area .alw-background-status").first.element_handle()

    clicked = time.monotonic()
    button.click()
    expect(button).to_be_disabled(timeout=SEEN_WITHIN_MS)
    expect(button).to_have_text(re.compile("Running the stream"), timeout=SEEN_WITHIN_MS)
    seen = time.monotonic() - clicked
    status = page.locator(".alw-run-area .alw-background-status").first
    expect(status).to_have_text(re.compile(r"starting|initial labels|questions asked|waiting for|done in"),
                                timeout=SEEN_WITHIN_MS)
    assert status.element_handle() != old_status, "the new run's status line did not replace the old one"
    print(f"\nthe click was seen {seen * 1000:.0f} ms after it")

    expect(button).to_be_enabled(timeout=RUN_TIMEOUT_MS)
    expect(button).to_have_text("Run the stream")
    expect(status).to_contain_text("done in", timeout=RUN_TIMEOUT_MS)
