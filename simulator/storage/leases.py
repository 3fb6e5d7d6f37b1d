"""Leases: which process runs a piece of background work, until when.

A holder renews its lease well before it runs out; when the holder dies, the lease runs
out and the next process that asks takes it over. Times are wall-clock instants, so the
hosts of several replicas need synchronised clocks (NTP), as any lease does.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from simulator.storage.database import Database, utc
from simulator.storage.tables import leases

_HOLDER = select(leases.c.holder, leases.c.expires_at).where(leases.c.name == bindparam("lease"))


def hold(connection: Connection, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take or renew the lease ``name`` for ``holder`` until ``now + ttl``; whether it is held.

    Call it in a write transaction holding a lock on ``name``.
    """
    row = connection.execute(
        select(leases.c.holder, leases.c.expires_at).where(leases.c.name == name)
    ).first()
    if row is None:
        connection.execute(insert(leases).values(name=name, holder=holder, expires_at=now + ttl))
        return True
    if row.holder != holder and utc(row.expires_at) > now:
        return False
    connection.execute(
        update(leases).where(leases.c.name == name).values(holder=holder, expires_at=now + ttl)
    )
    return True


def current_holder(connection: Connection, name: str) -> tuple[str, datetime] | None:
    """Who holds the lease ``name`` and until when, if anyone ever did."""
    row = connection.execute(
        select(leases.c.holder, leases.c.expires_at).where(leases.c.name == name)
    ).first()
    return None if row is None else (str(row.holder), utc(row.expires_at))


class SqlLeases:
    """Leases of a :class:`Database`."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def hold(self, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
        """Take or renew the lease; whether ``holder`` holds it. Reads first: a lease held by
        another and still running costs no write lock."""
        with self._database.reading() as connection:
            current = current_holder(connection, name)
        if current is not None and current[0] != holder and current[1] > now:
            return False
        with self._database.transaction() as connection:
            self._database.lock(connection, f"lease:{name}")
            return hold(connection, name, holder, now, ttl)

    def release(self, name: str, holder: str) -> None:
        """Give the lease up (when the holder stops), so another takes over at once."""
        with self._database.transaction() as connection:
            connection.execute(delete(leases).where(leases.c.name == name, leases.c.holder == holder))
