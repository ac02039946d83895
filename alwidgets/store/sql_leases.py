"""The SQL store's lease book: the leasing rules' storage operations as statements on ``alw_leases``.

:mod:`alwidgets.store.leases` decides who gets which slot of an item; a
:class:`SQLLeaseBook` carries those decisions out inside one open, serialized
write transaction of :class:`~alwidgets.store.sql.SQLStore`.
"""

from __future__ import annotations

from sqlalchemy import and_, delete, select

from alwidgets.store.leases import LeaseBook, LeaseRow
from alwidgets.store.sql_schema import lease_row, leases_table

__all__ = ["SQLLeaseBook"]


class SQLLeaseBook(LeaseBook):
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
            out.setdefault(r.item_id, []).append(lease_row(r))
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
