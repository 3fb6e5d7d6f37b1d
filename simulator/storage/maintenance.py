"""Whole-database operations: emptying every table for a reset."""

from __future__ import annotations

from sqlalchemy import Connection, delete

from simulator.storage.schema import fibresim_meta
from simulator.storage.tables import metadata


def clear_all(connection: Connection) -> dict[str, int]:
    """Delete every row of every table in the schema; returns the rows removed per table.

    Driven by the metadata, so a table added later is emptied too; children before parents,
    should foreign keys ever appear. ``fibresim_meta`` is kept: it describes the database (the
    schema version stamp, the token signing key), not the simulator's state.
    """
    removed: dict[str, int] = {}
    for table in reversed(metadata.sorted_tables):
        if table is fibresim_meta:
            continue
        removed[table.name] = connection.execute(delete(table)).rowcount
    return removed
