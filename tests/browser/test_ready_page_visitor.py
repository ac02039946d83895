"""The visitor of a page kept ready, and the page's kernel: what a stranger, a broken address or a plain request
can do to them (issue "Fail closed, everywhere").

Each test starts ``python -m alwidgets serve`` on a small MNIST campaign, as an operator would, and drives
Chromium as the visitors. A login proxy's name reaches a page as the ``X-Forwarded-User`` header.

- A stranger who opens and closes sockets on ``voila/query/<any id>`` must not leave the next visitor's ready
  page waiting forever: the page must take in its visitor (here, the proxy's name) as usual.
- A page that cannot learn who opened it must not let the visitor label under a name of their choosing.
- Only the page's own browser may end its kernel; a page whose kernel ended says so at once.
- A kernel that no browser ever connects to (a plain request) is given back within seconds.

Every wait is for an event (a log line, a page's text, a kernel's connection); the deadlines only end a test
that failed.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator

import psutil
import pytest
from playwright.sync_api import BrowserContext, Page
from ports import free_port
from serving import START_TIMEOUT_S, kernel_state, server_errors, stop_serve

pytestmark = pytest.mark.browser

FIRST_RENDER_TIMEOUT_MS = 120_000
LOCAL_URL = re.compile(r"^(https?|wss?)://(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(/|$)")
CAMPAIGN = """
title = "Digits kept ready"
[data]
source = "mnist"
limit = 300
[model]
strategy = "margin"
[store]
url = "labels.db"
"""
KERNEL_ID = "() => JSON.parse(document.getElementById('jupyter-config-data').textContent).kernelId"
JS_ITEM = r"""() => {
    const node = document.querySelector('.alw-labeler .alw-instance');
    const found = node && node.innerText.match(/item\s+(\S+)/);
    return found ? found[1] : null;
}"""  # the campaign's item id, e.g. mnist-907


def serve(folder, env: dict, options=(), host: str = "127.0.0.1") -> dict:
    """``python -m alwidgets serve campaign.toml --host HOST OPTIONS`` in ``folder``, once it answers."""
    (folder / "campaign.toml").write_text(CAMPAIGN)
    port = free_port()
    log_path = folder / "serve.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "alwidgets", "serve", "campaign.toml", "--port", str(port), "--host", host,
             *options],
            cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    url = f"http://{'[' + host + ']' if ':' in host else host}:{port}/"
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if process.poll() is not None:
            pytest.fail(f"`alwidgets serve` exited with {process.returncode}:\n{log_path.read_text()}", pytrace=False)
        try:
            with urllib.request.urlopen(url + "voila/static/", timeout=5):
                break
        except urllib.error.HTTPError:
            break
        except OSError:
            if time.monotonic() > deadline:
                os.killpg(process.pid, signal.SIGTERM)
                pytest.fail(f"`alwidgets serve` did not answer within {START_TIMEOUT_S} s:\n{log_path.read_text()}",
                            pytrace=False)
            time.sleep(0.5)
    return {"url": url, "port": port, "process": process, "store": folder / "labels.db", "log": log_path}


@pytest.fixture
def server_of(jupyter_env: dict, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., dict]]:
    """Factory: ``server_of(options, host=...)`` -> a running ``serve``; stopped (and its log checked) after the test."""
    started: list[dict] = []

    def start(options=(), host: str = "127.0.0.1", env: dict | None = None) -> dict:
        server = serve(tmp_path_factory.mktemp("ready"), {**jupyter_env, **(env or {})}, options, host)
        started.append(server)
        return server

    yield start
    for server in started:
        stop_serve(server)
    for server in started:
        log = server_errors(server["log"].read_text(errors="replace"))
        assert "Traceback (most recent call last)" not in log, log[-5000:]


def log_text(server: dict) -> str:
    return server["log"].read_text(errors="replace")


def wait_for(what: str, check: Callable[[], object], timeout: float, server: dict | None = None):
    """``check()``'s first true value; fails the test (with the server's log) if none comes within ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            tail = f"\n--- the server's log ---\n{log_text(server)[-6000:]}" if server else ""
            pytest.fail(f"{what}: not within {timeout:.0f} s{tail}", pytrace=False)
        time.sleep(0.2)
    return value


def kernels_asking_who_came(server: dict) -> set[int]:
    """The kernel processes with a connection open to the server's own port: ready pages waiting for a visitor.

    A page kept ready asks Voila who opened it over a websocket to the server; no other connection of a kernel
    goes to that port (its store is the campaign service's, elsewhere).
    """
    found = set()
    for child in psutil.Process(server["process"].pid).children(recursive=True):
        try:
            if "ipykernel" not in " ".join(child.cmdline()):
                continue
            if any(c.raddr and c.raddr.port == server["port"] and c.status == psutil.CONN_ESTABLISHED
                   for c in child.net_connections(kind="tcp")):
                found.add(child.pid)
        except psutil.Error:
            continue
    return found


def browser_page(new_context: Callable[..., BrowserContext], url: str, headers: dict | None = None) -> Page:
    context = new_context(viewport={"width": 1300, "height": 1000}, extra_http_headers=headers or {})
    context.set_default_timeout(60_000)
    context.route("**/*", lambda route: route.continue_() if LOCAL_URL.match(route.request.url) else route.abort())
    page = context.new_page()
    page.goto(url, wait_until="commit", timeout=FIRST_RENDER_TIMEOUT_MS)
    page.locator(".alw-dashboard .alw-annotator input, .voila-error").first.wait_for(timeout=FIRST_RENDER_TIMEOUT_MS)
    assert not page.locator(".voila-error").count(), page.locator(".voila-error").first.inner_text()
    return page


def labeling_as(page: Page, name: str, timeout_ms: float = 90_000) -> None:
    """Wait until the page labels under ``name``, taken from the proxy's header (locked), and shows an item."""
    page.locator(".alw-message").filter(has_text=f"Labeling as {name}").wait_for(timeout=timeout_ms)
    field = page.locator(".alw-annotator input")
    assert field.input_value() == name and field.is_disabled()
    page.locator(".alw-labeler .alw-label-button").first.wait_for(timeout=timeout_ms)


def label_first_class(page: Page) -> None:
    """Click the first class button and wait for the next item: the page's kernel heard the click and answered."""
    before = page.evaluate(JS_ITEM)
    page.locator(".alw-labeler .alw-label-button").first.click()
    page.wait_for_function(f"(old) => {{ const now = ({JS_ITEM})(); return now !== null && now !== old; }}",
                           arg=before)


def xsrf(page: Page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "_xsrf")


# ---------------------------------------------------------------------- 1. a stranger and the query sockets


def test_a_stranger_closing_query_sockets_cannot_strand_the_next_visitors_ready_page(server_of, new_context):
    """Voila's request-info table dropped the ready page's entry when a stranger closed a socket of their own:
    the next visitor's page then waited for its visitor forever (an empty message, a locked empty name)."""
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    server = server_of(["--pool", "1", "--max-kernels", "4"])
    first = wait_for("the ready page asking who opens it", lambda: kernels_asking_who_came(server), 180, server)
    query = server["url"].replace("http", "ws", 1) + "voila/query/00000000-0000-0000-0000-000000000000"
    strangers = contextlib.ExitStack()
    opened = []
    for _ in range(2):  # no login, no secret: anyone who can reach the server
        try:
            opened.append(strangers.enter_context(connect(query, open_timeout=10)))
        except InvalidStatus:
            pass  # refused: all the better
    # a plain request takes the ready page; Voila starts its replacement, which asks in turn
    with urllib.request.urlopen(urllib.request.Request(server["url"], headers={"X-Forwarded-User": "bob"}),
                                timeout=120) as answer:
        assert "Labeling dashboard" in answer.read().decode()
    wait_for("the replacement ready page asking who opens it", lambda: kernels_asking_who_came(server) - first, 180,
             server)
    for socket in opened[:1]:
        socket.close()  # Voila's handler then forgot the last socket of its table: the replacement's
    strangers.close()

    alice = browser_page(new_context, server["url"], {"X-Forwarded-User": "alice"})
    labeling_as(alice, "alice")
    assert "Using pre-heated kernel" in log_text(server)

    # the query socket answers only the kernel it names, with that kernel's own secret
    kernel = alice.evaluate(KERNEL_ID)
    with pytest.raises(InvalidStatus), connect(server["url"].replace("http", "ws", 1) + f"voila/query/{kernel}",
                                               open_timeout=10):
        pass


# ---------------------------------------------------------------------- 2. a page that cannot learn its visitor


def test_a_server_on_ipv6_loopback_gives_its_ready_pages_their_visitor(server_of, new_context):
    """``serve --host ::1`` built ``ws://::1:PORT/...`` for a ready page's question (brackets missing): the page
    was welcomed as nobody's, and the visitor behind the login proxy could type any name."""
    server = server_of(["--pool", "1"], host="::1")
    wait_for("the ready page asking who opens it", lambda: kernels_asking_who_came(server)
             or "Kernel pool of dashboard.ipynb is filled" in log_text(server), 180, server)
    alice = browser_page(new_context, server["url"], {"X-Forwarded-User": "alice"})
    labeling_as(alice, "alice")


def test_a_ready_page_that_cannot_learn_its_visitor_blocks_labeling_and_says_so(server_of, new_context):
    """The page's question goes nowhere (here: a wrong websocket base address): no labeling under any name."""
    server = server_of(["--pool", "1"], env={"VOILA_WS_BASE_URL": "/nowhere/"})
    wait_for("the ready page", lambda: "Kernel pool of dashboard.ipynb is filled" in log_text(server), 180, server)
    page = browser_page(new_context, server["url"], {"X-Forwarded-User": "alice"})
    message = page.locator(".alw-message")
    message.filter(has_text="cannot learn who opened it").wait_for(timeout=60_000)
    assert "Reload" in message.inner_text()
    assert page.locator("button.alw-start").is_disabled() and page.locator(".alw-annotator input").is_disabled()
    # what anyone can do in the browser's developer tools: re-enable both, type a name, press Start
    page.evaluate("""() => {
        document.querySelector('.alw-annotator input').disabled = false;
        document.querySelector('button.alw-start').disabled = false;
    }""")
    page.locator(".alw-annotator input").fill("mallory")
    page.locator("button.alw-start").click()
    message.filter(has_text="Labeling is blocked").wait_for()  # the kernel heard the click, and started nothing
    assert not page.locator(".alw-labeler").count()


# ---------------------------------------------------------------------- 3. a page's kernel: who may end it


def test_only_the_pages_own_browser_can_end_its_kernel(server_of, new_context):
    server = server_of(["--pool", "1"])
    alice = browser_page(new_context, server["url"], {"X-Forwarded-User": "alice"})
    labeling_as(alice, "alice")
    kernel = alice.evaluate(KERNEL_ID)
    mallory = browser_page(new_context, server["url"])  # her own page: her own _xsrf cookie
    shutdown = mallory.request.post(server["url"] + f"voila/api/shutdown/{kernel}", form={"_xsrf": xsrf(mallory)})
    delete = mallory.request.delete(server["url"] + f"api/kernels/{kernel}", headers={"X-XSRFToken": xsrf(mallory)})
    assert (shutdown.status, delete.status) == (403, 403)
    assert kernel_state(server, kernel) is not None, "a stranger ended alice's kernel"
    label_first_class(alice)  # alice labels on
    # her own page may end it (as it does when she closes the tab)
    mine = alice.request.post(server["url"] + f"voila/api/shutdown/{kernel}", form={"_xsrf": xsrf(alice)})
    assert mine.status == 204


def test_a_page_whose_kernel_ended_says_so_at_once(server_of, new_context):
    server = server_of(["--pool", "1"])
    alice = browser_page(new_context, server["url"], {"X-Forwarded-User": "alice"})
    labeling_as(alice, "alice")
    lost = alice.locator("#alw-page-lost")
    assert not lost.is_visible()
    kernel = alice.evaluate(KERNEL_ID)
    # the kernel ends while the page stays open (the operator, the culler, or another tab of the same browser)
    assert alice.request.post(server["url"] + f"voila/api/shutdown/{kernel}", form={"_xsrf": xsrf(alice)}).status == 204
    lost.wait_for(state="visible", timeout=15_000)  # at once; the bound only ends a test that failed
    assert "Reload" in lost.inner_text() and "lost" in lost.inner_text()


# ---------------------------------------------------------------------- 4. a kernel no browser connects to


def test_a_kernel_no_browser_connects_to_is_given_back_within_seconds(server_of, new_context):
    """Plain requests (no browser) each held a kernel until culled: two of them filled a small server."""
    server = server_of(["--pool", "0", "--max-kernels", "3"])

    def plain_request() -> str:
        before = set(re.findall(r"Kernel started: ([0-9a-f-]{36})", log_text(server)))
        with urllib.request.urlopen(server["url"], timeout=180) as answer:
            assert "Labeling dashboard" in answer.read().decode()
        started = set(re.findall(r"Kernel started: ([0-9a-f-]{36})", log_text(server))) - before
        assert len(started) == 1, started
        return started.pop()

    first = plain_request()
    alice = browser_page(new_context, server["url"])  # a visitor with a browser, between the two
    alice.locator(".alw-annotator input").fill("alice")
    alice.locator("button.alw-start").click()
    alice.locator(".alw-labeler .alw-label-button").first.wait_for(timeout=FIRST_RENDER_TIMEOUT_MS)
    hers = alice.evaluate(KERNEL_ID)
    second = plain_request()
    with pytest.raises(urllib.error.HTTPError) as full:  # three kernels: the server is full for now
        urllib.request.urlopen(server["url"], timeout=120)
    assert full.value.code == 503
    for kernel in (first, second):
        wait_for(f"the kernel {kernel} of a plain request given back", lambda k=kernel: kernel_state(server, k) is None,
                 90, server)
    assert kernel_state(server, hers) is not None, "the kernel of a page a browser shows was given back"
    label_first_class(alice)
    bob = browser_page(new_context, server["url"])  # a place is free again
    assert bob.locator(".alw-annotator input").is_visible()
