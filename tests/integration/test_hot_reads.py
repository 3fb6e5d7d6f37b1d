"""The hot reads answer exactly as Flask's route does: same status, headers, body and journal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.test import TestResponse

from simulator.composition import close_app, create_app
from simulator.http.hot_reads import INSTALLED, HotReads
from simulator.settings import Settings
from tests.conftest import START

FORM = {
    "grant_type": "client_credentials",
    "client_id": "demo-tenant1",
    "client_secret": "demo-tenant1-secret",
}
JOURNALLED = (
    "method",
    "path",
    "query",
    "tenant",
    "requestId",
    "conversationId",
    "body",
    "status",
    "response",
)


@contextmanager
def simulator(auth: str, *, hot: bool) -> Iterator[Flask]:
    application = create_app(
        Settings(database=":memory:", clock=f"manual@{START}", background=False, auth=auth)
    )
    if not hot:
        hot_reads(application).reads.clear()  # every call through Flask: the reference
    try:
        yield application
    finally:
        close_app(application)


def hot_reads(application: Flask) -> HotReads:
    found: HotReads = application.extensions[INSTALLED]
    return found


def _address(uprn: str) -> str:
    return json.dumps({"id": uprn, "type": "UPRN"})


# Covered, uncovered, multi-service, unknown and malformed addresses; the query values the
# two reads take, right and wrong; missing and present headers; tokens good, bad and expired.
ADDRESSES = st.sampled_from(
    [_address(u) for u in ("100000000001", "100000000002", "100000000003", "200000000005", "999")]
    + ['{"id": 1}', "not json", '{"id": "100000000002", "type": "POSTCODE"}']
)
AVAILABILITY_QUERY = st.fixed_dictionaries(
    {"address": ADDRESSES},
    optional={"serviceTypes": st.sampled_from(["FTTP", "FTTP,SOGEA", "", "NOPE"])},
)
SLOTS_QUERY = st.fixed_dictionaries(
    {
        "address": ADDRESSES,
        "serviceSpecification": st.sampled_from(['{"id": "FTTP"}', '{"id": "FTTP"}', '{"id": "NOPE"}', "[]"]),
        "appointmentPurpose": st.sampled_from(["PROVIDE", "REPAIR", "TEA"]),
    },
    optional={
        "appointmentFromDate": st.sampled_from(
            ["2026-07-20", "2026-06-01", "9999-12-31", "20260720", "0001-01-01"]
        ),
        "classifications": st.sampled_from(["AM", "AM,PM", "XX"]),
    },
)
CALLS = st.one_of(
    st.tuples(st.just("/service-availability"), AVAILABILITY_QUERY),
    st.tuples(st.just("/available-appointments"), SLOTS_QUERY),
)
# Mostly the headers a gateway sends; now and then some missing or empty.
FULL_HEADERS = st.fixed_dictionaries(
    {
        "X-Request-ID": st.sampled_from(["r-1", "r-2"]),
        "X-Conversation-ID": st.just("c-1"),
        "Tenant": st.sampled_from(["TENANT1", "TENANT2"]),
    }
)
PARTIAL_HEADERS = st.fixed_dictionaries(
    {},
    optional={
        "X-Request-ID": st.sampled_from(["r-1", "r-2"]),
        "X-Conversation-ID": st.just("c-1"),
        "Tenant": st.sampled_from(["TENANT1", "TENANT2", ""]),
    },
)
HEADERS = st.one_of(FULL_HEADERS, FULL_HEADERS, PARTIAL_HEADERS)
CREDENTIALS = st.sampled_from(["token", "token", "token", "expired", "forged", "none"])


def _token(client: FlaskClient) -> str:
    value: str = client.post("/auth/access-token", data=FORM).json["access_token"]  # type: ignore[index]
    return value


def _comparable(response: TestResponse) -> tuple[int, list[tuple[str, str]], Any]:
    body = response.get_json(silent=True)
    if isinstance(body, dict):
        body.pop("uuid", None)  # a fresh one per error answer
    return response.status_code, sorted(response.headers.items()), body if body is not None else response.data


def _journal(client: FlaskClient) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = client.get("/_admin/journal", query_string={"limit": 1000}).json  # type: ignore[assignment]
    kept = [{key: entry.get(key) for key in JOURNALLED} for entry in entries]
    for entry in kept:
        if isinstance(entry["response"], dict):
            entry["response"].pop("uuid", None)
    assert client.delete("/_admin/journal").status_code in {200, 204}
    return kept


def _authorization(credentials: str, token: str) -> dict[str, str]:
    """The header a call sends: a token (live, or expired by then), a forged one, or none."""
    if credentials == "none":
        return {}
    return {"Authorization": "Bearer a.b.c" if credentials == "forged" else f"Bearer {token}"}


@pytest.mark.parametrize("auth", ["none", "oauth2"])
def test_hot_reads_answer_and_journal_as_flask_does(auth: str) -> None:
    # One pair of simulators for every example: each example's journal is read and cleared.
    with simulator(auth, hot=True) as fast_app, simulator(auth, hot=False) as plain_app:
        fast, plain = fast_app.test_client(), plain_app.test_client()

        @given(calls=st.lists(st.tuples(CALLS, HEADERS, CREDENTIALS), min_size=1, max_size=6))
        def alike(calls: list[tuple[tuple[str, dict[str, str]], dict[str, str], str]]) -> None:
            tokens = {id(fast): _token(fast), id(plain): _token(plain)}
            for (path, query), headers, credentials in calls:
                if credentials == "expired":  # both clocks past the token's lifetime
                    for client in (fast, plain):
                        client.post("/_admin/clock/advance", json={"by": "PT2H"})
                answers = [
                    _comparable(
                        client.get(
                            path,
                            query_string=query,
                            headers={**headers, **_authorization(credentials, tokens[id(client)])},
                        )
                    )
                    for client in (fast, plain)
                ]
                assert answers[0] == answers[1], (path, query, headers, credentials)
                if credentials == "expired":
                    for client in (fast, plain):
                        tokens[id(client)] = _token(client)
            assert _journal(fast) == _journal(plain)

        alike()
        assert hot_reads(plain_app).answered == 0
        assert hot_reads(fast_app).answered > 0


def test_a_valid_read_is_answered_by_the_hot_path_and_a_refused_one_by_flask(
    client: FlaskClient, app: Flask
) -> None:
    hot = hot_reads(app)
    headers = {"X-Request-ID": "r", "X-Conversation-ID": "c", "Tenant": "TENANT1"}
    ok = client.get(
        "/service-availability", query_string={"address": _address("100000000002")}, headers=headers
    )
    assert ok.status_code == 200
    assert (hot.answered, hot.passed_on) == (1, 0)
    refused = client.get("/service-availability", query_string={"address": "not json"}, headers=headers)
    assert refused.status_code == 400
    assert refused.json["code"] == "MALFORMED_REQUEST"  # type: ignore[index]
    assert (hot.answered, hot.passed_on) == (1, 1)


def test_with_a_fault_rule_in_force_every_read_goes_through_flask(client: FlaskClient, app: Flask) -> None:
    rule = {"path": "/service-availability", "status": 503}
    assert client.post("/_admin/faults", json=rule).status_code == 201
    headers = {"X-Request-ID": "r", "X-Conversation-ID": "c", "Tenant": "TENANT1"}
    answer = client.get(
        "/service-availability", query_string={"address": _address("100000000002")}, headers=headers
    )
    assert answer.status_code == 503
    assert hot_reads(app).answered == 0
