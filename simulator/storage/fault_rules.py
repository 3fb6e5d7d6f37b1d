"""Fault-injection rules in the database, so every worker and replica applies the same ones."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from simulator.domain.faults import FaultRule, FaultSpec
from simulator.storage.database import Database
from simulator.storage.shared_state import FAULTS, bump
from simulator.storage.tables import fault_rules

_LISTING = select(fault_rules).order_by(fault_rules.c.id)


def _rule(row: Any) -> FaultRule:
    return FaultRule(int(row.id), FaultSpec(**row.spec), row.remaining, int(row.hits), int(row.draws))


class SqlFaultRules:
    """The fault rules of a :class:`Database` (the application's ``FaultRuleStore``)."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def listing(self) -> list[FaultRule]:
        """Every rule, oldest first."""
        with self._database.reading() as connection:
            return [_rule(row) for row in connection.execute(_LISTING)]

    @contextmanager
    def _locked(self) -> Iterator[Connection]:
        with self._database.transaction() as connection:
            self._database.lock(connection, "fibresim faults")
            yield connection

    def add(self, spec: FaultSpec) -> FaultRule:
        """Store a new rule after the others (its seed defaults to its id)."""
        with self._locked() as connection:
            last = connection.execute(select(func.max(fault_rules.c.id))).scalar()
            rule_id = int(last or 0) + 1
            spec = replace(spec, seed=rule_id if spec.seed is None else spec.seed)
            connection.execute(
                insert(fault_rules).values(
                    id=rule_id, spec=asdict(spec), remaining=spec.times, hits=0, draws=0
                )
            )
            bump(connection, FAULTS)
            return FaultRule(rule_id, spec, spec.times, 0, 0)

    def remove(self, rule_id: int) -> bool:
        """Remove one rule; whether it was there."""
        if not 0 < rule_id < 2**63:  # no stored id is out of the column's range
            return False
        with self._locked() as connection:
            removed = connection.execute(delete(fault_rules).where(fault_rules.c.id == rule_id)).rowcount
            bump(connection, FAULTS)
            return bool(removed)

    def clear(self) -> int:
        """Remove every rule; how many there were."""
        with self._locked() as connection:
            removed = connection.execute(delete(fault_rules)).rowcount
            bump(connection, FAULTS)
            return int(removed)

    @contextmanager
    def updating(self) -> Iterator[_SqlUpdate]:
        """The rules under a lock, in one transaction."""
        with self._locked() as connection:
            yield _SqlUpdate(connection)


class _SqlUpdate:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def get(self, ids: list[int]) -> list[FaultRule]:
        rows = self._connection.execute(_LISTING.where(fault_rules.c.id.in_(ids)))
        return [_rule(row) for row in rows]

    def save(self, rule: FaultRule) -> None:
        self._connection.execute(
            update(fault_rules)
            .where(fault_rules.c.id == rule.id)
            .values(remaining=rule.remaining, hits=rule.hits, draws=rule.draws)
        )
        if rule.remaining == 0:
            bump(self._connection, FAULTS)
