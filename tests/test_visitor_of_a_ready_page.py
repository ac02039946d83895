"""A page kept ready and its visitor, without a browser: the kernel's question, the dashboard's wait, the server's
answer (issue "Fail closed, everywhere"; tests/browser/test_ready_page_visitor.py drives the same through ``serve``).

- The kernel never welcomes a visitor without the server's word, and says why it has none.
- A dashboard kept ready that cannot learn its visitor blocks labeling and says so, at once or after a short
  wait; the server's word, when it comes, still welcomes the visitor.
- The server's side (``alwidgets_serving``): one socket per kernel, only for a kernel of the pool with its own
  secret; the visitor's request goes to that kernel only; a kernel's owner is the browser it was handed to.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time

import pandas as pd
import pytest
from no_loop import where_no_loop_runs
from ports import free_port

from alwidgets.serving.config import build_campaign, load_config
from alwidgets.widgets import dashboard as dashboard_module
from alwidgets.widgets import page as page_module
from alwidgets.widgets.dashboard import Dashboard


def wait_until(what: str, check, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(0.05)
    return value


@pytest.fixture
def ready_dashboard(tmp_path):
    """Factory of dashboards built as a page kept ready is: before their visitor is known."""
    pd.DataFrame({"id": [f"r{k}" for k in range(20)], "review": [f"film {k}" for k in range(20)]}).to_csv(
        tmp_path / "reviews.csv", index=False)
    (tmp_path / "campaign.toml").write_text('title = "Reviews"\n[data]\nsource = "csv"\npath = "reviews.csv"\n'
                                            'text_column = "review"\nid_column = "id"\n'
                                            '[labels]\nclasses = ["good", "bad"]\n[store]\nurl = "labels.db"\n')
    made: list[Dashboard] = []

    def make() -> Dashboard:
        campaign = build_campaign(load_config(tmp_path / "campaign.toml"))
        made.append(Dashboard(campaign, poll_seconds=None, visitor_known=False,
                              labeler_options={"keyboard": False}))
        return made[-1]

    yield make
    for dashboard in made:
        dashboard.close()


@pytest.fixture
def no_problem(monkeypatch):
    monkeypatch.setattr(page_module, "_problem", [])


def shown(dashboard: Dashboard) -> None:
    # the browser's first "the page is open"
    where_no_loop_runs(dashboard.page._handle_custom_msg, {"open": True}, [])


# ---------------------------------------------------------------------- the dashboard's wait


def test_a_ready_page_whose_visitor_never_comes_blocks_labeling_and_offers_a_reload(ready_dashboard, no_problem,
                                                                                     monkeypatch):
    monkeypatch.setattr(dashboard_module, "VISITOR_WAIT_SECONDS", 0.2)
    dashboard = ready_dashboard()
    shown(dashboard)
    assert "Finding out who opened this page" in dashboard.message.value
    wait_until("the page saying it cannot learn its visitor", lambda: dashboard.visitor_unknown)
    assert "cannot learn who opened it" in dashboard.message.value and "Reload the page" in dashboard.message.value
    assert dashboard.name.disabled and dashboard.start_button.disabled
    dashboard.name.value = "mallory"  # a forged field and a forged click
    dashboard.start("mallory")
    assert dashboard.labeler is None and "Labeling is blocked" in dashboard.message.value


def test_a_ready_page_whose_kernel_cannot_ask_says_so_as_soon_as_it_is_shown(ready_dashboard, monkeypatch):
    monkeypatch.setattr(page_module, "_problem", ["ws://::1:8866/voila/query/k answered nothing"])
    monkeypatch.setattr(dashboard_module, "VISITOR_WAIT_SECONDS", 3600)  # no waiting: the kernel knows already
    dashboard = ready_dashboard()
    shown(dashboard)
    assert dashboard.visitor_unknown and "cannot learn who opened it" in dashboard.message.value
    assert dashboard.start_button.disabled and dashboard.name.disabled


def test_the_servers_word_after_the_wait_still_welcomes_the_visitor(ready_dashboard, no_problem, monkeypatch):
    monkeypatch.setattr(dashboard_module, "VISITOR_WAIT_SECONDS", 0.05)
    dashboard = ready_dashboard()
    shown(dashboard)
    wait_until("the page saying it cannot learn its visitor", lambda: dashboard.visitor_unknown)
    dashboard.welcome({"HTTP_X_FORWARDED_USER": "carol"})
    assert not dashboard.visitor_unknown and dashboard.labeler is not None and dashboard.session.annotator == "carol"
    assert "Labeling as <b>carol</b>" in dashboard.message.value


def test_a_visitor_known_before_the_page_is_shown_is_not_kept_waiting(ready_dashboard, no_problem, monkeypatch):
    monkeypatch.setattr(dashboard_module, "VISITOR_WAIT_SECONDS", 0.05)
    dashboard = ready_dashboard()
    dashboard.welcome({"QUERY_STRING": "annotator=dave"})
    shown(dashboard)
    time.sleep(0.3)  # past the wait: nothing may change (a wait for nothing to happen has no event to wait for)
    assert not dashboard.visitor_unknown and dashboard.name.value == "dave" and not dashboard.start_button.disabled
    assert "cannot learn" not in dashboard.message.value


# ---------------------------------------------------------------------- the kernel's question


def test_the_question_goes_to_a_bracketed_ipv6_address(monkeypatch):
    for key, value in {"VOILA_APP_IP": "::1", "VOILA_APP_PORT": "8866", "VOILA_SERVER_URL": "/",
                       "VOILA_KERNEL_ID": "k-1"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("VOILA_WS_BASE_URL", raising=False)
    assert page_module._query_url() == "ws://[::1]:8866/voila/query/k-1"
    monkeypatch.setenv("VOILA_APP_IP", "127.0.0.1")
    assert page_module._query_url() == "ws://127.0.0.1:8866/voila/query/k-1"


def fake_voila(answer):
    """A websocket server on a free port that runs ``answer(socket)`` for each socket: (port, [(path, secret)], done)."""
    import websockets

    asked, ready, done = [], threading.Event(), threading.Event()
    port = free_port()

    async def serve():
        async def handle(socket):
            asked.append((socket.request.path, socket.request.headers.get("X-Alwidgets-Kernel-Secret")))
            await answer(socket)

        async def refuse_or_accept(connection, request):
            return await answer.process(connection, request) if hasattr(answer, "process") else None

        async with websockets.serve(handle, "127.0.0.1", port, process_request=refuse_or_accept):
            ready.set()
            await asyncio.get_running_loop().run_in_executor(None, done.wait, 120)

    threading.Thread(target=asyncio.run, args=(serve(),), daemon=True).start()
    assert ready.wait(60), "the fake Voila server never started"
    return port, asked, done


def ready_kernel_environment(monkeypatch, port: int) -> None:
    for key, value in {"VOILA_PREHEAT": "True", "VOILA_APP_IP": "127.0.0.1", "VOILA_APP_PORT": str(port),
                       "VOILA_SERVER_URL": "/", "VOILA_KERNEL_ID": "k-1", "ALW_VISITOR_SECRET": "s3cret"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("VOILA_WS_BASE_URL", raising=False)
    for key in ("HTTP_X_FORWARDED_USER", "QUERY_STRING"):  # what the thread writes is gone after the test
        monkeypatch.setenv(key, "")
        monkeypatch.delenv(key)


def test_a_refused_question_never_welcomes_anybody_and_says_why(monkeypatch, no_problem):
    """The server answers the question with an error: the callback is never called, and the problem is known."""
    from websockets.datastructures import Headers
    from websockets.http11 import Response

    async def answer(socket):
        raise AssertionError("a refused socket is never opened")

    async def process(connection, request):
        return Response(403, "Forbidden", Headers(), b"no")

    answer.process = process
    port, asked, done = fake_voila(answer)
    ready_kernel_environment(monkeypatch, port)
    called = threading.Event()
    try:
        thread = threading.Thread(target=page_module.when_visitor_arrives, args=(called.set,))
        thread.start()
        problem = wait_until("the kernel's problem", page_module.visitor_problem)
        assert "HTTP 403" in problem
        time.sleep(0.5)  # a refusal is final: no callback comes (nothing to wait for but time)
        assert not called.is_set()
    finally:
        done.set()


def test_the_question_carries_the_kernels_secret_and_a_dropped_socket_is_asked_again(monkeypatch, no_problem):
    """The server closes the first socket without a word (as a lost connection would): the kernel asks again."""
    calls = []

    async def answer(socket):
        calls.append(1)
        if len(calls) == 1:
            await socket.close()
            return
        await socket.send(json.dumps({"HTTP_X_FORWARDED_USER": "carol"}))

    port, asked, done = fake_voila(answer)
    ready_kernel_environment(monkeypatch, port)
    seen = {}
    called = threading.Event()
    try:
        thread = threading.Thread(target=page_module.when_visitor_arrives,
                                  args=(lambda: seen.update(user=os.environ.get("HTTP_X_FORWARDED_USER"))
                                        or called.set(),))
        thread.start()
        assert called.wait(60), f"the callback never ran (asked: {asked})"
    finally:
        done.set()
    assert seen == {"user": "carol"} and len(asked) == 2 and page_module.visitor_problem() is None
    assert asked == [("/voila/query/k-1", "s3cret")] * 2


def test_the_kernel_and_the_server_name_the_secret_alike():
    import alwidgets_serving

    assert page_module.VISITOR_SECRET_ENV == alwidgets_serving.VISITOR_SECRET_ENV
    assert page_module.VISITOR_SECRET_HEADER == alwidgets_serving.VISITOR_SECRET_HEADER


# ---------------------------------------------------------------------- the server's side


class FakeSocket:
    def __init__(self):
        self.sent: list[str] = []
        self.closed = False

    def write_message(self, message):
        from tornado.websocket import WebSocketClosedError

        if self.closed:
            raise WebSocketClosedError()
        self.sent.append(message)

    def close(self):
        self.closed = True


def kernel_manager():
    """A CappedKernelManager with two kernels of the pool waiting (no processes: only its bookkeeping is used)."""
    from alwidgets_serving import CappedKernelManager

    manager = CappedKernelManager()
    manager._kernels = {"k-1": object(), "k-2": object()}
    manager._visitor_secrets.update({"k-1": "one", "k-2": "two"})
    return manager


def test_only_a_waiting_kernel_with_its_own_secret_may_ask_who_came():
    manager = kernel_manager()
    assert manager.may_ask_for_visitor("k-1", "one")
    assert not manager.may_ask_for_visitor("k-1", "two") and not manager.may_ask_for_visitor("k-1", None)
    assert not manager.may_ask_for_visitor("00000000-0000-0000-0000-000000000000", "one")
    manager.visitor_socket_open("k-1", FakeSocket())
    manager.visitor_came("k-1", {"HTTP_X_FORWARDED_USER": "alice"})
    assert not manager.may_ask_for_visitor("k-1", "one"), "a kernel that has its visitor asks no more"


def test_each_kernel_gets_its_own_visitor_whatever_other_sockets_do():
    """Voila's table dropped the last socket when another closed: here a socket closing touches only its own."""
    manager = kernel_manager()
    first, second, again = FakeSocket(), FakeSocket(), FakeSocket()
    manager.visitor_socket_open("k-1", first)
    manager.visitor_socket_open("k-2", second)
    manager.visitor_socket_open("k-1", again)  # k-1 asks again (its first socket lost): one socket per kernel
    assert first.closed
    manager.visitor_socket_closed("k-1", first)  # the old socket's close forgets nobody
    manager.visitor_came("k-2", {"HTTP_X_FORWARDED_USER": "bob"})
    manager.visitor_came("k-1", {"HTTP_X_FORWARDED_USER": "alice"})
    assert [json.loads(m) for m in second.sent] == [{"HTTP_X_FORWARDED_USER": "bob"}]
    assert [json.loads(m) for m in again.sent] == [{"HTTP_X_FORWARDED_USER": "alice"}]


def test_a_visitor_who_comes_before_the_kernel_asks_is_kept_for_it():
    manager = kernel_manager()
    manager.visitor_came("k-1", {"QUERY_STRING": "annotator=dave"})
    lost = FakeSocket()
    lost.closed = True
    manager.visitor_socket_open("k-1", lost)  # a socket gone before the word reached it: the word stays
    assert manager.may_ask_for_visitor("k-1", "one")
    socket = FakeSocket()
    manager.visitor_socket_open("k-1", socket)
    assert [json.loads(m) for m in socket.sent] == [{"QUERY_STRING": "annotator=dave"}]


def test_a_kernel_belongs_to_the_browser_it_was_handed_to():
    from alwidgets_serving import _PAGE_REQUEST, PageRequest

    manager = kernel_manager()

    async def hand_out():
        _PAGE_REQUEST.set(PageRequest(owner="token-of-alice"))
        manager.visitor_came("k-1", {})

    where_no_loop_runs(asyncio.run, hand_out())
    assert manager.owns("k-1", "token-of-alice")
    assert not manager.owns("k-1", "token-of-mallory") and not manager.owns("k-1", None)
    assert not manager.owns("k-2", "token-of-alice")  # a kernel nobody was handed is nobody's
