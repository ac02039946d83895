"""What the dashboard learns from the browser page itself: the name it remembers, and that it is still open.

A small anywidget (like :mod:`alwidgets.widgets.keys`), invisible on the page.

- **The name.** Its ES module reads the name this browser last started
  labeling under for this campaign from ``localStorage`` and sends it to the
  kernel (:attr:`PageLink.remembered`); when the kernel accepts a name
  (:meth:`PageLink.remember`), the module stores it. The key names the
  campaign, so two campaigns served from one host remember a name each. A
  name the browser sends is checked like a typed one.
- **The page is open.** The module sends a message every
  :data:`BEAT_SECONDS` while the page is loaded (:attr:`PageLink.last_seen`).
  A kernel cannot otherwise tell that its page is gone when the page goes
  without a word (a crashed browser, a lost network): no shut-down request
  comes, and the kernel lives on until ``serve --gone-after`` or the culler
  ends it (docs/deploying.md). The dashboard renews its leases' heartbeat
  only while its page says it is open.

:func:`when_visitor_arrives` is the kernel's side of a page run ahead of its
visitor (``python -m alwidgets serve`` keeps such a page ready): who opened it
is known only once they have. If the kernel cannot learn it, it never guesses:
:func:`visitor_problem` says why, and the dashboard blocks labeling and says
so (``Dashboard.welcome`` is called only with the server's word).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
import time
from collections.abc import Callable

import anywidget
import traitlets

from alwidgets.widgets._guard import call_apart, guarded

__all__ = ["BEAT_SECONDS", "PageLink", "STORAGE_PREFIX", "visitor_problem", "when_visitor_arrives"]

STORAGE_PREFIX = "alwidgets.annotator:"
BEAT_SECONDS = 10  # how often an open page says so (a background tab may be throttled to once a minute)
# A ready page's kernel proves it is the one asking who opened it with a secret of its own, which the server put
# in its environment (the names are alwidgets_serving's VISITOR_SECRET_ENV and VISITOR_SECRET_HEADER).
VISITOR_SECRET_ENV = "ALW_VISITOR_SECRET"
VISITOR_SECRET_HEADER = "X-Alwidgets-Kernel-Secret"
RETRY_SECONDS = (1, 2, 5, 10, 30)  # waits between attempts to ask, when the server could not be reached

_ESM = """
const PREFIX = "__PREFIX__";
const BEAT_MS = __BEAT__ * 1000;

function storageKey(model) { return PREFIX + model.get("campaign"); }

function read(model) {
  try { return window.localStorage.getItem(storageKey(model)) || ""; } catch (error) { return ""; }
}

function write(model) {
  const name = model.get("accepted");
  if (!name) return;
  try { window.localStorage.setItem(storageKey(model), name); } catch (error) { /* storage off: nothing kept */ }
}

export default {
  render({ model, el }) {
    el.style.display = "none";
    const name = read(model);
    if (name && model.get("remembered") !== name) {
      model.set("remembered", name);
      model.save_changes();
    }
    write(model);
    const onAccepted = () => write(model);
    model.on("change:accepted", onAccepted);
    const beat = () => model.send({ open: true });
    beat();
    const timer = setInterval(beat, BEAT_MS);
    return () => { clearInterval(timer); model.off("change:accepted", onAccepted); };
  },
};
""".replace("__PREFIX__", STORAGE_PREFIX).replace("__BEAT__", str(BEAT_SECONDS))


class PageLink(anywidget.AnyWidget):
    """The browser page's memory of a name, and its word that it is still open (invisible).

    Parameters
    ----------
    campaign : str
        What the name is remembered for (a campaign's name and pool fingerprint).
    """

    _esm = _ESM

    campaign = traitlets.Unicode().tag(sync=True)
    remembered = traitlets.Unicode("").tag(sync=True)  # set by the browser: what it had stored
    accepted = traitlets.Unicode("").tag(sync=True)  # set by the kernel: what the browser is to store

    def __init__(self, campaign: str, **kwargs):
        super().__init__(campaign=str(campaign), **kwargs)
        self.add_class("alw-page-link")
        self.last_seen: float | None = None  # monotonic time of the page's last "I am open"
        self.errors: list[str] = []
        self._ui_lock = threading.RLock()
        self._when_shown: list[Callable[[], object]] = []
        self.on_msg(self._receive)

    def remember(self, name: str) -> None:
        """Have the browser keep ``name`` for this campaign."""
        with self._ui_lock:
            self.accepted = name

    def is_open(self, within: float) -> bool:
        """Whether the page said it is open in the last ``within`` seconds."""
        return self.last_seen is not None and time.monotonic() - self.last_seen <= within

    def when_shown(self, callback: Callable[[], object]) -> None:
        """Call ``callback()`` once the browser has drawn the page (at once, if it has), on the kernel's thread.

        The page says it is open only once its widgets are restored and drawn,
        so the callback's new widgets reach a browser that is listening.
        """
        if self.last_seen is not None:
            callback()
        else:
            self._when_shown.append(callback)

    @guarded("the page's message")
    def _receive(self, _widget, content, _buffers) -> None:
        if isinstance(content, dict) and content.get("open"):
            self.last_seen = time.monotonic()
            waiting, self._when_shown = self._when_shown, []
            for callback in waiting:
                call_apart(callback)  # the dashboard's own guard says its errors on its page

    def _show_problem(self, message: str, error: BaseException) -> None:
        """Nothing to show: this widget is invisible; :func:`~alwidgets.widgets._guard.report_error` has logged it."""



def when_visitor_arrives(callback: Callable[[], object]) -> None:
    """Call ``callback`` once someone has opened the page: at once, or later in a kernel Voila ran ahead.

    Voila's preheated kernels (``serve --pool``) run a notebook before anybody
    asks for it, so a visitor gets a page whose cells have already run. The
    request (its query string, a login proxy's user header) reaches the
    kernel's ``os.environ`` only when the visitor comes: Voila sends it to the
    kernel over ``voila/query/<kernel id>``. The wait happens on a daemon
    thread, so the waiting kernel stays idle and can be shut down at any time;
    ``callback`` then runs on the kernel's event loop, as a cell would. In
    JupyterLab, nbclient, or a kernel Voila started for the request, it is
    called at once.

    ``callback`` is never called without the server's word: if the kernel
    cannot learn who opened the page (the server refuses to say, or its
    address is wrong), :func:`visitor_problem` says why, and the page must not
    let anyone label (a visitor behind a login proxy would otherwise pick any
    name). A server that cannot be reached is asked again, a few seconds apart.
    """
    if os.environ.get("VOILA_PREHEAT", "False") == "False":
        callback()
        return
    try:
        loop = asyncio.get_running_loop()  # a cell runs on the kernel's loop
    except RuntimeError:
        loop = None

    def wait() -> None:
        info = _request_info()
        if info is None:
            return  # the page says it cannot learn who opened it (the dashboard's wait ends)
        os.environ.update(info)
        if loop is None:
            callback()
        else:
            loop.call_soon_threadsafe(callback)

    threading.Thread(target=wait, name="alwidgets-visitor", daemon=True).start()


_problem: list[str] = []  # why this kernel cannot learn (or could not yet learn) who opened its page
_said: set[str] = set()  # the problems already written to the server's log


def visitor_problem() -> str | None:
    """Why this page's kernel cannot (or could not, at its last attempt) learn who opened it; None if nothing is wrong."""
    return _problem[-1] if _problem else None


def _set_problem(problem: str | None) -> None:
    if problem is None:
        _problem.clear()
        return
    if problem not in _said:  # said in the server's log once, not at every attempt
        _said.add(problem)
        print(f"alwidgets: a page kept ready cannot learn who opened it: {problem}", file=sys.__stderr__, flush=True)
    _problem[:] = [problem]


def _query_url() -> str:
    """Where the server says who opened this kernel's page: ``voila/query/<kernel id>`` (an IPv6 host bracketed)."""
    host = os.environ.get("VOILA_APP_IP", "127.0.0.1")
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    base = os.environ.get("VOILA_WS_BASE_URL", os.environ.get("VOILA_SERVER_URL", "/"))
    return (f"{os.environ.get('VOILA_WS_PROTOCOL', 'ws')}://{host}:{os.environ.get('VOILA_APP_PORT', '8866')}"
            f"{base}voila/query/{os.environ.get('VOILA_KERNEL_ID', '')}")


class _Refused(Exception):
    """The server will not say who opened the page (it answered the question with an error): asking again is futile."""


def _request_info() -> dict[str, str] | None:
    """The request that took this kernel from Voila's pool, as environment entries; None if it cannot be learned.

    Waits as long as the page waits for its visitor. A server that cannot be
    reached, or that closes the socket without a word, is asked again after a
    few seconds (:data:`RETRY_SECONDS`); an answer that is an error or no
    request is final.
    """
    url = _query_url()
    secret = os.environ.get(VISITOR_SECRET_ENV)
    headers = {VISITOR_SECRET_HEADER: secret} if secret else {}
    attempt = 0
    while True:
        try:
            message = asyncio.run(_receive(url, headers))
        except _Refused as error:
            _set_problem(f"{url} answered {error}")
            return None
        except Exception as error:  # unreachable, a dropped connection: the server may answer the next time
            _set_problem(f"no answer from {url}: {error!r}")
        else:
            if message is not None:
                try:
                    info = json.loads(message)
                except ValueError:
                    info = None
                if not isinstance(info, dict):
                    _set_problem(f"{url} sent something that is no request: {str(message)[:200]!r}")
                    return None
                _set_problem(None)
                return {str(k): str(v) for k, v in info.items()}
            _set_problem(f"{url} closed the socket without saying who came")
        time.sleep(RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)])
        attempt += 1


async def _receive(url: str, headers: dict) -> str | None:
    """The one message the server sends on ``url``; None if it closes the socket first. Raises _Refused on an error answer."""
    from tornado.httpclient import HTTPClientError, HTTPRequest
    from tornado.websocket import websocket_connect

    request = HTTPRequest(url, headers=headers, connect_timeout=10, request_timeout=30, follow_redirects=False)
    try:
        socket = await websocket_connect(request, ping_interval=30, ping_timeout=30)
    except HTTPClientError as error:
        if error.code < 500 and error.code != 599:
            raise _Refused(f"HTTP {error.code}") from None
        raise
    except ValueError as error:  # an address that is no address
        raise _Refused(f"nothing: it is no address ({error})") from None
    _set_problem(None)  # connected: waiting for the visitor is no problem
    try:
        return await socket.read_message()
    finally:
        socket.close()
