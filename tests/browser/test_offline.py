"""alwidgets' Voila pages ask nothing of any host but the one that serves them.

Voila's own page template links two Font Awesome stylesheets from a CDN: an
offline classroom gets two console errors, an online one tells a third party
who opened the page. The notebooks and the dashboard name alwidgets' template
(``alwidgets/share/jupyter/voila/templates/alwidgets``), which drops those
links; the icons still come from the copy of Font Awesome inside Voila's bundle.

Every context from ``new_local_context`` aborts and records a request to
another host (``PageGuard.route``), and the guard fails the test on any; these
tests also check the console and that the icons are still drawn.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page
from test_dashboard_voila import dashboard_server, start_labeling  # noqa: F401  (a fixture, used by name)

pytestmark = pytest.mark.browser

JS_UNDO_ICON = """() => {
    const icon = document.querySelector('.alw-labeler .alw-undo i.fa');
    if (!icon) return null;
    return {family: getComputedStyle(icon).fontFamily, glyph: getComputedStyle(icon, '::before').content};
}"""


def watch_failed_loads(page: Page) -> list[str]:
    """Console errors of resources that could not be loaded (what an aborted CDN stylesheet logs)."""
    failed: list[str] = []
    page.on("console", lambda message: failed.append(message.text)
            if message.type == "error" and "Failed to load resource" in message.text else None)
    page.on("requestfailed", lambda request: failed.append(f"{request.url}: {request.failure}"))
    return failed


def assert_offline_and_icons_drawn(page: Page, guard, failed: list[str]) -> None:
    page.wait_for_load_state("load")
    assert guard.external_requests == [], f"the page asked other hosts for {guard.external_requests}"
    assert failed == [], f"resources failed to load: {failed}"
    icon = page.evaluate(JS_UNDO_ICON)
    assert icon is not None, "the Undo button should carry its Font Awesome icon (i.fa)"
    assert "Font Awesome" in icon["family"], f"the undo icon is drawn in {icon['family']!r}, not Font Awesome"
    assert icon["glyph"] not in ("none", "normal", '""'), "the undo icon has no glyph"


@pytest.mark.parametrize("notebook", ["03_regression_gp.ipynb", "04_decision_boundary.ipynb"])
def test_voila_notebook_asks_no_other_host(open_voila, page: Page, page_guard, notebook: str) -> None:
    failed = watch_failed_loads(page)
    open_voila(notebook)
    assert_offline_and_icons_drawn(page, page_guard, failed)


def test_dashboard_asks_no_other_host(
    new_local_context: Callable[..., BrowserContext], page_guard, dashboard_server  # noqa: F811
) -> None:
    page = new_local_context().new_page()
    failed = watch_failed_loads(page)
    start_labeling(page, dashboard_server["url"], "offline")
    assert_offline_and_icons_drawn(page, page_guard, failed)
