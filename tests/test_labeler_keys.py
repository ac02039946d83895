"""The Labeler's key path, headless: the messages the browser's key listener sends, and what they do.

The browser half (when a key is sent at all: Voila page-wide, JupyterLab and
Notebook 7 only while armed) is tested in tests/browser/test_notebook_keys.py.
"""

from __future__ import annotations

import html

import numpy as np
import pytest
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.linear_model import LogisticRegression

import alwidgets as alw
from alwidgets.widgets.keys import KeyListener


def regression_labeler(cleanup, **kwargs):
    X = np.linspace(0, 6, 40).reshape(-1, 1)
    session = alw.Session(GaussianProcessRegressor(), X, "max_std", random_state=0)
    labeler = alw.Labeler(session, plots=None, **kwargs)
    cleanup(labeler)
    return labeler


def browser_sends(labeler, content) -> None:
    """What arrives when the front end calls ``model.send(content)``: the comm message of a custom event."""
    listener = labeler.key_listener
    listener._handle_msg({"content": {"data": {"method": "custom", "content": content}}, "buffers": []})


def replies(labeler, monkeypatch) -> list:
    """The messages the key listener sends back to the browser."""
    sent = []
    monkeypatch.setattr(labeler.key_listener, "send", sent.append)
    return sent


def test_enter_in_the_value_box_records_the_typed_value(cleanup, monkeypatch):
    labeler = regression_labeler(cleanup)
    sent = replies(labeler, monkeypatch)
    shown = labeler.current
    # The box has not synced "0.75" yet (a busy kernel holds its updates back): the text comes with Enter.
    labeler.value.value = "0."
    browser_sends(labeler, {"key": "Enter", "text": " 0,75 "})
    assert labeler.session.labels == {shown: 0.75}
    assert labeler.value.value == "" and labeler.current != shown
    assert sent == [{"empty_field": True}], "the browser is told to empty the box"


@pytest.mark.parametrize("typed", ["", "abc", "nan"])
def test_enter_with_no_number_records_nothing_and_says_why(typed, cleanup, monkeypatch):
    labeler = regression_labeler(cleanup)
    sent = replies(labeler, monkeypatch)
    shown = labeler.current
    browser_sends(labeler, {"key": "Enter", "text": typed})
    assert labeler.session.labels == {} and labeler.current == shown
    assert repr(typed) in html.unescape(labeler.status.value)
    assert sent == [], "the typed text stays in the box, to be corrected"


def test_enter_in_the_box_is_not_a_classifier_shortcut(cleanup):
    session = alw.Session(LogisticRegression(), np.random.RandomState(0).rand(30, 2), classes=["a", "b"])
    labeler = alw.Labeler(session, plots=None)
    cleanup(labeler)
    assert "Enter" not in labeler.key_listener.shortcuts
    browser_sends(labeler, {"key": "Enter", "text": "0.5"})  # no value box here: nothing happens
    browser_sends(labeler, {"key": "Enter"})
    assert session.labels == {}
    browser_sends(labeler, {"key": "2"})
    assert list(session.labels.values()) == ["b"]


@pytest.mark.parametrize("scope", ["auto", "page", "focus"])
def test_scope_is_sent_to_the_browser(scope):
    listener = KeyListener(lambda key: None, ["1"], scope=scope)
    try:
        assert listener.get_state()["scope"] == scope
    finally:
        listener.close()


def test_an_unknown_scope_is_refused():
    with pytest.raises(Exception, match="scope"):
        KeyListener(lambda key: None, ["1"], scope="everywhere")


def test_the_listener_ships_its_focus_ring_and_hint_styles():
    listener = KeyListener(lambda key: None, ["1"])
    try:
        state = listener.get_state()
        assert ".alw-keys-armed" in state["_css"] and ".alw-keys-hint" in state["_css"]
        assert "jupyter-config-data" in state["_esm"]  # how it tells Voila from a notebook
    finally:
        listener.close()
