"""The server's side of a crashed page: a kernel whose page's websocket closed without a word is shut down.

Bookkeeping only (no kernel processes, no browser): the kernel manager is told
of websockets opening and closing as jupyter_server tells it, and its
shut-down is replaced by one that records the kernel. The real thing, in
Chromium, is tests/browser/test_crashed_page.py.
"""

from __future__ import annotations

import asyncio

from no_loop import where_no_loop_runs

from alwidgets.serving.cli import DEFAULT_GONE_SECONDS

BOUND = 60  # seconds: only ends a test that would otherwise hang


def manager_with_a_page(gone_timeout: float):
    """A CappedKernelManager with kernel k-1 handed to a browser, which has one websocket open to it."""
    from alwidgets_serving import CappedKernelManager

    manager = CappedKernelManager(gone_timeout=gone_timeout)
    manager._kernels = {"k-1": object()}
    manager._kernel_connections = {"k-1": 1}
    manager._owners["k-1"] = "token-of-lena"
    manager.shut_down = asyncio.Event()

    async def shutdown_kernel(kernel_id, *args, **kwargs):
        manager._kernels.pop(kernel_id, None)
        manager._forget(kernel_id)
        manager.shut_down.set()

    manager.shutdown_kernel = shutdown_kernel
    return manager


def test_a_page_whose_websocket_closed_and_never_came_back_has_its_kernel_shut_down():
    async def scenario():
        manager = manager_with_a_page(gone_timeout=0.05)
        manager.notify_disconnect("k-1")  # the browser crashed: its websocket closed, no shut-down request
        await asyncio.wait_for(manager.shut_down.wait(), BOUND)
        return manager

    manager = where_no_loop_runs(asyncio.run, scenario())
    assert "k-1" not in manager._kernels and not manager._came_back


def test_a_page_that_reconnects_within_the_grace_keeps_its_kernel():
    async def scenario():
        manager = manager_with_a_page(gone_timeout=BOUND)
        manager.notify_disconnect("k-1")  # a short network outage ...
        (watcher,) = manager._tasks
        manager.notify_connect("k-1")  # ... and Jupyter's page reconnects by itself
        await asyncio.wait_for(watcher, BOUND)
        return manager

    manager = where_no_loop_runs(asyncio.run, scenario())
    assert not manager.shut_down.is_set() and "k-1" in manager._kernels
    assert manager._kernel_connections["k-1"] == 1 and not manager._came_back


def test_a_kernel_with_another_page_still_connected_or_no_page_at_all_is_left_alone():
    async def scenario():
        two = manager_with_a_page(gone_timeout=0.01)
        two._kernel_connections["k-1"] = 2  # a second websocket of the page is still open
        two.notify_disconnect("k-1")
        ready = manager_with_a_page(gone_timeout=0.01)
        del ready._owners["k-1"]  # a page kept ready, handed to nobody yet
        ready.notify_disconnect("k-1")
        off = manager_with_a_page(gone_timeout=0)  # --gone-after 0: left to the culler
        off.notify_disconnect("k-1")
        return two, ready, off

    for manager in where_no_loop_runs(asyncio.run, scenario()):
        assert not manager._tasks and not manager.shut_down.is_set()


def test_serve_refuses_a_negative_grace(tmp_path, capsys):
    from alwidgets.serving.cli import main

    assert main(["serve", str(tmp_path / "campaign.toml"), "--gone-after", "-1"]) == 2
    assert "--gone-after must be 0 or more seconds" in capsys.readouterr().err
    assert DEFAULT_GONE_SECONDS == 15.0  # what docs/deploying.md and the README say
