"""Acting on what tests and problems report: history and the KCI outbox, in the same transaction."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from simulator.application.assurance_views import problem_entity, test_entity
from simulator.application.context import Context
from simulator.application.ports import UnitOfWork
from simulator.assurance_script_loader import load_assurance_scripts
from simulator.domain.assurance_events import AssuranceEvent, AssuranceNoted, ProblemKciDue, TestKciDue
from simulator.domain.assurance_scripts import AssuranceKind, AssuranceScript, resolve_assurance_script
from simulator.domain.clock import format_instant
from simulator.domain.order_commands import Scenario
from simulator.domain.order_events import OrderId
from simulator.storage.orders import HistoryEntry
from simulator.storage.outbox import DELIVERY_CONTEXT


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


def _envelope(sequence_number: int, at: datetime, reason: str, text: str | None) -> dict[str, Any]:
    kci: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "sequenceNumber": sequence_number,
        "issuedOn": format_instant(at),
        "reasonCode": reason,
    }
    if text:
        kci["text"] = text
    return kci


def _enqueue(
    unit: UnitOfWork, tenant: str, key: str, kci: dict[str, Any], at: datetime, conversation_id: str | None
) -> str:
    if conversation_id:
        kci[DELIVERY_CONTEXT] = {"conversationId": conversation_id}
    unit.outbox.enqueue(
        OrderId(tenant, key),  # the outbox sequences KCIs per (tenant, key): ST-/SP- keys are their own
        kci_id=kci["id"],
        sequence_number=kci["sequenceNumber"],
        payload=kci,
        now=at,
        fault=None,
    )
    return str(kci["id"])


def apply_assurance_events(unit: UnitOfWork, events: Iterable[AssuranceEvent]) -> None:
    """Store and act on every event, in the order the domain reported them."""
    for event in events:
        match event:
            case AssuranceNoted():
                entry = HistoryEntry(event.at, event.event, event.before, event.after, dict(event.detail))
                unit.assurance.add_history(event.tenant, event.key, entry)
            case TestKciDue():
                test = event.test
                kci = _envelope(event.sequence_number, event.at, event.reason, event.text)
                kci["serviceTest"] = test_entity(test)
                kci_id = _enqueue(unit, test.tenant, test.key, kci, event.at, test.conversation_id)
                detail = {"sequenceNumber": event.sequence_number, "kciId": kci_id}
                entry = HistoryEntry(event.at, event.reason, event.before, test.status.value, detail)
                unit.assurance.add_history(test.tenant, test.key, entry)
            case ProblemKciDue():
                problem = event.problem
                kci = _envelope(event.sequence_number, event.at, event.reason, event.text)
                if event.problem_code is not None:
                    kci["problemCode"] = event.problem_code
                kci["serviceProblem"] = problem_entity(problem, event.request, event.reason)
                kci_id = _enqueue(unit, problem.tenant, problem.key, kci, event.at, problem.conversation_id)
                detail = {"sequenceNumber": event.sequence_number, "kciId": kci_id}
                entry = HistoryEntry(event.at, event.reason, event.before, problem.status.value, detail)
                unit.assurance.add_history(problem.tenant, problem.key, entry)
