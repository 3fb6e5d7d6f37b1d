"""Service test and service problem rules (AST-…), reference §3.10, §3.11 and §7.

They work on the ``live_service`` address: a live service of the run's tenant, whose
``serviceId`` and ``specification`` the address file gives. Tests and problems change
nothing live, so the same service serves every run (each uses fresh gateway ids).

Two problems are raised. The first (AST-004) is sent as the gateway would, without a
test-stub header, and the KCI layer then checks what follows it (a 202 must be followed
by a KCI, KCI-008). The second asks for the stub scenario ``PROBLEM_OPEN`` (a supplier
that does not honour the header answers as it likes) and is amended (AST-006), then
cancelled (AST-008); a cancellation of that cancelled problem must be refused (AST-009).
A problem or request the target answers 202 cannot be judged on the spot: such rules are
skipped and say so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from contracts.certification.addresses import TestAddress
from contracts.certification.behaviour.support import (
    acknowledgement_problems,
    body_of,
    expect_error,
    expect_no_problems,
    expect_refusal,
    expect_status,
    expect_unknown_id_refused,
    other_tenant,
)
from contracts.certification.errors import RuleSkipped, RuleViolation
from contracts.certification.evidence import Evidence
from contracts.certification.kci_rules import RAISED_PROBLEMS
from contracts.certification.rules import Capability, rule
from contracts.certification.target import Target

ASSURANCE = Capability.ASSURANCE
PROBLEM_TEXT = "Certification: no sync since last night"
HAS_WORKED = [
    {"name": "SERVICE_HAS_WORKED", "value": "true"},
    {"name": "SERVICE_LAST_WORKED", "value": "2020-01-01T00:00:00Z"},
]


def _service(target: Target) -> tuple[TestAddress, str, str]:
    place = target.addresses.require("live_service")
    if not place.service_id or not place.specification:
        raise RuleSkipped(
            f"{place.label}: give the live service's serviceId and specification in the address file"
        )
    return place, place.service_id, place.specification


def _on_unknown_service(
    target: Target, path: str, build: Callable[[Target, str, str], dict[str, Any]]
) -> tuple[str, httpx.Response]:
    """Post the ``build`` body to ``path`` about a service id the supplier cannot know.

    The request names the live service's specification; the answer is returned with the id.
    """
    _place, _service_id, spec_id = _service(target)
    unknown = f"NO-SUCH-SERVICE-{target.rng.randrange(10**9)}"
    return unknown, target.post(path, json_body=build(target, unknown, spec_id), headers=target.headers())


def _owner(target: Target, place: TestAddress) -> str | None:
    return place.tenant or target.tenant


def _test_body(target: Target, service_id: str, spec_id: str) -> dict[str, Any]:
    return {
        "id": target.new_id(),
        "serviceId": service_id,
        "serviceSpecification": {"id": spec_id},
        "problemType": "OUTAGE",
        "characteristics": HAS_WORKED,
    }


def _problem_body(target: Target, service_id: str, spec_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": target.new_id(),
        "problemType": "OUTAGE",
        "problemText": PROBLEM_TEXT,
        "serviceId": service_id,
        "serviceSpecification": {"id": spec_id},
        "characteristics": HAS_WORKED,
        **extra,
    }


def _judged_answer(
    target: Target,
    response: httpx.Response,
    what: str,
    gateway_id: int,
    problems_of: Callable[[dict[str, Any]], list[str]],
) -> dict[str, Any]:
    """The 201 body about ``what`` ``gateway_id``: an object, in which ``problems_of`` finds nothing wrong."""
    answer = body_of(target, response, f"{what} answer")
    if not isinstance(answer, dict):
        raise RuleViolation(f"the 201 body of the {what} is not an object", target.evidence())
    expect_no_problems(target, f"{what} {gateway_id}", problems_of(answer))
    return answer


def _test_problems(answer: dict[str, Any], body: dict[str, Any]) -> list[str]:
    """What a service test's 201 answer lacks: the supplier's reference, the test's id and service echoed."""
    problems = []
    if not answer.get("supplierReference"):
        problems.append("no supplierReference")
    for field in ("id", "serviceId"):
        if answer.get(field) != body[field]:
            problems.append(f"{field} {answer.get(field)!r} does not echo {body[field]!r}")
    return problems


@rule("AST-001")
def a_test_on_a_live_service_is_accepted(target: Target) -> Evidence:
    """Test the live service; the 201 body must carry the supplier's reference and echo the test."""
    place, service_id, spec_id = _service(target)
    body = _test_body(target, service_id, spec_id)
    response = target.post(
        "/service-tests", json_body=body, headers=target.headers(tenant=_owner(target, place))
    )
    expect_status(target, response, {201}, f"service test {body['id']} on {service_id}")
    answer = _judged_answer(target, response, "service test", body["id"], lambda a: _test_problems(a, body))
    return target.evidence(f"test {body['id']} accepted as {answer['supplierReference']}")


@rule("AST-002")
def a_test_on_an_unknown_service_is_refused(target: Target) -> Evidence:
    """Test a service id the supplier cannot know."""
    unknown, response = _on_unknown_service(target, "/service-tests", _test_body)
    expect_error(target, response, {422}, f"service test on unknown service {unknown}")
    return target.evidence()


@rule("AST-003")
def another_tenants_service_is_refused(target: Target) -> Evidence:
    """A tenant that does not own the live service tests it, then raises a problem on it."""
    place, service_id, spec_id = _service(target)
    owner = _owner(target, place)
    other = other_tenant(target, owner)
    headers = target.headers(tenant=other)
    test = target.post("/service-tests", json_body=_test_body(target, service_id, spec_id), headers=headers)
    expect_error(target, test, {422}, f"{other} testing {owner}'s service {service_id}")
    problem = _problem_body(target, service_id, spec_id)
    raised = target.post("/service-problems", json_body=problem, headers=target.headers(tenant=other))
    expect_refusal(
        target, raised, f"{other} raising a problem on {owner}'s service", later="a PROBLEM_REJECTED KCI"
    )
    return target.evidence()


def _raise(
    target: Target, scenario: str | None = None, **fields: Any
) -> tuple[dict[str, Any], httpx.Response, str | None]:
    """Raise a problem on the live service as its owner; ``fields`` replace those of the body.

    A problem answered 201 or 202 is remembered for the KCI layer.
    """
    place, service_id, spec_id = _service(target)
    body = _problem_body(target, service_id, spec_id, **fields)
    extra = {"X-Scenario": scenario} if scenario else {}
    tenant = _owner(target, place)
    response = target.post(
        "/service-problems", json_body=body, headers=target.headers(tenant=tenant, **extra)
    )
    if response.status_code in {201, 202}:
        target.shared.setdefault(RAISED_PROBLEMS, {})[body["id"]] = str(response.status_code)
    return body, response, tenant


def _acknowledged(target: Target, body: dict[str, Any], response: httpx.Response) -> str:
    """The supplier problem reference of a 201 answer, checked; a violation when the body is wrong."""
    reference = "supplierServiceProblemReference"
    answer = _judged_answer(
        target, response, "problem", body["id"], lambda a: acknowledgement_problems(a, body["id"], reference)
    )
    return str(answer[reference])


@rule("AST-004")
def a_problem_on_a_live_service_is_acknowledged(target: Target) -> Evidence:
    """Raise a problem as the gateway would (no test-stub header); judge the synchronous answer."""
    body, response, _tenant = _raise(target)
    expect_status(target, response, {201, 202}, f"problem {body['id']}")
    if response.status_code == 202:
        return target.evidence("answered 202: the acknowledgement follows by KCI (KCI-008)")
    return target.evidence(f"problem {body['id']} acknowledged as {_acknowledged(target, body, response)}")


@rule("AST-005")
def a_problem_on_an_unknown_service_is_refused(target: Target) -> Evidence:
    """Raise a problem on a service id the supplier cannot know."""
    unknown, response = _on_unknown_service(target, "/service-problems", _problem_body)
    expect_refusal(target, response, f"problem on unknown service {unknown}", later="a PROBLEM_REJECTED KCI")
    return target.evidence()


def _open_problem(target: Target) -> tuple[dict[str, Any], str, str | None]:
    """The run's problem to amend and cancel (raised on first use), with its supplier reference."""
    if "open_problem" not in target.shared:
        body, response, tenant = _raise(target, "PROBLEM_OPEN")
        target.shared["open_problem"] = (body, response, tenant)
    body, response, tenant = target.shared["open_problem"]
    if response.status_code == 202:
        raise RuleSkipped(
            "the problem was answered 202; it may not be amended or cancelled before it is acknowledged"
        )
    if response.status_code != 201:
        raise RuleSkipped(f"the problem was answered {response.status_code}, not acknowledged (see AST-004)")
    return body, _acknowledged(target, body, response), tenant


@rule("AST-006")
def an_acknowledged_problem_can_be_amended(target: Target) -> Evidence:
    """Amend the problem's text and ask for escalation."""
    body, reference, tenant = _open_problem(target)
    amendment = {
        "id": target.new_id(),
        "serviceProblemId": body["id"],
        "supplierServiceProblemReference": reference,
        "problemText": f"{PROBLEM_TEXT}: amended",
        "escalationRequest": True,
    }
    response = target.post(
        "/service-problem-amendments", json_body=amendment, headers=target.headers(tenant=tenant)
    )
    expect_status(target, response, {201, 202}, f"amendment of problem {body['id']}")
    return target.evidence(f"amendment answered {response.status_code}")


@rule("AST-007")
def requests_on_an_unknown_problem_are_refused(target: Target) -> Evidence:
    """Amend and cancel a problem id the suite never used; the code must match the status (§2.3)."""
    unknown = target.new_id() + 500_000_000
    requests = (
        ("/service-problem-amendments", {"id": target.new_id(), "serviceProblemId": unknown, "notes": "x"}),
        (
            "/service-problem-cancellations",
            {
                "id": target.new_id(),
                "serviceProblemId": unknown,
                "supplierServiceProblemReference": "SP_UNKNOWN",
                "reasonCode": "NO_LONGER_REQUIRED",
            },
        ),
    )
    for path, body in requests:
        response = target.post(path, json_body=body, headers=target.headers())
        expect_unknown_id_refused(target, response, f"{path} for unknown problem {unknown}")
    return target.evidence()


def _cancellation(target: Target, body: dict[str, Any], reference: str) -> dict[str, Any]:
    return {
        "id": target.new_id(),
        "serviceProblemId": body["id"],
        "supplierServiceProblemReference": reference,
        "reasonCode": "NO_LONGER_REQUIRED",
        "text": "Certification run: cancelled by the tenant",
    }


@rule("AST-008")
def an_open_problem_can_be_cancelled(target: Target) -> Evidence:
    """Cancel the run's open problem (asking the stub for a synchronous cancellation)."""
    body, reference, tenant = _open_problem(target)
    headers = target.headers(tenant=tenant, **{"X-Scenario": "PROBLEM_CANCELLED_NOW"})
    response = target.post(
        "/service-problem-cancellations", json_body=_cancellation(target, body, reference), headers=headers
    )
    expect_status(target, response, {201, 202}, f"cancellation of problem {body['id']}")
    target.shared["problem_cancelled"] = response.status_code
    return target.evidence(f"cancellation answered {response.status_code}")


@rule("AST-009")
def a_cancelled_problem_cannot_be_cancelled_again(target: Target) -> Evidence:
    """Cancel the problem AST-008 cancelled, under a new cancellation id."""
    body, reference, tenant = _open_problem(target)
    cancelled = target.shared.get("problem_cancelled")
    if cancelled != 201:
        raise RuleSkipped(
            f"the problem's cancellation was answered {cancelled}, so it may not be cancelled yet"
        )
    response = target.post(
        "/service-problem-cancellations",
        json_body=_cancellation(target, body, reference),
        headers=target.headers(tenant=tenant),
    )
    expect_refusal(
        target, response, f"second cancellation of problem {body['id']}", later="a CANCELLATION_REJECTED KCI"
    )
    return target.evidence()


@rule("AST-010")
def a_problem_without_service_has_worked_is_refused(target: Target) -> Evidence:
    """Raise a problem with no characteristics at all."""
    body, response, _tenant = _raise(target, characteristics=[])
    expect_refusal(
        target, response, f"problem {body['id']} without SERVICE_HAS_WORKED", later="a PROBLEM_REJECTED KCI"
    )
    return target.evidence()
