"""Keyboard shortcuts for the Labeler: page-wide in Voila, armed by a click in a notebook.

ipywidgets only sees key presses made inside a widget, and ipyevents-style
capture needs the mouse over the element. This module holds the one piece of
custom JavaScript in alwidgets: a small anywidget whose ES module listens for
``keydown`` and sends the keys the Labeler uses to Python. anywidget's
front-end code ships inside its Python package, so this works offline in
JupyterLab, Notebook 7, VS Code and Voila.

When keys reach the Labeler
---------------------------
A Voila page is an app: one page, one Labeler, nothing else that reads keys.
There a person labels by pressing "3" wherever the mouse is (``page`` scope).

A notebook is a document full of other things that read keys: in command
mode JupyterLab and Notebook 7 turn "1"-"6" into "make this cell a heading",
Backspace and S mean something else, and a Labeler may be scrolled far out of
view. There a Labeler takes keys only while it is *armed* (``focus`` scope):

- a click (or tap) anywhere on the Labeler arms it: a ring is drawn around it
  and a hint says which keys do what ("keys: 1–9 label, Backspace undo, ...");
- a click anywhere else, Escape, or moving into a cell editor or a text field
  outside it disarms it;
- while armed it ignores keys when it is scrolled out of view;
- a click on a second Labeler arms that one and disarms the first, so only one
  reacts.

How the page is recognised
--------------------------
Voila, JupyterLab and Notebook 7 each put their page configuration in a
``<script id="jupyter-config-data">`` element of the page. Voila's (0.5 and
later, standalone or as a server extension) has ``"appUrl": "voila/"``;
JupyterLab's is ``/lab``, Notebook 7's ``/tree`` or ``/notebooks``. VS Code and
other hosts render outputs in pages without that element. So: the page is
Voila when that configuration names Voila's app URL, and everything else is a
notebook. An unknown host thus gets the cautious ``focus`` scope. Two Labelers
on one Voila page also switch it to ``focus``: page-wide keys would be
ambiguous. ``KeyListener.scope`` forces either scope.

What the listener does with a key press, in order
-------------------------------------------------
- ignores presses with Ctrl, Alt or Meta (browser and Jupyter shortcuts stay
  theirs), auto-repeats, and keys the Labeler did not ask for;
- Enter typed into the Labeler's own value box (``.alw-value``) submits what is
  typed: the text travels with the message, so a value the box has not synced
  yet cannot be lost or cut short;
- ignores presses typed into an input, textarea, select or editable element
  (a notebook cell being edited, a text box);
- ignores presses while its element is hidden (another JupyterLab tab), or, in
  ``focus`` scope, while unarmed or off-screen;
- handles an event once per Labeler even when the Labeler is displayed twice
  (both views see the same event object; the first marks it);
- stops the event there, so JupyterLab does not also read "1" as "make this
  cell a heading", and sends the key to Python.

It listens on ``window`` in the capture phase, which runs before JupyterLab's
own ``document`` listener, and removes its listeners when its view is removed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import anywidget
import traitlets

from alwidgets.widgets._guard import call_apart, guarded

__all__ = ["KeyListener"]

_ESM = r"""
const EDITABLE = "input, textarea, select, [contenteditable=''], [contenteditable='true'], " +
  "[contenteditable='plaintext-only']";
// Every KeyListener view on this page, so that two Labelers know of each other.
const VIEWS = (globalThis.__alwKeyViews = globalThis.__alwKeyViews || new Set());

function typedIntoAField(target) {
  return target instanceof Element && target.closest(EDITABLE) !== null;
}

function normalize(key) {
  return key.length === 1 ? key.toLowerCase() : key;
}

// Voila's page configuration names its app URL "voila/"; JupyterLab's is "/lab", Notebook 7's
// "/tree" or "/notebooks"; VS Code's output pages have none. See the module docstring.
function readPageIsVoila() {
  const node = document.getElementById("jupyter-config-data");
  if (!node) return false;
  try {
    const appUrl = JSON.parse(node.textContent).appUrl;
    return typeof appUrl === "string" && /(^|\/)voila\/?$/.test(appUrl);
  } catch (error) {
    return false;
  }
}
let voilaPage = null;  // what the page is does not change: read it once
function pageIsVoila() {
  if (voilaPage === null) voilaPage = readPageIsVoila();
  return voilaPage;
}

function keyRange(keys) {
  const digits = keys.filter((k) => /^[0-9]$/.test(k));
  if (digits.length === 0) return "";
  const consecutive = digits.every((k, i) => i === 0 || Number(k) === Number(digits[i - 1]) + 1);
  if (digits.length > 2 && consecutive) return `${digits[0]}–${digits[digits.length - 1]}`;
  if (digits.length > 3 && digits[digits.length - 1] === "0") return `${digits[0]}–${digits[digits.length - 2]}, 0`;
  return digits.join(" ");
}

function hintText(keys, hasValueBox) {
  const parts = [];
  const digits = keyRange(keys);
  if (digits) parts.push(`${digits} label`);
  if (hasValueBox) parts.push("Enter submits the value");
  if (keys.includes("Enter")) parts.push("Enter submit");
  if (keys.includes("Backspace")) parts.push("Backspace undo");
  if (keys.includes("s")) parts.push("S skip");
  return `keys: ${parts.join(", ")} · Esc or a click elsewhere: keys off`;
}

function render({ model, el }) {
  el.classList.add("alw-keys");
  const hint = document.createElement("div");
  hint.className = "alw-keys-hint";
  el.appendChild(hint);
  const view = { el, uid: model.get("uid"), armed: false, onScreen: true };
  VIEWS.add(view);

  // The Labeler this listener belongs to (its parent box); known once the view is in the page.
  const root = () => el.closest(".alw-labeler") || el.parentElement || el;
  const otherLabelers = () => {
    const uids = new Set();
    for (const other of VIEWS) if (other.el.isConnected) uids.add(other.uid);
    return uids.size > 1;
  };
  const scope = () => {
    const forced = model.get("scope");
    if (forced !== "auto") return forced;
    return pageIsVoila() && !otherLabelers() ? "page" : "focus";
  };

  let observer = null;
  let submitted = null;  // the value box whose text was sent with Enter
  const setArmed = (armed) => {
    if (view.armed === armed) return;
    view.armed = armed;
    const box = root();
    box.classList.toggle("alw-keys-armed", armed);
    hint.textContent = armed ? hintText(model.get("shortcuts"), !!box.querySelector(".alw-value input")) : "";
    el.classList.toggle("alw-keys-showing", armed);
    if (armed && !observer && typeof IntersectionObserver === "function") {
      observer = new IntersectionObserver((entries) => {
        for (const entry of entries) view.onScreen = entry.isIntersecting;
      });
      observer.observe(box);
    }
  };

  const onPointerDown = (event) => {
    if (scope() !== "focus") return;
    setArmed(event.target instanceof Node && root().contains(event.target));
  };
  const onFocusIn = (event) => {
    // Editing a cell or typing into a field elsewhere: the keys are the person's text again.
    if (view.armed && typedIntoAField(event.target) && !root().contains(event.target)) setArmed(false);
  };
  const onKeydown = (event) => {
    if (event.ctrlKey || event.altKey || event.metaKey || event.repeat) return;
    if (!el.isConnected || (el.checkVisibility && !el.checkVisibility())) return;
    const target = event.target;
    if (event.key === "Enter" && target instanceof HTMLInputElement && target.closest(".alw-value")
        && root().contains(target)) {
      event.preventDefault();
      event.stopPropagation();
      submitted = target;
      model.send({ key: "Enter", text: target.value });
      return;
    }
    const focus = scope() === "focus";
    if (focus && event.key === "Escape") {
      setArmed(false);
      return;
    }
    const key = normalize(event.key);
    if (!model.get("shortcuts").includes(key)) return;
    if (typedIntoAField(target)) return;
    if (focus && (!view.armed || !view.onScreen)) return;
    event.alwHandled = event.alwHandled || new Set();
    if (event.alwHandled.has(view.uid)) return;  // the same Labeler shown twice
    event.alwHandled.add(view.uid);
    event.preventDefault();
    event.stopPropagation();
    model.send({ key });
  };

  // Python accepted the submitted value: empty the box (its widget, synced only on a committed
  // change, may never have sent the text, so Python emptying it changed nothing here).
  const onMessage = (message) => {
    if (!message || !message.empty_field || !submitted || !submitted.isConnected) return;
    submitted.value = "";
    submitted.dispatchEvent(new Event("input", { bubbles: true }));
    submitted = null;
  };
  model.on("msg:custom", onMessage);

  window.addEventListener("keydown", onKeydown, true);
  document.addEventListener("pointerdown", onPointerDown, true);
  document.addEventListener("focusin", onFocusIn, true);
  return () => {
    setArmed(false);
    model.off("msg:custom", onMessage);
    if (observer) observer.disconnect();
    VIEWS.delete(view);
    window.removeEventListener("keydown", onKeydown, true);
    document.removeEventListener("pointerdown", onPointerDown, true);
    document.removeEventListener("focusin", onFocusIn, true);
  };
}

export default { render };
"""

# The ring is an outline drawn inside the Labeler's edge: an output area's overflow cannot clip it
# and the Labeler's own parts cannot cover it. It lies in the Labeler's padding, always there so that
# arming moves nothing: it never covers the first letter of the caption. The hint sits over the
# Labeler's top-right corner.
_CSS = r"""
.alw-labeler {
  padding: 4px;
}
.alw-labeler.alw-keys-armed {
  outline: 2px solid var(--jp-brand-color1, #1976d2);
  outline-offset: -2px;
}
.alw-keys {
  position: static !important;
  overflow: visible !important;
  height: 0;
  margin: 0 !important;
}
.alw-keys-hint {
  display: none;
}
.alw-keys-showing .alw-keys-hint {
  display: block;
  position: absolute;
  top: 4px;
  right: 6px;
  z-index: 1;
  padding: 1px 6px;
  border-radius: 3px;
  font-size: var(--jp-ui-font-size0, 11px);
  color: var(--jp-ui-font-color1, #333);
  background: var(--jp-layout-color2, rgba(238, 238, 238, 0.9));
  pointer-events: none;
}
"""


class KeyListener(anywidget.AnyWidget):
    """A near-invisible widget that calls ``on_key(key)`` for the Labeler's key presses.

    Parameters
    ----------
    on_key : callable
        Called with the key, as the browser names it, lowercased when it is a
        single character: ``"1"``, ``"s"``, ``"Backspace"``, ``"Enter"``.
    keys : list of str
        The keys to listen for; every other key is left to the page.
    on_submit : callable, optional
        Called with the text of the Labeler's value box (``.alw-value``) when
        Enter is pressed in it; when it returns True the box is emptied.
    scope : {"auto", "page", "focus"}, default="auto"
        ``"page"``: keys anywhere on the page; ``"focus"``: only while armed by a
        click on the Labeler; ``"auto"``: ``"page"`` in Voila with one Labeler,
        ``"focus"`` everywhere else (see the module docstring).
    """

    _esm = _ESM
    _css = _CSS
    shortcuts = traitlets.List(traitlets.Unicode()).tag(sync=True)
    uid = traitlets.Unicode().tag(sync=True)
    scope = traitlets.Enum(["auto", "page", "focus"], default_value="auto").tag(sync=True)

    def __init__(
        self,
        on_key: Callable[[str], None],
        keys,
        on_submit: Callable[[str], None] | None = None,
        scope: str = "auto",
        **kwargs,
    ):
        super().__init__(shortcuts=list(keys), uid=uuid.uuid4().hex, scope=scope, **kwargs)
        self._on_key = on_key
        self._on_submit = on_submit
        self.errors: list[str] = []  # what the guard reported about the messages themselves
        self.on_msg(self._receive)

    @guarded("key")
    def _receive(self, _widget, content, _buffers) -> None:
        """A message from the browser: a key, or Enter with the text of the value box.

        ``on_key`` and ``on_submit`` run under their own guards (``call_apart``):
        their problems are said on the Labeler's page, not swallowed here.
        """
        if not isinstance(content, dict):
            return
        key = content.get("key")
        if key == "Enter" and "text" in content:
            text = content["text"]
            if self._on_submit is not None and isinstance(text, str) and call_apart(self._on_submit, text):
                self.send({"empty_field": True})  # the box's widget may never have synced the text
            return
        if isinstance(key, str) and key in self.shortcuts:
            call_apart(self._on_key, key)

    def _show_problem(self, message: str, error: BaseException) -> None:
        """What the guard calls for a message it could not handle: the listener has no page of its own.

        The problem is logged and kept in :attr:`errors`; the keys' own actions
        report on the Labeler.
        """
