"""The target: capability discovery, the gateway's headers, token reuse, and the KCI receiver."""

from __future__ import annotations

import json

import httpx

from contracts.certification.receiver import KciReceiver
from contracts.certification.rules import Capability, Mode
from contracts.certification.target import ClientCredentials, Target, TargetSettings

BASE = "http://supplier.test"


def target_answering(
    routes: dict[str, httpx.Response], **settings: object
) -> tuple[Target, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return routes.get(request.url.path, httpx.Response(404, json={"code": "NOT_FOUND"}))

    config = TargetSettings(base_url=BASE, **settings)  # type: ignore[arg-type]
    return Target(config, transport=httpx.MockTransport(handle)), seen


def test_announced_capabilities_are_taken_as_they_are() -> None:
    announced = httpx.Response(200, json={"capabilities": ["availability", "orders", "teleportation"]})
    target, _seen = target_answering({"/_admin/capabilities": announced})
    # A supplier taking orders owes KCIs (§3.1): the KCI rules come with orders.
    assert target.capabilities == {Capability.AVAILABILITY, Capability.ORDERS, Capability.KCIS}
    assert "announced" in target.capability_source


def test_a_supplier_said_to_send_no_kcis_is_not_certified_for_them() -> None:
    target, _seen = target_answering({}, capabilities=frozenset({Capability.ORDERS}), sends_kcis=False)
    assert target.capabilities == {Capability.ORDERS}
    assert "not certified for KCIs" in target.missing_reason([Capability.KCIS])


def test_without_announced_capabilities_a_clock_api_is_discovered() -> None:
    target, _seen = target_answering(
        {"/_admin/clock": httpx.Response(200, json={"now": "2026-07-01T09:00:00Z"})}
    )
    assert target.capabilities == {Capability.AVAILABILITY, Capability.APPOINTMENTS, Capability.CLOCK}
    assert target.today().isoformat() == "2026-07-01"


def test_declared_capabilities_skip_discovery() -> None:
    target, seen = target_answering({}, capabilities=frozenset({Capability.KCIS}))
    assert target.capabilities == {Capability.KCIS}
    assert seen == []


def test_every_call_carries_the_gateway_headers_and_is_recorded_with_credentials_masked() -> None:
    target, seen = target_answering({"/service-availability": httpx.Response(200, json={})}, tenant="TENANT7")
    with target.recording() as exchanges:
        target.get("/service-availability", headers={**target.headers(), "Authorization": "Bearer hush"})
    assert seen[0].headers["Tenant"] == "TENANT7"
    assert seen[0].headers["X-Request-ID"] != seen[0].headers["X-Conversation-ID"]
    assert exchanges[0].request_headers["Authorization"] == "Bearer ***"
    assert exchanges[0].status == 200


def test_a_client_credentials_token_is_fetched_once_and_reused() -> None:
    token = httpx.Response(200, json={"access_token": "t-1", "expires_in": 3600, "token_type": "Bearer"})
    auth = ClientCredentials(f"{BASE}/token", "id", "secret")
    target, seen = target_answering(
        {"/token": token, "/kcis": httpx.Response(204)}, auth=auth, mode=Mode.GATEWAY
    )
    for _ in range(3):
        target.post("/kcis", json_body={}, headers=target.headers())
    assert [request.url.path for request in seen] == ["/token", "/kcis", "/kcis", "/kcis"]
    assert all(request.headers["Authorization"] == "Bearer t-1" for request in seen[1:])
    assert "Tenant" not in seen[1].headers  # gateway mode sends no tenant


def test_the_same_seed_and_id_base_repeat_the_ids_and_a_new_id_base_changes_them() -> None:
    def ids(id_base: int) -> tuple[int, str]:
        target = Target(TargetSettings(base_url=BASE, seed=3, id_base=id_base))
        return target.new_id(), target.new_uuid()

    assert ids(100) == ids(100)
    assert ids(100)[1] != ids(200)[1]


def test_the_receiver_keeps_kcis_refuses_what_is_not_json_and_issues_tokens() -> None:
    with KciReceiver() as receiver:
        assert receiver.url.startswith("http://127.0.0.1:")
        token = httpx.post(
            f"{receiver.url}/auth/supplier/access-token", data={"grant_type": "client_credentials"}
        )
        assert token.json()["token_type"] == "Bearer"
        assert httpx.post(f"{receiver.url}/kcis", json={"id": "k-1"}).status_code == 204
        refused = httpx.post(
            f"{receiver.url}/kcis", content=b"{nope", headers={"Content-Type": "application/json"}
        )
        assert refused.status_code == 400
        assert refused.json()["code"] == "MALFORMED_REQUEST"
        assert receiver.kcis() == [{"id": "k-1"}, "{nope"]
        assert httpx.post(f"{receiver.url}/elsewhere", json={}).status_code == 404


def test_the_receiver_records_the_headers_and_raw_body_of_each_delivery() -> None:
    body = json.dumps({"a": 1}).encode()
    with KciReceiver() as receiver:
        httpx.post(f"{receiver.url}/kcis", content=body, headers={"X-Request-ID": "r-1"})
        (delivery,) = receiver.received()
    assert delivery.headers["X-Request-ID"] == "r-1"
    assert delivery.raw == body.decode()
