"""Stores holding what no alwidgets writes: every reader reports the bad event and keeps working.

A store is a file or a database others can write to (an older alwidgets, a
script, a hand edit). A row that cannot be read as an event, or holds a label
the campaign cannot use, is reported (:class:`InvalidEventWarning`) and left
out of the votes; progress, every Session and ``export`` go on. A store bound
to a campaign refuses a Session of other classes, however it is opened.
"""

from __future__ import annotations

import sqlite3
import time
import warnings
from pathlib import Path

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier

import alwidgets as alw
from alwidgets._validation import LabelSet
from alwidgets.serving.cli import main
from alwidgets.store import LabelEvent, MemoryStore, StoreError, campaign_info, open_store
from alwidgets.store.sql import InvalidEventWarning

DEEP = "[" * 100_000 + "]" * 100_000
HUGE_NUMBER = "9" * 5_000


@pytest.fixture(scope="module")
def digits():
    data = alw.datasets.load_digits()
    return data.X[:60], data.y[:60]


def make_session(digits, store, annotator="alice", **kwargs):
    X, _ = digits
    kwargs.setdefault("classes", list(range(10)))
    return alw.Session(LogisticRegression(max_iter=200), X, store=store, annotator=annotator, random_state=0,
                       **kwargs)


def write_row(path: Path, item_id: str, label, *, suggested=None, when=None, annotator="old") -> None:
    """Append a row straight into the SQLite table, past every check of the store API."""
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO alw_events (item_id, kind, label, annotator, time, strategy, model_version, "
                   "suggested) VALUES (?, 'label', ?, ?, ?, 'margin', 0, ?)",
                   (item_id, label, annotator, time.time() if when is None else when, suggested))
    db.close()


def cli(capsys, *args):
    capsys.readouterr()
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    "row",
    [{"label": DEEP}, {"label": "1", "suggested": DEEP}, {"label": '{"labels": ' + DEEP + "}"},
     {"label": "1", "when": "noon"}, {"label": "1", "annotator": b"\xff-bytes"}, {"label": HUGE_NUMBER}],
    ids=["deep-label", "deep-suggestion", "deep-label-set", "text-time", "bytes-annotator", "huge-number"],
)
def test_a_hostile_row_is_reported_and_every_reader_keeps_working(digits, tmp_path, capsys, row):
    _, y = digits
    path = tmp_path / "labels.db"
    first = make_session(digits, path)
    first.record([0, 1], [int(y[0]), int(y[1])])
    first.store.close()
    write_row(path, first.item_ids[2], **row)

    with pytest.warns(InvalidEventWarning) as caught:
        session = make_session(digits, path, annotator="bob")
    assert all(len(str(w.message)) < 600 for w in caught)  # never the whole value
    assert {0: int(y[0]), 1: int(y[1])}.items() <= session.labels.items()
    assert session.progress()["labeled"] >= 2
    session.record(3, int(y[3]))
    session.update()
    assert session.snapshot.fitted and session.labels[3] == int(y[3])
    session.store.close()

    for what in ([], ["--events"]):
        out_file = tmp_path / f"out{len(what)}.csv"
        code, out, err = cli(capsys, "export", path, out_file, *what)
        assert code == 0, err
        assert "warning:" in err and all(len(line) < 600 for line in err.splitlines())
        table = pd.read_csv(out_file)
        assert len(table) >= 3


@pytest.mark.parametrize(
    "label, multi_label",
    [(LabelSet([1, 2]), False), (1, True), ("cat", False)],
    ids=["label-set-in-single-label-store", "single-label-in-multi-label-store", "label-not-a-class"],
)
def test_a_label_the_session_cannot_use_is_reported_and_left_out(digits, tmp_path, label, multi_label):
    X, y = digits
    path = tmp_path / "labels.db"
    if multi_label:
        model, given = OneVsRestClassifier(LogisticRegression(max_iter=200)), [{0}, {1}, {0, 1}]
    else:
        model, given = LogisticRegression(max_iter=200), [int(y[0]), int(y[1]), int(y[2])]
    first = alw.Session(model, X, store=path, classes=list(range(10)), multi_label=multi_label, random_state=0)
    first.record([0, 1, 2], given)
    store = open_store(path)
    store.append(LabelEvent(first.item_ids[5], label=label, annotator="script"))  # the store API takes any label
    store.close()
    first.store.close()

    with pytest.warns(InvalidEventWarning, match="left out"):
        session = alw.Session(model, X, store=path, classes=list(range(10)), multi_label=multi_label,
                              annotator="bob", random_state=0)
    assert 5 not in session.labels and 5 in session.unlabeled
    assert session.snapshot.fitted and len(session.snapshot.labels) == 3
    session.record(5, {2} if multi_label else int(y[5]))
    session.update()
    assert session.labels[5] == ({2} if multi_label else int(y[5]))
    session.store.close()


@pytest.mark.parametrize("when", ["noon", float("nan"), True], ids=["text", "nan", "bool"])
def test_the_store_api_refuses_a_time_that_is_not_a_number(when):
    store = MemoryStore()
    with pytest.raises(ValueError, match="time"):
        store.append(LabelEvent("a", label=1, time=when))
    assert store.events() == []


@pytest.mark.parametrize(
    "opened",
    ["path", "Path", "sqlite-url", "store-object"],
)
def test_a_session_refuses_a_store_bound_to_other_classes(digits, tmp_path, opened):
    X, y = digits
    path = tmp_path / "labels.db"
    campaign = make_session(digits, path, classes=[0, 1, 2])
    campaign.store.bind_campaign(campaign_info([0, 1, 2], campaign.item_ids, name="campaign 'wine'"))
    campaign.record([0, 1, 2, 3], [0, 1, 2, 0])
    campaign.store.close()
    store = {"path": str(path), "Path": path, "sqlite-url": f"sqlite:///{path}",
             "store-object": open_store(path)}[opened]

    with pytest.raises(StoreError) as refused:
        make_session(digits, store, annotator="bob", classes=["red", "white"])
    message = str(refused.value)
    assert "[0, 1, 2]" in message and "['red', 'white']" in message and "rebind" in message
    if opened == "store-object":
        store.close()


@pytest.mark.parametrize("classes", [[0, 1, 2], [2, 0, 1]], ids=["same", "same-in-another-order"])
def test_a_session_of_the_campaigns_classes_opens_its_store(digits, tmp_path, classes):
    path = tmp_path / "labels.db"
    campaign = make_session(digits, path, classes=[0, 1, 2])
    campaign.store.bind_campaign(campaign_info([0, 1, 2], campaign.item_ids))
    campaign.record([0, 1], [0, 1])
    campaign.store.close()
    with warnings.catch_warnings():
        warnings.simplefilter("error", InvalidEventWarning)
        session = make_session(digits, path, annotator="bob", classes=classes)
    assert session.labels == {0: 0, 1: 1}
    session.store.close()


def test_open_store_refuses_other_classes_and_a_rebind_lets_them_in(digits, tmp_path):
    path = tmp_path / "labels.db"
    store = open_store(path)
    store.bind_campaign(campaign_info([0, 1, 2], ["a", "b"]))
    store.close()
    with pytest.raises(StoreError, match=r"\[0, 1, 2\].*\['red', 'white'\]"):
        open_store(path, classes=["red", "white"])
    store = open_store(path)
    store.bind_campaign(campaign_info(["red", "white"], ["a", "b"]), rebind=True)
    store.close()
    open_store(path, classes=["red", "white"]).close()


@pytest.mark.parametrize("raw", ["[1, 2]", DEEP, HUGE_NUMBER], ids=["list", "deep", "huge-number"])
def test_a_bad_stored_label_crosses_the_campaign_service_wire(tmp_path, raw):
    from alwidgets.store.remote import event_from_wire, event_to_wire

    path = tmp_path / "labels.db"
    open_store(path).close()
    write_row(path, "item-1", raw, suggested=raw)
    store = open_store(path)
    with pytest.warns(InvalidEventWarning):
        (stored,) = store.events()
    store.close()
    wire = event_to_wire(stored)  # what the service sends a page
    assert wire["label"] == raw
    received = event_from_wire(wire, stored=True)
    assert received.label == stored.label and received.suggested is None
    with pytest.raises((TypeError, ValueError)):  # a page that sends such a label is refused, not crashed
        event_from_wire({**wire, "suggested": None}, stored=False)
