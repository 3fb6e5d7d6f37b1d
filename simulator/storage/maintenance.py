"""Whole-database operations: emptying every table for a reset."""

from __future__ import annotations

from sqlalchemy import Connection, delete

from simulator.storage.tables import metadata


def clear_all(connection: Connection) -> dict[str, int]:
    """Delete every row of every table in the schema; returns the rows removed per table.

    Driven by the metadata, so a table added later is emptied too; children before parents,
    should foreign keys ever appear.
    """
    removed: dict[str, int] = {}
    for table in reversed(metadata.sorted_tables):
        removed[table.name] = connection.execute(delete(table)).rowcount
    return removed
