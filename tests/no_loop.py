"""Running test code where no asyncio loop runs."""

from __future__ import annotations

import threading


def where_no_loop_runs(function, *args):
    """Call ``function(*args)`` on a thread of its own, where no asyncio loop runs, and return what it returns.

    In a kernel, the loop running on the main thread is the kernel's own. In
    this suite it may be Playwright's (the browser tests' sync API leaves its
    loop running there between tests), which runs nothing while a test waits,
    and ``asyncio.run`` refuses to start beside it.
    """
    result, errors = [], []

    def run():
        try:
            result.append(function(*args))
        except BaseException as error:  # re-raised on the test's thread
            errors.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(120)
    assert not thread.is_alive(), f"{function.__name__} did not return within 120 s"
    if errors:
        raise errors[0]
    return result[0]
