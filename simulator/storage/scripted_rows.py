"""What the stores of scripted entities (orders, service tests, service problems) share.

Each keeps a history of events, a ``next_step_due`` column the due-work ticker polls, and
the ids of the amendments and cancellations it received; the statements over those are
the same for every kind and written once here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Connection, Row, Table, select

from simulator.storage.database import utc

__all__ = ["HistoryEntry", "due_keys", "history_entries", "history_values", "optional_utc", "request_owner"]


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """Something that happened to an order, a test or a problem."""

    at: datetime
    event: str
    from_status: str | None
    to_status: str | None
    detail: dict[str, Any] = field(default_factory=dict)


def history_values(entry: HistoryEntry) -> dict[str, Any]:
    """The columns of a history row that ``entry`` fills (the entity's key is the caller's).

    The entry's fields are the history tables' columns, one for one.
    """
    return asdict(entry)


def history_entries(rows: Iterable[Any]) -> list[HistoryEntry]:
    """The entries the history rows hold, in the rows' order."""
    return [HistoryEntry(utc(r.at), r.event, r.from_status, r.to_status, dict(r.detail)) for r in rows]


def optional_utc(value: datetime | None) -> datetime | None:
    """A nullable instant read back from the database, as aware UTC."""
    return None if value is None else utc(value)


def due_keys(
    connection: Connection, table: Table, keys: Sequence[Column[Any]], now: datetime, limit: int
) -> Sequence[Row[Any]]:
    """The ``keys`` of up to ``limit`` rows of ``table`` whose next step is due, earliest first."""
    due = table.c.next_step_due
    return connection.execute(
        select(*keys).where(due.is_not(None), due <= now).order_by(due).limit(limit)
    ).all()


def request_owner(
    connection: Connection, owner: Column[Any], tenant: str, kind: str, request_id: int
) -> Any | None:
    """``owner`` of the row of its table that claims the tenant's request of ``kind``, if any."""
    requests = owner.table.c
    return connection.execute(
        select(owner).where(
            requests.tenant == tenant, requests.kind == kind, requests.request_id == request_id
        )
    ).scalar_one_or_none()
