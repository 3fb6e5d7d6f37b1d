"""Hostile input to the four T2R operations: each is answered properly, and tests and problems still work.

After every case a normal service test and service problem on the demo profile's live
line must still be accepted and play out, so no value can poison what is stored.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.assurance_support import HAS_WORKED, problem, service_test
from tests.conftest import demo_simulator, gateway_headers
from tests.hostile.support import assert_error_body, assert_serves_normally, flask_caller

BAD = {400}
RULE = {422}
OK = {201, 202}
MISSING = {404}
BIG = 2**53 - 1


def _worked(value: str) -> list[dict[str, str]]:
    return [{"name": "SERVICE_HAS_WORKED", "value": "true"}, {"name": "SERVICE_LAST_WORKED", "value": value}]


CASES: list[tuple[str, str, dict[str, Any], dict[str, str], set[int]]] = [
    ("test id at its largest", "/service-tests", service_test(BIG), {}, {201}),
    ("test id past 2^53", "/service-tests", service_test(BIG + 1), {}, BAD),
    ("test id zero", "/service-tests", service_test(0), {}, BAD),
    ("test serviceId of 51 characters", "/service-tests", service_test(11, "S" * 51), {}, BAD),
    ("test problemType unknown", "/service-tests", service_test(12, problemType="FIRE"), {}, BAD),
    (
        "test scenario with a parameter",
        "/service-tests",
        service_test(13),
        {"X-Scenario": "SERVICE_TEST_RED?x=1"},
        RULE,
    ),
    (
        "test scenario of an order",
        "/service-tests",
        service_test(14),
        {"X-Scenario": "ORDER_SUCCESSFUL"},
        RULE,
    ),
    (
        "test scenario unknown",
        "/service-tests",
        service_test(15),
        {"X-Scenario": "SERVICE_TEST_" + "X" * 150},
        RULE,
    ),
    ("test X-Kci-Delay too large", "/service-tests", service_test(16), {"X-Kci-Delay": "1e308"}, BAD),
    ("test X-Problem-Code unknown", "/service-tests", service_test(17), {"X-Problem-Code": "NOPE"}, BAD),
    (
        "test characteristics x2000",
        "/service-tests",
        service_test(18, characteristics=HAS_WORKED * 1000),
        {},
        {201},
    ),
    ("problem text too short", "/service-problems", problem(21, problemText="short"), {}, BAD),
    ("problem text too long", "/service-problems", problem(22, problemText="x" * 81), {}, BAD),
    (
        "problem last worked in year 9999",
        "/service-problems",
        problem(23, characteristics=_worked("9999-12-31T23:59:59Z")),
        {},
        RULE,
    ),
    (
        "problem last worked without offset",
        "/service-problems",
        problem(24, characteristics=_worked("2026-06-30T10:00")),
        {},
        RULE,
    ),
    (
        "problem last worked of 5000 chars",
        "/service-problems",
        problem(25, characteristics=_worked("9" * 5000)),
        {},
        RULE,
    ),
    (
        "problem has-worked maybe",
        "/service-problems",
        problem(26, characteristics=[{"name": "SERVICE_HAS_WORKED", "value": "maybe"}]),
        {},
        RULE,
    ),
    ("problem has-worked twice", "/service-problems", problem(27, characteristics=HAS_WORKED * 2), {}, RULE),
    (
        "problem at another address",
        "/service-problems",
        problem(28, address={"id": "100000000002", "type": "UPRN"}),
        {},
        RULE,
    ),
    ("problem test id past 2^53", "/service-problems", problem(29, serviceTestId=BIG + 1), {}, BAD),
    (
        "problem refused by scenario",
        "/service-problems",
        problem(30),
        {"X-Scenario": "PROBLEM_REFUSED"},
        RULE,
    ),
    (
        "problem scenario for amendments",
        "/service-problems",
        problem(31),
        {"X-Scenario": "PROBLEM_AMENDMENT_ACCEPTED"},
        RULE,
    ),
    ("problem delay code unknown", "/service-problems", problem(32), {"X-Problem-Code": "x" * 300}, BAD),
    (
        "amendment of an unknown problem",
        "/service-problem-amendments",
        {"id": 1, "serviceProblemId": BIG},
        {},
        MISSING,
    ),
    (
        "amendment with an unknown field",
        "/service-problem-amendments",
        {"id": 2, "serviceProblemId": 1, "colour": "red"},
        {},
        BAD,
    ),
    (
        "amendment text too long",
        "/service-problem-amendments",
        {"id": 3, "serviceProblemId": 1, "problemText": "x" * 81},
        {},
        BAD,
    ),
    (
        "cancellation reason unknown",
        "/service-problem-cancellations",
        {"id": 4, "serviceProblemId": 1, "supplierServiceProblemReference": "SP_1", "reasonCode": "BORED"},
        {},
        BAD,
    ),
    (
        "cancellation of an unknown problem",
        "/service-problem-cancellations",
        {"id": 5, "serviceProblemId": 77, "supplierServiceProblemReference": "SP_1", "reasonCode": "OTHER"},
        {},
        MISSING,
    ),
]


@pytest.fixture(scope="module")
def shared() -> Iterator[FlaskClient]:
    """One simulator for every case: each also meets what the earlier ones left."""
    with demo_simulator() as application:
        yield application.test_client()


def _still_works(client: FlaskClient, number: int) -> None:
    test = client.post("/service-tests", json=service_test(900 + number), headers=gateway_headers())
    assert test.status_code == 201, test.get_json()
    raised = client.post("/service-problems", json=problem(900 + number), headers=gateway_headers())
    assert raised.status_code in OK, raised.get_json()
    assert client.post("/_admin/clock/advance", json={"by": "PT10M"}).status_code == 200


@pytest.mark.parametrize(("name", "path", "body", "headers", "expected"), CASES, ids=[c[0] for c in CASES])
def test_a_hostile_t2r_request_is_answered_and_tests_and_problems_still_work(
    shared: FlaskClient,
    name: str,
    path: str,
    body: dict[str, Any],
    headers: dict[str, str],
    expected: set[int],
) -> None:
    response = shared.post(path, json=body, headers=gateway_headers(**headers))
    if response.status_code >= 400:
        assert_error_body(response.status_code, response.get_json(silent=True), expected)
    else:
        assert response.status_code in expected, (name, response.get_json())
    _still_works(shared, CASES.index(next(c for c in CASES if c[0] == name)))
    assert_serves_normally(flask_caller(shared))


WRONG_VALUES: list[Any] = [None, True, -1, 1.5, 1e308, "", "x" * 5000, [], {}, [[[[]]]], "\U0001f600"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/service-tests", service_test(40)),
        ("/service-problems", problem(41)),
        (
            "/service-problem-amendments",
            {"id": 42, "serviceProblemId": 41, "notes": "n", "escalationRequest": True},
        ),
        (
            "/service-problem-cancellations",
            {
                "id": 43,
                "serviceProblemId": 41,
                "supplierServiceProblemReference": "SP_000000041",
                "reasonCode": "OTHER",
            },
        ),
    ],
)
def test_wrong_types_in_every_t2r_field_are_refused(
    client: FlaskClient, path: str, body: dict[str, Any]
) -> None:
    for name in body:
        for value in WRONG_VALUES:
            response = client.post(path, json={**body, name: value}, headers=gateway_headers())
            assert response.status_code < 500, (name, value, response.get_json())
            if response.status_code >= 400:
                assert_error_body(response.status_code, response.get_json(silent=True), {400, 404, 422})
    _still_works(client, 0)
