"""Validated T2R requests to domain commands (reference §3.10, §3.11).

The contract has checked types and shapes; here the fields each command uses are taken
and parsed, so no request JSON reaches the domain.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from simulator.domain.assurance_commands import (
    AmendProblem,
    AssuranceRequest,
    CancelProblem,
    ProblemChanges,
    ProblemDetails,
    RaiseProblem,
    RunServiceTest,
)
from simulator.domain.inventory import AddressId
from simulator.http.order_commands import (
    characteristics,
    characteristics_change,
    follow_up,
    scenario,
    text,
    visit_changes,
    visit_details,
)
from simulator.http.request_validation import ValidRequest

RequestT = TypeVar("RequestT", bound=AssuranceRequest)


def _assurance_request(valid: ValidRequest, command: Callable[..., RequestT], **own: Any) -> RequestT:
    """A test or problem request as ``command``: the live service it is about, then its ``own`` fields."""
    body = valid.body
    return command(
        tenant=valid.headers["Tenant"],
        service_id=str(body["serviceId"]),
        specification_id=str(body["serviceSpecification"]["id"]),
        problem_type=str(body["problemType"]),
        characteristics=characteristics(body.get("characteristics")),
        scenario=scenario(valid),
        conversation_id=valid.headers.get("X-Conversation-ID") or None,
        **own,
    )


def run_test(valid: ValidRequest) -> RunServiceTest:
    """``POST /service-tests`` as a command."""
    return _assurance_request(valid, RunServiceTest, test_id=int(valid.body["id"]))


def raise_problem(valid: ValidRequest) -> RaiseProblem:
    """``POST /service-problems`` as a command."""
    body = valid.body
    address = body.get("address")
    return _assurance_request(
        valid,
        RaiseProblem,
        problem_id=int(body["id"]),
        problem_text=str(body["problemText"]),
        address=None if address is None else AddressId.from_json(address),
        service_test_id=None if body.get("serviceTestId") is None else int(body["serviceTestId"]),
        service_test_reference=text(body, "serviceTestReference"),
        details=visit_details(body, ProblemDetails),
    )


def amend_problem(valid: ValidRequest) -> AmendProblem:
    """``POST /service-problem-amendments`` as a command: only what an amendment may change."""
    body = valid.body
    problem_text = body.get("problemText")
    changes = visit_changes(
        body,
        ProblemChanges,
        problem_text=None if not problem_text else str(problem_text),
        escalation=bool(body.get("escalationRequest", False)),
        characteristics=characteristics_change(body.get("characteristics")),
    )
    return follow_up(
        valid, AmendProblem, "serviceProblemId", "supplierServiceProblemReference", changes=changes
    )


def cancel_problem(valid: ValidRequest) -> CancelProblem:
    """``POST /service-problem-cancellations`` as a command."""
    body = valid.body
    return follow_up(
        valid,
        CancelProblem,
        "serviceProblemId",
        "supplierServiceProblemReference",
        reason_code=str(body["reasonCode"]),
        text=text(body, "text"),
    )
