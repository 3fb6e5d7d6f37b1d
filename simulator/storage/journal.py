"""The request journal: one row per Supplier API request, newest first when read back.

Rows are written by the HTTP adapter after each answer and read by the admin surface.
Text columns have fixed widths (PostgreSQL enforces them), so values are clipped here,
where the widths are known, rather than by every caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Connection, delete, func, insert, select

from simulator.storage.database import utc
from simulator.storage.tables import journal

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One request as the simulator received and answered it.

    ``body`` and ``response`` hold the parsed JSON, a string when the payload was not
    JSON (or too large to keep whole), or ``None`` when there was none. ``status`` is
    ``0`` when the connection was dropped without an answer. ``id`` is set by the database.
    ``latency_ms`` is how long the answer took from arrival (real time, fault delays included).
    Between the request and the journal writer, ``response`` may still be the raw bytes;
    the writer decodes them before storing.
    """

    at: datetime
    method: str
    path: str
    query: str
    tenant: str | None
    request_id: str | None
    conversation_id: str | None
    body: Any
    status: int
    response: Any
    id: int | None = None
    latency_ms: int | None = None


def _clip(value: str | None, column: Column[Any]) -> str | None:
    length: int | None = getattr(column.type, "length", None)
    if value is None or length is None or len(value) <= length:
        return value
    return value[:length]


def record(connection: Connection, entry: JournalEntry) -> None:
    """Store ``entry`` (its ``id`` is ignored; the database assigns one)."""
    columns = journal.c
    connection.execute(
        insert(journal).values(
            at=entry.at,
            method=_clip(entry.method, columns.method),
            path=_clip(entry.path, columns.path),
            query=_clip(entry.query, columns.query),
            tenant=_clip(entry.tenant, columns.tenant),
            request_id=_clip(entry.request_id, columns.request_id),
            conversation_id=_clip(entry.conversation_id, columns.conversation_id),
            body=entry.body,
            status=entry.status,
            response=entry.response,
            latency_ms=entry.latency_ms,
        )
    )


def _entry(row: Any) -> JournalEntry:
    return JournalEntry(
        id=row.id,
        at=utc(row.at),
        method=row.method,
        path=row.path,
        query=row.query,
        tenant=row.tenant,
        request_id=row.request_id,
        conversation_id=row.conversation_id,
        body=row.body,
        status=row.status,
        response=row.response,
        latency_ms=row.latency_ms,
    )


def query(
    connection: Connection,
    *,
    method: str | None = None,
    path: str | None = None,
    tenant: str | None = None,
    status: int | None = None,
    since: datetime | None = None,
    limit: int = DEFAULT_LIMIT,
    before_id: int | None = None,
) -> list[JournalEntry]:
    """Entries matching every filter given, newest first, at most ``limit`` (capped at 1000).

    ``before_id`` pages on: only entries older than that one (a keyset, so a page costs the
    same however deep it is).
    """
    statement = select(journal)
    if before_id is not None:
        statement = statement.where(journal.c.id < before_id)
    if method is not None:
        statement = statement.where(journal.c.method == method.upper())
    if path is not None:
        statement = statement.where(journal.c.path == path)
    if tenant is not None:
        statement = statement.where(journal.c.tenant == tenant)
    if status is not None:
        statement = statement.where(journal.c.status == status)
    if since is not None:
        statement = statement.where(journal.c.at >= since.astimezone(UTC))
    # The id, not the time: on a manual clock many requests share one instant.
    statement = statement.order_by(journal.c.id.desc()).limit(max(0, min(limit, MAX_LIMIT)))
    return [_entry(row) for row in connection.execute(statement)]


def get(connection: Connection, entry_id: int) -> JournalEntry | None:
    """One entry by its id, if it is still kept."""
    row = connection.execute(select(journal).where(journal.c.id == entry_id)).first()
    return None if row is None else _entry(row)


def clear(connection: Connection) -> int:
    """Delete every entry; returns how many there were."""
    return connection.execute(delete(journal)).rowcount


def trim(connection: Connection, keep: int) -> int:
    """Delete all but the newest ``keep`` entries; returns how many went."""
    newest = connection.execute(select(func.max(journal.c.id))).scalar()
    if newest is None or newest <= keep:
        return 0
    return connection.execute(delete(journal).where(journal.c.id <= newest - keep)).rowcount
