"""Two annotators on one Voila dashboard, in two browser contexts, as two people would use it.

The dashboard is served by ``python -m alwidgets serve campaign.toml`` (the
command a user runs), on a small MNIST campaign with its SQLite store in a
temporary folder. Each person types a name and labels; they must be shown
different items at the same time, every click must land in the store, and
reloading the page must keep the progress.

The server is started with ``JUPYTERHUB_USER=hubadmin`` in its environment,
as when ``serve`` runs inside someone's JupyterHub session: no visitor may
label as hubadmin. The identity tests then try what a careless or hostile
visitor would: a trusted name the check refuses, a re-enabled name field, a
look-alike name, and undo from another page under the same name.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import BrowserContext, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from serving import kernel_state, server_errors, start_serve, stop_serve

from alwidgets.store import open_store

pytestmark = pytest.mark.browser

FIRST_RENDER_TIMEOUT_MS = 120_000  # kernel start, MNIST load and first fit, on a loaded machine
LOCAL_URL = re.compile(r"^(https?|wss?)://(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(/|$)")
JS_ITEM = r"""() => {
    const node = document.querySelector('.alw-labeler .alw-instance');
    const found = node && node.innerText.match(/item\s+(\S+)/);
    return found ? found[1] : null;
}"""  # the campaign's item id, e.g. mnist-907
CAMPAIGN = """
title = "Digits for two"
[data]
source = "mnist"
limit = 300
[model]
strategy = "margin"
[store]
url = "labels.db"
lease_timeout = 600
"""




@pytest.fixture(scope="module")
def dashboard_server(jupyter_env: dict, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """``python -m alwidgets serve campaign.toml`` in a temporary folder; yields its URL and store path."""
    folder = tmp_path_factory.mktemp("campaign")
    (folder / "campaign.toml").write_text(CAMPAIGN)
    server = start_serve(folder, {**jupyter_env, "JUPYTERHUB_USER": "hubadmin"})
    yield server
    stop_serve(server)


def _allow_only_local(route) -> None:
    if LOCAL_URL.match(route.request.url):
        route.continue_()
    else:
        route.abort()


@pytest.fixture
def person(new_context: Callable[..., BrowserContext], dashboard_server: dict) -> Callable[[str], Page]:
    """Factory: ``person("alice")`` -> a page in its own browser context, labeling as alice."""
    errors: list[str] = []
    pages: list[Page] = []

    def open_as(name: str) -> Page:
        context = new_context(viewport={"width": 1300, "height": 1000})
        context.set_default_timeout(60_000)
        context.route("**/*", _allow_only_local)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(f"{name}: {error.message}"))
        pages.append(page)
        start_labeling(page, dashboard_server["url"], name)
        return page

    yield open_as
    for page in pages:
        if not page.is_closed():
            assert not page.locator(".voila-error").all_inner_texts(), "Voila showed an error"
    assert not errors, f"uncaught errors in the page: {errors}"
    log = server_errors(dashboard_server["log"].read_text(errors="replace"))
    assert "Traceback (most recent call last)" not in log, log[-5000:]


def start_labeling(page: Page, url: str, name: str) -> None:
    """Open the dashboard, type the name, press Start, and wait for the first item."""
    page.goto(url, wait_until="commit", timeout=FIRST_RENDER_TIMEOUT_MS)
    page.locator(".alw-dashboard, .voila-error").first.wait_for(timeout=FIRST_RENDER_TIMEOUT_MS)
    assert not page.locator(".voila-error").count(), page.locator(".voila-error").first.inner_text()
    page.locator(".alw-annotator input").fill(name)
    page.locator("button.alw-start").click()
    page.wait_for_function(JS_ITEM, timeout=FIRST_RENDER_TIMEOUT_MS)


def shown_item(page: Page) -> str:
    return page.evaluate(JS_ITEM)


def label_first_class(page: Page) -> str:
    """Click the first class button; returns the item that was labeled once the next one shows."""
    before = shown_item(page)
    page.locator(".alw-labeler .alw-label-button").first.click()
    page.wait_for_function(f"(old) => {{ const now = ({JS_ITEM})(); return now !== null && now !== old; }}",
                           arg=before)
    return before


def test_two_annotators_see_different_items_and_a_reload_keeps_their_progress(person, dashboard_server):
    alice = person("alice")
    bob = person("bob")
    seen = {"alice": [shown_item(alice)], "bob": [shown_item(bob)]}
    assert seen["alice"][0] != seen["bob"][0], "both people were shown the same item at once"

    labeled = {"alice": [], "bob": []}
    for _ in range(3):
        for name, page in (("alice", alice), ("bob", bob)):
            labeled[name].append(label_first_class(page))
            seen[name].append(shown_item(page))
            other = "bob" if name == "alice" else "alice"
            assert shown_item(page) != shown_item(alice if other == "alice" else bob)
    assert not set(labeled["alice"]) & set(labeled["bob"])

    store = open_store(dashboard_server["store"], create=False)
    events = [e for e in store.events() if e.kind == "label"]
    store.close()
    assert sorted(e.annotator for e in events) == ["alice"] * 3 + ["bob"] * 3

    campaign_line = alice.locator(".alw-campaign")
    alice.wait_for_function("() => /alice 3/.test(document.querySelector('.alw-campaign').innerText) "
                            "&& /bob 3/.test(document.querySelector('.alw-campaign').innerText)")
    assert "6 of 300 items labeled" in campaign_line.inner_text()

    alice.reload(wait_until="commit")
    start_labeling(alice, dashboard_server["url"], "alice")
    alice.locator(".alw-message").filter(has_text="3 of your labels are kept").wait_for()
    assert shown_item(alice) not in labeled["alice"] + labeled["bob"]
    assert "6 of 300 items labeled" in alice.locator(".alw-campaign").inner_text()
    assert alice.locator("a.alw-download-link").get_attribute("href").startswith("data:text/csv;base64,")


def test_a_name_set_by_an_authenticating_proxy_is_used_and_locked(new_context, dashboard_server):
    # `serve` tells Voila to pass the X-Forwarded-User header a login proxy sets on to the page's kernel
    context = new_context(viewport={"width": 1300, "height": 1000},
                          extra_http_headers={"X-Forwarded-User": "carol"})
    context.route("**/*", _allow_only_local)
    page = context.new_page()
    console: list[str] = []  # the widget manager's words, should the page come up incomplete
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    offset = dashboard_server["log"].stat().st_size
    page.goto(dashboard_server["url"], wait_until="commit", timeout=FIRST_RENDER_TIMEOUT_MS)
    page.wait_for_function(JS_ITEM, timeout=FIRST_RENDER_TIMEOUT_MS)  # labeling starts without typing a name
    name = page.locator(".alw-annotator input")
    assert name.input_value() == "carol" and name.is_disabled()
    try:
        page.locator(".alw-labeler .alw-label-button").first.wait_for(timeout=60_000)
    except PlaywrightTimeoutError:
        pytest.fail("the Labeler showed an item but no label buttons; the page's console said:\n"
                    + "\n".join(console) + "\nand the Labeler held:\n"
                    + page.locator(".alw-labeler").first.inner_html()[:3000], pytrace=False)
    label_first_class(page)
    store = open_store(dashboard_server["store"], create=False)
    assert [e.annotator for e in store.events() if e.kind == "label"][-1] == "carol"
    store.close()
    # the page was one `serve` kept ready (run before carol came): her name reached it all the same
    assert b"Using pre-heated kernel" in dashboard_server["log"].read_bytes()[offset:]


# ---------------------------------------------------------------------- identity


def open_dashboard(new_context, url: str, headers: dict | None = None) -> Page:
    """A fresh browser context on the dashboard (with ``headers`` on every request), once the page is up."""
    context = new_context(viewport={"width": 1300, "height": 1000}, extra_http_headers=headers or {})
    context.set_default_timeout(60_000)
    context.route("**/*", _allow_only_local)
    page = context.new_page()
    page.goto(url, wait_until="commit", timeout=FIRST_RENDER_TIMEOUT_MS)
    page.locator(".alw-dashboard .alw-annotator input, .voila-error").first.wait_for(timeout=FIRST_RENDER_TIMEOUT_MS)
    assert not page.locator(".voila-error").count(), page.locator(".voila-error").first.inner_text()
    return page


def annotators_in_store(dashboard_server) -> list[str]:
    store = open_store(dashboard_server["store"], create=False, read_only=True)
    try:
        return [e.annotator for e in store.events()]
    finally:
        store.close()


def test_the_servers_own_jupyterhub_user_is_not_handed_to_visitors(new_context, dashboard_server):
    page = open_dashboard(new_context, dashboard_server["url"])
    name = page.locator(".alw-annotator input")
    assert name.input_value() == "" and name.is_enabled()  # the visitor types their own name
    assert page.locator("button.alw-start").is_enabled() and not page.locator(".alw-labeler").count()
    assert "hubadmin" not in page.locator(".alw-dashboard").inner_text()
    assert "hubadmin" not in annotators_in_store(dashboard_server)


def test_a_refused_proxy_name_blocks_labeling_even_with_the_field_re_enabled(new_context, dashboard_server):
    page = open_dashboard(new_context, dashboard_server["url"], {"X-Forwarded-User": "o'brien"})
    message = page.locator(".alw-message")
    message.filter(has_text="Labeling is blocked").wait_for()
    assert "o'brien" in message.inner_text()
    assert page.locator("button.alw-start").is_disabled() and page.locator(".alw-annotator input").is_disabled()
    before = annotators_in_store(dashboard_server)
    # what anyone can do in the browser's developer tools: re-enable both, type another name, press Start
    page.evaluate("""() => {
        document.querySelector('.alw-annotator input').disabled = false;
        document.querySelector('button.alw-start').disabled = false;
    }""")
    page.locator(".alw-annotator input").fill("mallory")  # a name no other test of this server uses
    page.locator("button.alw-start").click()
    message.filter(has_text="your sign-in name cannot be used here").wait_for()  # the kernel heard the click
    page.wait_for_function("() => document.querySelector('.alw-annotator input').value === \"o'brien\"")
    assert not page.locator(".alw-labeler").count()
    assert annotators_in_store(dashboard_server) == before  # nothing was labeled, as bob or anyone


def test_a_look_alike_name_is_stored_in_one_spelling(person, dashboard_server):
    page = person("ｄａｖｅ")  # full-width letters
    page.locator(".alw-message").filter(has_text="Labeling as dave").wait_for()
    assert page.locator(".alw-annotator input").input_value() == "dave"
    label_first_class(page)
    assert annotators_in_store(dashboard_server)[-1] == "dave"


def test_undo_on_another_page_under_the_same_name_takes_back_nothing(person, dashboard_server):
    first = person("erin")
    given = [label_first_class(first), label_first_class(first)]
    second = person("erin")  # anyone can type erin's name on another page
    second.locator(".alw-labeler button.alw-undo").click()
    second.locator(".alw-labeler").filter(has_text="there is no label to take back").wait_for()
    store = open_store(dashboard_server["store"], create=False, read_only=True)
    erins = [e for e in store.events() if e.annotator == "erin"]
    store.close()
    assert [e.kind for e in erins] == ["label", "label"]
    assert "Undo takes back only the labels given on this page" in second.locator(".alw-message").inner_text()
    first.locator(".alw-labeler button.alw-undo").click()  # the page that gave them can take the last one back
    first.wait_for_function(f"(want) => ({JS_ITEM})() === want", arg=given[-1])
    store = open_store(dashboard_server["store"], create=False, read_only=True)
    assert [e.kind for e in store.events() if e.annotator == "erin"] == ["label", "label", "retract"]
    store.close()


# ---------------------------------------------------------------------- issue 11: the team dashboard


def campaign_text(page: Page) -> str:
    return page.locator(".alw-campaign").inner_text()


def test_after_a_restart_only_pages_still_open_count_as_being_labeled(new_context, jupyter_env, tmp_path):
    """Two people label, the server is restarted, one person comes back: one item is being labeled, not three."""
    (tmp_path / "campaign.toml").write_text(CAMPAIGN)
    server = start_serve(tmp_path, jupyter_env)
    try:
        alice = open_dashboard(new_context, server["url"])
        start_labeling(alice, server["url"], "alice")
        bob = open_dashboard(new_context, server["url"])
        start_labeling(bob, server["url"], "bob")
        label_first_class(bob)
        alice.wait_for_function("() => /2 being labeled right now/.test("
                                "document.querySelector('.alw-campaign').innerText)")
    finally:
        stop_serve(server)
    for page in (alice, bob):  # their people went home (an open page would knock on the new server's door
        page.close()           # for its old kernel, which Voila answers with a traceback in its log)
    server = start_serve(tmp_path, jupyter_env, port=server["port"])
    try:
        carol = open_dashboard(new_context, server["url"])
        start_labeling(carol, server["url"], "carol")
        carol.wait_for_function("() => /\\b1 being labeled right now/.test("
                                "document.querySelector('.alw-campaign').innerText)", timeout=60_000)
        assert "1 of 300 items labeled" in campaign_text(carol)
        store = open_store(server["store"], create=False)
        try:
            assert [row.annotator for row in store.leases(live_within=30)] == ["carol"]
        finally:
            store.close()
    finally:
        stop_serve(server)
    log = server_errors(server["log"].read_text(errors="replace"))
    assert "Traceback (most recent call last)" not in log, log[-5000:]


def test_a_reload_offers_the_name_back_and_a_new_browser_does_not(person, dashboard_server, new_context):
    page = person("frank")
    label_first_class(page)
    page.reload(wait_until="commit")
    page.wait_for_function("() => { const f = document.querySelector('.alw-dashboard .alw-annotator input');"
                           " return f && f.value === 'frank'; }", timeout=FIRST_RENDER_TIMEOUT_MS)
    page.locator(".alw-message").filter(has_text="Welcome back").wait_for()
    assert not page.locator(".alw-labeler").count()  # offered, not used without the person's word
    page.locator("button.alw-start").click()
    page.locator(".alw-message").filter(has_text="1 of your labels are kept").wait_for()
    stranger = open_dashboard(new_context, dashboard_server["url"])  # another browser knows nothing of frank
    stranger.wait_for_timeout(3000)
    assert stranger.locator(".alw-annotator input").input_value() == ""


def test_the_strategy_menu_is_not_shown_to_annotators_by_default(person):
    page = person("gina")
    assert page.locator(".alw-labeler .alw-label-button").count()
    assert page.locator(".alw-strategy").count() == 0


def test_a_closed_page_soon_stops_counting_as_being_labeled(person):
    """A page gone without a word (the browser crashed, or the shut-down request it sends on closing was lost)
    leaves its kernel until `serve --gone-after` ends it (tests/browser/test_crashed_page.py), and it must not
    count as somebody labeling: only pages that say they are open do. (Playwright closes this page without
    running its unload handlers.)"""
    ivy = person("ivy")
    jack = person("jack")
    count = "() => (document.querySelector('.alw-campaign').innerText.match(/(\\d+) being labeled right now/) " \
            "|| [0, 0])[1]"
    ivy.close()
    jack.wait_for_function(f"() => Number(({count})()) === 1", timeout=120_000)  # jack's page, and no other
    assert "being labeled right now" in jack.locator(".alw-campaign").inner_text()


def test_a_closed_page_ends_its_kernel_and_gives_back_its_item_at_once(person, dashboard_server):
    """Closing the tab sends Voila's shut-down request; the server accepts it (the page has its _xsrf cookie),
    so the kernel ends at once and gives back its lease, its place under --max-kernels and its memory."""
    kim = person("kim")
    kernel = kim.evaluate("() => JSON.parse(document.getElementById('jupyter-config-data').textContent).kernelId")
    assert kernel_state(dashboard_server, kernel) is not None, "the page's kernel is not running"
    assert "_xsrf" in {cookie["name"] for cookie in kim.context.cookies()}

    with kim.expect_event("close"):  # with its unload handlers run, close() does not wait for the page to close
        kim.close(run_before_unload=True)  # as a person closing the tab
    deadline = time.monotonic() + 120  # it ends at once; the bound only ends a test that failed
    while (state := kernel_state(dashboard_server, kernel)) is not None:
        assert time.monotonic() < deadline, f"the closed page's kernel is still running ({state}) after 120 s"
        time.sleep(0.25)
    store = open_store(dashboard_server["store"], create=False)
    try:
        holders = [row.annotator for row in store.leases()]
    finally:
        store.close()
    assert "kim" not in holders, "the closed page's kernel did not give back its lease"
    assert "403 POST /voila/api/shutdown" not in dashboard_server["log"].read_text(errors="replace")
