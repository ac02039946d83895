"""``python -m alwidgets serve`` in a subprocess, started and stopped as a user and a service manager would."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from ports import free_port

START_TIMEOUT_S = 120


# A page closed while the server was still sending it a widget update: tornado reports the write it could not
# finish as a task whose exception nobody retrieved (the kernel's messages are written without waiting). It is
# the browser leaving, not an error of the page; every other traceback in a server's log fails a test.
_CLOSED_PAGE_WRITE = re.compile(
    r"Task exception was never retrieved\n"
    r"future: <Task finished name='[^'\n]*' coro=<WebSocketProtocol13\.write_message\.<locals>\.wrapper\(\)[^\n]*\n"
    r"(?:(?:  .*|Traceback \(most recent call last\):|During handling of the above exception, another exception "
    r"occurred:|tornado\.iostream\.StreamClosedError: Stream is closed|)\n)*?"
    r"tornado\.websocket\.WebSocketClosedError\n"
)


def server_errors(log: str) -> str:
    """``log`` without the one traceback a closing page may leave in it (see above): what tests search for errors."""
    return _CLOSED_PAGE_WRITE.sub("", log)


def start_serve(folder, env: dict, port: int | None = None, target: str = "campaign.toml", options=()) -> dict:
    """``python -m alwidgets serve TARGET OPTIONS`` in ``folder``, once it answers: its URL, process, store and log."""
    port = port or free_port()
    log_path = folder / "serve.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "alwidgets", "serve", target, "--port", str(port), *options],
            cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}/"
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


QUIET_SECONDS = 2.0  # idle this long, and a kernel is not just between two cells of its notebook


def wait_until_kernels_idle(server: dict, timeout: float = 120) -> None:
    """Wait until no kernel of the server has run a cell for QUIET_SECONDS: a page kept ready may be running its notebook.

    A kernel shut down in the middle of a cell logs a traceback (ipykernel
    answers the cell on a socket already closed); the tests read the log for
    tracebacks, so they stop the server once it is quiet. One idle answer is
    not enough: a kernel is idle for a moment between two cells.
    """
    deadline = time.monotonic() + timeout
    quiet_since = time.monotonic()
    gone: set[str] = set()  # shut down (or of an earlier server writing to the same log): never asked again
    while time.monotonic() < deadline and time.monotonic() - quiet_since < QUIET_SECONDS:
        for kernel_id in dict.fromkeys(re.findall(r"Kernel started: ([0-9a-f-]{36})", server["log"].read_text())):
            if kernel_id in gone:
                continue
            state = kernel_state(server, kernel_id)
            if state is None:
                gone.add(kernel_id)
            elif state in ("busy", "starting"):
                quiet_since = time.monotonic()
        time.sleep(0.2)


def kernel_state(server: dict, kernel_id: str) -> str | None:
    """The kernel's execution state, or None once it is shut down (404) or the server is gone."""
    try:
        with urllib.request.urlopen(f"{server['url']}api/kernels/{kernel_id}", timeout=5) as answer:
            return json.load(answer).get("execution_state")
    except OSError:
        return None


def stop_serve(server: dict) -> None:
    """Stop the server as a service manager does: SIGTERM to its whole process group (Voila and its kernels)."""
    process = server["process"]
    if process.poll() is None:
        wait_until_kernels_idle(server)
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=20)
