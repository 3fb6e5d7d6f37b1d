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
from simulator.storage.journal import DEFAULT_LIMIT, MAX_LIMIT, JournalEntry

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "JournalEntry", "clear", "entry", "read", "record"]


def record(context: Context, entries: Iterable[JournalEntry], *, trim_to: int | None = None) -> None:
    """Store ``entries`` in one transaction; then keep only the newest ``trim_to``, if given."""
    with context.database.transaction() as connection:
        for entry in entries:
            journal_store.record(connection, entry)
        if trim_to is not None:
            journal_store.trim(connection, trim_to)


def read(context: Context, **filters: Any) -> list[JournalEntry]:
    """Journalled requests, newest first, filtered as :func:`simulator.storage.journal.query` says."""
    with context.database.reading() as connection:
        return journal_store.query(connection, **filters)


def entry(context: Context, entry_id: int) -> JournalEntry:
    """One journalled request by its id, or 404."""
    with context.database.reading() as connection:
        found = journal_store.get(connection, entry_id)
    if found is None:
        raise NotFound(f"no journal entry {entry_id} (the journal keeps the newest entries only)")
    return found


def clear(context: Context) -> None:
    """Forget every journalled request."""
    with context.database.transaction() as connection:
        journal_store.clear(connection)
