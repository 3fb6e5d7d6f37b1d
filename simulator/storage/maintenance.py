"""Whole-database operations: emptying every table for a reset."""

from __future__ import annotations

from sqlalchemy import Connection, delete

from simulator.storage.schema import fibresim_meta
from simulator.storage.tables import fault_rules, leases, metadata, shared_state


def clear_all(connection: Connection) -> dict[str, int]:
    """Delete every row of every table in the schema; returns the rows removed per table.

    Driven by the metadata, so a table added later is emptied too; children before parents,
    should foreign keys ever appear. ``fibresim_meta`` is kept: it describes the database (the
    schema version stamp, the token signing key), not the simulator's state; so are the shared
    clock and versions, the background lease (the reset moves them itself) and the fault rules
    (the admin API's reset clears them and counts them on their own).
    """
    kept = {fibresim_meta, shared_state, leases, fault_rules}
    removed: dict[str, int] = {}
    for table in reversed(metadata.sorted_tables):
        if table in kept:
            continue
        removed[table.name] = connection.execute(delete(table)).rowcount
    return removed
