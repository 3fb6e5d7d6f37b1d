"""Strict mode: a gateway's calls to the simulator, read from its journal and judged by the GWI rules."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask, jsonify, request

from contracts import SUPPLIER_API, load_document
from contracts.certification import inbound
from contracts.certification.cli import add_certify_command
from contracts.certification.rules import Mode
from contracts.certification.runner import RuleResult, SuiteResult, Verdict, certify
from contracts.certification.target import TargetSettings
from simulator.composition import close_app, create_app
from simulator.settings import Settings
from tests.certification.fakes import gateway_app
from tests.conftest import START, address_query, gateway_headers
from tests.orders_support import provide
from tests.served import serve_wsgi, served_simulator

SIMULATOR = "http://simulator.test"
INBOUND_RULES = [f"GWI-00{n}" for n in range(1, 8)]
UPRN = "100000000002"


class Gateway:
    """Plays a gateway calling the simulator's Supplier API; each call gets fresh headers unless told."""

    def __init__(self, client: httpx.Client, tenant: str = "TENANT1") -> None:
        self.client = client
        self.tenant = tenant

    def headers(self, **changes: str | None) -> dict[str, str]:
        """The gateway headers, with ``changes`` replacing (or, given ``None``, removing) some."""
        headers = gateway_headers(self.tenant)
        for name, value in changes.items():
            header = name.replace("_", "-")
            headers.pop(header, None)
            if value is not None:
                headers[header] = value
        return headers

    def availability(self, query: dict[str, str] | None = None, **headers: str | None) -> httpx.Response:
        return self.client.get(
            "/service-availability", params=query or address_query(UPRN), headers=self.headers(**headers)
        )

    def post(self, path: str, body: Any, **headers: str | None) -> httpx.Response:
        return self.client.post(path, json=body, headers=self.headers(**headers))

    def behave(self, base_id: int = 9000) -> None:
        """A well-behaved journey: availability, appointments, a reservation, an order and its retry,
        an amendment and a cancellation."""
        assert self.availability().status_code == 200
        query = {
            **address_query(UPRN),
            "serviceSpecification": json.dumps({"id": "FTTP"}),
            "appointmentPurpose": "PROVIDE",
            "appointmentFromDate": "2026-07-13",
        }
        offered = self.client.get("/available-appointments", params=query, headers=self.headers())
        assert offered.status_code == 200, offered.text
        slot = offered.json()["availableTimeslots"][0]
        reservation = {
            "id": base_id + 1,
            "address": {"id": UPRN, "type": "UPRN"},
            "serviceSpecification": {"id": "FTTP"},
            "purpose": "PROVIDE",
            "timeslot": {key: slot[key] for key in ("timeslotStartDateTime", "timeslotEndDateTime")},
        }
        reserved = self.post("/appointments", reservation)
        assert reserved.status_code == 201, reserved.text
        order = provide(
            base_id + 2,
            tenant=self.tenant,
            appointmentReservationId=base_id + 1,
            appointmentReservationReference=reserved.json()["supplierReference"],
        )
        assert self.post("/service-orders", order).status_code == 201
        assert self.post("/service-orders", order).status_code == 201  # a retry: same id, same body
        amendment = {"id": base_id + 3, "orderId": base_id + 2, "notes": "ring the bell twice"}
        assert self.post("/service-order-amendments", amendment).status_code in {201, 202}
        cancellation = {"id": base_id + 4, "orderId": base_id + 2, "reasonCode": "CUSTOMER_CHANGED_MIND"}
        assert self.post("/service-order-cancellations", cancellation).status_code in {201, 202}


def simulator_app() -> Flask:
    return create_app(Settings(database=":memory:", clock=f"manual@{START}", background=False))


@pytest.fixture
def simulator() -> Iterator[Flask]:
    application = simulator_app()
    yield application
    close_app(application)


@pytest.fixture
def gateway(simulator: Flask) -> Iterator[Gateway]:
    with httpx.Client(base_url=SIMULATOR, transport=httpx.WSGITransport(app=simulator)) as client:
        yield Gateway(client)


def certify_inbound(simulator: Flask, **settings: Any) -> SuiteResult:
    """Strict mode alone (no --kci-url) against the in-process simulator."""
    transport = httpx.WSGITransport(app=simulator)
    chosen = TargetSettings(base_url="", mode=Mode.GATEWAY, simulator_url=SIMULATOR, seed=1, **settings)
    return certify(chosen, transport=transport, simulator_transport=transport, announce=lambda _line: None)


def inbound_results(result: SuiteResult) -> dict[str, RuleResult]:
    return {item.rule.id: item for item in result.results if item.rule.id.startswith("GWI-")}


def failed(result: SuiteResult) -> set[str]:
    return {rule_id for rule_id, item in inbound_results(result).items() if item.verdict is Verdict.FAILED}


# --- a gateway that follows the contract ----------------------------------------------------------------


def test_a_gateway_whose_calls_follow_the_contract_passes_every_inbound_rule(
    simulator: Flask, gateway: Gateway
) -> None:
    gateway.behave()
    result = certify_inbound(simulator)
    verdicts = {rule_id: (item.verdict, item.message) for rule_id, item in inbound_results(result).items()}
    assert verdicts == dict.fromkeys(INBOUND_RULES, (Verdict.PASSED, ""))
    assert result.exit_code() == 0
    headers = inbound_results(result)["GWI-001"].evidence.notes
    assert headers[0] == f"examined 7 journalled call(s) at {SIMULATOR}/_admin/journal"
    assert headers[1] == "7 calls checked"


def test_without_a_kci_url_the_kci_rules_are_skipped_naming_the_option(
    simulator: Flask, gateway: Gateway
) -> None:
    gateway.behave()
    result = certify_inbound(simulator)
    skipped = {item.rule.id: item.message for item in result.results if item.verdict is Verdict.SKIPPED}
    assert sorted(skipped) == [f"GW-00{n}" for n in range(1, 8)]
    assert all("--kci-url" in reason for reason in skipped.values())
    assert result.target == SIMULATOR
    assert result.capabilities == ("inbound",)


def test_an_empty_journal_skips_every_inbound_rule_saying_it_holds_no_calls(simulator: Flask) -> None:
    results = inbound_results(certify_inbound(simulator))
    assert {item.verdict for item in results.values()} == {Verdict.SKIPPED}
    assert results["GWI-001"].message == f"the journal at {SIMULATOR}/_admin/journal holds no calls"
    assert "holds no orders (POST /service-orders)" in results["GWI-005"].message


def test_a_journal_of_availability_checks_only_skips_the_rules_about_bodies(
    simulator: Flask, gateway: Gateway
) -> None:
    assert gateway.availability().status_code == 200
    verdicts = {
        rule_id: item.verdict for rule_id, item in inbound_results(certify_inbound(simulator)).items()
    }
    assert [rule_id for rule_id, verdict in verdicts.items() if verdict is Verdict.SKIPPED] == [
        "GWI-004",
        "GWI-005",
        "GWI-006",
    ]


# --- a gateway that does not ------------------------------------------------------------------------------


def no_conversation_id(gateway: Gateway) -> str:
    headers = gateway.headers(X_Conversation_ID=None)
    gateway.client.get("/service-availability", params=address_query(UPRN), headers=headers)
    return headers["X-Request-ID"]


def repeated_request_id(gateway: Gateway) -> str:
    reused = gateway.headers()["X-Request-ID"]
    gateway.availability(X_Request_ID=reused)
    gateway.availability(X_Request_ID=reused)
    return reused


def address_not_json(gateway: Gateway) -> str:
    headers = gateway.headers()
    gateway.client.get("/service-availability", params={"address": f"UPRN {UPRN}"}, headers=headers)
    return headers["X-Request-ID"]


def body_for_another_tenant(gateway: Gateway) -> str:
    headers = gateway.headers()
    gateway.client.post("/service-orders", json=provide(9101, tenant="TENANT2"), headers=headers)
    return headers["X-Request-ID"]


def order_id_reused_for_another_order(gateway: Gateway) -> str:
    gateway.post("/service-orders", provide(9102, profile="1"))
    headers = gateway.headers()
    gateway.client.post("/service-orders", json=provide(9102, profile="2"), headers=headers)
    return headers["X-Request-ID"]


def body_without_primary_contact(gateway: Gateway) -> str:
    body = provide(9103)
    del body["primaryContact"]
    headers = gateway.headers()
    gateway.client.post("/service-orders", json=body, headers=headers)
    return headers["X-Request-ID"]


def cancellation_id_zero(gateway: Gateway) -> str:
    headers = gateway.headers()
    body = {"id": 0, "orderId": 9002, "reasonCode": "CUSTOMER_CHANGED_MIND"}
    gateway.client.post("/service-order-cancellations", json=body, headers=headers)
    return headers["X-Request-ID"]


@pytest.mark.parametrize(
    ("misbehave", "failing"),
    [
        (no_conversation_id, {"GWI-001", "GWI-007"}),
        (repeated_request_id, {"GWI-002"}),
        (address_not_json, {"GWI-003", "GWI-007"}),
        (body_for_another_tenant, {"GWI-005"}),
        (order_id_reused_for_another_order, {"GWI-006"}),
        (body_without_primary_contact, {"GWI-004", "GWI-007"}),
        (cancellation_id_zero, {"GWI-004", "GWI-006", "GWI-007"}),
    ],
    ids=lambda value: getattr(value, "__name__", "") or ",".join(sorted(value)),
)
def test_a_gateway_that_misbehaves_once_fails_the_rules_about_it_naming_the_call(
    simulator: Flask, gateway: Gateway, misbehave: Callable[[Gateway], str], failing: set[str]
) -> None:
    gateway.behave()
    bad_request_id = misbehave(gateway)
    result = certify_inbound(simulator)
    assert failed(result) == failing
    assert result.exit_code() == 1
    for rule_id in failing:
        item = inbound_results(result)[rule_id]
        assert bad_request_id in item.message, (rule_id, item.message)
        assert any(bad_request_id in note for note in item.evidence.notes)
        assert any(
            bad_request_id in e.request_headers.get("X-Request-ID", "") for e in item.evidence.exchanges
        )


def test_each_inbound_violation_says_what_was_wrong_with_the_call(simulator: Flask, gateway: Gateway) -> None:
    no_conversation_id(gateway)  # journal entry 1
    repeated_request_id(gateway)  # 2 and 3
    address_not_json(gateway)  # 4
    body_for_another_tenant(gateway)  # 5
    order_id_reused_for_another_order(gateway)  # 6 and 7
    body_without_primary_contact(gateway)  # 8
    cancellation_id_zero(gateway)  # 9
    messages = {
        rule_id: item.message for rule_id, item in inbound_results(certify_inbound(simulator)).items()
    }
    assert messages["GWI-001"].startswith("1 of 9 calls lack a gateway header")
    assert "#1 GET /service-availability" in messages["GWI-001"]
    assert messages["GWI-001"].endswith(": no X-Conversation-ID")
    assert messages["GWI-002"].endswith(": X-Request-ID already sent on #2 GET /service-availability")
    assert messages["GWI-003"].endswith(f": query address 'UPRN {UPRN}' is not JSON")
    assert messages["GWI-004"].startswith("2 of 5 calls to operations with a request body")
    assert "#8 POST /service-orders" in messages["GWI-004"]
    assert "'primaryContact' is a required property" in messages["GWI-004"]
    assert "#9 POST /service-order-cancellations" in messages["GWI-004"]
    assert "id: 0 is less than the minimum of 1" in messages["GWI-004"]
    assert messages["GWI-005"].endswith(": tenant 'TENANT2' in the body, Tenant 'TENANT1' in the header")
    assert "id 0 is not an integer from 1 to 2^53-1" in messages["GWI-006"]
    reuse = "#7 POST /service-orders"
    assert reuse in messages["GWI-006"]
    assert (
        "id 9102 was sent on #6 POST /service-orders with a different request (serviceOrderItem)"
        in (messages["GWI-006"])
    )
    assert messages["GWI-007"].startswith("4 of 9 calls were refused as malformed")
    assert "refused with 400: header X-Conversation-ID is required" in messages["GWI-007"]
    assert "(1 more)" in messages["GWI-007"]


def test_an_offending_call_is_shown_as_the_exchange_the_simulator_journalled(
    simulator: Flask, gateway: Gateway
) -> None:
    bad_request_id = body_for_another_tenant(gateway)
    (exchange,) = inbound_results(certify_inbound(simulator))["GWI-005"].evidence.exchanges
    assert exchange.summary == f"POST {SIMULATOR}/service-orders -> 422"
    assert exchange.request_headers["X-Request-ID"] == bad_request_id
    assert exchange.request_headers["Tenant"] == "TENANT1"
    assert json.loads(exchange.request_body)["tenant"] == "TENANT2"
    assert "is not the Tenant header" in exchange.response_body
    assert exchange.note == "tenant 'TENANT2' in the body, Tenant 'TENANT1' in the header"


def test_a_tenant_header_the_contract_refuses_is_a_header_violation(
    simulator: Flask, gateway: Gateway
) -> None:
    gateway.availability(Tenant="TENANT 1")
    message = inbound_results(certify_inbound(simulator))["GWI-001"].message
    assert "Tenant 'TENANT 1': 'TENANT 1' does not match" in message


def test_a_call_to_a_path_outside_the_contract_still_needs_its_request_and_conversation_ids(
    simulator: Flask, gateway: Gateway
) -> None:
    gateway.client.post("/quote", json={}, headers={"Tenant": "TENANT1"})
    message = inbound_results(certify_inbound(simulator))["GWI-001"].message
    assert "#1 POST /quote (X-Request-ID none): no X-Request-ID; no X-Conversation-ID" in message


# --- which calls are examined -------------------------------------------------------------------------------


def test_tenant_restricts_the_rules_to_that_tenants_calls(simulator: Flask, gateway: Gateway) -> None:
    gateway.behave()
    Gateway(gateway.client, tenant="TENANT2").availability(query={"address": "not json"})
    assert failed(certify_inbound(simulator)) == {"GWI-003", "GWI-007"}
    result = certify_inbound(simulator, tenant="TENANT1")
    assert failed(result) == set()
    assert inbound_results(result)["GWI-001"].evidence.notes[0].endswith("/_admin/journal (Tenant TENANT1)")


def test_since_leaves_out_the_calls_that_arrived_before_it(simulator: Flask, gateway: Gateway) -> None:
    address_not_json(gateway)
    gateway.client.post("/_admin/clock/advance", json={"by": "PT1H"})
    gateway.behave()
    assert failed(certify_inbound(simulator)) == {"GWI-003", "GWI-007"}
    since = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
    result = certify_inbound(simulator, since=since)
    assert failed(result) == set()
    assert "since 2026-07-01T10:00:00+00:00" in inbound_results(result)["GWI-002"].evidence.notes[0]


def test_a_simulator_without_a_journal_skips_the_inbound_rules_saying_what_it_answered() -> None:
    transport = httpx.WSGITransport(app=gateway_app(require_auth=False))
    settings = TargetSettings(base_url="", mode=Mode.GATEWAY, simulator_url=SIMULATOR, seed=1)
    result = certify(settings, transport=transport, simulator_transport=transport)
    reasons = {item.message for item in result.results if item.rule.id.startswith("GWI-")}
    assert reasons == {
        f"GET {SIMULATOR}/_admin/journal answered 404: not a fibresim simulator with a request journal"
    }


def fake_journal(entries: list[dict[str, Any]]) -> Flask:
    """``GET /_admin/journal`` over ``entries``, filtered as the simulator does, newest first."""
    app = Flask("fake-journal")
    asked: list[dict[str, str]] = []
    app.extensions["asked"] = asked

    @app.get("/_admin/journal")
    def journal() -> Any:
        asked.append(dict(request.args))
        chosen = [
            entry
            for entry in entries
            if all(request.args.get(key) in {None, entry[key]} for key in ("method", "path", "tenant"))
        ]
        return jsonify(sorted(chosen, key=lambda entry: -entry["id"])[: int(request.args.get("limit", 100))])

    return app


def journalled(identity: int, method: str, path: str) -> dict[str, Any]:
    return {
        "id": identity,
        "at": START,
        "method": method,
        "path": path,
        "query": "",
        "tenant": "TENANT1",
        "requestId": f"request-{identity}",
        "conversationId": "conversation",
        "body": None,
        "status": 200,
        "response": None,
    }


def test_a_journal_longer_than_a_page_is_read_again_per_operation_and_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(inbound, "PAGE", 10)
    monkeypatch.setattr(inbound, "MAX_ENTRIES", 25)
    entries = [journalled(n, "GET", "/service-availability") for n in range(1, 21)]
    entries += [journalled(n, "POST", "/appointments") for n in range(21, 24)]
    entries += [journalled(n, "POST", "/service-orders") for n in range(24, 31)]
    entries += [journalled(n, "GET", "/elsewhere") for n in range(31, 41)]
    app = fake_journal(entries)
    transport = httpx.WSGITransport(app=app)
    settings = TargetSettings(base_url="", mode=Mode.GATEWAY, simulator_url=SIMULATOR, seed=1)
    result = certify(settings, patterns=["GWI-002"], transport=transport, simulator_transport=transport)
    (item,) = result.results
    assert item.verdict is Verdict.PASSED
    # The newest 10 (31-40); availability's newest 10 (11-20); all 3 reservations; then room for
    # only 2 orders (29, 30): 25 in all, and nothing more is asked for.
    reads = [asked for asked in app.extensions["asked"] if asked.get("limit") not in {None, "1"}]
    assert reads == [
        {"limit": "10"},
        {"limit": "10", "method": "GET", "path": "/service-availability"},
        {"limit": "5", "method": "GET", "path": "/available-appointments"},
        {"limit": "5", "method": "POST", "path": "/appointments"},
        {"limit": "2", "method": "POST", "path": "/service-orders"},
    ]
    scope = item.evidence.notes[0]
    assert scope.startswith("examined 25 journalled call(s)")
    assert "no paging cursor" in scope
    assert "older calls of GET /service-availability, POST /service-orders, " in scope
    assert scope.endswith("paths outside the contract were not examined")
    assert "POST /appointments" not in scope
    assert item.evidence.notes[1] == "25 calls with an X-Request-ID checked"


def test_the_journal_is_read_once_per_run_for_all_inbound_rules(simulator: Flask, gateway: Gateway) -> None:
    gateway.behave()
    reads = []

    def counting(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/_admin/journal" and request.url.params.get("limit") == str(inbound.PAGE):
            reads.append(request.url)
        return httpx.WSGITransport(app=simulator).handle_request(request)

    transport = httpx.MockTransport(counting)
    settings = TargetSettings(base_url="", mode=Mode.GATEWAY, simulator_url=SIMULATOR, seed=1)
    result = certify(settings, transport=transport, simulator_transport=transport)
    assert failed(result) == set()
    assert len(reads) == 1


def test_the_contracts_integer_properties_of_request_bodies_are_exactly_the_gateway_id_fields() -> None:
    document = load_document(SUPPLIER_API)
    schemas = document["components"]["schemas"]

    def resolved(schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
        return schema

    integers = set()
    for operation in inbound.operations().values():
        if operation.body_schema is None:
            continue
        raw = document["paths"][operation.path][operation.method.lower()]["requestBody"]
        top = resolved(raw["content"]["application/json"]["schema"])
        for branch in [resolved(b) for b in top.get("oneOf", [top])]:
            integers |= {
                k for k, v in branch.get("properties", {}).items() if resolved(v).get("type") == "integer"
            }
    assert integers == set(inbound.GATEWAY_ID_FIELDS)


# --- on the command line, against a served simulator --------------------------------------------------------


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="fibresim")
    add_certify_command(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["certify", "gateway", *argv])
    code: int = args.run(args)
    return code


def test_certify_gateway_with_only_a_simulator_judges_the_calls_it_journalled(tmp_path: Path) -> None:
    report = tmp_path / "calls.json"
    with (
        # One worker: each worker journals in its own batches, so a call answered by another
        # worker may not be in the journal yet when the run reads it.
        served_simulator(
            "--db", str(tmp_path / "s.sqlite3"), "--clock", f"manual@{START}", "--workers", "1"
        ) as base,
        httpx.Client(base_url=base) as client,
    ):
        Gateway(client).behave()
        arguments = ["--simulator", base, "--seed", "2", "--no-progress", "--json", str(report)]
        assert run(*arguments, "--since", START, "--tenant", "TENANT1") == 0
        verdicts = {entry["id"]: entry["verdict"] for entry in json.loads(report.read_text())["results"]}
        assert [verdicts[rule_id] for rule_id in INBOUND_RULES] == ["passed"] * 7
        address_not_json(Gateway(client))
        assert run(*arguments) == 1
    document = json.loads(report.read_text())
    failures = {entry["id"]: entry for entry in document["results"] if entry["verdict"] == "failed"}
    assert sorted(failures) == ["GWI-003", "GWI-007"]
    assert failures["GWI-003"]["evidence"]["exchanges"][0]["url"].startswith(f"{base}/service-availability?")
    assert "inbound" in document["capabilities"]


def test_certify_gateway_without_a_kci_url_or_a_simulator_is_a_setup_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run("--seed", "1") == 2
    error = capsys.readouterr().err
    assert "--kci-url" in error
    assert "--simulator" in error


def test_since_without_a_utc_offset_is_refused_by_the_option_parser(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as refused:
        run("--simulator", "http://127.0.0.1:9", "--since", "2026-07-01T09:00:00")
    assert refused.value.code == 2
    assert "has no UTC offset" in capsys.readouterr().err


def test_with_both_a_kci_url_and_a_simulator_every_gateway_rule_runs(
    simulator: Flask, gateway: Gateway
) -> None:
    gateway.behave()
    with serve_wsgi(gateway_app(require_auth=False)) as kci_url:
        settings = TargetSettings(base_url=kci_url, mode=Mode.GATEWAY, simulator_url=SIMULATOR, seed=5)
        result = certify(settings, simulator_transport=httpx.WSGITransport(app=simulator))
    verdicts = {item.rule.id: item.verdict for item in result.results}
    # GW-006 runs without credentials, and this gateway takes unauthenticated KCIs.
    assert verdicts.pop("GW-006") is Verdict.FAILED
    assert set(verdicts.values()) == {Verdict.PASSED}
    assert result.capabilities == ("inbound", "kcis")
