"""The request journal and fault injection, through the Supplier API and the admin surface."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from contracts import SUPPLIER_API, load_document
from simulator.http.fault_injection import (
    ConnectionDropped,
    FaultRules,
    FaultSpec,
    supplier_operations,
)
from simulator.http.journal import BODY_CAP
from tests.conftest import address_query, gateway_headers
from tests.orders_support import post, provide
from tests.served import serve_wsgi

COVERED = "100000000002"


def availability(client: FlaskClient, tenant: str = "TENANT1", uprn: str = COVERED, **headers: str) -> Any:
    return client.get(
        "/service-availability", query_string=address_query(uprn), headers=gateway_headers(tenant, **headers)
    )


def journal(client: FlaskClient, **filters: Any) -> list[dict[str, Any]]:
    response = client.get("/_admin/journal", query_string=filters)
    assert response.status_code == 200, response.get_json()
    entries: list[dict[str, Any]] = response.get_json()
    return entries


def add_fault(client: FlaskClient, **rule: Any) -> dict[str, Any]:
    response = client.post("/_admin/faults", json=rule)
    assert response.status_code == 201, response.get_json()
    added: dict[str, Any] = response.get_json()
    return added


def refused_rule(client: FlaskClient, rule: Any, status: int = 400) -> list[str]:
    response = client.post("/_admin/faults", json=rule)
    assert response.status_code == status
    body = response.get_json()
    assert body["code"] == ("MALFORMED_REQUEST" if status == 400 else "INVALID_REQUEST")
    assert set(body) == {"uuid", "code", "messages"}
    messages: list[str] = body["messages"]
    return messages


# --------------------------------------------------------------------------------------------
# the journal


def test_the_journal_records_a_supplier_api_call_with_its_headers_and_answer(client: FlaskClient) -> None:
    answer = availability(client, "TENANT2", **{"X-Request-ID": "req-1", "X-Conversation-ID": "conv-1"})
    assert answer.status_code == 200

    [entry] = journal(client)
    assert entry["method"] == "GET"
    assert entry["path"] == "/service-availability"
    assert "address=" in entry["query"]
    assert (entry["tenant"], entry["requestId"], entry["conversationId"]) == ("TENANT2", "req-1", "conv-1")
    assert entry["status"] == 200
    assert entry["body"] is None
    assert entry["response"] == answer.get_json()
    assert entry["at"] == "2026-07-01T09:00:00Z"  # the simulator's clock, not the wall clock


def test_admin_calls_are_not_journalled(client: FlaskClient) -> None:
    client.get("/_admin/clock")
    client.post("/_admin/clock/advance", json={"by": "PT1M"})
    client.get("/_admin/faults")
    assert journal(client) == []


def test_a_malformed_call_is_journalled_with_its_raw_body_and_the_error_answer(client: FlaskClient) -> None:
    answer = client.post(
        "/appointments", data="{not json", content_type="application/json", headers=gateway_headers()
    )
    assert answer.status_code == 400

    [entry] = journal(client)
    assert entry["body"] == "{not json"
    assert entry["status"] == 400
    assert entry["response"]["code"] == "MALFORMED_REQUEST"


def test_a_call_without_gateway_headers_or_to_an_unknown_path_is_journalled(client: FlaskClient) -> None:
    client.get("/service-availability", query_string=address_query(COVERED))
    client.get("/service-availabilty")

    unknown, headless = journal(client)
    assert (unknown["path"], unknown["status"]) == ("/service-availabilty", 404)
    assert (headless["tenant"], headless["requestId"], headless["status"]) == (None, None, 400)


def test_a_valid_call_is_journalled_with_the_document_it_sent_and_the_answer_it_got(
    client: FlaskClient,
) -> None:
    # Kept as the text that came (validation had parsed it already) and read back as documents.
    sent = provide(1001, primaryContact={"name": "Zoë 🦊 O'Neill", "phoneNumber": "07700900000"})
    answer = post(client, "/service-orders", sent)
    assert answer.status_code == 201

    [entry] = journal(client)
    assert entry["body"] == sent
    assert entry["response"] == answer.get_json()


def test_the_apps_json_is_standard_json_only(app: Flask) -> None:
    assert app.json.dumps({"id": 1, "name": "é"}) == '{"id": 1, "name": "\\u00e9"}'
    for number in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match="JSON compliant"):
            app.json.dumps({"latency": number})


def test_a_large_body_is_kept_as_truncated_text(client: FlaskClient) -> None:
    huge = {"id": 1, "padding": "x" * (2 * BODY_CAP)}
    client.post("/appointments", json=huge, headers=gateway_headers())

    [entry] = journal(client)
    assert isinstance(entry["body"], str)
    assert entry["body"].startswith('{"id": 1')
    assert entry["body"].endswith("truncated]")
    assert len(entry["body"]) < BODY_CAP + 100


def test_the_journal_filters_by_method_path_tenant_status_and_time(client: FlaskClient) -> None:
    availability(client, "TENANT1")
    availability(client, "TENANT2")
    client.post("/appointments", json={}, headers=gateway_headers("TENANT1"))
    client.post("/_admin/clock/advance", json={"by": "PT1H"})
    availability(client, "TENANT1", uprn="100000000001")

    assert len(journal(client)) == 4
    tenants = [e["tenant"] for e in journal(client, path="/service-availability")]
    assert tenants == ["TENANT1", "TENANT2", "TENANT1"]
    assert [e["path"] for e in journal(client, method="post")] == ["/appointments"]
    assert [e["status"] for e in journal(client, status=400)] == [400]
    assert len(journal(client, tenant="TENANT1")) == 3
    later = journal(client, since="2026-07-01T09:30:00Z")
    assert [e["at"] for e in later] == ["2026-07-01T10:00:00Z"]
    newest = journal(client, limit=2)
    assert [e["id"] for e in newest] == sorted((e["id"] for e in newest), reverse=True)
    assert newest[0]["query"] == later[0]["query"]


def test_the_journal_refuses_unknown_filters_and_bad_values(client: FlaskClient) -> None:
    response = client.get(
        "/_admin/journal", query_string={"tenat": "TENANT1", "limit": "0", "since": "today"}
    )
    assert response.status_code == 400
    messages = " ".join(response.get_json()["messages"])
    assert "tenat" in messages
    assert "method, path, tenant, status, since, limit" in messages
    assert "query limit" in messages
    assert "query since" in messages


def test_deleting_the_journal_empties_it(client: FlaskClient) -> None:
    availability(client)
    assert client.delete("/_admin/journal").status_code == 204
    assert journal(client) == []


def test_a_journal_that_cannot_be_written_does_not_break_the_answer(app: Flask, client: FlaskClient) -> None:
    with app.extensions["fibresim.context"].database.transaction() as connection:
        connection.execute(text("DROP TABLE journal"))
    assert availability(client).status_code == 200


# --------------------------------------------------------------------------------------------
# fault injection


def test_a_fault_with_times_two_answers_503_twice_without_a_body_then_normally(client: FlaskClient) -> None:
    rule = add_fault(client, method="GET", path="/service-availability", status=503, times=2)

    statuses = [availability(client) for _ in range(3)]
    assert [answer.status_code for answer in statuses] == [503, 503, 200]
    assert statuses[0].data == b""
    assert "Content-Type" not in statuses[0].headers
    [listed] = client.get("/_admin/faults").get_json()
    assert (listed["id"], listed["remaining"], listed["hits"]) == (rule["id"], 0, 2)
    assert [entry["status"] for entry in journal(client)] == [200, 503, 503]


def test_a_500_fault_answers_with_the_api_error_body(client: FlaskClient) -> None:
    add_fault(client, status=500, message="try again later")
    answer = availability(client)
    assert answer.status_code == 500
    body = answer.get_json()
    assert set(body) == {"uuid", "code", "messages"}
    assert (body["code"], body["messages"]) == ("SUPPLIER_FAULT", ["try again later"])


def test_a_429_fault_says_when_to_retry(client: FlaskClient) -> None:
    add_fault(client, status=429, times=1)
    add_fault(client, status=429, retryAfter=30, times=1)
    first, second = availability(client), availability(client)
    assert (first.status_code, first.headers["Retry-After"]) == (429, "1")
    assert (second.status_code, second.headers["Retry-After"]) == (429, "30")
    assert first.get_json()["code"] == "SUPPLIER_FAULT"


def test_a_probability_fault_with_a_seed_fires_on_the_same_calls_every_run(client: FlaskClient) -> None:
    def run() -> list[bool]:
        client.delete("/_admin/faults")
        add_fault(client, status=500, probability=0.5, seed=7)
        return [availability(client).status_code == 500 for _ in range(20)]

    first = run()
    draws = random.Random(7)
    assert first == [draws.random() < 0.5 for _ in range(20)]
    assert run() == first
    assert any(first)
    assert not all(first)


def test_a_delay_fault_still_answers_normally(client: FlaskClient) -> None:
    add_fault(client, path="/service-availability", delayMs=20, times=1)
    answer = availability(client)
    assert answer.status_code == 200
    assert answer.get_json()["serviceSpecifications"][0]["id"] == "FTTP"
    assert client.get("/_admin/faults").get_json()[0]["hits"] == 1


def test_a_tenant_fault_leaves_other_tenants_alone(client: FlaskClient) -> None:
    add_fault(client, tenant="TENANT2", status=500)
    assert availability(client, "TENANT1").status_code == 200
    assert availability(client, "TENANT2").status_code == 500


def test_a_fault_on_one_operation_leaves_the_others_alone(client: FlaskClient) -> None:
    add_fault(client, method="POST", path="/appointments", status=500)
    assert availability(client).status_code == 200
    assert client.post("/appointments", json={}, headers=gateway_headers()).status_code == 500


def test_the_admin_surface_is_never_faulted(client: FlaskClient) -> None:
    add_fault(client, status=500)
    assert client.get("/_admin/health").status_code == 200


def test_rules_are_tried_in_the_order_they_were_added(client: FlaskClient) -> None:
    add_fault(client, status=502, times=1)
    add_fault(client, status=504, times=1)
    assert [availability(client).status_code for _ in range(3)] == [502, 504, 200]


def test_a_rule_can_be_removed_alone_and_an_unknown_one_is_not_found(client: FlaskClient) -> None:
    first = add_fault(client, status=500)
    second = add_fault(client, status=502)
    assert client.delete(f"/_admin/faults/{first['id']}").status_code == 204
    assert [rule["id"] for rule in client.get("/_admin/faults").get_json()] == [second["id"]]
    missing = client.delete(f"/_admin/faults/{first['id']}")
    assert missing.status_code == 404
    assert missing.get_json()["code"] == "NOT_FOUND"
    assert str(second["id"]) in missing.get_json()["messages"][0]
    assert client.delete("/_admin/faults").status_code == 204
    assert client.get("/_admin/faults").get_json() == []


def test_a_bad_rule_is_refused_naming_every_bad_field(client: FlaskClient) -> None:
    messages = refused_rule(client, {"status": 200, "delayMs": 70_000, "delay_ms": 5, "probability": 2})
    text_of = " | ".join(messages)
    assert "body status: 200 is less than the minimum of 400" in text_of
    assert "body delayMs: 70000 is greater than the maximum of 60000" in text_of
    assert "body delay_ms: unknown field (did you mean delayMs?)" in text_of
    assert "body probability" in text_of


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        # Refused by admin-api.yaml's FaultRuleInput: at least one effect, status xor drop,
        # retryAfter only on a 429 or 503, a message only with a status that has an error body.
        ({"path": "/service-orders"}, "anyOf"),
        ({"status": 500, "drop": True}, '"required":["status","drop"]'),
        ({"status": 500, "retryAfter": 5}, "body status: 500 is not one of 429 or 503"),
        ({"status": 503, "message": "no"}, "body status"),
        ({"status": "500"}, "body status"),
        ({"status": 500, "times": 0}, "body times"),
        ({"status": 500, "tenant": ""}, "body tenant"),
        ({"drop": "yes"}, "body drop"),
        ([{"status": 500}], 'is not of type "object"'),
    ],
)
def test_an_incomplete_or_contradictory_rule_is_refused(client: FlaskClient, rule: Any, field: str) -> None:
    assert any(field in message for message in refused_rule(client, rule))


def test_a_rule_for_a_path_the_supplier_api_lacks_lists_the_known_paths(client: FlaskClient) -> None:
    [_, message] = refused_rule(client, {"path": "/service-order", "status": 500})
    assert "did you mean /service-orders?" in message
    for path in load_document(SUPPLIER_API)["paths"]:
        assert path in message


def test_a_rule_for_a_method_the_path_lacks_says_which_it_offers(client: FlaskClient) -> None:
    # Well formed by the contract (a listed path, a listed method), so a 422, not a 400.
    [message] = refused_rule(
        client, {"method": "DELETE", "path": "/service-availability", "status": 500}, 422
    )
    assert "DELETE is not offered on /service-availability; use GET or *" in message


def test_a_dropped_call_raises_under_the_test_client_and_is_journalled_with_status_0(
    client: FlaskClient,
) -> None:
    add_fault(client, drop=True, times=1)
    with pytest.raises(ConnectionDropped):
        availability(client)
    assert availability(client).status_code == 200
    assert [entry["status"] for entry in journal(client)] == [200, 0]
    assert journal(client)[1]["response"] is None


@pytest.fixture
def served(app: Flask) -> Iterator[str]:
    """``app`` behind Werkzeug's server on a loopback port, in a thread."""
    with serve_wsgi(app) as base:
        yield base


def test_a_dropped_call_closes_a_real_connection_without_an_answer(served: str) -> None:
    with httpx.Client(base_url=served) as http:
        assert http.post("/_admin/faults", json={"drop": True, "times": 1}).status_code == 201
        params = address_query(COVERED)
        with pytest.raises(httpx.TransportError):
            http.get("/service-availability", params=params, headers=gateway_headers())
        assert http.get("/service-availability", params=params, headers=gateway_headers()).status_code == 200
        statuses = [entry["status"] for entry in http.get("/_admin/journal").json()]
    assert statuses == [200, 0]


def test_concurrent_calls_never_take_more_than_the_budget() -> None:
    rules = FaultRules(supplier_operations())
    rules.add(FaultSpec(status=500, times=50))
    fired: list[int] = []
    lock = threading.Lock()

    def call() -> None:
        mine = sum(rules.take("GET", "/service-availability", "TENANT1") is not None for _ in range(100))
        with lock:
            fired.append(mine)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(fired) == 50
