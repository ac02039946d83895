"""Reaching a SQL store: its URL, the checks on a SQLite file before it is opened, and the engines.

A SQLite file is checked before SQLAlchemy touches it (a missing folder, a
corrupt file, another program's database, a file this user may not write),
so that a refused store is left exactly as it was. A SQLite engine runs in
WAL mode with ``synchronous=FULL`` and opens its own ``BEGIN IMMEDIATE``
transactions (a read asks for ``DEFERRED``); a read-only one opens the file
without locks or side files while nobody else has it open. A PostgreSQL
engine gets a connect timeout and is read-only when asked. The messages
here say what is wrong and what to do, and name no password.
"""

from __future__ import annotations

import getpass
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from alwidgets.store.events import StoreError
from alwidgets.store.sql_schema import TABLES, check_version

__all__ = ["AT_IN_PASSWORD", "mask_url", "check_credentials", "is_url", "check_sqlite_file", "sqlite_engine", "postgres_engine", "describe",
           "unreadable_message", "read_only_message", "connect_message", "side_files", "is_access_error",
           "first_line"]

SQLITE_BUSY_SECONDS = 60.0
PG_CONNECT_TIMEOUT = 5


AT_IN_PASSWORD = "an '@' in a user name or password must be written %40 (postgresql://USER:PASS%40WORD@HOST/DB)"


def mask_url(url) -> str:
    """``url`` with every credential replaced by ``***``, for printing; a file path comes back as it is.

    Everything between ``://`` and the *last* ``@`` is credentials: a password
    holding an unescaped ``@`` is then masked whole, never shown as part of the
    host. Only the user name before the first ``:`` is kept, and a
    ``password=`` query parameter is masked too.
    """
    text_url = str(url)
    if "://" not in text_url:
        return text_url
    scheme, rest = text_url.split("://", 1)
    rest = re.sub(r"(?i)([?&]password=)[^&]*", r"\1***", rest)
    at = rest.rfind("@")
    if at < 0:
        return f"{scheme}://{rest}"
    credentials, location = rest[:at], rest[at + 1:]
    if ":" not in credentials and "@" not in credentials:
        return f"{scheme}://{credentials}@{location}"  # a user name alone: nothing secret
    user = credentials.split(":", 1)[0].split("@", 1)[0]
    return f"{scheme}://{user}:***@{location}"


def check_credentials(url, target) -> None:
    """Refuse a URL whose user name or password holds an unescaped ``@``, before connecting anywhere.

    SQLAlchemy ends the password at the first ``@``: the rest would become the
    host, and be shown in every message about the server.
    """
    for part in (url.host, url.database, url.username, url.password):
        if part and "@" in str(part):
            raise StoreError(f"store URL {mask_url(target)} holds more than one '@' before its host: "
                             f"{AT_IN_PASSWORD}")


def is_url(store) -> bool:
    return isinstance(store, str) and "://" in store


def describe(backend: str, path: Path | None, url: str) -> str:
    """The store as a message names it: its file, or its PostgreSQL database and server (no user, no password)."""
    if backend == "sqlite":
        return repr(str(path))
    parsed = make_url(url)
    return f"PostgreSQL database {parsed.database!r} at {parsed.host or 'localhost'}:{parsed.port or 5432}"


# ---------------------------------------------------------------------- SQLite


def check_sqlite_file(path: Path, create: bool, read_only: bool) -> bool:
    """Refuse a missing folder, a corrupt file or another program's database, writing nothing.

    Returns whether the file may be read without locks (read-only, and nobody has it open).
    """
    if path.is_dir():
        raise StoreError(f"store {str(path)!r} is a folder; give a file name such as {str(path / 'labels.db')!r}")
    if not path.exists():
        if not create:
            raise StoreError(f"store {str(path)!r} does not exist")
        if not path.parent.is_dir():
            raise StoreError(f"store {str(path)!r}: the folder {str(path.parent)!r} does not exist; create it first")
        return False
    if path.stat().st_size == 0:
        if read_only:
            raise StoreError(f"store {str(path)!r} is empty: it holds no labels")
        return False
    # Nobody has the file open: read it without locks, which creates no -wal or -shm file as this user.
    idle = not side_files(path)
    try:
        probe = sqlite3.connect(f"{path.as_uri()}?{'immutable=1' if idle else 'mode=ro'}", uri=True)
    except sqlite3.Error as error:
        raise StoreError(unreadable_message(path, error)) from None
    try:
        tables = {row[0] for row in probe.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        version = None
        if "alw_meta" in tables:
            row = probe.execute("SELECT value FROM alw_meta WHERE key = 'schema_version'").fetchone()
            version = row[0] if row else None
    except sqlite3.DatabaseError as error:
        if is_access_error(error):
            raise StoreError(unreadable_message(path, error)) from None
        raise StoreError(
            f"store {str(path)!r} is not a SQLite database or is corrupt ({error}); "
            "point store= to a new file name, or restore the file from a backup"
        ) from None
    finally:
        probe.close()
    if not read_only:
        # SQLite opens a file it may not write read-only without a word, and would leave -wal and -shm
        # files owned by this user that lock the owner out: refuse before it opens anything.
        for part in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            try:
                if part.exists():
                    with part.open("r+b"):
                        pass
            except OSError:
                raise StoreError(read_only_message(path)) from None
    foreign = sorted(t for t in tables if t not in TABLES and not t.startswith("sqlite_"))
    if version is None and (foreign or tables):
        raise StoreError(
            f"store {str(path)!r} is a SQLite database of another program (tables: {', '.join(sorted(tables))}) "
            "and not an alwidgets label store; point store= to a new file name such as 'labels.db'"
        )
    check_version(version, str(path))
    return read_only and idle


def sqlite_engine(url, read_only: bool, read_uri: Callable[[], str]):
    """The engine of a SQLite store; a read-only one connects to ``read_uri()`` (asked at every connection).

    ``url`` is a ``sqlalchemy.engine.URL`` made from the file's path, so the
    file opened is the one named, whatever characters its name holds.
    """
    if read_only:
        engine = create_engine(
            "sqlite://", poolclass=NullPool,
            creator=lambda: sqlite3.connect(read_uri(), uri=True, timeout=SQLITE_BUSY_SECONDS,
                                            check_same_thread=False),
        )
    else:
        engine = create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_SECONDS, "check_same_thread": False},
        )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record):
        # Manage transactions ourselves (the driver's implicit BEGIN is DEFERRED, which can deadlock writers).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not read_only:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_SECONDS * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        mode = connection.get_execution_options().get("alw_begin", "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def side_files(path: Path) -> bool:
    """Whether SQLite's -wal or -shm file sits next to ``path``: someone has the database open (or crashed)."""
    return Path(f"{path}-wal").exists() or Path(f"{path}-shm").exists()


def unreadable_message(path: Path, error) -> str:
    return (f"store {str(path)!r} cannot be read by this user ({_user()}): {error}. "
            f"Check the permissions of the file and of its folder {str(path.parent)!r}, "
            f"and of {path.name}-wal and {path.name}-shm next to it if they exist")


def read_only_message(path: Path) -> str:
    return (f"store {str(path)!r} is read-only for this user ({_user()}): labeling writes to the file and "
            f"to its folder {str(path.parent)!r}, where SQLite keeps {path.name}-wal and {path.name}-shm. "
            f"Give this user write access to both, or only read the labels with "
            f"`python -m alwidgets export {path} labels.csv`")


def is_access_error(error) -> bool:
    message = str(getattr(error, "orig", None) or error).lower()
    return "readonly" in message or "read-only" in message or "unable to open" in message


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no name for this uid
        import os

        return f"uid {os.getuid()}"


# ---------------------------------------------------------------------- PostgreSQL


def postgres_engine(url, read_only: bool):
    """The engine of a PostgreSQL store (``url`` parsed); psycopg2 when no driver is named, else psycopg 3."""
    if url.drivername == "postgresql":
        import importlib.util

        for module, driver in (("psycopg2", "postgresql+psycopg2"), ("psycopg", "postgresql+psycopg")):
            if importlib.util.find_spec(module) is not None:
                url = url.set(drivername=driver)
                break
        else:
            raise StoreError("a PostgreSQL store needs the psycopg2 driver: pip install 'alwidgets[postgres]'")
    connect_args = {}
    if "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT
    try:
        engine = create_engine(url, connect_args=connect_args, pool_pre_ping=True)
        return engine.execution_options(postgresql_readonly=True) if read_only else engine
    except ModuleNotFoundError as error:
        raise StoreError(
            f"a PostgreSQL store needs the {error.name!r} driver: pip install 'alwidgets[postgres]'"
        ) from None


def connect_message(backend: str, url: str, where: str, error) -> str:
    """Why a store could not be opened; for PostgreSQL, the server and what to check (no password)."""
    if backend == "postgresql":
        parsed = make_url(url)
        return (
            f"cannot connect to the PostgreSQL server at {parsed.host or 'localhost'}:{parsed.port or 5432} "
            f"(database {parsed.database!r}, user {parsed.username!r}): {first_line(error)}. "
            "Check that the server runs, that the host, port and credentials in the URL are right, "
            "and that this machine may connect"
        )
    return f"store {where} cannot be opened: {first_line(error)}"


def first_line(error) -> str:
    orig = getattr(error, "orig", None) or error
    return str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
