"""State all workers and replicas share: the simulator clock and the versions caches are keyed by.

One small table, one row per name (:data:`~simulator.storage.tables.shared_state`). Every
request reads it at most once (:func:`read_all`, one statement built at import); a write
that changes what a version stands for bumps it in its own transaction (:func:`bump`), so
every process sees the change as soon as it commits.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from simulator.domain.clock import ClockState
from simulator.storage.database import Database, shared_changed, utc
from simulator.storage.tables import shared_state

CLOCK = "clock"
INVENTORY = "inventory"
CAPACITY = "capacity"
FAULTS = "faults"
VERSIONED = (INVENTORY, CAPACITY, FAULTS)

_READ_ALL = select(shared_state.c.name, shared_state.c.version, shared_state.c.value)
_BUMP = (
    update(shared_state)
    .where(shared_state.c.name == bindparam("row"))
    .values(version=shared_state.c.version + 1)
)
_PUT_CLOCK = (
    update(shared_state)
    .where(shared_state.c.name == CLOCK)
    .values(version=shared_state.c.version + 1, value=bindparam("state"))
)


def read_all(connection: Connection) -> dict[str, tuple[int, Any]]:
    """Every row: name -> (version, value)."""
    return {name: (int(version), value) for name, version, value in connection.execute(_READ_ALL)}


def bump(connection: Connection, *names: str) -> None:
    """Move the versions ``names`` on (in the caller's transaction)."""
    connection.execute(_BUMP, [{"row": name} for name in names])
    shared_changed(connection)


def ensure_rows(connection: Connection) -> None:
    """Create the version rows a new database lacks (the clock row is :func:`put_clock`'s)."""
    present = set(read_all(connection))
    missing = [{"name": name, "version": 1, "value": None} for name in VERSIONED if name not in present]
    if missing:
        connection.execute(insert(shared_state), missing)
        shared_changed(connection)


def clock_json(state: ClockState) -> dict[str, Any]:
    """A clock state as stored."""
    return {
        "kind": state.kind,
        "start": state.start.isoformat(),
        "wallStart": state.wall_start.isoformat(),
        "factor": state.factor,
        "offsetMicroseconds": state.offset // timedelta(microseconds=1),
        "horizon": state.horizon.isoformat(),
        "spec": state.spec,
    }


def clock_from_json(value: dict[str, Any]) -> ClockState:
    """A stored clock state."""
    return ClockState(
        kind=str(value["kind"]),
        start=utc(datetime.fromisoformat(value["start"])),
        wall_start=utc(datetime.fromisoformat(value["wallStart"])),
        factor=float(value["factor"]),
        offset=timedelta(microseconds=int(value["offsetMicroseconds"])),
        horizon=utc(datetime.fromisoformat(value["horizon"])),
        spec=str(value["spec"]),
    )


def get_clock(connection: Connection) -> ClockState | None:
    """The stored clock, if there is one."""
    value = connection.execute(
        select(shared_state.c.value).where(shared_state.c.name == CLOCK)
    ).scalar_one_or_none()
    return None if value is None else clock_from_json(value)


def put_clock(connection: Connection, state: ClockState) -> None:
    """Store the clock (creating its row the first time)."""
    shared_changed(connection)
    if connection.execute(_PUT_CLOCK, {"state": clock_json(state)}).rowcount == 0:
        connection.execute(insert(shared_state).values(name=CLOCK, version=1, value=clock_json(state)))


@dataclass(frozen=True, slots=True)
class SharedSnapshot:
    """The shared state as one read saw it."""

    versions: dict[str, int]
    clock: ClockState | None


def snapshot(connection: Connection) -> SharedSnapshot:
    """Every version and the clock, in one statement."""
    rows = read_all(connection)
    clock = rows.get(CLOCK)
    versions = {name: version for name, (version, _value) in rows.items()}
    return SharedSnapshot(versions, None if clock is None or clock[1] is None else clock_from_json(clock[1]))


class SqlSharedState:
    """The shared state of a :class:`Database` (the application's ``SharedStateStore``).

    Every request reads it, so the read skips the connection pool and SQLAlchemy's
    per-statement work (:meth:`Database.read_directly`). The clock's stored JSON is parsed
    once per clock version.
    """

    def __init__(self, database: Database) -> None:
        self._database = database
        self._parsed: tuple[int, ClockState] | None = None
        self._last: tuple[int, SharedSnapshot] | None = None

    def snapshot(self) -> SharedSnapshot:
        """Every version and the clock, as stored now.

        On SQLite the last read is reused while the database's :class:`Generation` stands
        still: no process has committed a change to the shared state since.
        """
        generation = self._database.generation
        if generation is None:
            return self._read()
        seen = generation.read()  # before the read: a change committed meanwhile is read next time
        last = self._last
        if last is not None and last[0] == seen:
            return last[1]
        read = self._read()
        self._last = (seen, read)
        return read

    def _read(self) -> SharedSnapshot:
        rows = self._database.read_directly(_READ_ALL)
        versions: dict[str, int] = {}
        clock: ClockState | None = None
        for name, version, value in rows:
            versions[name] = int(version)
            if name == CLOCK and value is not None:
                clock = self._clock(int(version), value)
        return SharedSnapshot(versions, clock)

    def _clock(self, version: int, value: Any) -> ClockState:
        parsed = self._parsed
        if parsed is None or parsed[0] != version:
            parsed = self._parsed = (
                version,
                clock_from_json(json.loads(value) if isinstance(value, str) else value),
            )
        return parsed[1]

    @contextmanager
    def _clock_transaction(self) -> Iterator[Connection]:
        with self._database.transaction() as connection:
            self._database.lock(connection, "fibresim clock")
            yield connection

    def move_clock(self, change: Callable[[ClockState], ClockState]) -> ClockState:
        """Apply ``change`` to the stored clock under a lock; returns the new state."""
        with self._clock_transaction() as connection:
            current = get_clock(connection)
            if current is None:
                raise LookupError("the database has no clock: the simulator was not opened on it")
            moved = change(current)
            put_clock(connection, moved)
            return moved

    def join_clock(self, wanted: ClockState) -> ClockState:
        """The stored clock when it is the one ``wanted`` describes, else ``wanted``, stored.

        Workers and replicas started with the same ``--clock`` and horizon share the stored
        clock (and where it was moved to); a clock built in code (no spec) or another spec
        starts afresh. The version rows are created here too.
        """
        with self._clock_transaction() as connection:
            ensure_rows(connection)
            current = get_clock(connection)
            if (
                current is not None
                and wanted.spec
                and (current.spec, current.horizon)
                == (
                    wanted.spec,
                    wanted.horizon,
                )
            ):
                return current
            put_clock(connection, wanted)
            return wanted

    def bump(self, *names: str) -> None:
        """Move the versions ``names`` on, in a transaction of their own."""
        with self._database.transaction() as connection:
            bump(connection, *names)
