"""The SQL store's schema: its three tables, their versions, and how rows become events and leases.

``alw_events`` is the append-only log, ``alw_leases`` one row per taken slot
of an item, ``alw_meta`` the schema version and the campaign the store is
for (see :mod:`alwidgets.store.sql`). :func:`create` makes a new store,
:func:`migrate` brings an older one up to date (or notes what it lacks when
it is only read). No connection is opened here: every function is given one.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime, timezone

from sqlalchemy import (
    Boolean,
    Column,
    Double,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    inspect,
    text,
)

from alwidgets._validation import label_to_json
from alwidgets.store.events import InvalidLabel, LabelEvent, StoreError, read_label
from alwidgets.store.leases import LeaseRow

__all__ = ["SCHEMA_VERSION", "TABLES", "UnreadableRow", "events_table", "leases_table", "meta_table", "create",
           "migrate", "check_version", "event_row", "row_event", "lease_row"]

log = logging.getLogger(__package__)  # "alwidgets.store": one logger for every back end

SCHEMA_VERSION = 2

_metadata = MetaData()
events_table = Table(
    "alw_events",
    _metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("item_id", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("label", Text, nullable=True),
    Column("annotator", Text, nullable=False),
    Column("time", Double, nullable=False),
    Column("strategy", Text, nullable=False, default=""),
    Column("model_version", Integer, nullable=False, default=0),
    Column("suggested", Text, nullable=True),  # new in schema 2: added to older stores by migrate()
    sqlite_autoincrement=True,
)
leases_table = Table(
    "alw_leases",
    _metadata,
    Column("item_id", Text, nullable=False),
    Column("slot", Integer, nullable=False),
    Column("annotator", Text, nullable=False),
    Column("expires", Double, nullable=False),
    Column("done", Boolean, nullable=False, default=False),
    Column("holder", Text, nullable=False, server_default=""),
    Column("heartbeat", Double, nullable=False, server_default=text("0")),
    PrimaryKeyConstraint("item_id", "slot", name="alw_leases_pk"),
    UniqueConstraint("item_id", "annotator", name="alw_leases_one_per_annotator"),
    Index("alw_leases_by_annotator", "annotator", "done"),
    Index("alw_leases_by_holder", "holder", "done"),
)
meta_table = Table(
    "alw_meta",
    _metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
)
TABLES = ("alw_events", "alw_leases", "alw_meta")


def create(conn) -> None:
    """Make the tables of a new store and record its schema version, in the open transaction ``conn``."""
    _metadata.create_all(conn)
    conn.execute(meta_table.insert(), [
        {"key": "schema_version", "value": str(SCHEMA_VERSION)},
        {"key": "created", "value": datetime.now(timezone.utc).isoformat(timespec="seconds")},
        {"key": "application", "value": "alwidgets"},
    ])


def migrate(conn, version: int, read_only: bool, where: str) -> tuple[set[str], list[Column]]:
    """Bring a store of an older schema up to date (when writing), or note what it lacks (when reading).

    Returns the event columns the store lacks (read-only: they read as None)
    and the lease columns it has.
    """
    events_missing = _missing_columns(conn, events_table)
    missing = _missing_columns(conn, leases_table)
    if read_only:  # read as it is: the new event columns hold None, and no lease has a heartbeat
        return set(events_missing), [c for c in leases_table.columns if c.name not in missing]
    for name in events_missing:  # nullable: the events written before hold None
        kind = events_table.c[name].type.compile(dialect=conn.dialect)
        conn.execute(text(f"ALTER TABLE alw_events ADD COLUMN {name} {kind}"))
    for name in missing:
        kind = "TEXT NOT NULL DEFAULT ''" if name == "holder" else "DOUBLE PRECISION NOT NULL DEFAULT 0"
        conn.execute(text(f"ALTER TABLE alw_leases ADD COLUMN {name} {kind}"))
    if missing:
        conn.execute(text("CREATE INDEX IF NOT EXISTS alw_leases_by_holder ON alw_leases (holder, done)"))
    if version < SCHEMA_VERSION:
        conn.execute(meta_table.update().where(meta_table.c.key == "schema_version")
                     .values(value=str(SCHEMA_VERSION)))
        log.warning("store %s: schema %d brought up to date (schema %d)", where, version, SCHEMA_VERSION)
    return set(), list(leases_table.columns)


def _missing_columns(conn, table: Table) -> list[str]:
    """The columns of ``table`` that the store's copy of it lacks (one made by an older alwidgets)."""
    present = {c["name"] for c in inspect(conn).get_columns(table.name)}
    return [c.name for c in table.columns if c.name not in present]


def check_version(version, where: str) -> None:
    """A StoreError for a schema version this alwidgets cannot read (a newer one, or no number)."""
    if version is None:
        return
    try:
        number = int(version)
    except ValueError:
        raise StoreError(f"store {where} has an unreadable schema version {version!r}") from None
    if number > SCHEMA_VERSION:
        raise StoreError(
            f"store {where} was made by a newer alwidgets (schema {number}; this one reads {SCHEMA_VERSION}); "
            "upgrade alwidgets"
        )


# ---------------------------------------------------------------------- rows


def event_row(e: LabelEvent) -> dict:
    """The ``alw_events`` row of ``e``; a ValueError for a label JSON cannot hold."""
    try:
        label = label_to_json(e.label)  # a label set is {"labels": [...]}, its members sorted
    except TypeError:
        raise ValueError(f"label {e.label!r} cannot be stored: use a number, a string or a boolean") from None
    row = {"item_id": e.item_id, "kind": e.kind, "label": label, "annotator": e.annotator, "time": float(e.time),
           "strategy": e.strategy or "", "model_version": int(e.model_version)}
    if e.suggested is not None:
        row["suggested"] = label_to_json(e.suggested)
    return row


class UnreadableRow(ValueError):
    """An ``alw_events`` row that is no event (a time that is not a number, say): it is reported and left out."""


def row_event(r) -> LabelEvent:
    """The event an ``alw_events`` row holds; :class:`UnreadableRow` saying why for a row that holds none.

    A label that is not one comes back as an :class:`InvalidLabel` (kept,
    exported as written); a suggestion that is not one as None. SQLite keeps
    whatever a column is given (text in ``time``, bytes in ``annotator``), so
    every field is checked: a reader never fails on one row.
    """
    for name in ("item_id", "kind", "annotator"):
        value = getattr(r, name)
        if not isinstance(value, str) or not value:
            raise UnreadableRow(f"its {name} is not a non-empty text: {type(value).__name__}")
    if isinstance(r.time, bool) or not isinstance(r.time, (int, float)) or not math.isfinite(r.time):
        raise UnreadableRow(f"its time is not a number of seconds: {type(r.time).__name__} {str(r.time)[:20]!r}")
    if not isinstance(r.model_version, int) or not isinstance(r.strategy, (str, type(None))):
        raise UnreadableRow("its model_version is not an integer or its strategy not a text")
    suggested = read_label(getattr(r, "suggested", None))
    return LabelEvent(item_id=r.item_id, kind=r.kind, label=read_label(r.label), annotator=r.annotator,
                      strategy=r.strategy or "", model_version=r.model_version, time=float(r.time), seq=r.seq,
                      suggested=None if isinstance(suggested, InvalidLabel) else suggested)


def lease_row(r) -> LeaseRow:
    """The lease an ``alw_leases`` row holds (a store of schema 1 has no holder or heartbeat)."""
    fields = r._mapping
    return LeaseRow(r.item_id, r.slot, r.annotator, r.expires, bool(r.done), fields.get("holder") or "",
                    float(fields.get("heartbeat") or 0.0))
