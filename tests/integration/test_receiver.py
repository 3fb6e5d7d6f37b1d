"""The KCI receiver plays the gateway's Supplier Updates API; the HTTP transport talks to it.

The receiver is exercised with Flask's test client; the transport against the receiver
served by a Werkzeug server on a thread on 127.0.0.1, so real HTTP, tokens and headers
are involved. Token expiry is driven by a manual clock shared by both sides.
"""

from __future__ import annotations

import copy
import json
import socket
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st

from contracts import SUPPLIER_UPDATES_API, load_document
from simulator.delivery.transport import (
    DELIVERY_CONTEXT,
    BearerToken,
    ClientCredentials,
    HttpTransport,
    NoAuth,
)
from simulator.domain.clock import ManualClock
from simulator.domain.retry import DELIVERED, REJECTED, RETRY
from simulator.receiver import ReceivedRequest, ReceiverSettings, create_receiver_app, receiver_state
from simulator.receiver_cli import describe
from tests.served import serve_wsgi

EXAMPLES: dict[str, Any] = load_document(SUPPLIER_UPDATES_API)["paths"]["/kcis"]["post"]["requestBody"][
    "content"
]["application/json"]["examples"]
#: A provide order's usual story, one contract example per step.
PROVIDE_STORY = ("ACKNOWLEDGED", "COMMITTED", "UPDATE", "ADDITIONAL", "COMPLETED")
START = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
CLIENT_ID, CLIENT_SECRET = "supplier-client-id", "supplier-client-secret"


def make_kci(reason: str = "UPDATE", *, sequence: int = 1, order_id: int = 1001) -> dict[str, Any]:
    """A valid KCI: the contract's example for ``reason`` with a fresh id, ``sequence`` and ``order_id``."""
    kci: dict[str, Any] = copy.deepcopy(EXAMPLES[reason]["value"])
    kci["id"] = str(uuid.uuid4())
    kci["sequenceNumber"] = sequence
    entity = next(value for key, value in kci.items() if key.endswith("ServiceOrder"))
    if "id" in entity:
        entity["id"] = order_id
        if "supplierOrderReference" in entity:
            entity["supplierOrderReference"] = f"SO-{order_id:09d}"
    return kci


def provide_story(order_id: int) -> list[dict[str, Any]]:
    """The KCIs of one provide order, sequence numbers 1, 2, 3…"""
    return [make_kci(reason, sequence=n, order_id=order_id) for n, reason in enumerate(PROVIDE_STORY, 1)]


def headers(**extra: str) -> dict[str, str]:
    return {"X-Request-ID": str(uuid.uuid4()), **extra}


def post(client: FlaskClient, kci: Any, **extra: str) -> Any:
    return client.post(
        "/kcis", data=json.dumps(kci), content_type="application/json", headers=headers(**extra)
    )


def listed(client: FlaskClient) -> list[dict[str, Any]]:
    answer: list[dict[str, Any]] = client.get("/_receiver/kcis").get_json()
    return answer


def receiver(**settings: Any) -> Flask:
    return create_receiver_app(ReceiverSettings(**settings), clock=ManualClock(START))


def token_from(client: FlaskClient) -> str:
    answer = client.post(
        "/auth/supplier/access-token",
        data={"grant_type": "client_credentials"},
        auth=(CLIENT_ID, CLIENT_SECRET),
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    token: str = answer.get_json()["access_token"]
    return token


# -- the receiver ------------------------------------------------------------------------------


def test_a_valid_kci_is_answered_204_and_listed() -> None:
    client = receiver().test_client()
    kci = make_kci("COMMITTED", sequence=1)
    answer = post(client, kci, **{"X-Conversation-ID": "conv-1"})
    assert answer.status_code == 204
    assert answer.get_data() == b""
    [entry] = listed(client)
    assert entry["id"] == kci["id"]
    assert (entry["orderKey"], entry["sequenceNumber"], entry["reasonCode"], entry["status"]) == (
        "1001",
        1,
        "COMMITTED",
        "IN_PROGRESS",
    )
    assert entry["duplicate"] is False
    assert entry["notes"] == []
    assert entry["conversationId"] == "conv-1"
    assert entry["body"] == kci


@pytest.mark.parametrize("reason", sorted(EXAMPLES))
def test_every_contract_example_is_accepted(reason: str) -> None:
    assert post(receiver().test_client(), make_kci(reason)).status_code == 204


def test_a_malformed_kci_is_answered_400_naming_every_problem() -> None:
    client = receiver().test_client()
    kci = make_kci("COMMITTED")
    del kci["provideServiceOrder"]["committedDate"]
    kci["sequenceNumber"] = 0
    answer = client.post("/kcis", json=kci)  # and no X-Request-ID
    assert answer.status_code == 400
    body = answer.get_json()
    assert set(body) == {"uuid", "code", "messages"}
    assert body["code"] == "MALFORMED_REQUEST"
    text = " ".join(body["messages"])
    assert "header X-Request-ID is required" in text
    assert "sequenceNumber" in text
    assert listed(client) == []


def test_a_body_that_is_not_json_is_malformed() -> None:
    answer = (
        receiver()
        .test_client()
        .post("/kcis", data=b"{not json", content_type="application/json", headers=headers())
    )
    assert answer.status_code == 400
    assert "not valid JSON" in answer.get_json()["messages"][0]


def test_when_a_token_is_required_a_kci_without_one_is_refused_401() -> None:
    client = receiver(require_token=True).test_client()
    answer = post(client, make_kci())
    assert answer.status_code == 401
    assert answer.get_json()["code"] == "NOT_AUTHORISED"
    assert "missing" in answer.get_json()["messages"][0]
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert listed(client) == []


def test_a_token_from_the_token_endpoint_lets_a_kci_in() -> None:
    client = receiver(require_token=True).test_client()
    token = token_from(client)
    assert post(client, make_kci(), Authorization=f"Bearer {token}").status_code == 204


def test_an_unknown_token_is_refused() -> None:
    answer = post(receiver(require_token=True).test_client(), make_kci(), Authorization="Bearer forged")
    assert answer.status_code == 401
    assert answer.get_json()["messages"] == ["Access token invalid"]


def test_a_token_is_refused_once_it_has_expired() -> None:
    app = receiver(require_token=True, token_ttl_seconds=60)
    client = app.test_client()
    token = token_from(client)
    receiver_state(app).clock.advance(timedelta(seconds=60))
    answer = post(client, make_kci(), Authorization=f"Bearer {token}")
    assert answer.status_code == 401
    assert answer.get_json()["messages"] == ["Access token expired"]


def test_the_token_endpoint_answers_in_oauth_terms() -> None:
    client = receiver(token_ttl_seconds=120).test_client()
    answer = client.post(
        "/auth/supplier/access-token",
        data={"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
    )
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["expires_in"] == 120
    assert body["token_type"] == "Bearer"
    assert body["access_token"]


@pytest.mark.parametrize(
    ("form", "auth", "error"),
    [
        ({"grant_type": "client_credentials"}, (CLIENT_ID, "wrong"), "invalid_client"),
        ({"grant_type": "client_credentials"}, None, "invalid_client"),
        ({"grant_type": "password"}, (CLIENT_ID, CLIENT_SECRET), "unsupported_grant_type"),
        ({}, (CLIENT_ID, CLIENT_SECRET), "invalid_request"),
    ],
)
def test_the_token_endpoint_refuses_bad_requests_with_an_oauth_error(
    form: dict[str, str], auth: tuple[str, str] | None, error: str
) -> None:
    answer = receiver().test_client().post("/auth/supplier/access-token", data=form, auth=auth)
    assert answer.status_code == 400
    assert answer.get_json()["error"] == error


def test_a_repeated_id_is_answered_204_again_and_flagged_as_a_duplicate() -> None:
    client = receiver().test_client()
    kci = make_kci()
    assert post(client, kci).status_code == 204
    assert post(client, kci).status_code == 204
    first, second = listed(client)
    assert first["id"] == second["id"] == kci["id"]
    assert (first["duplicate"], second["duplicate"]) == (False, True)
    assert second["notes"] == []


def test_a_repeated_id_with_a_different_body_is_noted() -> None:
    client = receiver().test_client()
    kci = make_kci()
    post(client, kci)
    post(client, {**kci, "text": "changed"})
    assert "different body" in listed(client)[1]["notes"][0]


def test_stream_problems_are_noted_but_not_refused() -> None:
    client = receiver().test_client()
    first, second, third = provide_story(7)[:3]
    reused = make_kci("UPDATE", sequence=3, order_id=7)
    for kci in (third, first, second, reused):
        assert post(client, kci).status_code == 204
    notes = [entry["notes"] for entry in listed(client)]
    assert notes[0] == ["sequenceNumber 3 of order 7 follows 0: 1..2 not received (yet)"]
    assert "sequenceNumber 1 of order 7 arrived after 3" in notes[1][0]
    assert "arrived after 3" in notes[2][0]
    assert f"already used by KCI {third['id']}" in notes[3][0]


def test_kcis_of_different_orders_form_separate_streams() -> None:
    client = receiver().test_client()
    for kci in (make_kci(sequence=1, order_id=1), make_kci(sequence=1, order_id=2)):
        post(client, kci)
    assert [entry["notes"] for entry in listed(client)] == [[], []]


@given(arrivals=st.lists(st.integers(min_value=0, max_value=4), max_size=15))
def test_a_kci_is_flagged_duplicate_exactly_when_its_id_arrived_before(arrivals: list[int]) -> None:
    client = receiver().test_client()
    story = provide_story(1001)
    for index in arrivals:
        assert post(client, story[index]).status_code == 204
    flags = [entry["duplicate"] for entry in listed(client)]
    assert flags == [index in arrivals[:position] for position, index in enumerate(arrivals)]


def test_fail_first_answers_503_without_a_body_then_recovers() -> None:
    client = receiver(fail_first=2).test_client()
    kcis = provide_story(1)[:3]
    statuses = [post(client, kci).status_code for kci in kcis] + [post(client, kcis[0]).status_code]
    assert statuses == [503, 503, 204, 204]
    assert post(client, kcis[1]).status_code == 204
    assert [entry["id"] for entry in listed(client)] == [kcis[2]["id"], kcis[0]["id"], kcis[1]["id"]]


def test_failures_can_be_injected_at_runtime_with_a_retry_after() -> None:
    client = receiver().test_client()
    answer = client.post("/_receiver/fail", json={"status": 503, "count": 2, "retryAfter": 7})
    assert answer.get_json() == {"status": 503, "count": 2, "retryAfter": 7}
    first, second, third = (post(client, make_kci()) for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (503, 503, 204)
    assert first.headers["Retry-After"] == "7"
    assert first.get_data() == b""


@pytest.mark.parametrize(("status", "code"), [(500, "GATEWAY_FAULT"), (422, "INVALID_REQUEST")])
def test_an_injected_failure_other_than_503_carries_the_error_body(status: int, code: str) -> None:
    client = receiver().test_client()
    client.post("/_receiver/fail", json={"status": status, "count": 1})
    answer = post(client, make_kci())
    assert answer.status_code == status
    assert answer.get_json()["code"] == code


def test_a_nonsensical_failure_injection_is_refused_naming_every_problem() -> None:
    answer = (
        receiver().test_client().post("/_receiver/fail", json={"status": 200, "count": -1, "retryAfter": "x"})
    )
    assert answer.status_code == 400
    assert [message.split(":")[0] for message in answer.get_json()["messages"]] == [
        "status",
        "count",
        "retryAfter",
    ]


def test_clearing_forgets_kcis_and_their_streams() -> None:
    client = receiver().test_client()
    kci = make_kci(sequence=2)
    post(client, kci)
    assert client.delete("/_receiver/kcis").status_code == 204
    assert listed(client) == []
    post(client, kci)
    assert listed(client)[0]["duplicate"] is False


def test_every_kci_request_is_journalled_with_its_answer() -> None:
    heard: list[ReceivedRequest] = []
    app = create_receiver_app(ReceiverSettings(fail_first=1), on_request=heard.append)
    client = app.test_client()
    kci = make_kci()
    post(client, kci)
    post(client, {"id": "nope"})
    post(client, kci)
    journal = client.get("/_receiver/requests").get_json()
    assert [entry["status"] for entry in journal] == [503, 400, 204]
    assert journal[2]["kciId"] == kci["id"]
    assert [entry.status for entry in heard] == [503, 400, 204]


def test_the_receiver_command_prints_one_line_per_kci() -> None:
    heard: list[ReceivedRequest] = []
    client = create_receiver_app(on_request=heard.append).test_client()
    post(client, make_kci("COMMITTED", sequence=2, order_id=1001))
    post(client, make_kci("COMMITTED", sequence=2, order_id=1001))
    post(client, {})
    accepted, reused, refused = (describe(entry).plain for entry in heard)
    assert "204  order 1001/SO-000001001  #2  COMMITTED  IN_PROGRESS  (sequenceNumber 2" in accepted
    assert "already used" in reused
    assert "400  body" in refused


# -- the HTTP transport against the receiver ---------------------------------------------------


def test_the_transport_delivers_a_kci_the_receiver_accepts() -> None:
    app = receiver()
    kci = make_kci("ACKNOWLEDGED")
    with serve_wsgi(app) as base, HttpTransport(base) as transport:
        result = transport.send(kci["id"], kci)
    assert (result.status_code, result.outcome, result.error) == (204, DELIVERED, None)
    assert [entry.id for entry in receiver_state(app).kcis()] == [kci["id"]]


def test_each_attempt_has_a_new_request_id_and_the_orders_conversation_id() -> None:
    app = receiver()
    kci = make_kci()
    payload = {**kci, DELIVERY_CONTEXT: {"conversationId": "conv-42"}}
    with serve_wsgi(app) as base, HttpTransport(base) as transport:
        results = [transport.send(kci["id"], payload) for _ in range(2)]
        transport.send(kci["id"], kci)
    first, second, third = receiver_state(app).kcis()
    assert first.request_id == results[0].request_id != second.request_id == results[1].request_id
    assert (first.conversation_id, second.conversation_id, third.conversation_id) == (
        "conv-42",
        "conv-42",
        None,
    )
    assert first.body == kci  # the delivery metadata stays home


def test_a_client_credentials_token_is_fetched_once_and_reused_for_many_kcis() -> None:
    clock = ManualClock(START)
    app = create_receiver_app(ReceiverSettings(require_token=True), clock=clock)
    with serve_wsgi(app) as base:
        auth = ClientCredentials(f"{base}/auth/supplier/access-token", CLIENT_ID, CLIENT_SECRET, clock=clock)
        with HttpTransport(base, auth) as transport:
            outcomes = [transport.send(kci["id"], kci).outcome for kci in provide_story(1)]
    assert outcomes == [DELIVERED] * 5
    assert receiver_state(app).token_counts()["issued"] == auth.tokens_fetched == 1


def test_a_token_is_fetched_again_shortly_before_it_expires() -> None:
    clock = ManualClock(START)
    app = create_receiver_app(ReceiverSettings(require_token=True, token_ttl_seconds=3600), clock=clock)
    first, second, third = provide_story(1)[:3]
    with serve_wsgi(app) as base:
        auth = ClientCredentials(f"{base}/auth/supplier/access-token", CLIENT_ID, CLIENT_SECRET, clock=clock)
        with HttpTransport(base, auth) as transport:
            transport.send(first["id"], first)
            clock.advance(timedelta(seconds=3500))
            transport.send(second["id"], second)
            assert auth.tokens_fetched == 1
            clock.advance(timedelta(seconds=50))  # within a minute of expiry
            assert transport.send(third["id"], third).outcome == DELIVERED
    assert auth.tokens_fetched == 2
    assert [entry.status for entry in receiver_state(app).requests()] == [204, 204, 204]  # never a 401


def test_a_token_given_as_a_numeric_string_is_understood() -> None:
    clock = ManualClock(START)
    app = create_receiver_app(
        ReceiverSettings(require_token=True, token_ttl_seconds=600, expires_in_as_string=True), clock=clock
    )
    with serve_wsgi(app) as base:
        auth = ClientCredentials(f"{base}/auth/supplier/access-token", CLIENT_ID, CLIENT_SECRET, clock=clock)
        with HttpTransport(base, auth) as transport:
            for kci in provide_story(1)[:2]:
                assert transport.send(kci["id"], kci).outcome == DELIVERED
            clock.advance(timedelta(seconds=541))
            kci = provide_story(1)[2]
            assert transport.send(kci["id"], kci).outcome == DELIVERED
    assert auth.tokens_fetched == 2


def test_a_401_discards_the_token_and_the_kci_is_sent_once_more_with_a_new_one() -> None:
    clock = ManualClock(START)
    app = create_receiver_app(ReceiverSettings(require_token=True), clock=clock)
    first, second = provide_story(1)[:2]
    with serve_wsgi(app) as base:
        auth = ClientCredentials(f"{base}/auth/supplier/access-token", CLIENT_ID, CLIENT_SECRET, clock=clock)
        with HttpTransport(base, auth) as transport:
            transport.send(first["id"], first)
            receiver_state(app).revoke_tokens()  # e.g. the gateway rotated its keys
            result = transport.send(second["id"], second)
    assert result.outcome == DELIVERED
    assert auth.tokens_fetched == 2
    refused, accepted = receiver_state(app).requests()[1:]
    assert (refused.status, accepted.status) == (401, 204)
    assert refused.request_id != accepted.request_id == result.request_id


def test_a_second_401_in_a_row_is_the_gateways_answer() -> None:
    clock = ManualClock(START)
    app = create_receiver_app(ReceiverSettings(require_token=True), clock=clock)
    receiver_state(app).inject(401, 5)
    kci = make_kci()
    with serve_wsgi(app) as base:
        auth = ClientCredentials(f"{base}/auth/supplier/access-token", CLIENT_ID, CLIENT_SECRET, clock=clock)
        with HttpTransport(base, auth) as transport:
            result = transport.send(kci["id"], kci)
    assert (result.status_code, result.outcome) == (401, REJECTED)
    assert "NOT_AUTHORISED" in (result.body or "")
    assert auth.tokens_fetched == 2
    assert len(receiver_state(app).requests()) == 2  # refetched and resent once, not more


def test_a_token_endpoint_that_refuses_the_client_leaves_the_kci_to_be_retried() -> None:
    clock = ManualClock(START)
    app = create_receiver_app(ReceiverSettings(require_token=True), clock=clock)
    kci = make_kci()
    with serve_wsgi(app) as base:
        auth = ClientCredentials(f"{base}/auth/supplier/access-token", CLIENT_ID, "s3cr3t-guess", clock=clock)
        with HttpTransport(base, auth) as transport:
            result = transport.send(kci["id"], kci)
    assert (result.status_code, result.outcome) == (None, RETRY)
    assert "no access token: token refused by" in (result.error or "")
    assert "400 invalid_client" in (result.error or "")
    assert "s3cr3t-guess" not in (result.error or "")
    assert "invalid_client" in (result.error or "")
    assert receiver_state(app).requests() == []


def test_a_fixed_bearer_token_is_sent() -> None:
    app = receiver(require_token=True)
    token = receiver_state(app).issue_token()
    kci = make_kci()
    with serve_wsgi(app) as base, HttpTransport(base, BearerToken(token)) as transport:
        assert transport.send(kci["id"], kci).outcome == DELIVERED


def test_a_gateways_retry_after_and_error_body_are_reported() -> None:
    app = receiver()
    receiver_state(app).inject(500, 1, retry_after=9)
    kci = make_kci()
    with serve_wsgi(app) as base, HttpTransport(base, NoAuth()) as transport:
        result = transport.send(kci["id"], kci)
    assert (result.status_code, result.outcome, result.retry_after) == (500, RETRY, timedelta(seconds=9))
    assert json.loads(result.body or "")["code"] == "GATEWAY_FAULT"


def test_a_refused_connection_is_a_connection_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound but not listening: connections are refused
        with HttpTransport(f"http://127.0.0.1:{port}", timeout=5) as transport:
            result = transport.send("k", make_kci())
    assert (result.status_code, result.connection_error, result.timed_out, result.outcome) == (
        None,
        True,
        False,
        RETRY,
    )
    assert result.error is not None
    assert result.error.startswith("connection failed")


def test_a_gateway_that_never_answers_times_out() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # the kernel completes the handshake; nobody ever reads or answers
        port = silent.getsockname()[1]
        with HttpTransport(f"http://127.0.0.1:{port}", timeout=0.2) as transport:
            result = transport.send("k", make_kci())
    assert (result.status_code, result.timed_out, result.outcome) == (None, True, RETRY)


def test_a_refused_token_request_is_logged_once_with_its_status_and_error_but_not_the_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = ManualClock(START)
    app = create_receiver_app(ReceiverSettings(require_token=True), clock=clock)
    with serve_wsgi(app) as base:
        auth = ClientCredentials(f"{base}/auth/supplier/access-token", CLIENT_ID, "s3cr3t-guess", clock=clock)
        with HttpTransport(base, auth) as transport, caplog.at_level("WARNING", logger="contracts.oauth2"):
            for _ in range(3):
                kci = make_kci()
                transport.send(kci["id"], kci)
    [record] = [r for r in caplog.records if r.name == "contracts.oauth2"]
    assert "400 invalid_client" in record.getMessage()
    assert CLIENT_ID in record.getMessage()
    assert "s3cr3t-guess" not in record.getMessage()
