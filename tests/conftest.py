"""Test-wide set-up shared by every test in the suite.

- Matplotlib renders with Agg, so plots work without a display and pixels are
  the same everywhere.
- ``ALW_QUICK=1`` is exported before anything starts, so notebooks executed by
  nbclient and pages served by Voila (both run in subprocesses that inherit
  this environment) use their small, fast settings.
- ipywidgets catches every exception raised in a widget callback (for example
  a ``Button.on_click`` handler run by ``button.click()``), logs
  "Exception in callback ..." and carries on. A test that clicks a broken
  button would therefore pass. The autouse fixture below turns such a log
  record into a test failure.
"""

from __future__ import annotations

import json
import logging
import os
import sys

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("ALW_QUICK", "1")

pytest_plugins = ["pytester"]

SWALLOWED_CALLBACK_ERROR = "Exception in callback"


def swallowed_callback_errors(records: list[logging.LogRecord]) -> list[str]:
    """Return a readable report for each record of an error a callback swallowed.

    ipywidgets (and asyncio) log such errors instead of raising them; the
    report keeps the traceback so the failing test shows where the handler broke.
    """
    reports = []
    for record in records:
        message = record.getMessage()
        if SWALLOWED_CALLBACK_ERROR not in message:
            continue
        if record.exc_info:
            message += "\n" + logging.Formatter().formatException(record.exc_info)
        reports.append(message)
    return reports


@pytest.fixture(autouse=True)
def fail_on_swallowed_callback_errors(caplog: pytest.LogCaptureFixture):
    """Fail the test if a widget callback raised while the test ran."""
    yield
    reports = swallowed_callback_errors(caplog.get_records("call"))
    if reports:
        pytest.fail(
            "A widget callback raised an exception that ipywidgets swallowed:\n\n" + "\n\n".join(reports),
            pytrace=False,
        )


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server for the session (skipped outside CI where it cannot start)."""
    from postgres import PostgresUnavailable, start_postgres  # here: inner pytest runs copy this file alone

    try:
        server = start_postgres()
    except PostgresUnavailable as error:
        message = f"PostgreSQL could not be started for the tests: {error}"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI is set, so this is a failure, not a skip)", pytrace=False)
        print(message)
        pytest.skip(message)
    yield server
    server.stop()


class MovedClock:
    """The clocks by which leases and heartbeats age, moved forward by a test instead of slept through.

    The SQL store's clock (the database's) and the memory store's, and the
    monotonic clock of a page and a dashboard (by which the page's word ages),
    all read ``offset`` seconds later than they are; nothing else moves. A
    test that needs "long enough ago" advances the offset; one that needs
    "recently" gets it whatever the machine's load (real seconds stay small
    next to the windows compared).
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        import time
        import types

        import alwidgets.store.memory as memory_module
        import alwidgets.widgets.dashboard as dashboard_module
        import alwidgets.widgets.page as page_module
        from alwidgets.store.sql import SQLStore

        self.offset = 0.0
        real_now = SQLStore._now
        monkeypatch.setattr(SQLStore, "_now", lambda store, conn: real_now(store, conn) + self.offset)
        moved = types.SimpleNamespace(**{name: getattr(time, name) for name in dir(time) if not name.startswith("_")})
        moved.time = lambda: time.time() + self.offset
        moved.monotonic = lambda: time.monotonic() + self.offset
        for module in (memory_module, dashboard_module, page_module):
            assert module.time is time, f"{module.__name__} no longer reads the clock through its module `time`"
            monkeypatch.setattr(module, "time", moved)

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture
def moved_clock(monkeypatch):
    """A :class:`MovedClock` for this test."""
    return MovedClock(monkeypatch)


@pytest.fixture
def cleanup():
    """``cleanup(widget)`` closes the widget (and stops its worker threads) when the test ends."""
    made = []
    yield made.append
    for widget in made:
        widget.close()


@pytest.fixture(scope="session")
def venv_kernel(tmp_path_factory: pytest.TempPathFactory):
    """``venv_kernel()`` is a jupyter_client ``KernelManager`` whose kernel runs this very interpreter.

    A kernelspec named ``python3`` in the user's ~/.local/share/jupyter would
    otherwise take precedence over the one in the venv.
    """
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    kernels = tmp_path_factory.mktemp("kernels")
    name = "alwidgets-test-python"
    (kernels / name).mkdir()
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "alwidgets test kernel",
        "language": "python",
    }
    (kernels / name / "kernel.json").write_text(json.dumps(spec))
    return lambda: KernelManager(kernel_name=name, kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]))
