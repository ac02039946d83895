"""Keyboard shortcuts that work without hovering the mouse over the widget.

ipywidgets only sees key presses made inside a widget, and ipyevents-style
capture needs the mouse over the element. A person labeling wants to press
"3" wherever the mouse is. This module holds the one piece of custom
JavaScript in alwidgets: a tiny, invisible anywidget whose ES module listens
for ``keydown`` on the whole page and sends the keys the Labeler uses to
Python. anywidget's front-end code ships inside its Python package, so this
works offline in JupyterLab, Notebook 7, VS Code and Voila.

What the listener does, in order, for each key press:

- ignores presses with Ctrl, Alt or Meta (browser and Jupyter shortcuts stay
  theirs) and keys the Labeler did not ask for;
- ignores presses typed into an input, textarea, select or editable element
  (a notebook cell being edited, the regression value box);
- ignores presses while its own element is hidden (another JupyterLab tab);
- handles an event once per Labeler even when the Labeler is displayed twice
  (both views see the same event object; the first marks it);
- stops the event there, so JupyterLab does not also read "1" as "make this
  cell a heading", and sends the key to Python.

It listens on ``window`` in the capture phase, which runs before JupyterLab's
own ``document`` listener, and removes its listener when its view is removed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import anywidget
import traitlets

__all__ = ["KeyListener"]

_ESM = r"""
const EDITABLE = "input, textarea, select, [contenteditable=''], [contenteditable='true']";

function typedIntoAField(target) {
  return target instanceof Element && target.closest(EDITABLE) !== null;
}

function normalize(key) {
  return key.length === 1 ? key.toLowerCase() : key;
}

function render({ model, el }) {
  el.classList.add("alw-keys");
  const onKeydown = (event) => {
    if (event.ctrlKey || event.altKey || event.metaKey || event.repeat) return;
    const key = normalize(event.key);
    if (!model.get("shortcuts").includes(key)) return;
    if (typedIntoAField(event.target)) return;
    if (!el.isConnected || (el.checkVisibility && !el.checkVisibility())) return;
    const uid = model.get("uid");
    event.alwHandled = event.alwHandled || new Set();
    if (event.alwHandled.has(uid)) return;  // the same Labeler shown twice
    event.alwHandled.add(uid);
    event.preventDefault();
    event.stopPropagation();
    model.send({ key });
  };
  window.addEventListener("keydown", onKeydown, true);
  return () => window.removeEventListener("keydown", onKeydown, true);
}

export default { render };
"""


class KeyListener(anywidget.AnyWidget):
    """An invisible widget that calls ``on_key(key)`` for page-wide key presses.

    Parameters
    ----------
    on_key : callable
        Called with the key, as the browser names it, lowercased when it is a
        single character: ``"1"``, ``"s"``, ``"Backspace"``, ``"Enter"``.
    keys : list of str
        The keys to listen for; every other key is left to the page.
    """

    _esm = _ESM
    shortcuts = traitlets.List(traitlets.Unicode()).tag(sync=True)
    uid = traitlets.Unicode().tag(sync=True)

    def __init__(self, on_key: Callable[[str], None], keys, **kwargs):
        super().__init__(shortcuts=list(keys), uid=uuid.uuid4().hex, **kwargs)
        self._on_key = on_key
        self.layout.width = "0px"
        self.layout.height = "0px"
        self.layout.margin = "0px"
        self.layout.overflow = "hidden"
        self.on_msg(self._receive)

    def _receive(self, _widget, content, _buffers) -> None:
        key = content.get("key") if isinstance(content, dict) else None
        if isinstance(key, str) and key in self.shortcuts:
            self._on_key(key)
