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
  A kernel cannot otherwise tell that its page was closed: Voila's own
  shut-down-on-close request is refused by its XSRF check, and the kernel
  lives on until it is culled. The dashboard renews its leases' heartbeat
  only while its page says it is open.
"""

from __future__ import annotations

import time

import anywidget
import traitlets

__all__ = ["BEAT_SECONDS", "PageLink", "STORAGE_PREFIX"]

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
        self.on_msg(self._receive)

    def remember(self, name: str) -> None:
        """Have the browser keep ``name`` for this campaign."""
        self.accepted = name

    def is_open(self, within: float) -> bool:
        """Whether the page said it is open in the last ``within`` seconds."""
        return self.last_seen is not None and time.monotonic() - self.last_seen <= within

    def _receive(self, _widget, content, _buffers) -> None:
        if isinstance(content, dict) and content.get("open"):
            self.last_seen = time.monotonic()
