"""The request journal: one row per Supplier API request, newest first when read back.

Rows are written in batches by the HTTP adapter's journal writer and read by the admin
surface. Beside an SQLite file the journal has a file of its own (:func:`journal_database`):
SQLite lets one writer in at a time, and the journal's batches would otherwise queue with
the orders and reservations for that turn. Text columns have fixed widths (PostgreSQL
enforces them), so values are clipped here, where the widths are known, rather than by
every caller. The table is bounded by :func:`trim` after every batch; on SQLite,
:func:`checkpoint_wal` gives the write-ahead log's space back, so neither the rows nor the
files grow without bound.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Connection, bindparam, delete, func, insert, select

from simulator.storage.database import Database, utc
from simulator.storage.schema import SchemaMismatch, fibresim_meta
from simulator.storage.tables import journal

#: What the journal's own file holds: the journal, and the stamp and dropped count in the meta table.
JOURNAL_TABLES = (fibresim_meta, journal)
#: The journal's own file is the SQLite file's name with this added (like SQLite's ``-wal``).
FILE_SUFFIX = "-requests"


def journal_database(database: Database) -> Database:
    """Where the journal of ``database`` is kept, its tables made or checked.

    An SQLite file's journal goes in a file of its own beside it, so that its writes never
    wait for the orders' (nor theirs for it), and is disposed of with ``database``. In memory
    and on PostgreSQL, whose writers do not take one turn, it is ``database`` itself.
    """
    if database.file is None:
        return database
    own = Database(database.file + FILE_SUFFIX)
    try:
        own.create_schema(JOURNAL_TABLES)
    except SchemaMismatch:
        own.dispose()
        # The stamp's own advice would name the journal's file as a --db: name the database.
        raise SchemaMismatch(
            f"the request journal beside {database.shown} ({own.shown}) was written by another "
            f"fibresim: delete that file, or run 'fibresim reset-db --db {database.shown}', which "
            "empties it with the database"
        ) from None
    except BaseException:
        own.dispose()
        raise
    database.on_dispose(own.dispose)
    return own


def reset_journal_database(database: Database) -> None:
    """Empty the journal's own file beside ``database`` (if it has one), whatever version wrote it."""
    if database.file is None:
        return
    own = Database(database.file + FILE_SUFFIX)
    try:
        own.reset_schema(JOURNAL_TABLES)
    finally:
        own.dispose()


DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One request as the simulator received and answered it.

    ``body`` and ``response`` hold the JSON (parsed, or :class:`EncodedJson` text checked
    by the writer and stored as it is), a string when the payload was not
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


def _length(column: Column[Any]) -> int | None:
    length: int | None = getattr(column.type, "length", None)
    return length


# The text columns an entry's strings are clipped to, looked up once: the writer clips every row.
_CLIPPED = ("method", "path", "query", "tenant", "request_id", "conversation_id")
_METHOD, _PATH, _QUERY, _TENANT, _REQUEST_ID, _CONVERSATION_ID = (_length(journal.c[n]) for n in _CLIPPED)


def _clip(value: str | None, length: int | None) -> str | None:
    if value is None or length is None or len(value) <= length:
        return value
    return value[:length]


def _row(entry: JournalEntry) -> dict[str, Any]:
    return {
        "at": entry.at,
        "method": _clip(entry.method, _METHOD),
        "path": _clip(entry.path, _PATH),
        "query": _clip(entry.query, _QUERY),
        "tenant": _clip(entry.tenant, _TENANT),
        "request_id": _clip(entry.request_id, _REQUEST_ID),
        "conversation_id": _clip(entry.conversation_id, _CONVERSATION_ID),
        "body": entry.body,
        "status": entry.status,
        "response": entry.response,
        "latency_ms": entry.latency_ms,
    }


# Built once: the writer runs them after every batch.
_INSERT = insert(journal)
_NEWEST = select(func.max(journal.c.id))
_TRIM = delete(journal).where(journal.c.id <= bindparam("last"))
_DROPPED_KEY = "journal_dropped"
_DROPPED = select(fibresim_meta.c.value).where(fibresim_meta.c.key == _DROPPED_KEY)


def record(connection: Connection, entry: JournalEntry) -> None:
    """Store ``entry`` (its ``id`` is ignored; the database assigns one)."""
    record_many(connection, [entry])


def record_many(connection: Connection, entries: list[JournalEntry]) -> None:
    """Store ``entries`` in one statement, in order (ids are assigned by the database)."""
    if entries:
        connection.execute(_INSERT, [_row(entry) for entry in entries])


def _entry(row: Any) -> JournalEntry:
    # The table's columns are the entry's fields, one for one; only the instant needs its zone back.
    return JournalEntry(**{**row._mapping, "at": utc(row.at)})


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
    """Delete all but the newest ``keep`` entries; returns how many went.

    Safe when several writers trim at once: each deletes below a threshold taken from the
    newest id, so two trims only ever remove old rows, never a batch another just wrote.
    """
    newest = connection.execute(_NEWEST).scalar()
    if newest is None or newest <= keep:
        return 0
    return connection.execute(_TRIM, {"last": newest - keep}).rowcount


def add_dropped(connection: Connection, count: int) -> None:
    """Add ``count`` to the entries dropped for want of room, a total kept across processes."""
    if count <= 0:
        return
    current = connection.execute(_DROPPED).scalar()
    if current is None:
        connection.execute(fibresim_meta.insert().values(key=_DROPPED_KEY, value=str(count)))
    else:
        total = int(current) + count if str(current).isdigit() else count
        connection.execute(
            fibresim_meta.update().where(fibresim_meta.c.key == _DROPPED_KEY).values(value=str(total))
        )


def dropped(connection: Connection) -> int:
    """How many entries every process has dropped since the database was made."""
    current = connection.execute(_DROPPED).scalar()
    return int(current) if current is not None and str(current).isdigit() else 0


def checkpoint_wal(database: Database, *, larger_than: int = 0) -> bool:
    """On SQLite, copy the write-ahead log into the database and truncate it; whether it did.

    Only once the log has grown past ``larger_than`` bytes: SQLite's own checkpoints copy it
    back as it goes without holding anyone up, but its file keeps the size of its busiest
    moment, and truncating it holds new writers off while it runs. The checkpoint waits at
    most a few milliseconds for readers to move on (it tries again next time) rather than
    hold writers up longer; on other databases there is nothing to do.
    """
    if database.file is None:
        return False
    try:
        size = os.path.getsize(f"{database.file}-wal")
    except OSError:  # no log at all: nothing to give back
        return False
    if size <= larger_than:
        return False
    raw = database.engine.raw_connection()
    try:
        cursor = raw.cursor()
        (timeout,) = cursor.execute("PRAGMA busy_timeout").fetchone()
        try:
            cursor.execute("PRAGMA busy_timeout=20")
            busy, _, _ = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            return bool(busy == 0)
        finally:
            cursor.execute(f"PRAGMA busy_timeout={int(timeout)}")
            cursor.close()
    finally:
        raw.close()
