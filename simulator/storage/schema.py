"""The schema version a database is stamped with, and the check made before it is served.

A database is created and stamped when it holds none of the simulator's tables, used when its
stamp is :data:`SCHEMA_VERSION`, and refused otherwise: one written by an earlier release
(``fibresim_meta`` missing, or an older stamp) may hold values this release would misread, and
one from a newer release may use shapes this one does not know. ``fibresim reset-db`` drops the
simulator's tables and starts again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import Column, Connection, String, Table, inspect, select

from simulator.domain.errors import ConfigurationError
from simulator.storage.tables import metadata

SCHEMA_VERSION = 5
"""Bump when a table changes shape or the meaning of what it stores.

1: releases before the stamp; 3: latency columns and dashboard indexes; 4: service tests and
service problems; 5: the shared clock, leases and fault rules (several processes, one simulator).
"""

VERSION_KEY = "schema_version"

fibresim_meta = Table(
    "fibresim_meta",
    metadata,
    Column("key", String(50), primary_key=True),
    Column("value", String(200), nullable=False),
)


class SchemaMismatch(ConfigurationError):
    """The database was written by another version of fibresim."""


def stamped_version(connection: Connection, tables: Sequence[Table] | None = None) -> int | None:
    """The database's schema version; ``None`` when it holds none of ``tables`` (default: all).

    Simulator tables without a stamp were written by the release before the stamp: version 1.
    """
    names = set(metadata.tables) if tables is None else {table.name for table in tables}
    present = set(inspect(connection).get_table_names()) & names
    if not present:
        return None
    if fibresim_meta.name not in present:
        return 1
    value = connection.execute(
        select(fibresim_meta.c.value).where(fibresim_meta.c.key == VERSION_KEY)
    ).scalar_one_or_none()
    try:
        return int(value) if value is not None else 0
    except ValueError:
        return 0  # unreadable: treated as unknown, never as current


def ensure_schema(connection: Connection, shown: str, tables: Sequence[Table] | None = None) -> None:
    """Create and stamp the tables of an empty database; refuse one of another version.

    ``shown`` names the database in messages (its password masked). ``tables`` (with
    ``fibresim_meta`` among them) makes a database that holds only those, such as the journal's
    own file; by default it holds them all.
    """
    version = stamped_version(connection, tables)
    if version is None:
        metadata.create_all(connection, tables=tables)
        connection.execute(fibresim_meta.insert().values(key=VERSION_KEY, value=str(SCHEMA_VERSION)))
        return
    if version == SCHEMA_VERSION:
        metadata.create_all(connection, tables=tables)  # checkfirst: only tables still missing
        return
    if version > SCHEMA_VERSION:
        written_by = f"a newer fibresim (schema version {version})"
    elif version == 0:
        written_by = "an unknown fibresim (no readable schema version)"
    else:
        written_by = f"an earlier fibresim (schema version {version})"
    raise SchemaMismatch(
        f"database {shown} was written by {written_by}; this fibresim uses schema version "
        f"{SCHEMA_VERSION}: give a new --db, or run 'fibresim reset-db --db {shown}' to drop the "
        "simulator's tables and start empty"
    )


def reset_schema(connection: Connection, tables: Sequence[Table] | None = None) -> None:
    """Drop the simulator's tables (or only ``tables``; others are left alone), then make them anew."""
    metadata.drop_all(connection, tables=tables)  # checkfirst: only the tables that exist
    ensure_schema(connection, "", tables)


def stored_value(connection: Connection, key: str, make: Callable[[], str]) -> str:
    """The meta value ``key``; when there is none yet, ``make()`` is stored and returned.

    Call it in a write transaction holding a lock on ``key``, so two workers store one value.
    """
    value = connection.execute(select(fibresim_meta.c.value).where(fibresim_meta.c.key == key)).scalar()
    if value is not None:
        return str(value)
    made = make()
    connection.execute(fibresim_meta.insert().values(key=key, value=made))
    return made
