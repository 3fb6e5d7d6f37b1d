"""Service problems end to end: scenarios, amendments, cancellations, refusals, and valid KCI streams."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from contracts.certification.kci_stream import validate_kci_stream
from tests.assurance_support import SERVICE, entity_kcis, problem, raise_problem, reasons
from tests.orders_support import advance, contract_problems, post

FLOWS = [
    ("PROBLEM_RESOLVED", 202, ["ACKNOWLEDGED", "INVESTIGATING", "RESOLVED", "COMPLETED"]),
    (
        "PROBLEM_ENGINEER_VISIT",
        201,
        ["INVESTIGATING", "APPOINTMENT_BOOKED", "UPDATE", "RESOLVED", "COMPLETED"],
    ),
    ("PROBLEM_NETWORK_INCIDENT", 201, ["INVESTIGATING", "NETWORK_INCIDENT", "RESOLVED", "COMPLETED"]),
    ("PROBLEM_DELAYED", 201, ["DELAY", "RESUMED", "RESOLVED", "COMPLETED"]),
    ("PROBLEM_REJECTED", 202, ["PROBLEM_REJECTED"]),
]


def _clean(app: Flask, key: str) -> None:
    sent = entity_kcis(app, key)
    assert all(contract_problems(kci) == [] for kci in sent), [contract_problems(k) for k in sent]
    assert [f for f in validate_kci_stream(sent) if not f.info] == []


@pytest.mark.parametrize(("scenario", "answer", "expected"), FLOWS)
def test_each_problem_scenario_plays_out(
    app: Flask, client: FlaskClient, scenario: str, answer: int, expected: list[str]
) -> None:
    response = raise_problem(client, 88, scenario)
    assert response.status_code == answer, response.get_json()
    if answer == 201:
        assert response.get_json()["supplierServiceProblemReference"] == "SP_000000088"
    advance(client, "P3D")
    assert reasons(app, "SP-88") == expected
    _clean(app, "SP-88")


def test_information_required_waits_for_the_amendment_then_resumes(app: Flask, client: FlaskClient) -> None:
    assert raise_problem(client, 89, "PROBLEM_INFORMATION_REQUIRED").status_code == 201
    advance(client, "P1D")
    assert reasons(app, "SP-89") == ["INFORMATION_REQUIRED"]  # waits for the tenant
    amendment = {"id": 601, "serviceProblemId": 89, "problemText": "PON light is red on the ONT"}
    assert post(client, "/service-problem-amendments", amendment).status_code == 202
    advance(client, "P1D")
    assert reasons(app, "SP-89") == ["INFORMATION_REQUIRED", "AMENDED", "RESOLVED", "COMPLETED"]
    assert entity_kcis(app, "SP-89")[1]["serviceProblem"]["problemText"] == "PON light is red on the ONT"
    _clean(app, "SP-89")


def test_escalation_request_is_amended_then_escalated(app: Flask, client: FlaskClient) -> None:
    assert raise_problem(client, 90, "PROBLEM_OPEN").status_code == 201
    advance(client, "PT10M")
    escalation = {"id": 602, "serviceProblemId": 90, "escalationRequest": True}
    assert post(client, "/service-problem-amendments", escalation).status_code == 202
    advance(client, "PT10M")
    assert reasons(app, "SP-90") == ["INVESTIGATING", "AMENDED", "ESCALATED"]
    assert entity_kcis(app, "SP-90")[-1]["serviceProblem"]["escalated"] is True
    _clean(app, "SP-90")


def test_cancelled_by_the_tenant(app: Flask, client: FlaskClient) -> None:
    assert raise_problem(client, 91, "PROBLEM_OPEN").status_code == 201
    advance(client, "PT10M")
    cancellation = {
        "id": 701,
        "serviceProblemId": 91,
        "supplierServiceProblemReference": "SP_000000091",
        "reasonCode": "ISSUE_RESOLVED",
        "text": "Router replaced by the customer",
    }
    assert post(client, "/service-problem-cancellations", cancellation).status_code == 202
    advance(client, "PT10M")
    last = entity_kcis(app, "SP-91")[-1]
    assert last["reasonCode"] == "CANCELLED"
    assert last["serviceProblem"]["status"] == "CANCELLED"
    assert last["serviceProblem"]["serviceProblemCancellationId"] == 701
    _clean(app, "SP-91")
    again = {**cancellation, "id": 702}
    assert post(client, "/service-problem-cancellations", again).status_code == 422  # terminal now


def test_requests_on_an_unknown_problem_are_404(client: FlaskClient) -> None:
    assert post(client, "/service-problem-amendments", {"id": 1, "serviceProblemId": 999}).status_code == 404
    body = {
        "id": 1,
        "serviceProblemId": 999,
        "supplierServiceProblemReference": "SP_1",
        "reasonCode": "OTHER",
    }
    assert post(client, "/service-problem-cancellations", body).status_code == 404


@pytest.mark.parametrize(
    ("tenant", "body", "why"),
    [
        ("TENANT2", problem(92), "not a live service"),
        ("TENANT1", problem(92, "S-UNKNOWN"), "not a live service"),
        ("TENANT1", problem(92, characteristics=[]), "SERVICE_HAS_WORKED"),
        (
            "TENANT1",
            problem(92, characteristics=[{"name": "SERVICE_HAS_WORKED", "value": "true"}]),
            "SERVICE_LAST_WORKED",
        ),
        (
            "TENANT1",
            problem(
                92, problemType="CPE", characteristics=[{"name": "SERVICE_HAS_WORKED", "value": "false"}]
            ),
            "EQUIPMENT_TYPE",
        ),
    ],
)
def test_a_problem_breaking_a_rule_is_refused(
    client: FlaskClient, tenant: str, body: dict[str, object], why: str
) -> None:
    response = post(client, "/service-problems", body, tenant)
    assert response.status_code == 422
    assert why in " ".join(response.get_json()["messages"])


def test_a_ceased_service_takes_no_problem(app: Flask, client: FlaskClient) -> None:
    cease = {
        "id": 5001,
        "tenant": "TENANT1",
        "orderType": "CEASE",
        "serviceId": SERVICE,
        "requestedCompletionDate": "2026-07-20",
    }
    assert post(client, "/service-orders", cease, **{"X-Kci-Delay": "0"}).status_code in {201, 202}
    advance(client, "P30D")
    response = post(client, "/service-problems", problem(93))
    assert response.status_code == 422
