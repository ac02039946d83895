"""Real-browser fixtures: Debian's Chromium driven by pytest-playwright, Voila and JupyterLab servers.

One Chromium runs for the whole session (pytest-playwright's session-scoped
``browser``), each notebook gets one Voila server for the whole session, and
every test gets a fresh browser context whose page may only talk to localhost.
Every non-local request is aborted (without network it would stall the page
load) and fails the test: alwidgets' pages must work offline and tell no third
party who opened them (Voila's own page template links Font Awesome from a
CDN; the notebooks use alwidgets' template, which does not).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, Route, expect
from ports import free_port
from serving import server_errors

from alwidgets.serving.cli import VOILA_TEMPLATES_ROOT

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = REPO / "notebooks"
CHROMIUM = os.environ.get("ALW_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
INSTALL_HINT = (
    f"The browser tests drive Debian's Chromium at {CHROMIUM}, which is missing. "
    "Install it with `apt-get install chromium` (as root, or with sudo), "
    "or run `make test`, which installs it when missing."
)
# A first render of a notebook (kernel start, imports, first fit) on a loaded
# two-core machine takes tens of seconds; everything after it is quick.
FIRST_RENDER_TIMEOUT_MS = 90_000
DEFAULT_TIMEOUT_MS = 60_000
SERVER_START_TIMEOUT_S = 90
LOCAL_URL = re.compile(r"^(https?|wss?)://(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(/|$)")
# Lines a Voila or Jupyter server logs when a notebook cell fails while the page renders.
SERVER_ERROR_MARKERS = ("Error at server while executing cell", "Traceback (most recent call last)")

expect.set_options(timeout=DEFAULT_TIMEOUT_MS)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/browser drives Chromium: give it the ``browser`` marker."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)


# --------------------------------------------------------------------------- Chromium


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """Launch Debian's Chromium (Playwright cannot download its own browsers here)."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        if os.environ.get("CI"):
            pytest.fail(INSTALL_HINT, pytrace=False)
        pytest.skip(INSTALL_HINT)
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_FLAGS}


# Uncaught errors of the front ends themselves, not of alwidgets, that a test cannot avoid.
KNOWN_FRONTEND_ERRORS = {
    # Notebook 7.6's keyboard-shortcut settings plugin reads the schema of a plugin it has not
    # loaded when another plugin's settings change; it throws on every page load, before any cell runs.
    "/notebooks/": ["Cannot read properties of undefined (reading 'schema')"],
}


def _known_frontend_error(url: str, message: str) -> bool:
    return any(part in url and message in known for part, messages in KNOWN_FRONTEND_ERRORS.items()
               for known in messages)


class PageGuard:
    """Watches pages; ``check()`` fails the test on an uncaught JavaScript error, a ``.voila-error``,
    or a request to a host other than localhost (which ``route`` aborts and records)."""

    def __init__(self) -> None:
        self.pages: list[Page] = []
        self.errors: list[str] = []
        self.external_requests: list[str] = []

    def route(self, route: Route) -> None:
        """A context's route handler: let local requests through, abort and record the others."""
        if LOCAL_URL.match(route.request.url):
            route.continue_()
        else:
            self.external_requests.append(route.request.url)
            route.abort()

    def watch(self, page: Page) -> Page:
        self.pages.append(page)
        page.on("pageerror", lambda error: None if _known_frontend_error(page.url, error.message)
                else self.errors.append(f"{page.url}: {error.name}: {error.message}"))
        return page

    def check(self) -> None:
        complaints = []
        for page in self.pages:
            if not page.is_closed():
                voila_errors = page.locator(".voila-error").all_inner_texts()
                if voila_errors:
                    complaints.append(f"Voila showed an error page at {page.url}:\n" + "\n".join(voila_errors))
        if self.errors:
            complaints.append("Uncaught errors in the page:\n" + "\n".join(self.errors))
        if self.external_requests:
            complaints.append("The page asked for something outside this machine:\n" + "\n".join(self.external_requests))
        if complaints:
            pytest.fail("\n\n".join(complaints), pytrace=False)


@pytest.fixture
def page_guard() -> Iterator[PageGuard]:
    guard = PageGuard()
    yield guard
    guard.check()


@pytest.fixture
def new_local_context(
    new_context: Callable[..., BrowserContext], page_guard: PageGuard
) -> Callable[..., BrowserContext]:
    """Factory of browser contexts cut off from everything but localhost, with patient timeouts.

    Every page opened in them is watched by ``page_guard``. A test that needs
    two people at once (two annotators) opens two contexts with it.
    """

    def make(**kwargs) -> BrowserContext:
        browser_context = new_context(**{"viewport": {"width": 1400, "height": 1000}, **kwargs})
        browser_context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        browser_context.set_default_navigation_timeout(FIRST_RENDER_TIMEOUT_MS)
        browser_context.route("**/*", page_guard.route)
        browser_context.on("page", page_guard.watch)
        return browser_context

    return make


@pytest.fixture
def context(new_local_context: Callable[..., BrowserContext]) -> BrowserContext:
    """A fresh local-only context per test."""
    return new_local_context()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    """A page of the test's context; an uncaught JavaScript error or a ``.voila-error`` fails the test."""
    return context.new_page()


# --------------------------------------------------------------------------- servers




@dataclass
class Server:
    """A Jupyter-family server running in a subprocess, with its log in a file."""

    name: str
    url: str
    process: subprocess.Popen
    log_path: Path
    root: Path | None = None  # the folder it serves, when the test hands it files

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_size(self) -> int:
        return self.log_path.stat().st_size

    def log_since(self, offset: int) -> str:
        with self.log_path.open("rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)


def _wait_until_answering(server: Server, probe_path: str) -> None:
    """Poll the server until it answers HTTP; raise with its log if it dies or never answers."""
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"{server.name} exited with code {server.process.returncode} before answering.\n"
                f"--- its log ({server.log_path}) ---\n{server.log()}"
            )
        try:
            with urllib.request.urlopen(server.url + probe_path, timeout=5):
                return
        except urllib.error.HTTPError:
            return  # an HTTP error status is still an answer: the server is up
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.25)
    server.stop()
    raise RuntimeError(
        f"{server.name} did not answer on {server.url} within {SERVER_START_TIMEOUT_S} s.\n"
        f"--- its log ({server.log_path}) ---\n{server.log()}"
    )


@pytest.fixture(scope="session")
def jupyter_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for server subprocesses: quick notebooks, this venv's kernel, private Jupyter dirs.

    The ``python3`` kernelspec put first on JUPYTER_PATH runs this very
    interpreter, so a kernelspec elsewhere on the machine cannot take over.
    Config and runtime dirs are private so no user setting leaks in. alwidgets'
    Voila page template, which the notebooks name, is found in the source tree.
    """
    jupyter_home = tmp_path_factory.mktemp("jupyter")
    spec_dir = jupyter_home / "data" / "kernels" / "python3"
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    env = {key: value for key, value in os.environ.items() if key != "MPLBACKEND"}
    env.update(
        ALW_QUICK=os.environ.get("ALW_QUICK", "1"),
        JUPYTER_PATH=os.pathsep.join(
            filter(None, [str(jupyter_home / "data"), str(VOILA_TEMPLATES_ROOT), os.environ.get("JUPYTER_PATH")])
        ),
        JUPYTER_CONFIG_DIR=str(jupyter_home / "config"),
        JUPYTER_RUNTIME_DIR=str(jupyter_home / "runtime"),
        JUPYTER_PLATFORM_DIRS="1",
        PYTHONUNBUFFERED="1",
    )
    return env


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to send SIGTERM when pytest dies.

    A pytest killed mid-run (Ctrl-C twice, a CI timeout) runs no fixture
    teardown; without this its servers would keep running, orphaned.
    """
    try:
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    except OSError:
        pass  # not Linux/glibc: teardown is the only clean-up


def _start_server(name: str, command: list[str], url: str, probe_path: str, env: dict, log_dir: Path) -> Server:
    log_path = log_dir / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.log"
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        command,
        cwd=REPO,
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
    )
    log_file.close()  # the child holds its own descriptor
    server = Server(name=name, url=url, process=process, log_path=log_path)
    _wait_until_answering(server, probe_path)
    return server


# Servers a test used, so a failing test's report can carry their logs.
_SERVERS_USED = pytest.StashKey[dict]()


def _note_server_used(request: pytest.FixtureRequest, server: Server) -> None:
    used = request.node.stash.setdefault(_SERVERS_USED, {})
    used.setdefault(server.name, (server, server.log_size()))


_REPORTS = pytest.StashKey[dict]()


def _test_failed(item: pytest.Item) -> bool:
    return any(report.failed for report in item.stash.get(_REPORTS, {}).values())


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Attach the log of every server a failed test used, from where that test began."""
    outcome = yield
    report = outcome.get_result()
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    if report.failed:
        for server, offset in item.stash.get(_SERVERS_USED, {}).values():
            report.sections.append((f"{server.name} log during this test", server.log_since(offset)[-20_000:]))


@pytest.fixture(scope="session")
def _voila_servers() -> Iterator[dict[str, Server]]:
    """Voila servers by notebook path: started on first use, stopped when the session ends."""
    servers: dict[str, Server] = {}
    yield servers
    for server in servers.values():
        server.stop()


@pytest.fixture
def voila(
    _voila_servers: dict[str, Server],
    jupyter_env: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Iterator[Callable[[str], Server]]:
    """Factory: ``voila("01_images.ipynb")`` -> a Voila server for that notebook, one per session.

    Each page load starts its own kernel and runs the notebook, like a user
    opening the page. A cell error or traceback the server logs while the test
    runs fails the test; the server's log is attached to a failed test's report.
    """

    def serve(notebook: str) -> Server:
        path = NOTEBOOK_DIR / notebook if not os.path.isabs(notebook) else Path(notebook)
        if not path.is_file():
            pytest.fail(f"no notebook {path} to serve", pytrace=False)
        key = str(path)
        if key not in _voila_servers:
            port = free_port()
            command = [
                sys.executable, "-m", "voila", "--no-browser", f"--port={port}",
                "--Voila.ip=127.0.0.1", "--Voila.port_retries=0", "--show_tracebacks=True",
                str(path),
            ]  # fmt: skip
            _voila_servers[key] = _start_server(
                f"voila {path.name}",
                command,
                f"http://127.0.0.1:{port}",
                "/voila/static/",
                jupyter_env,
                tmp_path_factory.mktemp("voila-logs"),
            )
        server = _voila_servers[key]
        _note_server_used(request, server)
        return server

    yield serve
    if _test_failed(request.node):
        return  # the failure report already carries the server log
    for server, offset in request.node.stash.get(_SERVERS_USED, {}).values():
        if server.name.startswith("voila "):
            log = server_errors(server.log_since(offset))
            found = [marker for marker in SERVER_ERROR_MARKERS if marker in log]
            if found:
                pytest.fail(f"{server.name} logged an error during the test:\n{log[-10_000:]}", pytrace=False)


# The Jupyter front ends a notebook can be opened in: how each is started and where a notebook opens.
FRONTENDS = {
    "jupyterlab": {
        "module": "jupyterlab",
        "app": "LabApp",
        "notebook_path": "lab/tree",
        # Lab restores the tabs of its last session; ?reset opens the notebook alone, as in a fresh profile.
        "query": "?reset",
        "options": [
            "--LabApp.news_url=None",
            "--LabApp.extension_manager=readonly",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ],
    },
    "notebook7": {"module": "notebook", "app": "JupyterNotebookApp", "notebook_path": "notebooks", "query": "",
                  "options": []},
}


def _start_frontend(name: str, jupyter_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Server:
    """JupyterLab or Notebook 7 on a temporary root folder, with a fresh user profile."""
    spec = FRONTENDS[name]
    root = tmp_path_factory.mktemp(f"{name}-root")
    settings = tmp_path_factory.mktemp(f"{name}-settings")
    # A fresh user profile that starts the notebook's kernel and asks no questions about news.
    for plugin, values in {
        "@jupyterlab/notebook-extension/tracker": {"autoStartDefaultKernel": True},
        "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    }.items():
        settings_file = settings / "user-settings" / f"{plugin}.jupyterlab-settings"
        settings_file.parent.mkdir(parents=True, exist_ok=True)
        settings_file.write_text(json.dumps(values))
    port = free_port()
    app = spec["app"]
    command = [
        sys.executable, "-m", spec["module"], "--no-browser", f"--port={port}",
        "--ServerApp.ip=127.0.0.1", "--ServerApp.port_retries=0",
        "--IdentityProvider.token=", "--ServerApp.password=",
        "--ServerApp.disable_check_xsrf=True",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.allow_root=True",  # make test runs as root in containers and CI
        "--ServerApp.terminals_enabled=False",
        f"--{app}.expose_app_in_browser=True",  # lets a test wait until the kernel is really ready
        f"--{app}.user_settings_dir={settings / 'user-settings'}",
        f"--{app}.workspaces_dir={settings / 'workspaces'}",
        *spec["options"],
    ]  # fmt: skip
    server = _start_server(
        name, command, f"http://127.0.0.1:{port}", "/api/status", jupyter_env, tmp_path_factory.mktemp(f"{name}-log")
    )
    server.root = root
    return server


@pytest.fixture(scope="session")
def _frontend_servers(jupyter_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable]:
    """Factory of JupyterLab / Notebook 7 servers: each started on first use, stopped when the session ends."""
    servers: dict[str, Server] = {}

    def get(name: str) -> Server:
        if name not in servers:
            servers[name] = _start_frontend(name, jupyter_env, tmp_path_factory)
        return servers[name]

    yield get
    for server in servers.values():
        server.stop()


def _opener(server: Server, frontend: dict) -> Callable[[str], str]:
    """``open_url("01_images.ipynb")`` copies the notebook into the server's root and returns its URL.

    The root is a temporary folder, so the notebooks/ folder is never touched;
    the notebook's neighbours in notebooks/ are not copied.
    """

    def open_url(notebook: str) -> str:
        source = NOTEBOOK_DIR / notebook if not os.path.isabs(notebook) else Path(notebook)
        if not source.is_file():
            pytest.fail(f"no notebook {source} to open", pytrace=False)
        shutil.copy(source, server.root / source.name)
        return f"{server.url}/{frontend['notebook_path']}/{source.name}{frontend['query']}"

    return open_url


@pytest.fixture
def jupyterlab(_frontend_servers: Callable[[str], Server], request: pytest.FixtureRequest) -> Callable[[str], str]:
    """Factory: ``jupyterlab("01_images.ipynb")`` copies the notebook into Lab's root, returns its URL."""
    server = _frontend_servers("jupyterlab")
    _note_server_used(request, server)
    return _opener(server, FRONTENDS["jupyterlab"])


@pytest.fixture(params=sorted(FRONTENDS))
def notebook_frontend(_frontend_servers: Callable[[str], Server], request: pytest.FixtureRequest) -> Callable[[str], str]:
    """Like ``jupyterlab``, once in JupyterLab 4 and once in Notebook 7 (``request.param`` names which)."""
    server = _frontend_servers(request.param)
    _note_server_used(request, server)
    return _opener(server, FRONTENDS[request.param])


@pytest.fixture
def open_voila(voila: Callable[[str], Server], page: Page) -> Callable[..., Page]:
    """Factory: ``open_voila("01_images.ipynb")`` -> the page once the notebook rendered cleanly.

    It waits (up to the first-render timeout) for ``ready_selector``, then
    fails if Voila shows an error page or logged a cell error while rendering.
    Pass ``in_page`` to open it in another page (a second annotator's
    context from ``new_local_context``).
    The page's kernel lives until the server stops at the end of the session.
    """

    def open_page(notebook: str, ready_selector: str = ".alw-labeler", in_page: Page | None = None) -> Page:
        browser_page = page if in_page is None else in_page
        server = voila(notebook)
        offset = server.log_size()
        browser_page.goto(server.url, wait_until="commit")
        ready = browser_page.locator(f"{ready_selector}, .voila-error").first
        ready.wait_for(state="visible", timeout=FIRST_RENDER_TIMEOUT_MS)
        errors = browser_page.locator(".voila-error").all_inner_texts()
        assert not errors, f"Voila showed an error page for {notebook}:\n" + "\n".join(errors)
        log = server_errors(server.log_since(offset))
        found = [marker for marker in SERVER_ERROR_MARKERS if marker in log]
        assert not found, f"{server.name} logged an error while rendering {notebook}:\n{log[-10_000:]}"
        return browser_page

    return open_page
