"""Label stores in SQL databases: a SQLite file, or a PostgreSQL server for teams.

Three tables, all prefixed ``alw_`` so they can live in a shared database:

``alw_events``
    The append-only log (seq, item_id, kind, label as JSON text, annotator,
    time, strategy, model_version). Rows are only ever inserted.
``alw_leases``
    One row per taken slot of an item: who holds it, until when, and whether
    it is answered; the page that took it (``holder``) and when that page last
    said it is open (``heartbeat``). ``(item_id, slot)`` and
    ``(item_id, annotator)`` are unique, so the database itself refuses to
    give one slot to two people.
``alw_meta``
    Marks the database as an alwidgets store and records its schema version.

Schema 2 added ``holder`` and ``heartbeat`` to ``alw_leases``. A store of
schema 1 is brought up to date the first time it is opened for writing (two
``ALTER TABLE ... ADD COLUMN``; its old leases get no heartbeat, so none of
them counts as live). Opened read-only, it is read as it is.

Every write is one short transaction, and writes are serialized (SQLite:
``BEGIN IMMEDIATE``; PostgreSQL: a transaction-level advisory lock), so
sequence numbers become visible in order and a reader that asks for events
``since`` a number never misses one. SQLite runs in WAL mode with
``synchronous=FULL``: once :meth:`SQLStore.append_many` returns, the label is
on disk and survives a kill -9 of the process or a power cut.

Leases expire by the database's clock (PostgreSQL's ``now()``, SQLite's own
``julianday('now')``), never by the clock of the process asking, so a
machine whose clock is off cannot take items another person holds.

A store opened with ``read_only=True`` (as ``export`` does) writes nothing:
not to the database, and for SQLite not even the ``-wal`` and ``-shm`` files
next to it, which another user could otherwise leave behind and lock the
owner out with.

The store is laid out in four modules: :mod:`~alwidgets.store.sql_schema`
(the tables, their versions, rows to events and leases),
:mod:`~alwidgets.store.sql_connect` (URLs, the checks on a SQLite file, the
engines), :mod:`~alwidgets.store.sql_leases` (the lease book on
``alw_leases``) and this one, the :class:`SQLStore` that puts them together.
"""


from __future__ import annotations

import logging
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import and_, delete, inspect, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, DBAPIError, InterfaceError, OperationalError

from alwidgets._validation import shorten
from alwidgets.store.events import (
    CAMPAIGN_KEYS,
    InvalidEventWarning,
    InvalidLabel,
    LabelEvent,
    StoreError,
    StoreUnavailable,
    check_campaign,
    check_event,
    report_invalid,
)
from alwidgets.store.leases import DEFAULT_LEASE_TIMEOUT, LeaseRow, answer, lease_items
from alwidgets.store.sql_connect import (
    AT_IN_PASSWORD,
    check_credentials,
    check_sqlite_file,
    connect_message,
    describe,
    first_line,
    is_access_error,
    is_url,
    mask_url,
    postgres_engine,
    read_only_message,
    side_files,
    sqlite_engine,
)
from alwidgets.store.sql_leases import SQLLeaseBook
from alwidgets.store.sql_schema import (
    SCHEMA_VERSION,
    TABLES,
    UnreadableRow,
    check_version,
    event_row,
    events_table,
    lease_row,
    leases_table,
    meta_table,
    migrate,
    row_event,
)
from alwidgets.store.sql_schema import create as create_tables

__all__ = ["InvalidEventWarning", "SQLStore", "SCHEMA_VERSION", "mask_url"]

log = logging.getLogger(__package__)  # "alwidgets.store": one logger for every back end

UNREACHABLE = "the label store is unreachable; your labels so far are safe"
_PG_LOCK_KEY = 0x616C77  # "alw": the advisory lock that serializes writes to one PostgreSQL store


class SQLStore:
    """Labels in a SQLite file or a PostgreSQL database.

    Parameters
    ----------
    target : str or Path
        A file path (``"labels.db"``), ``"sqlite:///path/labels.db"``, or
        ``"postgresql://user:password@host:port/database"`` (needs the
        ``postgres`` extra: ``pip install 'alwidgets[postgres]'``).
    create : bool, default=True
        Make the store (file and tables) when it does not exist yet; with
        False a missing store is an error.
    read_only : bool, default=False
        Only read (for export): nothing is written to the database or next to it.

    Raises
    ------
    StoreError
        The file is corrupt, read-only for this user, or another program's
        database, the folder does not exist, or the server cannot be reached.
        Nothing is written in that case.
    StoreUnavailable
        Raised by any operation once the database stops answering; its message
        names no host or user, the details go to the ``alwidgets.store`` log.
    """

    def __init__(self, target, *, create: bool = True, read_only: bool = False):
        self.target = target
        self.read_only = bool(read_only)
        self._immutable = False  # read-only SQLite with nobody writing: read the file without locks or side files
        self._reported: set[int] = set()  # sequence numbers of invalid events already warned about
        self._missing_columns: set[str] = set()  # columns of a newer alwidgets that a read-only old store lacks
        self._lease_columns = list(leases_table.columns)  # fewer for a read-only store of an older schema
        if isinstance(target, Path) or not is_url(target):
            self.path = Path(target).expanduser().resolve()
            url = URL.create("sqlite", database=str(self.path))  # a '?' or '%20' in a file name is the file's
        else:
            self.path = None
            try:
                url = make_url(target)
            except (ArgumentError, ValueError) as error:  # its message would quote the URL, password and all
                hint = f"; {AT_IN_PASSWORD}" if str(target).count("@") > 1 else ""
                raise StoreError(f"store URL {mask_url(target)} is not a database URL "
                                 f"({type(error).__name__}){hint}") from None
        self.url = mask_url(target) if self.path is None else f"sqlite:///{self.path}"  # shown, never connected to
        self.backend = url.get_backend_name()
        if self.backend == "sqlite":
            if self.path is None:
                if not url.database or url.database == ":memory:":
                    raise StoreError("store 'sqlite://' names no file; give a path like 'labels.db', "
                                     "or store=None to keep labels in memory")
                self.path = Path(url.database).expanduser().resolve()
                self.url = f"sqlite:///{self.path}"
            self._immutable = check_sqlite_file(self.path, create, self.read_only)
            # the file checked is the file opened: the URL is built from the path, never parsed from text
            self.engine = sqlite_engine(URL.create("sqlite", database=str(self.path)), self.read_only,
                                        self._read_uri)
        elif self.backend == "postgresql":
            check_credentials(url, target)
            self.engine = postgres_engine(url, self.read_only)
        else:
            raise StoreError(f"store URL scheme {url.drivername!r} is not supported; use a SQLite file path "
                             "or a 'postgresql://user@host/database' URL")
        self._open(create)

    # ------------------------------------------------------------------ opening

    def _read_uri(self) -> str:
        """The URI a reader opens: without locks or side files when nobody has the database open."""
        return f"{self.path.as_uri()}?{'immutable=1' if self._immutable else 'mode=ro'}"

    def _describe(self) -> str:
        return describe(self.backend, self.path, self.url)

    def _open(self, create: bool) -> None:
        """Make the tables if needed and check that this is an alwidgets store of a known version."""
        try:
            with (self._read() if self.read_only else self._write()) as conn:
                present = set(inspect(conn).get_table_names())
                ours = present & set(TABLES)
                if "alw_meta" not in present:
                    if ours:
                        raise StoreError(
                            f"store {self._describe()} holds tables {sorted(ours)} that alwidgets did not make; "
                            "use another database or drop them"
                        )
                    if not create:
                        raise StoreError(f"store {self._describe()} holds no alwidgets labels")
                    create_tables(conn)
                else:
                    version = conn.execute(
                        select(meta_table.c.value).where(meta_table.c.key == "schema_version")
                    ).scalar()
                    check_version(version, self._describe())
                    if not set(TABLES) <= present:
                        raise StoreError(f"store {self._describe()} is missing tables {sorted(set(TABLES) - present)}")
                    self._missing_columns, self._lease_columns = migrate(
                        conn, int(version or SCHEMA_VERSION), self.read_only, self._describe())
        except OperationalError as error:
            self.engine.dispose()
            if self.backend == "sqlite" and is_access_error(error):
                raise StoreError(read_only_message(self.path)) from None
            raise StoreError(connect_message(self.backend, self.url, self._describe(), error)) from None
        except DatabaseError as error:
            self.engine.dispose()
            raise StoreError(f"store {self._describe()} cannot be used: {first_line(error)}") from None
        except StoreError:
            self.engine.dispose()
            raise

    # ------------------------------------------------------------------ transactions

    @contextmanager
    def _write(self):
        """One serialized write transaction."""
        if self.read_only:
            raise StoreError(f"store {self._describe()} was opened read-only (for export): it cannot be written")
        with self.engine.begin() as conn:
            if self.backend == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
            yield conn

    def _now(self, conn) -> float:
        """The database's clock, in seconds since 1970: leases expire by it, whatever this process's clock says."""
        if self.backend == "sqlite":
            query = "SELECT (julianday('now') - 2440587.5) * 86400.0"
        else:
            query = "SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS double precision)"
        return float(conn.execute(text(query)).scalar())

    @contextmanager
    def _guard(self, doing: str, lost: str = ""):
        """Turn a database that stopped answering into :class:`StoreUnavailable`; log the details for the operator."""
        try:
            yield
        except (OperationalError, InterfaceError) as error:
            details = f"{doing} on store {self._describe()} failed: {first_line(error)}"
            log.error("%s", details)
            if self.backend == "sqlite" and is_access_error(error):
                raise StoreError(read_only_message(self.path)) from None
            raise StoreUnavailable(UNREACHABLE + lost, details) from None
        except DBAPIError as error:
            details = f"{doing} on store {self._describe()} failed: {first_line(error)}"
            log.error("%s", details)
            raise StoreError(f"the label store failed ({type(error.orig or error).__name__}); "
                             "the details are in the server's log") from None

    @contextmanager
    def _read(self):
        """A read that never blocks writers (SQLite: a deferred transaction)."""
        with self.engine.connect() as conn:
            if self.backend == "sqlite":
                conn = conn.execution_options(alw_begin="DEFERRED")
            yield conn

    # ------------------------------------------------------------------ the store API

    def append(self, event: LabelEvent) -> LabelEvent:
        """Add ``event`` to the log; returns it with its sequence number."""
        return self.append_many([event])[0]

    def append_many(self, events: list[LabelEvent]) -> list[LabelEvent]:
        """Add ``events`` in one transaction (all or none) and update the leases they answer.

        Returns the events with their sequence numbers; when this returns, they are durable.
        """
        checked = [check_event(e) for e in events]
        rows = [event_row(e) for e in checked]  # fails on labels JSON cannot hold, before anything is written
        stored = []
        lost = " (the last label was not saved: give it again once the store is back)"
        with self._guard("saving labels", lost), self._write() as conn:
            book = SQLLeaseBook(conn, self.backend)
            now = self._now(conn)
            for e, row in zip(checked, rows, strict=True):
                seq = conn.execute(events_table.insert().values(**row)).inserted_primary_key[0]
                e = LabelEvent(**{**e.as_dict(), "seq": int(seq)})
                answer(book, e, now)
                stored.append(e)
        return stored

    def events(self, since: int = 0) -> list[LabelEvent]:
        """Every event with a sequence number above ``since``, in order.

        An event whose label is not a label (a list written by an older
        alwidgets) comes back with an :class:`~alwidgets.store.InvalidLabel`
        and an :class:`InvalidEventWarning`: it is kept and exported, and counts
        as nobody's vote. A row that holds no event at all (a time that is not
        a number, bytes for a name) is reported the same way and left out.
        """
        columns = [c for c in events_table.c if c.name not in self._missing_columns]
        query = select(*columns).where(events_table.c.seq > int(since)).order_by(events_table.c.seq)
        with self._guard("reading labels"):
            result = self._stable_read(lambda conn: conn.execute(query).all())
        return [e for e in map(self._row_event, result) if e is not None]

    def _stable_read(self, read):
        """``read(conn)`` in a read transaction; for a read-only SQLite file read without locks, checked unchanged.

        Reading a file nobody has open needs no lock and no side file. If a
        writer opened it meanwhile (its -wal appears, or the file changes), the
        read is done again through SQLite's read-only locking.
        """
        before = self._file_state() if self._immutable else None
        with self._read() as conn:
            result = read(conn)
        if self._immutable and self._file_state() != before:
            self._immutable = False
            with self._read() as conn:
                result = read(conn)
        return result

    def _file_state(self):
        stat = self.path.stat()
        return stat.st_ino, stat.st_size, stat.st_mtime_ns, side_files(self.path)

    def _row_event(self, r) -> LabelEvent | None:
        """The event of row ``r``; None (reported once) for a row that holds no event.

        Every message shows at most the first characters of what the row holds:
        a stored value may be 100,000 characters long.
        """
        try:
            event = row_event(r)
        except UnreadableRow as error:
            if r.seq not in self._reported:
                self._reported.add(r.seq)
                report_invalid(f"store {self._describe()}: event {r.seq} cannot be read ({error}); it is left out: "
                               "nobody's vote, and not exported", stacklevel=4)
            return None
        if event.seq in self._reported:
            return event
        who = f"{event.kind} of item {shorten(repr(event.item_id))} by {shorten(repr(event.annotator))}"
        if isinstance(event.label, InvalidLabel):
            self._reported.add(event.seq)
            report_invalid(f"store {self._describe()}: event {event.seq} ({who}) holds {shorten(event.label.raw)} "
                           "as its label, which is not a str, int, float or bool; it is kept and exported as "
                           "written, and counts as nobody's vote", stacklevel=4)
        elif event.suggested is None and getattr(r, "suggested", None) is not None:
            self._reported.add(event.seq)
            report_invalid(f"store {self._describe()}: event {event.seq} ({who}) holds {shorten(r.suggested)} as "
                           "the suggestion shown, which is not a label; the label counts, the suggestion is left "
                           "out", stacklevel=4)
        return event

    def lease(self, annotator: str, candidates: Iterable[str], n: int = 1, *, slots: int = 1,
              extra_slots: dict[str, int] | None = None, timeout: float = DEFAULT_LEASE_TIMEOUT,
              release_others: bool = True, holder: str = "") -> list[str]:
        """Lease the first ``n`` free items of ``candidates`` to ``annotator``, in one transaction.

        An item is free for an annotator who has not answered it and while fewer
        than ``slots`` (or ``extra_slots[item_id]``) of its slots are answered or
        leased. With ``release_others`` the annotator's other unanswered leases
        go back to the pool: a person holds what they are shown.
        """
        with self._guard("leasing items"), self._write() as conn:
            return lease_items(SQLLeaseBook(conn, self.backend), annotator, candidates, n, slots=slots,
                               extra_slots=extra_slots, timeout=timeout, release_others=release_others,
                               now=self._now(conn), holder=holder)

    def release(self, annotator: str, item_ids: Iterable[str] | None = None, *, holder: str | None = None) -> None:
        """Give back ``annotator``'s unanswered leases (all of them when ``item_ids`` is None).

        With ``holder``, only the unanswered leases that holder (a page) took, whoever they are for.
        """
        with self._guard("giving back leases"), self._write() as conn:
            book = SQLLeaseBook(conn, self.backend)
            if holder is not None:
                book.drop_holder(holder)
            elif item_ids is None:
                book.drop_open_except(annotator, set())
            else:
                for item_id in item_ids:
                    book.drop(item_id, annotator, only_open=True)

    def heartbeat(self, holder: str) -> None:
        """Say that ``holder`` (a page) is still open: its unanswered leases stay live (one short write)."""
        with self._guard("renewing leases"), self._write() as conn:
            SQLLeaseBook(conn, self.backend).touch(holder, self._now(conn))

    def leases(self, live_within: float | None = None) -> list[LeaseRow]:
        """The leases held right now (unanswered, not expired).

        With ``live_within``, only those whose holder sent a heartbeat in the
        last ``live_within`` seconds (by the database's clock).
        """
        t = leases_table

        def read(conn):
            now = self._now(conn)
            query = select(*self._lease_columns).where(and_(t.c.done.is_(False), t.c.expires > now))
            if live_within is not None:
                if "heartbeat" not in {c.name for c in self._lease_columns}:
                    return []  # a store of schema 1, read as it is: no lease has a heartbeat
                query = query.where(t.c.heartbeat >= now - float(live_within))
            return conn.execute(query).all()

        with self._guard("reading leases"):
            return [lease_row(r) for r in self._stable_read(read)]

    def info(self) -> dict:
        """The store's metadata: schema version, creation time, and the campaign it is bound to."""
        with self._guard("reading the store's metadata"):
            rows = self._stable_read(lambda conn: conn.execute(select(meta_table.c.key, meta_table.c.value)).all())
        return dict(rows)

    def bind_campaign(self, info: dict[str, str], rebind: bool = False) -> None:
        """Record the campaign this store is for (:func:`alwidgets.store.campaign_info`).

        A store with no campaign yet takes this one. One bound to another
        campaign (other classes, another pool) is refused with a StoreError
        that says what to do, unless ``rebind`` records the new one instead.
        """
        t = meta_table
        with self._guard("binding the campaign"), self._write() as conn:
            recorded = dict(conn.execute(select(t.c.key, t.c.value).where(t.c.key.in_(CAMPAIGN_KEYS))).all())
            if not rebind:
                check_campaign(recorded, info, self._describe())
            if rebind or not recorded.get("campaign.pool"):
                conn.execute(delete(t).where(t.c.key.in_(CAMPAIGN_KEYS)))
                conn.execute(t.insert(), [{"key": k, "value": info[k]} for k in CAMPAIGN_KEYS])

    def close(self) -> None:
        """Close every connection to the database."""
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"SQLStore({self._describe()})"
