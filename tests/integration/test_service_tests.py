"""Service tests end to end: each SERVICE_TEST_* scenario yields its outcome as KCIs."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.assurance_support import HAS_WORKED, entity_kcis, service_test
from tests.orders_support import advance, contract_problems, post

OUTCOMES = [
    ("SERVICE_TEST_GREEN", "GREEN", []),
    ("SERVICE_TEST_AMBER", "AMBER", ["PERFORMANCE_BOTTLENECK"]),
    ("SERVICE_TEST_RED", "RED", ["NO_LIGHT_AT_ONT"]),
    ("SERVICE_TEST_FAILED", "FAILED", ["TEST_TIMED_OUT"]),
    ("SERVICE_TEST_UNAVAILABLE", "UNAVAILABLE", ["TEST_SYSTEM_UNAVAILABLE"]),
]


@pytest.mark.parametrize(("scenario", "outcome", "codes"), OUTCOMES)
def test_each_scenario_yields_its_outcome(
    app: Flask, client: FlaskClient, scenario: str, outcome: str, codes: list[str]
) -> None:
    response = post(client, "/service-tests", service_test(77), **{"X-Scenario": scenario})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["supplierReference"]
    assert entity_kcis(app, "ST-77") == []  # nothing until the clock moves
    advance(client, "PT5M")
    sent = entity_kcis(app, "ST-77")
    assert [kci["sequenceNumber"] for kci in sent] == list(range(1, len(sent) + 1))
    last = sent[-1]
    assert last["reasonCode"] == "TEST_COMPLETED"
    assert last["serviceTest"]["status"] == "COMPLETED"
    assert last["serviceTest"]["outcome"] == outcome
    assert last["serviceTest"].get("outcomeCodes", []) == codes
    assert all(contract_problems(kci) == [] for kci in sent)


def test_the_default_scenario_is_green(app: Flask, client: FlaskClient) -> None:
    assert post(client, "/service-tests", service_test(78)).status_code == 201
    advance(client, "PT5M")
    assert entity_kcis(app, "ST-78")[-1]["serviceTest"]["outcome"] == "GREEN"


def test_rejected_scenario_accepts_then_rejects_by_kci(app: Flask, client: FlaskClient) -> None:
    response = post(client, "/service-tests", service_test(79), **{"X-Scenario": "SERVICE_TEST_REJECTED"})
    assert response.status_code == 201
    advance(client, "PT5M")
    sent = entity_kcis(app, "ST-79")
    assert [kci["reasonCode"] for kci in sent] == ["TEST_REJECTED"]
    assert sent[0]["serviceTest"]["status"] == "REJECTED"
    assert sent[0]["text"]
    assert contract_problems(sent[0]) == []


@pytest.mark.parametrize(
    ("tenant", "service_id", "spec"),
    [
        ("TENANT2", "S100000000003-1", "FTTP"),  # another tenant's service
        ("TENANT1", "S-NOT-LIVE", "FTTP"),  # unknown
        ("TENANT1", "S100000000003-1", "FTTP-PRO"),  # not the service's specification
    ],
)
def test_a_test_on_a_service_that_is_not_the_tenants_is_refused(
    client: FlaskClient, tenant: str, service_id: str, spec: str
) -> None:
    body = service_test(80, service_id, serviceSpecification={"id": spec})
    response = post(client, "/service-tests", body, tenant)
    assert response.status_code == 422
    assert response.get_json()["code"] == "INVALID_REQUEST"


def test_a_problem_type_the_service_does_not_support_is_refused(client: FlaskClient) -> None:
    body = service_test(
        81, "S100000000005-1", serviceSpecification={"id": "FTTP-LITE"}, problemType="CUSTOMER"
    )
    response = post(client, "/service-tests", body)
    assert response.status_code == 422
    assert "CUSTOMER" in response.get_json()["messages"][0]


def test_a_repeated_test_id_gets_the_first_answer(app: Flask, client: FlaskClient) -> None:
    first = post(client, "/service-tests", service_test(82, characteristics=HAS_WORKED))
    again = post(client, "/service-tests", service_test(82))
    assert again.status_code == first.status_code == 201
    assert again.get_json() == first.get_json()
    advance(client, "PT5M")
    assert len(entity_kcis(app, "ST-82")) == 2  # one test, one stream
