"""Use case: play the scripts of service tests and problems as the simulator clock moves.

Each step moves the test or problem and its KCI goes into the outbox in the same
transaction, so a restart loses nothing.
"""

from __future__ import annotations

from typing import Any

from simulator.application.assurance_effects import (
    ProfileAssuranceScripts,
    apply_assurance_events,
    locked_problem,
    locked_test,
)
from simulator.application.context import Context
from simulator.application.ports import UnitOfWork
from simulator.domain.service_problem import ServiceProblem
from simulator.domain.service_test import ServiceTest

BATCH = 50


def run_due_assurance_steps(context: Context, limit: int = 1000) -> int:
    """Play every test and problem step due on the simulator clock; returns how many KCIs that made."""
    played = 0
    for _round in range(limit):  # bounded: each round plays at least one step or stops
        with context.store.reading() as unit:
            tests = unit.assurance.due_tests(context.clock.now(), BATCH)
            problems = unit.assurance.due_problems(context.clock.now(), BATCH)
        if not tests and not problems:
            break
        for tenant, test_id in tests:
            with context.store.transaction() as unit:
                played += _play(context, unit, locked_test(unit, tenant, test_id))
        for tenant, problem_id in problems:
            with context.store.transaction() as unit:
                played += _play(context, unit, locked_problem(unit, tenant, problem_id))
    return played


def _play(context: Context, unit: UnitOfWork, found: tuple[ServiceTest | ServiceProblem, Any] | None) -> int:
    """Play the due step of the test or problem ``found`` (``None``: gone); returns how many KCIs it made."""
    if found is None:
        return 0
    entity = found[0]
    before = entity.last_sequence
    now, scripts = context.clock.now(), ProfileAssuranceScripts(context)
    if isinstance(entity, ServiceTest):
        events = entity.play_next_step(now, scripts)
        unit.assurance.save_test(entity)
    else:
        events = entity.play_next_step(now, scripts, context.zone)
        unit.assurance.save_problem(entity)
    apply_assurance_events(unit, events)
    return entity.last_sequence - before
