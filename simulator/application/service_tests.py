"""Use case: run a service test on a live service (reference §3.10).

The test must name a live service of the calling tenant with its specification, and a
problem type the supplier handles for it (the tenant's characteristics are checked too
when the profile says the gateway forwards them). It is answered 201; its script then
plays on the simulator clock (:mod:`simulator.application.assurance_steps`). A repeated
test id gets the first answer again.
"""

from __future__ import annotations

from simulator.application.assurance_effects import apply_assurance_events, assurance_script_for, locked_test
from simulator.application.assurance_views import test_answer
from simulator.application.context import Context
from simulator.application.orders import Answer
from simulator.domain.assurance import check_characteristics, check_live_service, check_problem_type
from simulator.domain.assurance_commands import RunServiceTest
from simulator.domain.assurance_scripts import AssuranceKind
from simulator.domain.scripted import Reply
from simulator.domain.service_test import ServiceTest

__all__ = ["run_service_test"]


def run_service_test(context: Context, command: RunServiceTest) -> Answer:
    """Accept (201) or refuse (422) a service test."""
    script = assurance_script_for(context, command.scenario, AssuranceKind.TEST)
    with context.store.transaction() as unit:
        existing = locked_test(unit, command.tenant, command.test_id)
        if existing is not None:
            return Answer(Reply.DONE, existing[1])
        now = context.clock.now()
        service = check_live_service(command, unit.inventory.get(command.service_id))
        check_problem_type(context.profile.assurance, service, command.problem_type)
        if context.profile.assurance.check_test_characteristics:
            check_characteristics(command.problem_type, command.characteristics, now)
        test, events = ServiceTest.start(command, script, now)
        body = test_answer(test)
        unit.assurance.add_test(test, body)
        apply_assurance_events(unit, events)
    return Answer(Reply.DONE, body)
