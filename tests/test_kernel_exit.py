"""A kernel that is shut down lets the widgets' threads finish what they are sending, before it closes its sockets.

Voila shuts a page's kernel down when the page closes, is culled, or the
server stops. A dashboard's store poll or a Labeler's refit may be halfway
then; an update it sent once the kernel had closed its IOPub channel ended in a
``ZMQError`` traceback in the server's log. These tests shut down a real
ipykernel while such a call is in flight.
"""

from __future__ import annotations

import pytest

IN_FLIGHT_SECONDS = 2.5  # well within the exit's grace, and longer than ipykernel's own shutdown takes, so without the hook the call is cut off

CELL = """
import threading, time
from alwidgets.widgets import worker
{disable_hook}
record = open({record!r}, "a", buffering=1)
started = threading.Event()

def in_flight():
    started.set()
    record.write("started\\n")
    time.sleep({seconds})  # a store read or a refit, still running when the shutdown request comes
    iopub = get_ipython().kernel.iopub_thread
    record.write(f"finished; IOPub running: {{iopub.thread.is_alive() and not iopub.closed}}\\n")

{start}
assert started.wait(30)
"""

STARTS = {
    "poller": "owner = worker.Poller(in_flight, None)\nowner.wake()",
    "worker": "owner = worker.Worker(in_flight)\nowner.request()",
}


def shut_down_during_a_call(venv_kernel, tmp_path, start: str, hook: bool) -> list[str]:
    """Start ``start``'s thread in a kernel, ask the kernel to shut down mid-call, and return what the call wrote."""
    record = tmp_path / "record.txt"
    code = CELL.format(disable_hook="" if hook else "worker._exit_hook.append(None)  # as if never registered",
                       record=str(record), seconds=IN_FLIGHT_SECONDS, start=STARTS[start])
    manager = venv_kernel()
    manager.start_kernel()
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        reply = client.execute_interactive(code, timeout=60)
        assert reply["content"]["status"] == "ok", reply["content"]
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=False)  # a shutdown request, as Voila sends
    return record.read_text().splitlines()


@pytest.mark.parametrize("start", sorted(STARTS))
def test_a_call_in_flight_finishes_while_the_kernel_can_still_send_its_updates(venv_kernel, tmp_path, start):
    assert shut_down_during_a_call(venv_kernel, tmp_path, start, hook=True) == [
        "started", "finished; IOPub running: True"]


def test_without_the_exit_hook_the_call_is_cut_off(venv_kernel, tmp_path):
    """The control: what the hook prevents does happen without it, so the test above can fail."""
    assert shut_down_during_a_call(venv_kernel, tmp_path, "poller", hook=False) == ["started"]


def test_stopping_at_exit_waits_a_bounded_time_for_all_threads_together():
    import threading
    import time

    from alwidgets.widgets import worker

    release = threading.Event()
    stuck = worker.Worker(lambda: release.wait(30))
    stuck.request()
    quick = worker.Poller(lambda: None, 0.01)
    started = time.monotonic()
    try:
        worker._stop_all([stuck, quick], grace=0.3)
        waited = time.monotonic() - started
        assert 0.25 <= waited < 5, waited  # the stuck update is given the grace, not more
        assert quick.join(0) and not stuck.join(0)
    finally:
        release.set()
    assert stuck.join(5)
