"""A kernel that is shut down lets the widgets' threads finish what they are sending, before it closes its sockets.

Voila shuts a page's kernel down when the page closes, is culled, or the
server stops. A dashboard's store poll or a Labeler's refit may be halfway
then; an update it sent once the kernel had closed its IOPub channel ended in a
``ZMQError`` traceback in the server's log. These tests shut down a real
ipykernel while such a call is in flight.
"""

from __future__ import annotations

import pytest

# The call runs until the kernel's exit either asks it to stop (the hook does) or closes IOPub (what happens
# without the hook), then does the rest of its work. Nothing here races the machine's speed: the grace the
# exit gives it is large relative to that rest, and the kernel manager waits longer still before it sends
# SIGTERM (at half its ``shutdown_wait_time``). The bounds only end a test that would otherwise hang.
REST_OF_THE_CALL_SECONDS = 0.5  # with the hook the exit waits for it; without, the exit does not (the control)
GRACE_SECONDS = 120.0  # the exit's grace in these kernels: a failure bound, not the thing measured
BOUND_SECONDS = 120.0  # how long the call waits for the kernel to begin its exit

CELL = """
import threading, time
from alwidgets.widgets import worker
worker.EXIT_GRACE_SECONDS = {grace}
{disable_hook}
record = open({record!r}, "a", buffering=1)
started = threading.Event()

def iopub_running():
    iopub = get_ipython().kernel.iopub_thread
    return iopub.thread.is_alive() and not iopub.closed

def in_flight():
    started.set()
    record.write("started\\n")
    deadline = time.monotonic() + {bound}
    while not ({stopping}) and iopub_running():  # a store read or a refit, still running when the shutdown comes
        if time.monotonic() > deadline:
            record.write("the kernel's exit never began\\n")
            return
        time.sleep(0.01)
    time.sleep({rest})  # the rest of the update: the exit waits for it (the hook's join) or does not
    record.write(f"finished; IOPub running: {{iopub_running()}}\\n")

{start}
assert started.wait({bound}), "the call never started"
"""

STARTS = {  # how the owner starts the call, and whether the kernel's exit has asked it to stop
    "poller": ("owner = worker.Poller(in_flight, None)\nowner.wake()", "owner._stopped.is_set()"),
    "worker": ("owner = worker.Worker(in_flight)\nowner.request()", "owner._stopped"),
}


def shut_down_during_a_call(venv_kernel, tmp_path, start: str, hook: bool) -> list[str]:
    """Start ``start``'s thread in a kernel, ask the kernel to shut down mid-call, and return what the call wrote."""
    record = tmp_path / "record.txt"
    starting, stopping = STARTS[start]
    code = CELL.format(disable_hook="" if hook else "worker._exit_hook.append(None)  # as if never registered",
                       record=str(record), grace=GRACE_SECONDS, bound=BOUND_SECONDS, stopping=stopping,
                       rest=REST_OF_THE_CALL_SECONDS, start=starting)
    manager = venv_kernel()
    manager.shutdown_wait_time = 2 * GRACE_SECONDS + 60  # SIGTERM only well after the grace
    manager.start_kernel()
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=120)
        reply = client.execute_interactive(code, timeout=120)
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
    """The control: what the hook prevents does happen without it, so the test above can fail.

    The kernel's exit does not wait for the call: the call is cut off, or it
    finishes after IOPub has closed (its update would have been lost).
    """
    assert shut_down_during_a_call(venv_kernel, tmp_path, "poller", hook=False) in (
        ["started"], ["started", "finished; IOPub running: False"])


def test_stopping_at_exit_waits_a_bounded_time_for_all_threads_together():
    import threading
    import time

    from alwidgets.widgets import worker

    running, release = threading.Event(), threading.Event()
    stuck = worker.Worker(lambda: running.set() or release.wait(600))  # ends only when released
    stuck.request()
    assert running.wait(60), "the stuck update never started"  # stopped before it starts, it would never run
    quick = worker.Poller(lambda: None, 0.01)
    started = time.monotonic()
    try:
        worker._stop_all([stuck, quick], grace=0.3)
        waited = time.monotonic() - started
        # The stuck update is given the grace, not more: it would run until released. (60 s only bounds a busy machine.)
        assert 0.25 <= waited < 60, waited
        assert not stuck.join(0), "the stuck update ended without being released"
        assert quick.join(60), "the stopped poll never ended"
    finally:
        release.set()
    assert stuck.join(60), "the released update never ended"
