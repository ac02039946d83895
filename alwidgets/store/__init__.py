"""Where labels live: an append-only log of label events, and leases on items.

A label is never overwritten or deleted. Taking one back appends a
``retract`` event; skipping appends a ``skip``. ``Session.labels`` is what
remains when the log is replayed, so a store can be shared, audited and
resumed. Items are named by a stable ``item_id`` (a content hash or a
user-given id), never by a row position.

Several annotators may label from one store at once. Each label is a *vote*;
the label used for training is the majority of the votes on an item, and a
tie is left open. So that two people are not shown the same item, a session
*leases* what it shows: a lease is a slot on an item (``overlap`` slots per
item), held by one annotator until it is answered or times out. An answered
slot stays taken, so an item is never given to more annotators than asked.

A lease also names its *holder* (the page or session that shows the item)
and carries a *heartbeat*: the last time that holder said it is still there.
The holder refreshes it while its page is open (:meth:`Store.heartbeat`,
which the dashboard's poll calls) and gives its leases back when its kernel
ends. "Being labeled right now" counts only *live* leases, whose heartbeat is
recent (``leases(live_within=...)``), so the lease of a page whose kernel was
killed is not counted, even while it still keeps its item from others until
it expires.

The package is laid out in modules, each importing only those before it:

- :mod:`~alwidgets.store.events`: label events, their kinds, the store errors,
  campaign records, :func:`majority` and :class:`Tally`;
- :mod:`~alwidgets.store.leases`: :class:`LeaseRow` and the leasing rules;
- :mod:`~alwidgets.store.memory`: :class:`MemoryStore`, in Python objects (one process);
- :mod:`~alwidgets.store.sql`: :class:`~alwidgets.store.sql.SQLStore`, in SQLite or
  PostgreSQL (imported only when a path or URL is opened);
- this module: the :class:`Store` protocol, :func:`is_store` and :func:`open_store`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from alwidgets._validation import InvalidParameterError
from alwidgets.store.events import (
    CAMPAIGN_KEYS,
    KINDS,
    LABEL,
    RETRACT,
    SKIP,
    InvalidEventWarning,
    InvalidLabel,
    LabelEvent,
    StoreError,
    StoreUnavailable,
    Tally,
    campaign_info,
    check_campaign,
    check_classes,
    check_event,
    majority,
    read_label,
    replay,
    report_invalid,
    set_majority,
)
from alwidgets.store.leases import DEFAULT_LEASE_TIMEOUT, LIVE_SECONDS, LeaseBook, LeaseRow, answer, lease_items
from alwidgets.store.memory import MemoryStore

__all__ = [
    "CAMPAIGN_KEYS",
    "DEFAULT_LEASE_TIMEOUT",
    "InvalidEventWarning",
    "InvalidLabel",
    "KINDS",
    "LABEL",
    "LIVE_SECONDS",
    "LabelEvent",
    "LeaseBook",
    "LeaseRow",
    "MemoryStore",
    "RETRACT",
    "SKIP",
    "STORE_METHODS",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "Tally",
    "answer",
    "campaign_info",
    "check_campaign",
    "check_classes",
    "check_event",
    "is_store",
    "lease_items",
    "majority",
    "missing_methods",
    "open_store",
    "read_label",
    "replay",
    "report_invalid",
    "set_majority",
]


class Store(Protocol):
    """What a :class:`~alwidgets.engine.session.Session` uses from a store: every one of these methods.

    :class:`MemoryStore` and :class:`~alwidgets.store.sql.SQLStore` are
    stores; so is any object of one's own with all of them, passed as
    ``Session(..., store=obj)``. :func:`open_store` refuses an object that has
    some but not all, naming those it lacks. (``python -m alwidgets serve``
    also calls ``bind_campaign`` and ``info``, on the store it opens itself
    from a path; both built-in stores have them.)
    """

    def append_many(self, events: list[LabelEvent]) -> list[LabelEvent]:
        """Add ``events`` to the log at once (all or none); returns them with their sequence numbers.

        Each label fills the annotator's lease slot on its item; a retraction
        or a skip gives the slot back (:func:`answer`).
        """
        ...

    def events(self, since: int = 0) -> list[LabelEvent]:
        """Every event with a sequence number above ``since``, in log order."""
        ...

    def lease(self, annotator: str, candidates: Iterable[str], n: int = 1, *, slots: int = 1,
              extra_slots: dict[str, int] | None = None, timeout: float = DEFAULT_LEASE_TIMEOUT,
              release_others: bool = True, holder: str = "") -> list[str]:
        """Lease to ``annotator`` the first ``n`` items of ``candidates`` still free; see :func:`lease_items`."""
        ...

    def release(self, annotator: str, item_ids: Iterable[str] | None = None, *, holder: str | None = None) -> None:
        """Give back ``annotator``'s unanswered leases (all when ``item_ids`` is None; with ``holder``, that page's)."""
        ...

    def leases(self, live_within: float | None = None) -> list[LeaseRow]:
        """The leases held now; with ``live_within``, those whose holder sent a heartbeat that recently."""
        ...

    def heartbeat(self, holder: str) -> None:
        """Say that ``holder`` (a page) is still open: its unanswered leases stay live."""
        ...

    def close(self) -> None:
        """Release what the store holds (connections, files)."""
        ...


STORE_METHODS: tuple[str, ...] = tuple(name for name, value in vars(Store).items()
                                       if callable(value) and not name.startswith("_"))


def missing_methods(obj) -> list[str]:
    """The methods of :class:`Store` that ``obj`` lacks, in the protocol's order."""
    return [name for name in STORE_METHODS if not callable(getattr(obj, name, None))]


def is_store(obj) -> bool:
    """Whether ``obj`` has every method a Session uses from a store (:data:`STORE_METHODS`)."""
    return not missing_methods(obj)


def open_store(store, *, create: bool = True, read_only: bool = False, classes=None) -> Store:
    """A store from what a user passes as ``store=``.

    ``None`` -> a new :class:`MemoryStore`; a path (``"labels.db"``,
    ``Path``) or ``"sqlite:///labels.db"`` -> a SQLite file; a
    ``"postgresql://user@host/db"`` URL -> PostgreSQL; a store object (one
    with every method of :class:`Store`) passes through, and an object with
    only some of them is refused, naming those it lacks. With ``create=False``
    a store that does not exist yet is an error instead of being made. With
    ``read_only=True`` (export) nothing is ever written to the database, nor
    next to a SQLite file. With ``classes``, a store bound to a campaign of
    other classes is refused (:func:`check_classes`), as ``serve`` refuses it:
    its labels would otherwise be read as labels of these classes.
    """
    if store is None:
        return MemoryStore()
    if isinstance(store, (str, Path)):
        from alwidgets.store.sql import SQLStore  # sqlalchemy is imported only now

        opened = SQLStore(store, create=create and not read_only, read_only=read_only)
        try:
            _check_bound_classes(opened, classes)
        except BaseException:
            opened.close()
            raise
        return opened
    missing = missing_methods(store)
    if not missing:
        _check_bound_classes(store, classes)
        return store
    if len(missing) < len(STORE_METHODS):
        raise InvalidParameterError(
            f"store {type(store).__name__} lacks {', '.join(missing)}: a store object must have every method "
            f"of alwidgets.store.Store ({', '.join(STORE_METHODS)})"
        )
    raise InvalidParameterError(
        "store must be None (labels in memory), a SQLite file path such as 'labels.db', "
        f"a 'postgresql://user@host/db' URL or a store object; got {store!r}"
    )


def _check_bound_classes(store, classes) -> None:
    """:func:`check_classes` on a store that records its campaign (``info()``).

    A campaign service's store (``whoami``) is skipped: the service checked its
    campaign when it opened the store, and the page's own check
    (``Campaign.open_store``) already asked it; a Session there saves the request.
    """
    info = getattr(store, "info", None)
    if classes is None or not callable(info) or callable(getattr(store, "whoami", None)):
        return
    recorded = info()
    if isinstance(recorded, dict):
        check_classes(recorded, classes, repr(store))
