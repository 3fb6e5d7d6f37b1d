"""Acting on what tests and problems report: history and the KCI outbox, in the same transaction."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from simulator.application.assurance_views import problem_entity, test_entity
from simulator.application.context import Context
from simulator.application.kci_outbox import enqueue_kci
from simulator.application.ports import UnitOfWork
from simulator.assurance_script_loader import load_assurance_scripts
from simulator.domain.assurance_events import AssuranceEvent, AssuranceNoted
from simulator.domain.assurance_scripts import AssuranceKind, AssuranceScript, resolve_assurance_script
from simulator.domain.order_commands import Scenario
from simulator.domain.order_events import OrderId
from simulator.domain.scripted import KciDue
from simulator.domain.service_problem import ServiceProblem
from simulator.domain.service_test import ServiceTest
from simulator.storage.orders import HistoryEntry


def assurance_script_for(
    context: Context, scenario: Scenario, kind: AssuranceKind, default: str | None = None
) -> AssuranceScript:
    """The script a request runs: its ``X-Scenario``, else ``default``, else the profile's for its kind."""
    return resolve_assurance_script(
        load_assurance_scripts(),
        scenario.name,
        kind,
        params=dict(scenario.params),
        problem_code=scenario.problem_code,
        kci_delay=scenario.kci_delay,
        default=default or context.profile.assurance.scenarios.get(kind.value),
    )


class ProfileAssuranceScripts:
    """The scripts tests and problems play (their scenario names the script)."""

    def __init__(self, context: Context) -> None:
        self._context = context

    def script(self, scenario: Scenario, kind: AssuranceKind) -> AssuranceScript:
        """The script ``scenario`` selects for a request of ``kind``."""
        return assurance_script_for(self._context, scenario, kind)


def locked_test(unit: UnitOfWork, tenant: str, test_id: int) -> tuple[ServiceTest, dict[str, Any]] | None:
    """The tenant's test and its first answer (``None``: there is none), read once its lock is held."""
    unit.lock(f"test:{tenant}:{test_id}")
    return unit.assurance.get_test(tenant, test_id)


def locked_problem(
    unit: UnitOfWork, tenant: str, problem_id: int
) -> tuple[ServiceProblem, dict[str, Any] | None] | None:
    """The tenant's problem and its first answer (``None``: there is none), read once its lock is held."""
    unit.lock(f"problem:{tenant}:{problem_id}")
    return unit.assurance.get_problem(tenant, problem_id)


def apply_assurance_events(unit: UnitOfWork, events: Iterable[AssuranceEvent]) -> None:
    """Store and act on every event, in the order the domain reported them."""
    for event in events:
        match event:
            case AssuranceNoted():
                entry = HistoryEntry(event.at, event.event, event.before, event.after, dict(event.detail))
                unit.assurance.add_history(event.tenant, event.key, entry)
            case KciDue():
                owner = OrderId(event.entity.tenant, event.entity.key)
                if isinstance(event.entity, ServiceTest):
                    entity = ("serviceTest", test_entity(event.entity))
                else:
                    entity = ("serviceProblem", problem_entity(event.entity, event.request, event.reason))
                status = event.entity.status.value
                conversation_id = event.entity.conversation_id
                entry = enqueue_kci(
                    unit, owner, event, entity, status=status, conversation_id=conversation_id
                )
                unit.assurance.add_history(owner.tenant, owner.key, entry)
