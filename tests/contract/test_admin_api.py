"""The admin surface's contract (contracts/openapi/admin-api.yaml) and the app that serves it.

* the document is valid OpenAPI 3.1 and every example in it is valid against its schema;
* every route the app serves under the admin prefix is documented, and the other way round;
* the app's real answers (status and body) are the ones the document describes;
* the documented fault rule schema accepts exactly the rules the app accepts.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate
from werkzeug.test import TestResponse

from contracts import ADMIN_API, load_document
from simulator.http.fault_injection import (
    ConnectionDropped,
    supplier_operations,
)
from tests.conftest import address_query, gateway_headers
from tests.contract.test_openapi_documents import ExampleCase, collect_examples, schema_errors

PREFIX = "/_admin"
HTTP_METHODS = ("get", "put", "post", "delete", "patch")


def document() -> dict[str, Any]:
    return load_document(ADMIN_API)


def escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


# --------------------------------------------------------------------------------------------
# the document


def test_the_document_is_valid_openapi_3_1() -> None:
    assert document()["openapi"] == "3.1.0"
    assert document()["servers"][0]["url"] == "http://127.0.0.1:8080/_admin"
    validate(json.loads(json.dumps(document())))  # also proves it holds only JSON data


@pytest.mark.parametrize("case", [pytest.param(c, id=c.case_id) for c in collect_examples(ADMIN_API)])
def test_every_example_is_valid_against_its_schema(case: ExampleCase) -> None:
    assert case.schema_pointer is not None, f"{case.case_id}: example without a schema"
    errors = schema_errors(ADMIN_API, case.schema_pointer, case.value)
    assert not errors, f"{case.case_id} is invalid against {case.schema_pointer}:\n" + "\n".join(errors)


def test_every_component_schema_and_every_body_has_an_example() -> None:
    schemas = document()["components"]["schemas"]
    assert not [name for name, schema in schemas.items() if not schema.get("examples")]
    for path, item in document()["paths"].items():
        for method in HTTP_METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            media = [
                *operation.get("requestBody", {}).get("content", {}).values(),
                *(
                    content
                    for response in operation["responses"].values()
                    for content in response.get("content", {}).values()
                ),
            ]
            assert all(m.get("examples") for m in media), f"{method.upper()} {path}: a body without examples"


def test_every_error_answer_uses_the_supplier_api_error_body() -> None:
    responses = document()["components"]["responses"]
    for path, item in document()["paths"].items():
        for method in HTTP_METHODS:
            for status, declared in item.get(method, {}).get("responses", {}).items():
                if status[0] not in "45":
                    continue
                response = responses[declared["$ref"].rsplit("/", 1)[1]] if "$ref" in declared else declared
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, f"{method.upper()} {path} {status}"
    supplier_error = load_document("supplier-api.yaml")["components"]["schemas"]["Error"]
    admin_error = document()["components"]["schemas"]["Error"]
    # The admin API keeps its own error body closed; the Supplier API's is open (reference §2.3).
    ignored = {"description", "examples", "additionalProperties"}
    assert {k: v for k, v in admin_error.items() if k not in ignored} == {
        k: v for k, v in supplier_error.items() if k not in ignored
    }


def _template(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{}", rule.removeprefix(PREFIX))


def test_every_admin_route_is_documented_and_every_documented_operation_is_served(app: Flask) -> None:
    served = {
        (method.lower(), _template(rule.rule))
        for rule in app.url_map.iter_rules()
        # The dashboard (/_admin/ui) is pages for a browser, not operations of the admin API.
        if rule.rule.startswith(PREFIX + "/") and not rule.endpoint.startswith("dashboard.")
        for method in rule.methods or ()
        if method not in {"HEAD", "OPTIONS"}
    }
    documented = {
        (method, re.sub(r"\{[^}]+\}", "{}", path))
        for path, item in document()["paths"].items()
        for method in HTTP_METHODS
        if method in item
    }
    assert served - documented == set(), "served but not documented"
    assert documented - served == set(), "documented but not served"


# --------------------------------------------------------------------------------------------
# the app's answers against the document


def _response_schema(path: str, method: str, status: int) -> str | None:
    """Pointer to the documented schema of the answer, or None for a documented bodiless answer."""
    responses = document()["paths"][path][method]["responses"]
    assert str(status) in responses, f"{method.upper()} {path} answered an undocumented {status}"
    response = responses[str(status)]
    pointer = f"/paths/{escape(path)}/{method}/responses/{status}"
    if "$ref" in response:
        pointer = response["$ref"].removeprefix("#")
        response = document()["components"]["responses"][pointer.rsplit("/", 1)[1]]
    if "content" not in response:
        return None
    return f"{pointer}/content/application~1json/schema"


def check(answer: TestResponse, method: str, path: str, status: int) -> Any:
    """Assert ``answer`` has ``status`` and the body the document describes for it; return the body."""
    assert answer.status_code == status, answer.get_data(as_text=True)
    pointer = _response_schema(path, method, status)
    if pointer is None:
        assert answer.get_data() == b"", f"{method.upper()} {path} {status} should have no body"
        return None
    body = answer.get_json()
    errors = schema_errors(ADMIN_API, pointer, body)
    assert not errors, f"{method.upper()} {path} {status}:\n" + "\n".join(errors)
    return body


def sent(method: str, path: str, body: Any) -> Any:
    """``body``, once checked against the documented request schema (so tests send what is documented)."""
    pointer = f"/paths/{escape(path)}/{method}/requestBody/content/application~1json/schema"
    errors = schema_errors(ADMIN_API, pointer, body)
    assert not errors, f"the test sends an undocumented {method.upper()} {path} body: {errors}"
    return body


def reserve_a_slot(client: FlaskClient) -> None:
    address = {"id": "100000000002", "type": "UPRN"}
    query = {
        "address": json.dumps(address),
        "serviceSpecification": json.dumps({"id": "FTTP"}),
        "appointmentPurpose": "PROVIDE",
    }
    slots = client.get("/available-appointments", query_string=query, headers=gateway_headers())
    slot = slots.get_json()["availableTimeslots"][0]
    body = {
        "id": 234,
        "address": address,
        "serviceSpecification": {"id": "FTTP"},
        "purpose": "PROVIDE",
        "timeslot": {k: slot[k] for k in ("timeslotStartDateTime", "timeslotEndDateTime")},
    }
    assert client.post("/appointments", json=body, headers=gateway_headers()).status_code == 201


def test_ping_health_profile_and_clock_answer_as_documented(client: FlaskClient) -> None:
    check(client.get(f"{PREFIX}/ping"), "get", "/ping", 200)
    check(client.get(f"{PREFIX}/health"), "get", "/health", 200)
    check(client.get(f"{PREFIX}/profile"), "get", "/profile", 200)
    check(client.get(f"{PREFIX}/clock"), "get", "/clock", 200)
    advance = sent("post", "/clock/advance", {"by": "PT30M"})
    moved = check(client.post(f"{PREFIX}/clock/advance", json=advance), "post", "/clock/advance", 200)
    assert "applied" in moved
    check(client.post(f"{PREFIX}/clock/advance", json={"by": "soon"}), "post", "/clock/advance", 400)
    jump = sent("put", "/clock", {"now": "2026-07-02T09:00:00Z"})
    check(client.put(f"{PREFIX}/clock", json=jump), "put", "/clock", 200)
    check(client.put(f"{PREFIX}/clock", json={"now": "2026-07-01T09:00:00Z"}), "put", "/clock", 422)


def test_reservations_answer_as_documented(client: FlaskClient) -> None:
    reserve_a_slot(client)
    [reservation] = check(client.get(f"{PREFIX}/reservations"), "get", "/reservations", 200)
    assert reservation["id"] == 234


def test_the_journal_answers_as_documented(client: FlaskClient) -> None:
    client.get("/service-availability", query_string=address_query("100000000001"), headers=gateway_headers())
    client.post("/appointments", data="{not json", content_type="application/json", headers=gateway_headers())
    client.post(f"{PREFIX}/faults", json={"status": 503, "times": 1})
    client.get("/service-availability", query_string=address_query("100000000002"), headers=gateway_headers())
    client.post(f"{PREFIX}/faults", json={"drop": True, "times": 1})
    with pytest.raises(ConnectionDropped):
        client.get("/service-orders", headers=gateway_headers())

    entries = check(client.get(f"{PREFIX}/journal"), "get", "/journal", 200)
    assert [entry["status"] for entry in entries] == [0, 503, 400, 200]
    filtered = client.get(
        f"{PREFIX}/journal", query_string={"status": 400, "limit": 5, "since": entries[-1]["at"]}
    )
    assert len(check(filtered, "get", "/journal", 200)) == 1
    check(client.get(f"{PREFIX}/journal", query_string={"limit": "many"}), "get", "/journal", 400)
    check(client.delete(f"{PREFIX}/journal"), "delete", "/journal", 204)
    assert check(client.get(f"{PREFIX}/journal"), "get", "/journal", 200) == []


def test_fault_rules_answer_as_documented(client: FlaskClient) -> None:
    rule = sent("post", "/faults", {"method": "POST", "path": "/service-orders", "status": 429, "times": 2})
    added = check(client.post(f"{PREFIX}/faults", json=rule), "post", "/faults", 201)
    slow = sent("post", "/faults", {"tenant": "TENANT2", "delayMs": 1, "probability": 0.5, "seed": 3})
    check(client.post(f"{PREFIX}/faults", json=slow), "post", "/faults", 201)
    check(client.post(f"{PREFIX}/faults", json={"path": "/nope", "status": 500}), "post", "/faults", 400)
    check(client.post(f"{PREFIX}/faults", json={"status": 200}), "post", "/faults", 400)
    assert len(check(client.get(f"{PREFIX}/faults"), "get", "/faults", 200)) == 2
    check(client.delete(f"{PREFIX}/faults/{added['id']}"), "delete", "/faults/{faultId}", 204)
    check(client.delete(f"{PREFIX}/faults/{added['id']}"), "delete", "/faults/{faultId}", 404)
    check(client.delete(f"{PREFIX}/faults"), "delete", "/faults", 204)
    assert check(client.get(f"{PREFIX}/faults"), "get", "/faults", 200) == []


# --------------------------------------------------------------------------------------------
# the documented fault rule schema and the app's validation agree

RULES = [
    {"status": 503},
    {"status": 503, "retryAfter": 5, "times": 2, "path": "/service-orders", "method": "POST"},
    {"status": 429, "retryAfter": 0},
    {"status": 500, "message": "later", "tenant": "TENANT1", "probability": 0.25, "seed": 9},
    {"delayMs": 1},
    {"delayMs": 60_000, "status": 504},
    {"drop": True},
    {"drop": True, "delayMs": 500, "times": 1},
    {"drop": False, "status": 400},
    {"status": 500, "tenant": None, "times": None, "seed": None, "retryAfter": None, "message": None},
    {},
    {"delayMs": 0},
    {"drop": False},
    {"status": 500, "drop": True},
    {"status": 399},
    {"status": 600},
    {"status": True},
    {"delayMs": 60_001},
    {"delayMs": -1},
    {"status": 500, "times": 0},
    {"status": 500, "probability": 1.5},
    {"status": 500, "seed": -1},
    {"status": 500, "retryAfter": 5},
    {"status": 503, "message": "none"},
    {"delayMs": 10, "message": "no status"},
    {"drop": True, "retryAfter": 1},
    {"status": 500, "tenant": ""},
    {"status": 500, "tenant": "   "},
    {"status": 500, "method": "FETCH"},
    {"status": 500, "path": "/service-order"},
    {"status": 500, "delay_ms": 5},
    [{"status": 500}],
]


@pytest.mark.parametrize("rule", [pytest.param(r, id=json.dumps(r)) for r in RULES])
def test_the_fault_rule_schema_accepts_exactly_the_rules_the_app_accepts(
    client: FlaskClient, rule: Any
) -> None:
    documented = not schema_errors(ADMIN_API, "/components/schemas/FaultRuleInput", rule)
    answer = client.post(f"{PREFIX}/faults", json=rule)
    assert answer.status_code in {201, 400}, answer.get_json()
    assert documented == (answer.status_code == 201)


def test_the_fault_rule_schema_lists_the_supplier_api_paths() -> None:
    paths = document()["components"]["schemas"]["FaultRuleInput"]["properties"]["path"]["enum"]
    assert set(paths) == {"*", *supplier_operations()}
