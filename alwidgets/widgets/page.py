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
  comes, and the kernel lives on until it is culled. The dashboard renews its leases' heartbeat
  only while its page says it is open.

:func:`when_visitor_arrives` is the kernel's side of a page run ahead of its
visitor (``python -m alwidgets serve`` keeps such a page ready): who opened it
is known only once they have.
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

__all__ = ["BEAT_SECONDS", "PageLink", "STORAGE_PREFIX", "when_visitor_arrives"]

STORAGE_PREFIX = "alwidgets.annotator:"
BEAT_SECONDS = 10  # how often an open page says so (a background tab may be throttled to once a minute)

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
    """
    if os.environ.get("VOILA_PREHEAT", "False") == "False":
        callback()
        return
    try:
        loop = asyncio.get_running_loop()  # a cell runs on the kernel's loop
    except RuntimeError:
        loop = None

    def wait() -> None:
        os.environ.update(_request_info())
        if loop is None:
            callback()
        else:
            loop.call_soon_threadsafe(callback)

    threading.Thread(target=wait, name="alwidgets-visitor", daemon=True).start()


def _request_info() -> dict[str, str]:
    """The request that took this kernel from Voila's pool, as environment entries; {} if Voila cannot say."""
    import websockets

    server_url = os.environ.get("VOILA_SERVER_URL", "/")
    url = (f"{os.environ.get('VOILA_WS_PROTOCOL', 'ws')}://{os.environ.get('VOILA_APP_IP', '127.0.0.1')}:"
           f"{os.environ.get('VOILA_APP_PORT', '8866')}{os.environ.get('VOILA_WS_BASE_URL', server_url)}"
           f"voila/query/{os.environ.get('VOILA_KERNEL_ID', '')}")

    async def receive() -> str:
        async with websockets.connect(url, open_timeout=10) as socket:
            return await socket.recv()

    try:
        info = json.loads(asyncio.run(receive()))
    except Exception as error:  # the server went away, or another Voila: the visitor is then unknown
        print(f"alwidgets: no request details from {url}: {error!r}", file=sys.__stderr__, flush=True)
        return {}
    return {str(k): str(v) for k, v in info.items()} if isinstance(info, dict) else {}
