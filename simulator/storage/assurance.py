"""Service tests and service problems, their request ids and their history, as rows.

Fields the use cases search by are columns; what a problem reports and how it is going
are JSON documents written and read here, field by field, so the domain never sees JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, and_, insert, select, update

from contracts.model.service_problem_states import ProblemStatus
from contracts.model.service_test_states import TestOutcome, TestStatus
from simulator.domain.assurance_commands import ProblemChanges
from simulator.domain.assurance_scripts import AssuranceKind
from simulator.domain.inventory import AddressId
from simulator.domain.order import Appointment, Reply
from simulator.domain.service_problem import ProblemRequestRecord, ServiceProblem
from simulator.domain.service_test import ServiceTest
from simulator.storage import value_codecs
from simulator.storage.database import utc
from simulator.storage.scripted_rows import HistoryEntry, due_keys, history_entries, history_values
from simulator.storage.scripted_rows import optional_utc as _when
from simulator.storage.scripted_rows import request_owner as _request_owner
from simulator.storage.tables import assurance_history, problem_request_ids, service_problems, service_tests
from simulator.storage.value_codecs import scenario as _scenario
from simulator.storage.value_codecs import scenario_values as _scenario_json

# --- values to JSON and back ------------------------------------------------------------


def _changes_json(changes: ProblemChanges | None) -> dict[str, Any] | None:
    if changes is None:
        return None
    return {
        **value_codecs.visit_changes_json(changes),
        "problemText": changes.problem_text,
        "escalation": changes.escalation,
        "characteristics": value_codecs.characteristics_json(changes.characteristics),
    }


def _changes(raw: dict[str, Any] | None) -> ProblemChanges | None:
    if raw is None:
        return None
    return value_codecs.visit_changes(
        raw,
        ProblemChanges,
        problem_text=raw["problemText"],
        escalation=bool(raw["escalation"]),
        characteristics=value_codecs.characteristics(raw["characteristics"]),
    )


def _request_json(request: ProblemRequestRecord) -> dict[str, Any]:
    return {
        "kind": request.kind.value,
        "requestId": request.request_id,
        "reference": request.reference,
        "problemIdSent": request.problem_id_sent,
        "scenario": _scenario_json(request.scenario),
        "reply": request.reply.value,
        "queued": request.queued,
        "step": request.step,
        "changes": _changes_json(request.changes),
        "reasonCode": request.reason_code,
        "text": request.text,
    }


def _request(raw: dict[str, Any]) -> ProblemRequestRecord:
    return ProblemRequestRecord(
        kind=AssuranceKind(raw["kind"]),
        request_id=int(raw["requestId"]),
        reference=raw["reference"],
        problem_id_sent=int(raw["problemIdSent"]),
        scenario=_scenario(raw["scenario"]),
        reply=Reply(raw["reply"]),
        queued=bool(raw["queued"]),
        step=int(raw["step"]),
        changes=_changes(raw["changes"]),
        reason_code=raw["reasonCode"],
        text=raw["text"],
    )


# --- the rows of tests and problems ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _EntityRows:
    """The statements over one entity table keyed by (tenant, ``id_name``): tests and problems alike."""

    table: Table
    id_name: str

    def _is(self, tenant: str, entity_id: int) -> ColumnElement[bool]:
        return and_(self.table.c.tenant == tenant, self.table.c[self.id_name] == entity_id)

    def insert(
        self,
        connection: Connection,
        identity: tuple[str, int, datetime],
        values: dict[str, Any],
        reply_body: dict[str, Any] | None,
    ) -> None:
        """Store a new entity, ``identity`` being its tenant, id and creation instant."""
        tenant, entity_id, created_at = identity
        row = {"tenant": tenant, self.id_name: entity_id, "created_at": created_at, "reply_body": reply_body}
        connection.execute(insert(self.table).values(**row, **values))

    def update(self, connection: Connection, tenant: str, entity_id: int, values: dict[str, Any]) -> None:
        """Store an entity's new state."""
        connection.execute(update(self.table).where(self._is(tenant, entity_id)).values(**values))

    def get(self, connection: Connection, tenant: str, entity_id: int) -> Any | None:
        """The tenant's row under ``entity_id``, if any."""
        return connection.execute(select(self.table).where(self._is(tenant, entity_id))).first()

    def due(self, connection: Connection, now: datetime, limit: int) -> list[tuple[str, int]]:
        """(tenant, id) of entities whose next step is due, earliest first."""
        rows = due_keys(connection, self.table, (self.table.c.tenant, self.table.c[self.id_name]), now, limit)
        return [(row.tenant, int(row._mapping[self.id_name])) for row in rows]

    def recent(self, connection: Connection, tenant: str | None, limit: int) -> Sequence[Any]:
        """The most recent rows, newest first (``tenant``: that tenant's only)."""
        query = select(self.table).order_by(self.table.c.created_at.desc(), self.table.c[self.id_name].desc())
        if tenant is not None:
            query = query.where(self.table.c.tenant == tenant)
        return connection.execute(query.limit(limit)).all()


_TESTS = _EntityRows(service_tests, "test_id")
_PROBLEMS = _EntityRows(service_problems, "problem_id")


# The fields tests and problems share that are kept as they are, each in the column of its name.
_VERBATIM = (
    "supplier_reference",
    "service_id",
    "specification_id",
    "problem_type",
    "next_step",
    "last_sequence",
    "conversation_id",
)


def _shared_values(entity: ServiceTest | ServiceProblem) -> dict[str, Any]:
    """The columns tests and problems have alike: what they are about, where their script is."""
    return {
        **{name: getattr(entity, name) for name in _VERBATIM},
        "completed_at": entity.completed_date,
        "scenario": _scenario_json(entity.scenario),
        "next_step_due": entity.next_step_due,
        "updated_at": entity.updated_at,
    }


def _shared_fields(row: Any) -> dict[str, Any]:
    """The fields of a test or problem that :func:`_shared_values` stored (and who and when)."""
    return {
        **{name: getattr(row, name) for name in _VERBATIM},
        "tenant": row.tenant,
        "completed_date": _when(row.completed_at),
        "scenario": _scenario(row.scenario),
        "next_step_due": _when(row.next_step_due),
        "created_at": utc(row.created_at),
        "updated_at": utc(row.updated_at),
    }


# --- service tests -----------------------------------------------------------------------


def _test_values(test: ServiceTest) -> dict[str, Any]:
    return {
        **_shared_values(test),
        "characteristics": value_codecs.characteristics_json(test.characteristics),
        "status": test.status.value,
        "outcome": None if test.outcome is None else test.outcome.value,
        "outcome_codes": list(test.outcome_codes),
    }


def _test(row: Any) -> ServiceTest:
    return ServiceTest(
        test_id=int(row.test_id),
        characteristics=value_codecs.characteristics(row.characteristics) or (),  # never null
        status=TestStatus(row.status),
        outcome=None if row.outcome is None else TestOutcome(row.outcome),
        outcome_codes=tuple(row.outcome_codes),
        **_shared_fields(row),
    )


def insert_test(connection: Connection, test: ServiceTest, reply_body: dict[str, Any]) -> None:
    """Store a new test with the body of its 201 answer."""
    _TESTS.insert(connection, (test.tenant, test.test_id, test.created_at), _test_values(test), reply_body)


def save_test(connection: Connection, test: ServiceTest) -> None:
    """Store a test's new state."""
    _TESTS.update(connection, test.tenant, test.test_id, _test_values(test))


def get_test(connection: Connection, tenant: str, test_id: int) -> tuple[ServiceTest, dict[str, Any]] | None:
    """The tenant's test under ``test_id`` and its first answer, if any."""
    row = _TESTS.get(connection, tenant, test_id)
    return None if row is None else (_test(row), dict(row.reply_body or {}))


def due_tests(connection: Connection, now: datetime, limit: int) -> list[tuple[str, int]]:
    """(tenant, test id) of tests whose next step is due, earliest first."""
    return _TESTS.due(connection, now, limit)


def recent_tests(connection: Connection, tenant: str | None, limit: int = 500) -> list[ServiceTest]:
    """The most recent tests, newest first."""
    return [_test(row) for row in _TESTS.recent(connection, tenant, limit)]


# --- service problems ----------------------------------------------------------------------


def _appointment_json(appointment: Appointment | None) -> dict[str, str] | None:
    if appointment is None:
        return None
    return {
        "start": appointment.start.isoformat(),
        "end": appointment.end.isoformat(),
        "reference": appointment.supplier_reference,
    }


def _problem_values(problem: ServiceProblem) -> dict[str, Any]:
    report = {
        "address": None
        if problem.address is None
        else {"id": problem.address.id, "type": problem.address.type},
        "serviceTestId": problem.service_test_id,
        "serviceTestReference": problem.service_test_reference,
        "characteristics": value_codecs.characteristics_json(problem.characteristics),
        **value_codecs.problem_details_json(problem.details),
    }
    progress = {
        "escalated": problem.escalated,
        "appointment": _appointment_json(problem.appointment),
        "networkIncidentReference": problem.network_incident_reference,
        "resolutionCode": problem.resolution_code,
        "resolutionText": problem.resolution_text,
        "resolutionStatus": problem.resolution_status,
    }
    return {
        **_shared_values(problem),
        "problem_text": problem.problem_text,
        "status": problem.status.value,
        "previous_status": None if problem.previous is None else problem.previous.value,
        "report": report,
        "progress": progress,
        "requests": [_request_json(r) for r in problem.requests],
        "reply": problem.reply.value,
    }


def _problem(row: Any) -> ServiceProblem:
    report, progress = row.report, row.progress
    address = report["address"]
    appointment = progress["appointment"]
    return ServiceProblem(
        problem_id=int(row.problem_id),
        problem_text=row.problem_text,
        address=None if address is None else AddressId(address["id"], address["type"]),
        service_test_id=report["serviceTestId"],
        service_test_reference=report["serviceTestReference"],
        characteristics=value_codecs.characteristics(report["characteristics"]) or (),  # never null
        details=value_codecs.problem_details(report),
        status=ProblemStatus(row.status),
        previous=None if row.previous_status is None else ProblemStatus(row.previous_status),
        escalated=bool(progress["escalated"]),
        appointment=None
        if appointment is None
        else Appointment(
            datetime.fromisoformat(appointment["start"]),
            datetime.fromisoformat(appointment["end"]),
            appointment["reference"],
        ),
        network_incident_reference=progress["networkIncidentReference"],
        resolution_code=progress["resolutionCode"],
        resolution_text=progress["resolutionText"],
        resolution_status=progress["resolutionStatus"],
        requests=tuple(_request(raw) for raw in row.requests),
        reply=Reply(row.reply),
        **_shared_fields(row),
    )


def insert_problem(
    connection: Connection, problem: ServiceProblem, reply_body: dict[str, Any] | None
) -> None:
    """Store a new problem with the body of its first answer."""
    identity = (problem.tenant, problem.problem_id, problem.created_at)
    _PROBLEMS.insert(connection, identity, _problem_values(problem), reply_body)


def save_problem(connection: Connection, problem: ServiceProblem) -> None:
    """Store a problem's new state, and claim the ids of requests it received since."""
    _PROBLEMS.update(connection, problem.tenant, problem.problem_id, _problem_values(problem))
    for request in problem.requests:
        if request_owner(connection, problem.tenant, request.kind, request.request_id) is None:
            connection.execute(
                insert(problem_request_ids).values(
                    tenant=problem.tenant,
                    kind=request.kind.value,
                    request_id=request.request_id,
                    problem_id=problem.problem_id,
                )
            )


def get_problem(
    connection: Connection, tenant: str, problem_id: int
) -> tuple[ServiceProblem, dict[str, Any] | None] | None:
    """The tenant's problem under ``problem_id`` and its first answer's body, if any."""
    row = _PROBLEMS.get(connection, tenant, problem_id)
    return None if row is None else (_problem(row), None if row.reply_body is None else dict(row.reply_body))


def request_owner(connection: Connection, tenant: str, kind: AssuranceKind, request_id: int) -> int | None:
    """The id of the tenant's problem that received the amendment or cancellation, if any."""
    found = _request_owner(connection, problem_request_ids.c.problem_id, tenant, kind.value, request_id)
    return None if found is None else int(found)


def due_problems(connection: Connection, now: datetime, limit: int) -> list[tuple[str, int]]:
    """(tenant, problem id) of problems whose next step is due, earliest first."""
    return _PROBLEMS.due(connection, now, limit)


def recent_problems(connection: Connection, tenant: str | None, limit: int = 500) -> list[ServiceProblem]:
    """The most recent problems, newest first."""
    return [_problem(row) for row in _PROBLEMS.recent(connection, tenant, limit)]


# --- history ------------------------------------------------------------------------------------


def add_history(connection: Connection, tenant: str, key: str, entry: HistoryEntry) -> None:
    """Record an event of a test or problem."""
    connection.execute(
        insert(assurance_history).values(tenant=tenant, entity_key=key, **history_values(entry))
    )


def history(connection: Connection, tenant: str, key: str) -> list[HistoryEntry]:
    """Everything that happened to a test or problem, in order."""
    rows = connection.execute(
        select(assurance_history)
        .where(assurance_history.c.tenant == tenant, assurance_history.c.entity_key == key)
        .order_by(assurance_history.c.id)
    )
    return history_entries(rows)
