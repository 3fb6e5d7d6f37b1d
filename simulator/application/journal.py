"""The request journal as the HTTP adapter and the admin surface use it: record, read, forget.

The HTTP layer builds :class:`JournalEntry` values and hands batches here; storage is reached
only through this module, like every other use case.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from simulator.application.context import Context
from simulator.domain.errors import NotFound
from simulator.storage import journal as journal_store
from simulator.storage.database import EncodedJson
from simulator.storage.journal import DEFAULT_LIMIT, MAX_LIMIT, JournalEntry

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "EncodedJson",
    "JournalEntry",
    "checkpoint",
    "clear",
    "dropped",
    "entry",
    "read",
    "record",
]


def record(
    context: Context, entries: Iterable[JournalEntry], *, trim_to: int | None = None, dropped: int = 0
) -> None:
    """Store ``entries`` in one transaction, then keep only the newest ``trim_to``, if given.

    ``dropped`` counts entries the caller had no room to keep; it is added to the total every
    process shares (:func:`dropped`). The trim runs in a transaction of its own, under a lock
    every process takes, so a trim that fails never takes the entries with it.
    """
    database = context.journal_database
    with database.transaction() as connection:
        journal_store.record_many(connection, list(entries))
        journal_store.add_dropped(connection, dropped)
    if trim_to is not None:
        with database.transaction() as connection:
            database.lock(connection, "journal trim")
            journal_store.trim(connection, trim_to)


def dropped(context: Context) -> int:
    """How many entries were dropped, by every process, because a writer's queue was full."""
    with context.journal_database.reading() as connection:
        return journal_store.dropped(connection)


def checkpoint(context: Context, *, larger_than: int = 0) -> bool:
    """Give back the space of SQLite's write-ahead logs (the journal's and the database's) once
    one has grown past ``larger_than`` bytes; whether any was truncated.

    See :func:`journal_store.checkpoint_wal`.
    """
    truncated = journal_store.checkpoint_wal(context.journal_database, larger_than=larger_than)
    if context.journal_database is not context.database:
        truncated |= journal_store.checkpoint_wal(context.database, larger_than=larger_than)
    return truncated


def read(context: Context, **filters: Any) -> list[JournalEntry]:
    """Journalled requests, newest first, filtered as :func:`simulator.storage.journal.query` says."""
    with context.journal_database.reading() as connection:
        return journal_store.query(connection, **filters)


def entry(context: Context, entry_id: int) -> JournalEntry:
    """One journalled request by its id, or 404."""
    with context.journal_database.reading() as connection:
        found = journal_store.get(connection, entry_id)
    if found is None:
        raise NotFound(f"no journal entry {entry_id} (the journal keeps the newest entries only)")
    return found


def clear(context: Context) -> int:
    """Forget every journalled request; how many there were."""
    with context.journal_database.transaction() as connection:
        return journal_store.clear(connection)
