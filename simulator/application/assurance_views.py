"""Service tests and problems as the gateway sees them: 201 bodies and KCI entities."""

from __future__ import annotations

from typing import Any

from contracts.model.service_problem_states import ProblemReasonCode
from simulator.domain.assurance_scripts import AssuranceKind
from simulator.domain.clock import format_instant
from simulator.domain.order_commands import Contact
from simulator.domain.service_problem import ProblemRequestRecord, ServiceProblem
from simulator.domain.service_test import ServiceTest


def _specification(spec_id: str) -> dict[str, str]:
    return {"id": spec_id, "name": spec_id}


def test_answer(test: ServiceTest) -> dict[str, Any]:
    """The 201 body of ``POST /service-tests``."""
    return {
        "supplierReference": test.supplier_reference,
        "id": test.test_id,
        "serviceId": test.service_id,
        "serviceSpecification": _specification(test.specification_id),
        "problemType": test.problem_type,
    }


def test_entity(test: ServiceTest) -> dict[str, Any]:
    """The ``serviceTest`` of a KCI: the latest full version of the test."""
    entity: dict[str, Any] = {
        "id": test.test_id,
        "supplierReference": test.supplier_reference,
        "serviceId": test.service_id,
        "problemType": test.problem_type,
        "status": test.status.value,
    }
    if test.outcome is not None:
        entity["outcome"] = test.outcome.value
    if test.outcome_codes:
        entity["outcomeCodes"] = list(test.outcome_codes)
    if test.completed_date is not None:
        entity["completedDate"] = format_instant(test.completed_date)
    return entity


def _contact(contact: Contact | None) -> dict[str, str] | None:
    if contact is None:
        return None
    parts = {"name": contact.name, "email": contact.email, "phoneNumber": contact.phone_number}
    return {key: value for key, value in parts.items() if value is not None}


def _problem_summary(problem: ServiceProblem) -> dict[str, Any]:
    """What every representation of a problem starts with."""
    return {
        "id": problem.problem_id,
        "supplierServiceProblemReference": problem.supplier_reference,
        "status": problem.status.value,
        "problemType": problem.problem_type,
        "problemText": problem.problem_text,
        "serviceId": problem.service_id,
    }


def problem_answer(problem: ServiceProblem) -> dict[str, Any]:
    """The 201 body of ``POST /service-problems``."""
    return {**_problem_summary(problem), "serviceSpecification": _specification(problem.specification_id)}


def problem_entity(
    problem: ServiceProblem, request: ProblemRequestRecord | None = None, reason: str | None = None
) -> dict[str, Any]:
    """The ``serviceProblem`` of a KCI; a KCI answering a request names it."""
    entity = _problem_summary(problem)
    if problem.escalated:
        entity["escalated"] = True
    if problem.appointment is not None:
        entity["appointmentTimeslot"] = {
            "timeslotStartDateTime": problem.appointment.start.isoformat(),
            "timeslotEndDateTime": problem.appointment.end.isoformat(),
        }
        entity["appointmentSupplierReference"] = problem.appointment.supplier_reference
    optional = {
        "networkIncidentReference": problem.network_incident_reference,
        "resolutionCode": problem.resolution_code,
        "resolutionText": problem.resolution_text,
        "resolutionStatus": problem.resolution_status,
    }
    entity.update({key: value for key, value in optional.items() if value is not None})
    if problem.completed_date is not None:
        entity["completedDate"] = format_instant(problem.completed_date)
    if request is not None and request.kind is AssuranceKind.PROBLEM_AMENDMENT:
        entity["serviceProblemAmendmentId"] = request.request_id
        entity["serviceProblemAmendmentReference"] = request.reference
    if request is not None and request.kind is AssuranceKind.PROBLEM_CANCELLATION:
        entity["serviceProblemCancellationId"] = request.request_id
        entity["serviceProblemCancellationReference"] = request.reference
        if reason == ProblemReasonCode.CANCELLED and request.reason_code:
            entity["cancellationReasonCode"] = request.reason_code
    return entity


def request_answer(problem: ServiceProblem, request: ProblemRequestRecord) -> dict[str, Any] | None:
    """The 201 body of an amendment or cancellation applied now (``None``: answered 202)."""
    if request.reply.status != 201:
        return None
    body: dict[str, Any] = {
        "id": request.request_id,
        "supplierReference": request.reference,
        "serviceProblemId": request.problem_id_sent,
        "supplierServiceProblemReference": problem.supplier_reference,
    }
    if request.kind is AssuranceKind.PROBLEM_AMENDMENT:
        if request.changes is not None and request.changes.escalation:
            body["escalationRequest"] = True
        return body
    body["reasonCode"] = request.reason_code
    if request.text:
        body["text"] = request.text
    return body


def contacts(problem: ServiceProblem) -> dict[str, Any]:
    """The problem's contacts, for the admin view."""
    return {
        "primaryContact": _contact(problem.details.primary_contact),
        "secondaryContact": _contact(problem.details.secondary_contact),
    }
