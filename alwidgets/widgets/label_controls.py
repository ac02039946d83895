"""The Labeler's controls: how a label is given, and the keys that do the same.

:class:`LabelControls` builds the widgets and answers questions about them
(which class a button or key stands for, which keys to listen for); it calls
nothing. The :class:`~alwidgets.widgets.labeler.Labeler` wires each button to
one of its guarded handlers, so every click goes through one guard.

The entry row depends on the session:

- a classifier, one item at a time: one button per class, named with its key;
- a regressor, one item at a time: a y value box and Submit;
- several items at a time: Submit batch (each item has its own control, see
  :mod:`alwidgets.widgets.item_area`);
- multi-label: one toggle per class and Submit.

Below it: Undo, Skip and (unless a team's config hides it) the strategy menu.
"""

from __future__ import annotations

import math

import ipywidgets as widgets

from alwidgets._validation import match_class

__all__ = ["LabelControls", "shortcut_keys", "parse_number", "UNDO_KEY", "SKIP_KEY", "SUBMIT_KEY"]

UNDO_KEY = "Backspace"
SKIP_KEY = "s"
SUBMIT_KEY = "Enter"


def shortcut_keys(classes) -> list[str | None]:
    """The key for each class: 1-9 then 0 for the first ten; digits 0-9 keep their own key."""
    names = [str(c) for c in classes]
    if len(names) <= 10 and len(set(names)) == len(names) and all(n in "0123456789" and len(n) == 1 for n in names):
        return names
    keys: list[str | None] = [str(i + 1) for i in range(min(9, len(names)))]
    if len(names) >= 10:
        keys.append("0")
    return keys + [None] * (len(names) - len(keys))


def parse_number(text) -> float | None:
    """The finite number a person typed into a text box (``" 0,25 "`` is 0.25), or None.

    A person's typing, not a label: the engine (``Session.record``) checks the
    number it is given. (A "text from a text box to a label" helper would
    belong in :mod:`alwidgets._validation`; it lives here until the engine has one.)
    """
    try:
        value = float(str(text).strip().replace(",", "."))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


class LabelControls(widgets.VBox):
    """The entry row (class buttons, value box, toggles or Submit batch) above Undo, Skip and the strategy menu.

    Parameters
    ----------
    classes : list or None
        The classes, in button order; None for a regressor.
    batch_size : int
        Above 1, only a Submit batch button (each item has its own control).
    multi_label : bool
        One toggle per class and a Submit button.
    strategies : list of str or None
        The strategy menu's options (None: no menu).
    strategy : str
        The strategy the menu starts on.
    """

    def __init__(self, classes, *, batch_size: int, multi_label: bool, strategies=None, strategy=None):
        super().__init__()
        self.classes = classes
        self.batch_size = batch_size
        self.multi_label = multi_label
        self.label_buttons: dict = {}
        self.toggles: dict = {}
        self.value: widgets.Text | None = None
        self.submit_button: widgets.Button | None = None
        self._class_of: dict[int, object] = {}  # id(button or toggle) -> its class
        if multi_label:
            self.entry = self._build_toggles()
        elif batch_size == 1 and classes is not None:
            self.entry = self._build_class_buttons()
        elif batch_size == 1:
            self.entry = self._build_value_box()
        else:
            self.submit_button = _submit_button(f"Submit batch [{SUBMIT_KEY}]")
            self.entry = widgets.HBox([self.submit_button])

        self.undo_button = widgets.Button(description=f"Undo [{UNDO_KEY}]", icon="undo",
                                          layout=widgets.Layout(width="auto"))
        self.undo_button.add_class("alw-undo")
        self.skip_button = widgets.Button(description=f"Skip [{SKIP_KEY.upper()}]", layout=widgets.Layout(width="auto"))
        self.skip_button.add_class("alw-skip")
        self.strategy: widgets.Dropdown | None = None
        buttons = [self.undo_button, self.skip_button]
        if strategies is not None:
            self.strategy = widgets.Dropdown(options=strategies, value=strategy, description="Strategy",
                                             layout=widgets.Layout(width="auto"))
            self.strategy.add_class("alw-strategy")
            buttons.append(self.strategy)
        self.children = (self.entry, widgets.HBox(buttons, layout=widgets.Layout(grid_gap="6px")))

    # ------------------------------------------------------------------ building

    def _build_class_buttons(self) -> widgets.HBox:
        for label, key in zip(self.classes, shortcut_keys(self.classes), strict=True):
            button = _class_control(widgets.Button, label, key, f"label this item {label!r}", "alw-label-button")
            self.label_buttons[label] = button
            self._class_of[id(button)] = label
        return widgets.HBox(list(self.label_buttons.values()), layout=widgets.Layout(flex_flow="row wrap"))

    def _build_value_box(self) -> widgets.HBox:
        # Synced when committed (Submit, Enter), not per keystroke: no half-typed "0." can reach Python.
        self.value = widgets.Text(placeholder="y value, e.g. 0.5", continuous_update=False,
                                  layout=widgets.Layout(width="12em"))
        self.value.add_class("alw-value")
        self.submit_button = widgets.Button(description="Submit", button_style="primary")
        self.submit_button.add_class("alw-submit")
        return widgets.HBox([self.value, self.submit_button])

    def _build_toggles(self) -> widgets.HBox:
        """Multi-label: a toggle per class and a Submit button that records the toggled set."""
        for label, key in zip(self.classes, shortcut_keys(self.classes), strict=True):
            toggle = _class_control(widgets.ToggleButton, label, key, f"class {label!r} applies to this item",
                                    "alw-toggle")
            self.toggles[label] = toggle
            self._class_of[id(toggle)] = label
        self.submit_button = _submit_button(f"Submit [{SUBMIT_KEY}]",
                                            tooltip="record the toggled classes (none toggled: no class applies)")
        return widgets.HBox([*self.toggles.values(), self.submit_button], layout=widgets.Layout(flex_flow="row wrap"))

    # ------------------------------------------------------------------ questions

    def class_of(self, control):
        """The class a label button (or toggle) stands for."""
        return self._class_of[id(control)]

    def class_for_key(self, key: str):
        """The class a shortcut key stands for, or None (no classes, or no class has that key)."""
        if self.classes is None:
            return None
        by_key = {k: c for c, k in zip(self.classes, shortcut_keys(self.classes), strict=True) if k}
        return by_key.get(key)

    def key_action(self, key: str, suggest: bool) -> tuple[str, object]:
        """What a shortcut key asks for: ``(action, class)``, action ``""`` for nothing.

        ``"undo"``, ``"skip"``, ``"submit"`` (a batch, or a multi-label set),
        ``"accept"`` (the model's suggestion, with ``suggest``), ``"label"``
        (the one item shown), ``"toggle"`` (a class of a multi-label item) or
        ``"fill"`` (the first empty cell of a batch).
        """
        if key == UNDO_KEY:
            return "undo", None
        if key.lower() == SKIP_KEY:
            return "skip", None
        if key == SUBMIT_KEY:
            if self.multi_label or self.batch_size > 1:
                return "submit", None
            return ("accept" if suggest else ""), None
        label = self.class_for_key(key)
        if label is None:
            return "", None
        if self.multi_label:
            return "toggle", label
        return ("label" if self.batch_size == 1 else "fill"), label

    def listened_keys(self, suggest: bool) -> list[str]:
        """The keys the browser should send: Undo, Skip, the class keys, and Enter where it submits."""
        keys = [UNDO_KEY, SKIP_KEY]
        if self.classes is not None:
            keys += [k for k in shortcut_keys(self.classes) if k]
        if self.batch_size > 1 or self.multi_label or (suggest and self.classes is not None):
            keys.append(SUBMIT_KEY)
        return keys

    @property
    def chosen(self) -> set:
        """Multi-label: the classes toggled on."""
        return {label for label, toggle in self.toggles.items() if toggle.value}

    # ------------------------------------------------------------------ changes (the caller holds the UI lock)

    def set_toggles(self, chosen) -> None:
        for label, toggle in self.toggles.items():
            toggle.value = label in chosen

    def flip_toggle(self, label) -> None:
        toggle = self.toggles[label]
        toggle.value = not toggle.value

    def mark_suggestion(self, guess) -> None:
        """Colour the button of the model's guess (None: no button coloured)."""
        for label, button in self.label_buttons.items():
            button.button_style = "info" if guess is not None and guess == label else ""

    def show_item(self, enabled: bool, idx=None, prefill=None, guess=None) -> None:
        """Ready the controls for what is shown: ``idx`` (one item, prefilled from ``{idx: label}``), a batch, or nothing."""
        self.enable(enabled)
        if idx is None:
            return
        self.mark_suggestion(guess)
        prefill = prefill or {}
        if self.value is not None and idx in prefill:
            self.value.value = f"{prefill[idx]:.6g}"
        if self.multi_label:  # a new item starts with nothing toggled; an undone one with its set
            self.set_toggles(prefill.get(idx, ()))

    def give(self, answer) -> None:
        """Give ``answer`` for the one item shown, with the controls, as a person would (``Labeler.simulate``).

        A class is found by the engine's rule (:func:`alwidgets._validation.match_class`):
        ``"1"`` is not class ``1``.
        """
        if self.multi_label:
            self.set_toggles(answer)
            self.submit_button.click()
        elif self.classes is not None:
            self.label_buttons[match_class(answer, self.classes)].click()
        else:
            self.value.value = f"{float(answer):.6g}"
            self.submit_button.click()

    def enable(self, enabled: bool) -> None:
        for control in [*self.label_buttons.values(), *self.toggles.values(), self.submit_button, self.value,
                        self.skip_button]:
            if control is not None:
                control.disabled = not enabled

    def show_entry(self, visible: bool) -> None:
        """Show or hide what labels an item (the entry row and Skip); Undo and the menu stay."""
        display = None if visible else "none"
        self.entry.layout.display = display
        self.skip_button.layout.display = display


def _submit_button(description: str, tooltip: str = "") -> widgets.Button:
    button = widgets.Button(description=description, button_style="primary", tooltip=tooltip,
                            layout=widgets.Layout(width="auto"))
    button.add_class("alw-submit")
    return button


def _class_control(kind, label, key: str | None, tooltip: str, css_class: str) -> widgets.Widget:
    """A button (or toggle) for one class, named with its shortcut key."""
    control = kind(description=f"{label} [{key}]" if key else str(label),
                   tooltip=tooltip + (f" (key {key})" if key else ""),
                   layout=widgets.Layout(width="auto", min_width="4em"))
    control.add_class(css_class)
    return control
