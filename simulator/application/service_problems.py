"""Use cases: raise, amend and cancel a service problem (reference §3.11).

A problem must name a live service of the calling tenant, with its specification, a
problem type the supplier handles for it, and the tenant's characteristics
(:func:`simulator.domain.assurance.check_characteristics`). It is answered 201 or 202 (or
422) by its script; amendments (escalation requests included) and cancellations are
answered by theirs. Repeated ids get their first answer again; ids are the tenant's own.
"""

from __future__ import annotations

from simulator.application.assurance_effects import (
    ProfileAssuranceScripts,
    apply_assurance_events,
    assurance_script_for,
    locked_problem,
)
from simulator.application.assurance_views import problem_answer, request_answer
from simulator.application.context import Context
from simulator.application.orders import Answer
from simulator.application.ports import UnitOfWork
from simulator.domain.assurance import check_characteristics, check_live_service, check_problem_type
from simulator.domain.assurance_commands import AmendProblem, CancelProblem, RaiseProblem
from simulator.domain.assurance_scripts import ESCALATION_SCENARIO, AssuranceKind
from simulator.domain.errors import BusinessRuleViolation, NotFound
from simulator.domain.scripted import Reply
from simulator.domain.service_problem import ServiceProblem

__all__ = ["amend_problem", "cancel_problem", "raise_problem"]


def raise_problem(context: Context, command: RaiseProblem) -> Answer:
    """Accept (201 acknowledged / 202 later) or refuse (422) a service problem."""
    script = assurance_script_for(context, command.scenario, AssuranceKind.PROBLEM)
    with context.store.transaction() as unit:
        existing = locked_problem(unit, command.tenant, command.problem_id)
        if existing is not None:
            return Answer(existing[0].reply, existing[1])
        now = context.clock.now()
        service = check_live_service(command, unit.inventory.get(command.service_id))
        if command.address is not None and command.address.key != service.address.key:
            raise BusinessRuleViolation(f"service {command.service_id} is not at the address given")
        check_problem_type(context.profile.assurance, service, command.problem_type)
        check_characteristics(command.problem_type, command.characteristics, now)
        problem, events = ServiceProblem.raise_problem(command, script, ProfileAssuranceScripts(context), now)
        body = problem_answer(problem) if problem.reply is Reply.DONE else None
        unit.assurance.add_problem(problem, body)
        apply_assurance_events(unit, events)
    return Answer(problem.reply, body)


def _locked_problem(unit: UnitOfWork, tenant: str, problem_id: int) -> ServiceProblem:
    found = locked_problem(unit, tenant, problem_id)
    if found is None:
        raise NotFound(f"no service problem {problem_id} for {tenant}")
    return found[0]


def _repeat(unit: UnitOfWork, problem: ServiceProblem, kind: AssuranceKind, request_id: int) -> Answer | None:
    """The first answer to a repeated request id; a tenant's id names one request of one problem."""
    owner = unit.assurance.request_owner(problem.tenant, kind, request_id)
    if owner is None:
        return None
    request = problem.request_answered_before(kind, request_id)
    return Answer(request.reply, request_answer(problem, request))


def amend_problem(context: Context, command: AmendProblem) -> Answer:
    """Accept (201 applied / 202 pending) or refuse (404, 422) an amendment or escalation request."""
    default = ESCALATION_SCENARIO if command.changes.escalation else None
    script = assurance_script_for(context, command.scenario, AssuranceKind.PROBLEM_AMENDMENT, default)
    with context.store.transaction() as unit:
        problem = _locked_problem(unit, command.tenant, command.entity_id)
        repeated = _repeat(unit, problem, AssuranceKind.PROBLEM_AMENDMENT, command.request_id)
        if repeated is not None:
            return repeated
        if command.changes.characteristics is not None:
            check_characteristics(problem.problem_type, command.changes.characteristics, context.clock.now())
        request, events = problem.amend(
            command,
            script,
            refuse_while_pending=context.profile.assurance.refuse_second_amendment,
            scripts=ProfileAssuranceScripts(context),
            now=context.clock.now(),
        )
        unit.assurance.save_problem(problem)
        apply_assurance_events(unit, events)
        return Answer(request.reply, request_answer(problem, request))


def cancel_problem(context: Context, command: CancelProblem) -> Answer:
    """Accept (201 cancelled / 202 pending) or refuse (404, 422) a cancellation."""
    script = assurance_script_for(context, command.scenario, AssuranceKind.PROBLEM_CANCELLATION)
    with context.store.transaction() as unit:
        problem = _locked_problem(unit, command.tenant, command.entity_id)
        repeated = _repeat(unit, problem, AssuranceKind.PROBLEM_CANCELLATION, command.request_id)
        if repeated is not None:
            return repeated
        request, events = problem.cancel(
            command, script, scripts=ProfileAssuranceScripts(context), now=context.clock.now()
        )
        unit.assurance.save_problem(problem)
        apply_assurance_events(unit, events)
        return Answer(request.reply, request_answer(problem, request))
