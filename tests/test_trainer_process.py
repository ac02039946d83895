"""The campaign's trainer in a process of its own: the service publishes its models and never fits one itself."""

from __future__ import annotations

import functools
import json
import os
import signal

import pytest

from alwidgets import datasets
from alwidgets.serving.config import build_campaign, load_config
from alwidgets.serving.service import CampaignService, NamedByPage
from alwidgets.serving.trainer_process import TrainerProcess
from alwidgets.store import LABEL, LabelEvent
from alwidgets.store.remote import event_to_wire

WAIT = 600  # seconds: a failure bound (a busy 2-core machine builds the campaign in a fresh process), not a window


def true_labels(campaign, items):
    truth = datasets.load_mnist().y
    return [event_to_wire(LabelEvent(item_id=item, kind=LABEL, label=int(truth[int(item.split("-")[1])]),
                                     annotator="ignored")) for item in items]


def test_the_trainer_process_publishes_every_model_and_a_dead_one_is_replaced(tmp_path):
    path = tmp_path / "campaign.toml"
    path.write_text(f'title = "Trainer"\n\n[data]\nsource = "mnist"\n\n[store]\nurl = "{tmp_path / "labels.db"}"\n')
    config = load_config(str(path))
    campaign = build_campaign(config)
    store = campaign.open_store()
    session = campaign.session("campaign service", store=store, warm_start=True)
    fits_here = []
    own_update = session.trainer.update
    session.trainer.update = lambda *a, **k: fits_here.append(a) or own_update(*a, **k)
    service = CampaignService(session, NamedByPage(), trainer=functools.partial(TrainerProcess, config)).start()
    trainer = service.trainer
    try:
        assert trainer.pid not in (None, os.getpid())
        ids = campaign.item_ids
        service.append("alice", true_labels(campaign, ids[:6]))
        assert trainer.wait_for(lambda snap: snap.n_labels == 6, WAIT), trainer.failures
        body = service.model()
        stored = store.events()
        assert body["label_seq"] == stored[-1].seq and body["version"] == session.snapshot.version
        assert sorted(item for item, _ in body["labels"]) == sorted(e.item_id for e in stored)
        assert not set(body["ranking"]) & {e.item_id for e in stored}
        assert json.loads(service.model_json()) == json.loads(json.dumps(body))
        assert service.model((body["version"], body["label_seq"])) == {"unchanged": True}
        assert set(body["guesses"]) == set(body["ranking"][:len(body["guesses"])]) and body["guesses"]
        first_item = body["ranking"][0]
        (label, p), _ = service.suggestions([first_item])[first_item]  # from the model the service adopted
        assert label == body["guesses"][first_item][0][0] and p == pytest.approx(body["guesses"][first_item][0][1])

        first = trainer.pid
        os.kill(first, signal.SIGKILL)
        assert trainer.wait_for(lambda snap: any("ended" in f for f in trainer.failures), WAIT)
        service.append("bob", true_labels(campaign, ids[6:8]))  # the next label starts another trainer
        assert trainer.wait_for(lambda snap: snap.n_labels == 8, WAIT), trainer.failures
        assert trainer.pid not in (first, os.getpid())
        again = service.model()  # the new trainer went on from the last published model
        assert again["version"] > body["version"] and again["history"][:len(body["history"])] == body["history"]
        assert {e.annotator for e in store.events()} == {"alice", "bob"}
        assert fits_here == []  # every model came from the trainer process
    finally:
        service.close()
    assert not trainer._process.is_alive()
