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
"""

from __future__ import annotations

import getpass
import logging
import re
import sqlite3
import warnings
from collections.abc import Iterable
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

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
    and_,
    create_engine,
    delete,
    event,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, DBAPIError, InterfaceError, OperationalError
from sqlalchemy.pool import NullPool

from alwidgets._validation import label_from_json, label_to_json
from alwidgets.store.events import (
    CAMPAIGN_KEYS,
    InvalidLabel,
    LabelEvent,
    StoreError,
    StoreUnavailable,
    check_campaign,
    check_event,
)
from alwidgets.store.leases import DEFAULT_LEASE_TIMEOUT, LeaseBook, LeaseRow, answer, lease_items

__all__ = ["InvalidEventWarning", "SQLStore", "SCHEMA_VERSION", "mask_url"]

log = logging.getLogger(__package__)  # "alwidgets.store": one logger for every back end

UNREACHABLE = "the label store is unreachable; your labels so far are safe"


class InvalidEventWarning(UserWarning):
    """A store holds an event whose label is not a label (written by an older alwidgets); it is kept and shown."""


def mask_url(url) -> str:
    """``url`` with any password replaced by ``***``, for printing; a file path comes back as it is."""
    text_url = str(url)
    if "://" not in text_url:
        return text_url
    try:
        return make_url(text_url).render_as_string(hide_password=True)
    except ArgumentError:
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", text_url)

SCHEMA_VERSION = 2
_PG_LOCK_KEY = 0x616C77  # "alw": the advisory lock that serializes writes to one PostgreSQL store
_SQLITE_BUSY_SECONDS = 60.0
_PG_CONNECT_TIMEOUT = 5

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
    Column("suggested", Text, nullable=True),  # new in schema 2: added to older stores by SQLStore._migrate
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


def _is_url(store) -> bool:
    return isinstance(store, str) and "://" in store


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
        if isinstance(target, Path) or not _is_url(target):
            self.path = Path(target).expanduser().resolve()
            self.url = f"sqlite:///{self.path}"
        else:
            self.url = target
            self.path = None
        try:
            url = make_url(self.url)
        except ArgumentError as error:
            raise StoreError(f"store URL {target!r} is not a database URL ({error})") from None
        self.backend = url.get_backend_name()
        if self.backend == "sqlite":
            if self.path is None:
                if not url.database or url.database == ":memory:":
                    raise StoreError("store 'sqlite://' names no file; give a path like 'labels.db', "
                                     "or store=None to keep labels in memory")
                self.path = Path(url.database).expanduser().resolve()
                self.url = f"sqlite:///{self.path}"
            self._check_sqlite_file(create)
            self.engine = self._sqlite_engine()
        elif self.backend == "postgresql":
            self.engine = self._postgres_engine(url)
        else:
            raise StoreError(f"store URL scheme {url.drivername!r} is not supported; use a SQLite file path "
                             "or a 'postgresql://user@host/database' URL")
        self._open(create)

    # ------------------------------------------------------------------ opening

    def _check_sqlite_file(self, create: bool) -> None:
        """Refuse a missing folder, a corrupt file or another program's database, writing nothing."""
        path = self.path
        if path.is_dir():
            raise StoreError(f"store {str(path)!r} is a folder; give a file name such as {str(path / 'labels.db')!r}")
        if not path.exists():
            if not create:
                raise StoreError(f"store {str(path)!r} does not exist")
            if not path.parent.is_dir():
                raise StoreError(f"store {str(path)!r}: the folder {str(path.parent)!r} does not exist; create it first")
            return
        if path.stat().st_size == 0:
            if self.read_only:
                raise StoreError(f"store {str(path)!r} is empty: it holds no labels")
            return
        # Nobody has the file open: read it without locks, which creates no -wal or -shm file as this user.
        idle = not _side_files(path)
        self._immutable = self.read_only and idle
        try:
            probe = sqlite3.connect(f"{path.as_uri()}?{'immutable=1' if idle else 'mode=ro'}", uri=True)
        except sqlite3.Error as error:
            raise StoreError(self._unreadable_message(error)) from None
        try:
            tables = {row[0] for row in probe.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            version = None
            if "alw_meta" in tables:
                row = probe.execute("SELECT value FROM alw_meta WHERE key = 'schema_version'").fetchone()
                version = row[0] if row else None
        except sqlite3.DatabaseError as error:
            if _is_access_error(error):
                raise StoreError(self._unreadable_message(error)) from None
            raise StoreError(
                f"store {str(path)!r} is not a SQLite database or is corrupt ({error}); "
                "point store= to a new file name, or restore the file from a backup"
            ) from None
        finally:
            probe.close()
        if not self.read_only:
            # SQLite opens a file it may not write read-only without a word, and would leave -wal and -shm
            # files owned by this user that lock the owner out: refuse before it opens anything.
            for part in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                try:
                    if part.exists():
                        with part.open("r+b"):
                            pass
                except OSError:
                    raise StoreError(self._read_only_message()) from None
        foreign = sorted(t for t in tables if t not in TABLES and not t.startswith("sqlite_"))
        if version is None and (foreign or tables):
            raise StoreError(
                f"store {str(path)!r} is a SQLite database of another program (tables: {', '.join(sorted(tables))}) "
                "and not an alwidgets label store; point store= to a new file name such as 'labels.db'"
            )
        _check_version(version, str(path))

    def _read_uri(self) -> str:
        """The URI a reader opens: without locks or side files when nobody has the database open."""
        return f"{self.path.as_uri()}?{'immutable=1' if self._immutable else 'mode=ro'}"

    def _unreadable_message(self, error) -> str:
        path = self.path
        return (f"store {str(path)!r} cannot be read by this user ({_user()}): {error}. "
                f"Check the permissions of the file and of its folder {str(path.parent)!r}, "
                f"and of {path.name}-wal and {path.name}-shm next to it if they exist")

    def _read_only_message(self) -> str:
        path = self.path
        return (f"store {str(path)!r} is read-only for this user ({_user()}): labeling writes to the file and "
                f"to its folder {str(path.parent)!r}, where SQLite keeps {path.name}-wal and {path.name}-shm. "
                f"Give this user write access to both, or only read the labels with "
                f"`python -m alwidgets export {path} labels.csv`")

    def _sqlite_engine(self):
        if self.read_only:
            engine = create_engine(
                "sqlite://", poolclass=NullPool,
                creator=lambda: sqlite3.connect(self._read_uri(), uri=True, timeout=_SQLITE_BUSY_SECONDS,
                                                check_same_thread=False),
            )
        else:
            engine = create_engine(
                self.url,
                connect_args={"timeout": _SQLITE_BUSY_SECONDS, "check_same_thread": False},
            )

        @event.listens_for(engine, "connect")
        def _configure(dbapi_connection, _record):
            # Manage transactions ourselves (the driver's implicit BEGIN is DEFERRED, which can deadlock writers).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            if not self.read_only:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute(f"PRAGMA busy_timeout={int(_SQLITE_BUSY_SECONDS * 1000)}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection):
            mode = connection.get_execution_options().get("alw_begin", "IMMEDIATE")
            connection.exec_driver_sql(f"BEGIN {mode}")

        return engine

    def _postgres_engine(self, url):
        if url.drivername == "postgresql":  # no driver named: psycopg2 (the `postgres` extra), else psycopg 3
            import importlib.util

            for module, driver in (("psycopg2", "postgresql+psycopg2"), ("psycopg", "postgresql+psycopg")):
                if importlib.util.find_spec(module) is not None:
                    url = url.set(drivername=driver)
                    break
            else:
                raise StoreError("a PostgreSQL store needs the psycopg2 driver: pip install 'alwidgets[postgres]'")
        connect_args = {}
        if "connect_timeout" not in url.query:
            connect_args["connect_timeout"] = _PG_CONNECT_TIMEOUT
        try:
            engine = create_engine(url, connect_args=connect_args, pool_pre_ping=True)
            return engine.execution_options(postgresql_readonly=True) if self.read_only else engine
        except ModuleNotFoundError as error:
            raise StoreError(
                f"a PostgreSQL store needs the {error.name!r} driver: pip install 'alwidgets[postgres]'"
            ) from None

    def _describe(self) -> str:
        if self.backend == "sqlite":
            return repr(str(self.path))
        url = make_url(self.url)
        return f"PostgreSQL database {url.database!r} at {url.host or 'localhost'}:{url.port or 5432}"

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
                    _metadata.create_all(conn)
                    conn.execute(meta_table.insert(), [
                        {"key": "schema_version", "value": str(SCHEMA_VERSION)},
                        {"key": "created", "value": datetime.now(timezone.utc).isoformat(timespec="seconds")},
                        {"key": "application", "value": "alwidgets"},
                    ])
                else:
                    version = conn.execute(
                        select(meta_table.c.value).where(meta_table.c.key == "schema_version")
                    ).scalar()
                    _check_version(version, self._describe())
                    if not set(TABLES) <= present:
                        raise StoreError(f"store {self._describe()} is missing tables {sorted(set(TABLES) - present)}")
                    self._migrate(conn, int(version or SCHEMA_VERSION))
        except OperationalError as error:
            self.engine.dispose()
            if self.backend == "sqlite" and _is_access_error(error):
                raise StoreError(self._read_only_message()) from None
            raise StoreError(self._connect_message(error)) from None
        except DatabaseError as error:
            self.engine.dispose()
            raise StoreError(f"store {self._describe()} cannot be used: {_first_line(error)}") from None
        except StoreError:
            self.engine.dispose()
            raise

    def _migrate(self, conn, version: int) -> None:
        """Bring a store of an older schema up to date (when writing), or note what it lacks (when reading)."""
        events_missing = _missing_columns(conn, events_table)
        missing = _missing_columns(conn, leases_table)
        if self.read_only:  # read as it is: the new event columns hold None, and no lease has a heartbeat
            self._missing_columns = set(events_missing)
            self._lease_columns = [c for c in leases_table.columns if c.name not in missing]
            return
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
            log.warning("store %s: schema %d brought up to date (schema %d)", self._describe(), version,
                        SCHEMA_VERSION)

    def _connect_message(self, error) -> str:
        if self.backend == "postgresql":
            url = make_url(self.url)
            return (
                f"cannot connect to the PostgreSQL server at {url.host or 'localhost'}:{url.port or 5432} "
                f"(database {url.database!r}, user {url.username!r}): {_first_line(error)}. "
                "Check that the server runs, that the host, port and credentials in the URL are right, "
                "and that this machine may connect"
            )
        return f"store {self._describe()} cannot be opened: {_first_line(error)}"

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
            details = f"{doing} on store {self._describe()} failed: {_first_line(error)}"
            log.error("%s", details)
            if self.backend == "sqlite" and _is_access_error(error):
                raise StoreError(self._read_only_message()) from None
            raise StoreUnavailable(UNREACHABLE + lost, details) from None
        except DBAPIError as error:
            details = f"{doing} on store {self._describe()} failed: {_first_line(error)}"
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
        rows = [_event_row(e) for e in checked]  # fails on labels JSON cannot hold, before anything is written
        stored = []
        lost = " (the last label was not saved: give it again once the store is back)"
        with self._guard("saving labels", lost), self._write() as conn:
            book = _SQLLeaseBook(conn, self.backend)
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
        as nobody's vote.
        """
        columns = [c for c in events_table.c if c.name not in self._missing_columns]
        query = select(*columns).where(events_table.c.seq > int(since)).order_by(events_table.c.seq)
        with self._guard("reading labels"):
            result = self._stable_read(lambda conn: conn.execute(query).all())
        return [self._row_event(r) for r in result]

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
        return stat.st_ino, stat.st_size, stat.st_mtime_ns, _side_files(self.path)

    def _row_event(self, r) -> LabelEvent:
        event = _row_event(r)
        if isinstance(event.label, InvalidLabel) and event.seq not in self._reported:
            self._reported.add(event.seq)
            message = (f"store {self._describe()}: event {event.seq} ({event.kind} of item {event.item_id!r} by "
                       f"{event.annotator!r}) holds {event.label.raw} as its label, which is not a str, int, float "
                       "or bool; it is kept and exported as written, and counts as nobody's vote")
            log.warning("%s", message)
            warnings.warn(message, InvalidEventWarning, stacklevel=3)
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
            return lease_items(_SQLLeaseBook(conn, self.backend), annotator, candidates, n, slots=slots,
                               extra_slots=extra_slots, timeout=timeout, release_others=release_others,
                               now=self._now(conn), holder=holder)

    def release(self, annotator: str, item_ids: Iterable[str] | None = None, *, holder: str | None = None) -> None:
        """Give back ``annotator``'s unanswered leases (all of them when ``item_ids`` is None).

        With ``holder``, only the unanswered leases that holder (a page) took, whoever they are for.
        """
        with self._guard("giving back leases"), self._write() as conn:
            book = _SQLLeaseBook(conn, self.backend)
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
            _SQLLeaseBook(conn, self.backend).touch(holder, self._now(conn))

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
            return [_lease_row(r) for r in self._stable_read(read)]

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


class _SQLLeaseBook(LeaseBook):
    """The lease operations inside one open (and serialized) write transaction."""

    def __init__(self, conn, backend: str):
        self.conn = conn
        self.backend = backend

    def rows(self, item_ids):
        out: dict[str, list[LeaseRow]] = {}
        if not item_ids:
            return out
        query = select(leases_table).where(leases_table.c.item_id.in_(list(item_ids)))
        for r in self.conn.execute(query):
            out.setdefault(r.item_id, []).append(_lease_row(r))
        return out

    def put(self, row):
        t = leases_table
        self.conn.execute(delete(t).where(and_(t.c.item_id == row.item_id, t.c.slot == row.slot)))
        self.conn.execute(t.insert().values(item_id=row.item_id, slot=row.slot, annotator=row.annotator,
                                            expires=row.expires, done=row.done, holder=row.holder,
                                            heartbeat=row.heartbeat))

    def drop(self, item_id, annotator, only_open):
        t = leases_table
        query = delete(t).where(and_(t.c.item_id == item_id, t.c.annotator == annotator))
        if only_open:
            query = query.where(t.c.done.is_(False))
        self.conn.execute(query)

    def drop_open_except(self, annotator, keep):
        t = leases_table
        query = delete(t).where(and_(t.c.annotator == annotator, t.c.done.is_(False)))
        if keep:
            query = query.where(t.c.item_id.not_in(list(keep)))
        self.conn.execute(query)

    def drop_holder(self, holder):
        t = leases_table
        self.conn.execute(delete(t).where(and_(t.c.holder == holder, t.c.done.is_(False))))

    def touch(self, holder, now):
        t = leases_table
        self.conn.execute(t.update().where(and_(t.c.holder == holder, t.c.done.is_(False))).values(heartbeat=now))


# ---------------------------------------------------------------------- rows


def _event_row(e: LabelEvent) -> dict:
    try:
        label = label_to_json(e.label)  # a label set is {"labels": [...]}, its members sorted
    except TypeError:
        raise ValueError(f"label {e.label!r} cannot be stored: use a number, a string or a boolean") from None
    row = {"item_id": e.item_id, "kind": e.kind, "label": label, "annotator": e.annotator, "time": float(e.time),
           "strategy": e.strategy or "", "model_version": int(e.model_version)}
    if e.suggested is not None:
        row["suggested"] = label_to_json(e.suggested)
    return row


def _row_event(r) -> LabelEvent:
    suggested = _read_label(getattr(r, "suggested", None))
    return LabelEvent(item_id=r.item_id, kind=r.kind, label=_read_label(r.label), annotator=r.annotator,
                      strategy=r.strategy, model_version=r.model_version, time=r.time, seq=r.seq,
                      suggested=None if isinstance(suggested, InvalidLabel) else suggested)


def _read_label(raw):
    """The label a row holds; one that is not a label comes back as an :class:`InvalidLabel`, never an error."""
    if raw is None:
        return None
    try:
        return label_from_json(raw)
    except (TypeError, ValueError):  # not JSON, or JSON of a list, an object other than a label set, null, NaN
        return InvalidLabel(str(raw))


def _side_files(path: Path) -> bool:
    """Whether SQLite's -wal or -shm file sits next to ``path``: someone has the database open (or crashed)."""
    return Path(f"{path}-wal").exists() or Path(f"{path}-shm").exists()


def _is_access_error(error) -> bool:
    message = str(getattr(error, "orig", None) or error).lower()
    return "readonly" in message or "read-only" in message or "unable to open" in message


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no name for this uid
        import os

        return f"uid {os.getuid()}"


def _lease_row(r) -> LeaseRow:
    fields = r._mapping
    return LeaseRow(r.item_id, r.slot, r.annotator, r.expires, bool(r.done), fields.get("holder") or "",
                    float(fields.get("heartbeat") or 0.0))


def _missing_columns(conn, table: Table) -> list[str]:
    """The columns of ``table`` that the store's copy of it lacks (one made by an older alwidgets)."""
    present = {c["name"] for c in inspect(conn).get_columns(table.name)}
    return [c.name for c in table.columns if c.name not in present]


def _check_version(version, where: str) -> None:
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


def _first_line(error) -> str:
    orig = getattr(error, "orig", None) or error
    return str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
