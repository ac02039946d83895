"""The campaign service: one process per campaign that alone writes its store and trains its one model.

Pages (a dashboard in Voila, or in each user's own Jupyter server) are thin
clients of it through :class:`alwidgets.store.remote.ServiceStore`: they
record, undo, skip and lease through the service, and rank and suggest from
the model it publishes. No page fits a model, so the cost of training is the
same whether two people label or fifty.

Who a request comes from is decided here, never by what a page sends:

- :class:`HubIdentity`: the request's JupyterHub token (``Authorization: token
  ...``), checked with the hub: alice's token labels as alice, and as nobody else;
- :class:`ProxyIdentity`: a login proxy's header, trusted only from the proxy
  addresses the operator names;
- :class:`NamedByPage`: standalone (``make run``): the page's own name, a
  convenience that anyone can change, and the page says so.

The event's ``annotator`` field and lease holders are rewritten with that name,
so no body, header or query string can label under someone else's name.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import threading
import urllib.parse

import numpy as np
import tornado.web

from alwidgets._validation import label_to_json
from alwidgets.engine.session import LabelingError
from alwidgets.store.remote import NAME_HEADER, event_from_wire, event_to_wire

__all__ = ["CampaignService", "HubIdentity", "ProxyIdentity", "NamedByPage", "Trainer", "make_app"]

log = logging.getLogger("alwidgets.service")
GUESSED = 50  # the leading items of the ranking whose guesses come with the published model


class NotAllowed(Exception):
    """The request carries no identity this service accepts."""


# ---------------------------------------------------------------------- identity


class NamedByPage:
    """Standalone: the page names its annotator. A convenience for one trusted room, not an identity.

    With a ``secret`` (``serve`` gives one to the service and to its own
    pages' kernels only), a request must also carry it (``Authorization:
    token ...``): another process on the machine, which can reach the
    service's address but was never given the secret, can neither label nor read.
    """

    trusted = False

    def __init__(self, secret: str | None = None):
        self.secret = secret or None

    def reader(self, request) -> str:
        """Anyone who may use this service may read the campaign's progress."""
        self._check_secret(request)
        return ""

    def annotator(self, request) -> str:
        self._check_secret(request)
        name = urllib.parse.unquote(request.headers.get(NAME_HEADER, "")).strip()
        if not name:
            raise NotAllowed(f"say who is labeling in the {NAME_HEADER} header")
        return name

    def _check_secret(self, request) -> None:
        if self.secret is None:
            return
        kind, _, token = request.headers.get("Authorization", "").partition(" ")
        if kind.lower() not in ("token", "bearer") or not hmac.compare_digest(token.strip(), self.secret):
            raise NotAllowed("this campaign service answers only the pages of the server that started it")


class ProxyIdentity:
    """A login proxy's header (e.g. ``X-Forwarded-User``), believed only from the operator's proxy addresses."""

    trusted = True

    def __init__(self, header: str, proxies: tuple[str, ...]):
        if not proxies:
            raise ValueError("name at least one proxy address whose user header is trusted")
        self.header, self.proxies = header, tuple(proxies)

    def reader(self, request) -> str:
        return self.annotator(request)

    def annotator(self, request) -> str:
        if request.remote_ip not in self.proxies:
            raise NotAllowed(f"requests must come through the login proxy; {request.remote_ip} is not one")
        name = request.headers.get(self.header, "").strip()
        if not name:
            raise NotAllowed(f"the login proxy sent no {self.header} header")
        return name


class HubIdentity:
    """JupyterHub's own word: the name the hub gives the request's token (as a hub-managed service)."""

    trusted = True

    def __init__(self, hub_auth=None):
        if hub_auth is None:
            from jupyterhub.services.auth import HubAuth

            hub_auth = HubAuth(cache_max_age=60)
        self.hub_auth = hub_auth

    def reader(self, request) -> str:
        return self.annotator(request)

    def annotator(self, request) -> str:
        kind, _, token = request.headers.get("Authorization", "").partition(" ")
        if kind.lower() not in ("token", "bearer") or not token.strip():
            raise NotAllowed("send your JupyterHub API token (Authorization: token ...)")
        user = self.hub_auth.user_for_token(token.strip(), sync=True)
        if not user or user.get("kind", "user") != "user" or not user.get("name"):
            raise NotAllowed("JupyterHub does not know this token as a user's")
        required = self.hub_auth.access_scopes  # access:services!service=<this service>, as a hub-managed service
        if required and not self.hub_auth.check_scopes(required, user):
            raise NotAllowed(f"this token may not use the campaign service: it needs {' or '.join(sorted(required))} "
                             "(see docs/deploying.md: Spawner.server_token_scopes)")
        return user["name"]


# ---------------------------------------------------------------------- the one trainer


class Trainer:
    """Runs the campaign's updates on one thread: every label wakes it, and what arrives meanwhile waits for one more.

    The Session it drives is the campaign's only model. After each update it
    calls ``publish(snapshot, body, text)`` with what pages are sent for that
    model (:func:`model_body`), made here and not while a request waits.
    :class:`~alwidgets.serving.trainer_process.TrainerProcess` does the same
    from a process of its own; ``python -m alwidgets service`` uses that one.
    """

    def __init__(self, session, publish=None):
        self.session = session
        self.publish = publish
        self.updates = 0
        self.failures: list[str] = []
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._published = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="alwidgets-trainer", daemon=True)

    def start(self) -> Trainer:
        self._wake.set()  # the first ranking, even before any label
        self._thread.start()
        return self

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        _behind_requests()
        while not self._stop.is_set():
            self._wake.wait()
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.session.update()
                self.updates += 1
                if self.publish is not None:
                    self.publish(*published(self.session))
            except LabelingError as error:  # the labels stay stored; the last model stays published
                log.warning("campaign update failed: %s", error)
                self.failures.append(str(error))
            except Exception as error:  # the store unreachable a moment, say: the next label tries again
                log.exception("campaign update failed")
                self.failures.append(f"{type(error).__name__}: {error}")
            with self._published:
                self._published.notify_all()

    def wait_for(self, condition, timeout: float) -> bool:
        """Wait until ``condition(snapshot)`` holds for a published snapshot (checked after every update)."""
        with self._published:
            return self._published.wait_for(lambda: condition(self.session.snapshot), timeout)


TRAINER_NICE = 10  # the trainer's thread runs behind the thread answering pages on a busy machine


def _behind_requests() -> None:
    """Lower this thread's OS priority (Linux sets it per thread): a page's request is answered before a refit runs.

    On a machine busy with pages, the trainer takes what CPU is left: updates
    come a little later, and no click waits behind a fit.
    """
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), TRAINER_NICE)
    except (AttributeError, OSError) as error:  # not Linux, or not allowed: the trainer runs as it is
        log.info("the trainer keeps its priority: %s", error)


# ---------------------------------------------------------------------- the service


class CampaignService:
    """The campaign's store and its trainer, and the rules of who may do what to them."""

    def __init__(self, session, identity, trainer=Trainer):
        """``trainer(session, publish)`` makes what updates the model: a :class:`Trainer` thread (the default),
        or (``functools.partial(TrainerProcess, config)``) a process of its own."""
        self.session = session  # its store is the campaign's real store; its model is the published one
        self.store = session.store
        self.identity = identity
        self._index = {item: i for i, item in enumerate(session.item_ids)}
        # ((version, label seq), what /api/model answers, the same as JSON text): the trainer's, swapped in whole
        self._published: tuple = (None, None, "")
        self.trainer = trainer(session, self._publish)

    def start(self) -> CampaignService:
        self.trainer.start()
        return self

    def close(self) -> None:
        self.trainer.stop()
        self.session.close()

    # what each endpoint does, once the annotator is known

    def append(self, annotator: str, raw_events: list) -> list[dict]:
        if not isinstance(raw_events, list) or not raw_events:
            raise ValueError("send a non-empty list of events")
        events = []
        for raw in raw_events:
            if not isinstance(raw, dict):
                raise ValueError("each event must be an object")
            raw = {k: v for k, v in raw.items() if k not in ("annotator", "seq", "time")}
            events.append(event_from_wire({**raw, "annotator": annotator}))
        stored = self.store.append_many(events)
        self.trainer.wake()
        return [event_to_wire(e) for e in stored]

    def holder(self, annotator: str, holder) -> str:
        """A page's holder name, kept apart per annotator so one person's page cannot touch another's leases."""
        return f"{annotator}/{holder or ''}"

    def _publish(self, snapshot, body: dict, text: str) -> None:
        """The trainer's: install a new model and what pages are sent for it (called off the request thread)."""
        key = (body["version"], body["label_seq"])
        if self._published[0] is not None and key < self._published[0]:
            return  # a first answer made on the request thread, later than the trainer's newer one
        if snapshot is not self.session.snapshot:
            self.session.trainer.adopt(snapshot)  # made by the trainer process
        self._published = (key, body, text)

    def _latest(self) -> tuple:
        if self._published[0] is None:  # nothing published yet (the trainer's first update is under way)
            self._publish(self.session.snapshot, *_encoded(model_body(self.session)))
        return self._published

    def model(self, known: tuple[int, int] | None = None) -> dict:
        """The published model as JSON fields, or ``{"unchanged": True}`` if ``known`` is still the latest."""
        key, body, _ = self._latest()
        return {"unchanged": True} if known is not None and known == key else body

    def model_json(self, known: tuple[int, int] | None = None) -> str:
        """:meth:`model` as JSON text, encoded once per published model (by the trainer) however many pages ask."""
        key, _, text = self._latest()
        return '{"unchanged": true}' if known is not None and known == key else text

    def suggestions(self, item_ids: list) -> dict:
        """``{item id: [[label JSON, probability], ...]}``: the model's top classes for each item it can guess."""
        return guesses(self.session, [item for item in item_ids if item in self._index], self._index)


def guesses(session, item_ids: list, index: dict | None = None) -> dict:
    """``{item id: [[label JSON, probability], ...]}`` for the items the latest model can guess, in one prediction."""
    if not item_ids or not session.is_fitted:
        return {}
    index = index if index is not None else {item: i for i, item in enumerate(session.item_ids)}
    tops = session.trainer.top_classes([index[item] for item in item_ids])
    return {item: [[label_to_json(label), p] for label, p in top] for item, top in zip(item_ids, tops, strict=True) if top}


def model_body(session) -> dict:
    """What pages are sent for the session's latest model: ranking, labels, history, and the next items' guesses."""
    snapshot = session.snapshot
    ranking = snapshot.ranking
    ids = session.item_ids
    order = [] if ranking is None else [int(i) for i in ranking.order]
    scores = [] if ranking is None else [None if np.isnan(s) else float(s) for s in ranking.scores[order]]
    return {"version": snapshot.version, "fitted": snapshot.fitted, "label_seq": snapshot.labels.seq,
            "labels": [[ids[i], label_to_json(v)] for i, v in snapshot.labels.items()],
            "strategy": ranking.strategy if ranking is not None else session.strategy,
            "ranking": [ids[i] for i in order], "scores": scores,
            "n_chosen": 0 if ranking is None else ranking.n_chosen, "score": snapshot.score,
            "history": [dict(row) for row in snapshot.history], "stopping": session.stopping(),
            # the guesses for the items pages will ask next: a click then needs no request for its suggestion
            "guesses": guesses(session, [ids[i] for i in order[:GUESSED]])}


def _encoded(body: dict) -> tuple[dict, str]:
    return body, json.dumps(body)


def published(session) -> tuple:
    """``(snapshot, body, text)`` for the session's latest model: what a trainer hands the service."""
    snapshot = session.snapshot
    return (snapshot, *_encoded(model_body(session)))


class _Handler(tornado.web.RequestHandler):
    """JSON in, JSON out; every error is a JSON ``{"error": ...}`` with its status."""

    def initialize(self, service: CampaignService):
        self.service = service

    def check_xsrf_cookie(self):  # an API called with tokens or from loopback pages, not a browser form
        return None

    def who(self) -> str:
        """The annotator this request labels as: the service's identity decides, never the request's body."""
        try:
            return self.service.identity.annotator(self.request)
        except NotAllowed as error:
            raise tornado.web.HTTPError(401, reason=str(error)) from None

    def may_read(self) -> None:
        try:
            self.service.identity.reader(self.request)
        except NotAllowed as error:
            raise tornado.web.HTTPError(401, reason=str(error)) from None

    def body(self) -> dict:
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError:
            raise tornado.web.HTTPError(400, reason="the body is not JSON") from None
        if not isinstance(body, dict):
            raise tornado.web.HTTPError(400, reason="the body must be a JSON object")
        return body

    def reply(self, **fields) -> None:
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(fields))

    def write_error(self, status_code: int, **kwargs) -> None:
        error = kwargs.get("exc_info", (None, None))[1]
        if isinstance(error, (ValueError, TypeError)) and not isinstance(error, tornado.web.HTTPError):
            self.set_status(400)
            message = str(error)
        else:
            message = self._reason
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"error": message}))


class _Health(_Handler):
    def get(self):  # no identity, no work: the hub's health check
        self.reply(ok=True)


class _WhoAmI(_Handler):
    def get(self):
        self.reply(annotator=self.who(), trusted=self.service.identity.trusted)


class _Campaign(_Handler):
    def get(self):
        self.may_read()
        self.reply(info=self.service.store.info(), trusted=self.service.identity.trusted)


class _Events(_Handler):
    def get(self):
        self.may_read()
        since = int(self.get_query_argument("since", "0"))
        self.reply(events=[event_to_wire(e) for e in self.service.store.events(since=since)])

    def post(self):
        annotator = self.who()
        self.reply(events=self.service.append(annotator, self.body().get("events")))


class _Lease(_Handler):
    def post(self):
        annotator, body = self.who(), self.body()
        items = self.service.store.lease(
            annotator, [str(c) for c in body.get("candidates", [])], int(body.get("n", 1)),
            slots=int(body.get("slots", 1)), extra_slots={str(k): int(v) for k, v in body.get("extra_slots", {}).items()},
            timeout=float(body.get("timeout", 600.0)), release_others=bool(body.get("release_others", True)),
            holder=self.service.holder(annotator, body.get("holder")))
        self.reply(items=items)


class _Release(_Handler):
    def post(self):
        annotator, body = self.who(), self.body()
        holder = body.get("holder")
        self.service.store.release(annotator, body.get("items"),
                                   holder=None if holder is None else self.service.holder(annotator, holder))
        self.reply(ok=True)


class _Heartbeat(_Handler):
    def post(self):
        annotator = self.who()
        self.service.store.heartbeat(self.service.holder(annotator, self.body().get("holder")))
        self.reply(ok=True)


class _Leases(_Handler):
    def get(self):
        self.may_read()
        within = self.get_query_argument("live_within", None)
        rows = self.service.store.leases(live_within=None if within is None else float(within))
        self.reply(leases=[row.__dict__ for row in rows])


class _Model(_Handler):
    def get(self):
        self.may_read()
        version, seq = self.get_query_argument("version", None), self.get_query_argument("label_seq", None)
        known = None if version is None or seq is None else (int(version), int(seq))
        self.set_header("Content-Type", "application/json")
        self.finish(self.service.model_json(known))


class _Suggestions(_Handler):
    def post(self):
        self.may_read()
        self.reply(suggestions=self.service.suggestions([str(i) for i in self.body().get("items", [])]))


def make_app(service: CampaignService, base_url: str = "/") -> tornado.web.Application:
    """The service's HTTP API under ``base_url`` (a hub-managed service's prefix, e.g. ``/services/campaign/``)."""
    base = "/" + base_url.strip("/") + "/" if base_url.strip("/") else "/"
    routes = {"health": _Health, "whoami": _WhoAmI, "campaign": _Campaign, "events": _Events, "lease": _Lease,
              "release": _Release, "heartbeat": _Heartbeat, "leases": _Leases, "model": _Model,
              "suggestions": _Suggestions}
    return tornado.web.Application(
        [(base, _Health, {"service": service})]  # what the hub asks to see that a service is up: no identity, no work
        + [(f"{base}api/{name}", handler, {"service": service}) for name, handler in routes.items()])


def identity_from_options(kind: str, *, proxy_header: str = "X-Forwarded-User", proxies: tuple[str, ...] = (),
                          secret: str | None = None):
    """The identity of a service started with ``--identity KIND``: ``standalone``, ``hub`` or ``proxy``.

    ``secret`` (standalone only): the token every request must carry.
    """
    if kind == "standalone":
        return NamedByPage(secret)
    if kind == "hub":
        return HubIdentity()
    if kind == "proxy":
        return ProxyIdentity(proxy_header, proxies)
    raise ValueError(f"--identity must be standalone, hub or proxy; got {kind!r}")


def run(service: CampaignService, *, host: str = "127.0.0.1", port: int | None = None, sock_fd: int | None = None,
        base_url: str = "/", stop_with_stdin: bool = False) -> None:
    """Serve the API until SIGTERM or Ctrl+C, or (``stop_with_stdin``) until standard input ends.

    ``serve`` starts the service with a pipe as its standard input and keeps
    the other end open in Voila: when Voila ends, so does the service. It then
    ignores SIGTERM and Ctrl+C, which reach the whole process group at once,
    so that the pages Voila shuts down can still give back their leases.
    """
    import asyncio
    import signal
    import socket
    import sys

    import tornado.httpserver

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = tornado.httpserver.HTTPServer(make_app(service, base_url))
    if sock_fd is not None:
        sock = socket.socket(fileno=sock_fd)
        sock.setblocking(False)
        server.add_sockets([sock])
    else:
        server.listen(port, address=host)
    for signum in (signal.SIGTERM, signal.SIGINT):
        if stop_with_stdin:  # serve's pages give their leases back through us as Voila ends: outlive it
            signal.signal(signum, signal.SIG_IGN)
        else:
            loop.add_signal_handler(signum, loop.stop)
    if stop_with_stdin:
        def watch():
            sys.stdin.buffer.read()  # returns at EOF: the process that started us has ended
            loop.call_soon_threadsafe(loop.stop)

        threading.Thread(target=watch, name="alwidgets-parent-watch", daemon=True).start()
    log.info("campaign service ready")
    try:
        loop.run_forever()
    finally:
        server.stop()
        service.close()
