"""The campaign service: one writer and one trainer per campaign, names decided by the service alone."""

from __future__ import annotations

import numpy as np
import pytest
from running_service import Running
from sklearn.linear_model import LogisticRegression

from alwidgets.engine.session import Session
from alwidgets.serving.service import CampaignService, HubIdentity, NamedByPage, ProxyIdentity
from alwidgets.store import LABEL, LabelEvent, MemoryStore
from alwidgets.store.remote import ServiceError, ServiceStore

ACCESS = "access:services!service=campaign"


class HubAnswers:
    """JupyterHub's answer to "whose token is this, with which scopes?", written down (what HubAuth asks the hub)."""

    access_scopes = {ACCESS}

    def __init__(self, users: dict[str, str], scopes: dict[str, list[str]] | None = None):
        self.users, self.scopes = users, scopes or {}

    def user_for_token(self, token, sync=True):
        name = self.users.get(token)
        if name is None:
            return None
        return {"kind": "user", "name": name, "scopes": self.scopes.get(token, [f"read:users:name!user={name}", ACCESS])}

    def check_scopes(self, required, user):
        from jupyterhub.services.auth import check_scopes

        return check_scopes(required, set(user["scopes"]))


def campaign_session(store):
    rng = np.random.RandomState(0)
    X = np.vstack([rng.normal(-2, 1, (30, 2)), rng.normal(2, 1, (30, 2))])
    return Session(LogisticRegression(), X, classes=[0, 1], store=store, annotator="campaign service",
                   random_state=0), X


@pytest.fixture
def hub_service():
    store = MemoryStore()
    session, _ = campaign_session(store)
    running = Running(CampaignService(session, HubIdentity(HubAnswers(
        {"alice-token": "alice", "bob-token": "bob", "narrow-token": "alice"},
        {"narrow-token": ["read:users:name!user=alice"]}))).start())
    yield running, store
    running.stop()


def label(item, value, annotator="local"):
    return LabelEvent(item_id=item, kind=LABEL, label=value, annotator=annotator)


def test_a_token_labels_as_its_owner_whatever_name_the_event_carries(hub_service):
    running, store = hub_service
    ids = running.service.session.item_ids
    alice = ServiceStore(running.url, token="alice-token", annotator="bob")  # the name header is ignored here
    stored = alice.append_many([label(ids[0], 0, annotator="bob"), label(ids[40], 1, annotator="bob")])
    assert [e.annotator for e in stored] == ["alice", "alice"]
    assert [(e.item_id, e.annotator, e.label) for e in store.events()] == [(ids[0], "alice", 0), (ids[40], "alice", 1)]
    assert alice.whoami() == "alice"


@pytest.mark.parametrize("token", [None, "", "forged", "alice", "narrow-token"])
def test_a_request_without_a_known_token_stores_nothing(hub_service, token):
    running, store = hub_service
    stranger = ServiceStore(running.url, token=token, annotator="alice")
    with pytest.raises(ServiceError):
        stranger.append_many([label(running.service.session.item_ids[0], 0, annotator="alice")])
    with pytest.raises(ServiceError):
        stranger.lease("alice", running.service.session.item_ids[:3], 1)
    assert store.events() == []
    assert store.leases() == []


def test_the_trainer_learns_everyones_labels_and_pages_rank_from_its_model(hub_service):
    running, store = hub_service
    ids = running.service.session.item_ids
    alice = ServiceStore(running.url, token="alice-token")
    bob = ServiceStore(running.url, token="bob-token")
    alice.append_many([label(ids[i], 0) for i in range(3)])
    bob.append_many([label(ids[i], 1) for i in range(30, 33)])
    deadline_ok = running.service.trainer.wait_for(lambda snap: snap.n_labels == 6, timeout=60)
    assert deadline_ok, running.service.trainer.failures
    model = bob.published_model()
    assert model.fitted and len(model.labels) == 6 and model.version >= 1
    assert {item for item, _ in model.labels} == set(ids[:3] + ids[30:33])
    assert set(model.ranking).isdisjoint(ids[:3] + ids[30:33])
    assert bob.published_model(known=(model.version, model.label_seq)) is None  # nothing new: a short answer
    guesses = alice.suggestions([ids[5], ids[50], "no-such-item"])
    assert guesses[ids[5]][0][0] == 0 and guesses[ids[50]][0][0] == 1 and "no-such-item" not in guesses


class NeverFits(LogisticRegression):
    """A page's copy of the campaign's model: the test fails if a page ever fits it."""

    def fit(self, X, y, **kwargs):
        raise AssertionError("a page fitted a model")


def test_a_page_session_follows_the_services_model_and_fits_nothing(hub_service):
    running, store = hub_service
    service_session = running.service.session
    X = service_session.X_pool
    page = Session(NeverFits(), X, classes=[0, 1], annotator="whoever", item_ids=service_session.item_ids,
                   store=ServiceStore(running.url, token="alice-token"))
    first = page.query(2)
    page.record(first, [0, 1])
    assert running.service.trainer.wait_for(lambda snap: snap.n_labels == 2, timeout=60)
    page.update()
    assert page.is_fitted and page.is_current and page.model_version == service_session.model_version
    assert page.snapshot.label_dict() == service_session.snapshot.label_dict()
    assert list(page.snapshot.ranking.order) == list(service_session.snapshot.ranking.order)
    guess = page.suggestion(int(page.query(1)[0]))
    assert guess is not None and guess[0] in (0, 1) and 0.5 <= guess[1] <= 1
    assert page.annotator == "alice" and set(page.my_labels) == set(first)
    assert {e.annotator for e in store.events()} == {"alice"}
    change = page.undo(refit=False)  # the page's label book takes back its own change, through the service
    assert change.items == tuple(first) and store.events()[-1].kind == "retract"


def test_leases_and_releases_are_kept_apart_per_annotator(hub_service):
    running, store = hub_service
    ids = running.service.session.item_ids
    alice = ServiceStore(running.url, token="alice-token")
    bob = ServiceStore(running.url, token="bob-token")
    assert alice.lease("anyone", ids[:5], 2, holder="page-1") == ids[:2]
    assert bob.lease("anyone", ids[:5], 2, holder="page-1") == ids[2:4]
    bob.release("alice", holder="page-1")  # bob's page, however it is named, holds only bob's leases
    held = {(row.item_id, row.annotator) for row in alice.leases()}
    assert held == {(ids[0], "alice"), (ids[1], "alice")}


def test_bad_input_is_refused_in_words_and_stores_nothing(hub_service):
    running, store = hub_service
    alice = ServiceStore(running.url, token="alice-token")
    ids = running.service.session.item_ids
    with pytest.raises(ServiceError, match="label"):
        alice.append_many([LabelEvent(item_id=ids[0], kind=LABEL, label=None)])
    with pytest.raises(ServiceError, match="unknown fields"):
        alice._call("POST", "events", {"events": [{"item_id": ids[0], "kind": "label", "label": "0", "evil": 1}]})
    assert store.events() == []


def test_a_proxy_header_is_believed_only_from_the_named_proxy():
    store = MemoryStore()
    session, _ = campaign_session(store)
    running = Running(CampaignService(session, ProxyIdentity("X-Forwarded-User", ("10.9.9.9",))).start())
    try:
        forger = ServiceStore(running.url)
        with pytest.raises(ServiceError, match="login proxy"):
            forger._call("POST", "events", {"events": []})
        assert store.events() == []
    finally:
        running.stop()


def test_standalone_names_come_from_the_page_and_say_they_are_no_identity():
    store = MemoryStore()
    session, _ = campaign_session(store)
    running = Running(CampaignService(session, NamedByPage()).start())
    try:
        carol = ServiceStore(running.url, annotator="carol")
        carol.append_many([label(session.item_ids[0], 1, annotator="someone else")])
        assert [e.annotator for e in store.events()] == ["carol"]
        assert carol._call("GET", "whoami") == {"annotator": "carol", "trusted": False}
        with pytest.raises(ServiceError, match="who is labeling"):
            ServiceStore(running.url).append_many([label(session.item_ids[1], 1)])
    finally:
        running.stop()


@pytest.mark.parametrize("token", [None, "", "a guess"])
def test_a_standalone_service_with_a_secret_answers_only_its_holders(token):
    store = MemoryStore()
    session, _ = campaign_session(store)
    running = Running(CampaignService(session, NamedByPage(secret="serve's secret")).start())
    try:
        stranger = ServiceStore(running.url, token=token, annotator="mallory")
        with pytest.raises(ServiceError, match="only the pages of the server that started it"):
            stranger.append_many([label(session.item_ids[0], 1)])
        with pytest.raises(ServiceError):
            stranger.events()
        page = ServiceStore(running.url, token="serve's secret", annotator="carol")
        page.append_many([label(session.item_ids[1], 1)])
        assert [(e.item_id, e.annotator) for e in store.events()] == [(session.item_ids[1], "carol")]
    finally:
        running.stop()


class FailsToFit(LogisticRegression):
    def fit(self, X, y, **kwargs):
        raise RuntimeError("this model cannot learn")


def test_a_failed_update_keeps_the_labels_and_the_service_answering():
    store = MemoryStore()
    rng = np.random.RandomState(0)
    X = rng.normal(size=(20, 2))
    session = Session(FailsToFit(), X, classes=[0, 1], store=store, annotator="campaign service", random_state=0)
    running = Running(CampaignService(session, NamedByPage()).start())
    try:
        page = ServiceStore(running.url, annotator="carol")
        page.append_many([label(session.item_ids[0], 0), label(session.item_ids[1], 1)])
        with running.service.trainer._published:
            assert running.service.trainer._published.wait_for(lambda: running.service.trainer.failures, 60)
        assert "cannot learn" in running.service.trainer.failures[0]
        assert [e.label for e in store.events()] == [0, 1]
        assert page.published_model().version == 0 and not page.published_model().fitted
        page.append_many([label(session.item_ids[2], 1)])  # the service still takes labels
        assert len(store.events()) == 3
    finally:
        running.stop()
