"""Use case: play the scripts of service tests and problems as the simulator clock moves.

Each step moves the test or problem and its KCI goes into the outbox in the same
transaction, so a restart loses nothing.
"""

from __future__ import annotations

from simulator.application.assurance_effects import ProfileAssuranceScripts, apply_assurance_events
from simulator.application.context import Context

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
            played += _play_test(context, tenant, test_id)
        for tenant, problem_id in problems:
            played += _play_problem(context, tenant, problem_id)
    return played


def _play_test(context: Context, tenant: str, test_id: int) -> int:
    with context.store.transaction() as unit:
        unit.lock(f"test:{tenant}:{test_id}")
        found = unit.assurance.get_test(tenant, test_id)
        if found is None:
            return 0
        test = found[0]
        before = test.last_sequence
        events = test.play_next_step(context.clock.now(), ProfileAssuranceScripts(context))
        unit.assurance.save_test(test)
        apply_assurance_events(unit, events)
        return test.last_sequence - before


def _play_problem(context: Context, tenant: str, problem_id: int) -> int:
    with context.store.transaction() as unit:
        unit.lock(f"problem:{tenant}:{problem_id}")
        found = unit.assurance.get_problem(tenant, problem_id)
        if found is None:
            return 0
        problem = found[0]
        before = problem.last_sequence
        events = problem.play_next_step(context.clock.now(), ProfileAssuranceScripts(context), context.zone)
        unit.assurance.save_problem(problem)
        apply_assurance_events(unit, events)
        return problem.last_sequence - before
