"""Remember the dashboard's annotator name in the browser, so a reload does not ask for it again.

A small anywidget (like :mod:`alwidgets.widgets.keys`): its ES module reads the
name this browser last started labeling under for this campaign from
``localStorage`` and sends it to the kernel (:attr:`NameMemory.remembered`);
when the kernel accepts a name (:meth:`NameMemory.remember`), the module
stores it. The key names the campaign, so two campaigns served from one host
remember a name each. Nothing leaves the browser but that name, to its own
kernel; a name the browser sends is checked like a typed one.
"""

from __future__ import annotations

import anywidget
import traitlets

__all__ = ["NameMemory", "STORAGE_PREFIX"]

STORAGE_PREFIX = "alwidgets.annotator:"

_ESM = """
const PREFIX = "__PREFIX__";

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
    return () => model.off("change:accepted", onAccepted);
  },
};
""".replace("__PREFIX__", STORAGE_PREFIX)


class NameMemory(anywidget.AnyWidget):
    """The name this browser last labeled under, for one campaign (invisible).

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
        self.add_class("alw-name-memory")

    def remember(self, name: str) -> None:
        """Have the browser keep ``name`` for this campaign."""
        self.accepted = name
