"""A campaign's store seen through its campaign service: the same store API, over HTTP.

A page of a team campaign never opens the database: it talks to the campaign
service (:mod:`alwidgets.serving.service`), which alone writes the store and
trains the campaign's one model. :class:`ServiceStore` offers a Session what
any store offers (append events, read them, lease, release, heartbeat), plus
what the service's trainer publishes: the latest ranking and the model's
suggestions. The service decides who the annotator is from the request's
credentials; whatever name an event carries here is replaced there.
"""

from __future__ import annotations

import http.client
import json
import threading
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass

from alwidgets._validation import InvalidParameterError, label_from_json, label_to_json
from alwidgets.store.events import InvalidLabel, LabelEvent, StoreError, StoreUnavailable, check_campaign, read_label
from alwidgets.store.leases import LeaseRow

__all__ = ["ServiceStore", "ServiceError", "PublishedModel", "event_to_wire", "event_from_wire"]

TOKEN_HEADER = "Authorization"  # "token <JupyterHub API token>", as the hub's own API takes it
NAME_HEADER = "X-Alwidgets-Annotator"  # a standalone service's names: a convenience, not an identity


class ServiceError(StoreError):
    """The campaign service refused a request (bad input, or no right to make it); its words are the message."""


@dataclass(frozen=True)
class PublishedModel:
    """What the service's trainer published last: the model's version and labels, its ranking, score and history."""

    version: int
    fitted: bool
    label_seq: int  # the log position of the labels it was fitted on
    labels: tuple  # ((item id, label), ...) it was taught
    strategy: str
    ranking: tuple[str, ...]  # open items, most wanted first
    scores: tuple  # the strategy's score of each ranked item (None where not scored)
    n_chosen: int
    score: float | None
    history: tuple
    stopping: dict
    guesses: dict  # {item id: [(label, probability), ...]} for the leading items of the ranking


def event_to_wire(event: LabelEvent) -> dict:
    """``event`` as JSON-ready fields: labels as the same JSON text the SQL store keeps.

    A stored label that is not one (:class:`InvalidLabel`) goes as the text it holds.
    """
    fields = event.as_dict()
    for key in ("label", "suggested"):
        value = getattr(event, key)
        fields[key] = value.raw if isinstance(value, InvalidLabel) else label_to_json(value)
    return fields


def event_from_wire(fields: dict, *, stored: bool = False) -> LabelEvent:
    """The event a wire dict describes; TypeError or ValueError naming what is wrong.

    With ``stored`` (events the service read from its store), a label that
    is not one comes back as an :class:`InvalidLabel`, as the store gives it,
    instead of an error: one bad stored event must not stop every page.
    """
    known = set(LabelEvent.__dataclass_fields__)
    unknown = set(fields) - known
    if unknown:
        raise ValueError(f"an event has unknown fields {sorted(unknown)}")
    fields = dict(fields)
    for key in ("label", "suggested"):
        raw = fields.get(key)
        if raw is not None:
            if not isinstance(raw, str):
                raise TypeError(f"event {key} must be the label's JSON text; got {raw!r:.80}")
            if stored:
                value = read_label(raw)
                fields[key] = None if key == "suggested" and isinstance(value, InvalidLabel) else value
                continue
            try:
                fields[key] = label_from_json(raw)
            except RecursionError:
                raise ValueError(f"event {key} is nested too deeply to be a label") from None
    return LabelEvent(**fields)


class ServiceStore:
    """The store API of one campaign service, at ``url`` (``http://host:port/prefix``).

    ``token`` is the person's own credential (a JupyterHub API token); behind
    a standalone service, ``annotator`` names the person instead.
    """

    def __init__(self, url: str, *, token: str | None = None, annotator: str | None = None, timeout: float = 30.0):
        self.url = url.rstrip("/")
        self._base = urllib.parse.urlsplit(self.url)
        if self._base.scheme not in ("http", "https") or not self._base.hostname:
            raise InvalidParameterError(f"url must be the service's http:// or https:// address; got {url!r}")
        self._local = threading.local()  # one kept-alive connection per thread
        self.token = token
        self.annotator = annotator
        self.timeout = timeout

    def for_annotator(self, annotator: str) -> ServiceStore:
        """The same service, for a page that names its annotator (a standalone service believes the name)."""
        return ServiceStore(self.url, token=self.token, annotator=annotator, timeout=self.timeout)

    # ------------------------------------------------------------------ the store API

    def append_many(self, events: list[LabelEvent]) -> list[LabelEvent]:
        """Add ``events`` at once (all or none), as the service's authenticated annotator."""
        answer = self._call("POST", "events", {"events": [event_to_wire(e) for e in events]})
        return [event_from_wire(e) for e in answer["events"]]

    def append(self, event: LabelEvent) -> LabelEvent:
        return self.append_many([event])[0]

    def events(self, since: int = 0) -> list[LabelEvent]:
        answer = self._call("GET", f"events?since={int(since)}")
        return [event_from_wire(e, stored=True) for e in answer["events"]]

    def lease(self, annotator: str, candidates: Iterable[str], n: int = 1, *, slots: int = 1,
              extra_slots: dict[str, int] | None = None, timeout: float = 600.0,
              release_others: bool = True, holder: str = "") -> list[str]:
        answer = self._call("POST", "lease", {"candidates": list(candidates), "n": n, "slots": slots,
                                              "extra_slots": extra_slots or {}, "timeout": timeout,
                                              "release_others": release_others, "holder": holder})
        return answer["items"]

    def release(self, annotator: str, item_ids: Iterable[str] | None = None, *, holder: str | None = None) -> None:
        self._call("POST", "release", {"items": None if item_ids is None else list(item_ids), "holder": holder})

    def heartbeat(self, holder: str) -> None:
        self._call("POST", "heartbeat", {"holder": holder})

    def leases(self, live_within: float | None = None) -> list[LeaseRow]:
        query = "" if live_within is None else f"?live_within={float(live_within)}"
        return [LeaseRow(**row) for row in self._call("GET", "leases" + query)["leases"]]

    def bind_campaign(self, info: dict[str, str], rebind: bool = False) -> None:
        """Check that the service serves this campaign; a page never rebinds the store."""
        check_campaign(self.info(), info, f"behind the campaign service at {self.url}")

    def info(self) -> dict:
        return self._call("GET", "campaign")["info"]

    def close(self) -> None:
        """Close this thread's connection (others close with their threads)."""
        self._drop_connection()

    # ------------------------------------------------------------------ what the trainer publishes

    def whoami(self) -> str:
        """The name the service labels this page's events under."""
        return self._call("GET", "whoami")["annotator"]

    def published_model(self, known: tuple[int, int] | None = None) -> PublishedModel | None:
        """The service's latest model; None if it is still ``known`` (``(version, label_seq)`` held already)."""
        query = "" if known is None else f"?version={int(known[0])}&label_seq={int(known[1])}"
        fields = self._call("GET", "model" + query)
        if fields.get("unchanged"):
            return None
        fields["labels"] = tuple((item, label_from_json(raw)) for item, raw in fields["labels"])
        fields["ranking"], fields["scores"] = tuple(fields["ranking"]), tuple(fields["scores"])
        fields["history"] = tuple(fields["history"])
        fields["guesses"] = {k: [(label_from_json(raw), p) for raw, p in v] for k, v in fields["guesses"].items()}
        return PublishedModel(**fields)

    def suggestions(self, item_ids: list[str]) -> dict[str, list[tuple[object, float]]]:
        """The latest model's top classes, most probable first, with their probabilities, for each item it can guess."""
        answer = self._call("POST", "suggestions", {"items": list(item_ids)})
        return {k: [(label_from_json(raw), p) for raw, p in v] for k, v in answer["suggestions"].items()}

    # ------------------------------------------------------------------ HTTP

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        """One request on this thread's kept-alive connection: a click pays no new connection."""
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers[TOKEN_HEADER] = f"token {self.token}"
        if self.annotator:
            headers[NAME_HEADER] = urllib.parse.quote(self.annotator)
        data = None if body is None else json.dumps(body).encode()
        target = f"{self._base.path.rstrip('/')}/api/{path}"
        for attempt in (1, 2):
            connection, reused = self._connection()
            try:
                connection.request(method, target, body=data, headers=headers)
                response = connection.getresponse()
                payload = response.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as error:
                self._drop_connection()
                if reused and attempt == 1:
                    continue  # the service closed an idle connection: the request never reached it
                raise StoreUnavailable("the campaign service cannot be reached; try again in a moment",
                                       details=f"{self.url}: {error}") from None
            except OSError as error:
                self._drop_connection()
                raise StoreUnavailable("the campaign service cannot be reached; try again in a moment",
                                       details=f"{self.url}: {error}") from None
        if response.status >= 400:
            try:
                message = json.loads(payload)["error"]
            except (ValueError, KeyError, TypeError):
                message = f"HTTP {response.status} {response.reason}"
            raise ServiceError(message)
        return json.loads(payload)

    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            return connection, True
        kind = http.client.HTTPSConnection if self._base.scheme == "https" else http.client.HTTPConnection
        self._local.connection = kind(self._base.hostname, self._base.port, timeout=self.timeout)
        return self._local.connection, False

    def _drop_connection(self) -> None:
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            connection.close()

    def __repr__(self) -> str:
        return f"ServiceStore({self.url!r})"
