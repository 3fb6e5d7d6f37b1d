"""The hostile corpus: every case is answered properly, and the simulator still serves afterwards.

Each case is one request nobody should send: huge numbers, far dates, deep nesting, bad
Unicode, wrong types, headers of every size, wrong media types, huge bodies, repeated
scenario parameters. Each must be answered with the right status and, for an error, the
API's error body; then :func:`assert_serves_normally` checks the same simulator still answers
a gateway's normal calls correctly, so no input can poison what is stored or held in memory.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import demo_simulator
from tests.hostile.support import assert_error_body, assert_serves_normally, flask_caller
from tests.orders_support import provide

ERROR = "error"  # the answer must be the API's error body
MIB = 1024 * 1024


@dataclass(frozen=True)
class Case:
    """One hostile request and the statuses it may get."""

    name: str
    method: str
    path: str
    expected: frozenset[int]
    json_body: Any = None
    data: bytes | None = None
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] | None = None
    chunked: bool = False


def _gateway(**extra: str) -> dict[str, str]:
    return {"X-Request-ID": "hostile-1", "X-Conversation-ID": "hostile-1", "Tenant": "TENANT1", **extra}


def _order(**fields: Any) -> dict[str, Any]:
    fields = {"primaryContact": {"name": "Ann"}, "requestedCompletionDate": "2026-08-03", **fields}
    return provide(9001, "100000000004", profile="2", **fields)


def _order_sent_as(name: str, content_type: str, expected: frozenset[int]) -> Case:
    """A valid order posted as raw bytes under ``content_type``."""
    return Case(
        name,
        "POST",
        "/service-orders",
        expected,
        data=json.dumps(_order()).encode(),
        content_type=content_type,
        headers=_gateway(),
    )


def _json_post(
    name: str, path: str, expected: frozenset[int], data: bytes, headers: dict[str, str] | None = None
) -> Case:
    """``data`` POSTed to ``path`` as JSON, with a gateway's headers unless ``headers`` are given."""
    return Case(
        name,
        "POST",
        path,
        expected,
        data=data,
        content_type="application/json",
        headers=_gateway() if headers is None else headers,
    )


def _appointments(**query: str) -> dict[str, str]:
    return {
        "address": json.dumps({"id": "100000000002", "type": "UPRN"}),
        "serviceSpecification": json.dumps({"id": "FTTP"}),
        "appointmentPurpose": "PROVIDE",
        **query,
    }


def _reservation(start: str, end: str, reservation_id: Any = 9101) -> dict[str, Any]:
    return {
        "id": reservation_id,
        "address": {"id": "100000000002", "type": "UPRN"},
        "serviceSpecification": {"id": "FTTP"},
        "timeslot": {"timeslotStartDateTime": start, "timeslotEndDateTime": end},
    }


def _nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


BAD = frozenset({400})
RULE = frozenset({422})
OK = frozenset({201, 202})


def _order_post(
    name: str, expected: frozenset[int], body: dict[str, Any] | None = None, **headers: str
) -> Case:
    """``body`` (a valid order by default) POSTed to ``/service-orders`` with a gateway's headers."""
    return Case(
        name,
        "POST",
        "/service-orders",
        expected,
        _order() if body is None else body,
        headers=_gateway(**headers),
    )


def _gateway_get(
    name: str, path: str, expected: frozenset[int], query: dict[str, str], **headers: str
) -> Case:
    """A GET of ``path`` with ``query`` and a gateway's headers."""
    return Case(name, "GET", path, expected, query=query, headers=_gateway(**headers))


def _scenario(value: str, expected: frozenset[int]) -> Case:
    return _order_post(f"X-Scenario {value[:60]} ({len(value)})", expected, **{"X-Scenario": value})


CORPUS: list[Case] = [
    # --- scenario parameters and test-stub headers
    _scenario("ORDER_REAPPOINTED?targetDateOffset=9999999999", RULE),
    _scenario("ORDER_REAPPOINTED?targetDateOffset=-9999999999", RULE),
    _scenario("ORDER_REAPPOINTED?targetDateOffset=3651", RULE),
    _scenario("ORDER_REAPPOINTED?targetDateOffset=3650", OK),
    _scenario("ORDER_REAPPOINTED?targetDateOffset=soon", RULE),
    _scenario("ORDER_REAPPOINTED?targetDateOffset=1&targetDateOffset=2", RULE),
    _scenario("ORDER_REAPPOINTED?a=1&a=1&a=1", RULE),
    _scenario("ORDER_REAPPOINTED?targetDateOffset=" + "9" * 150, RULE),
    _scenario("ORDER_REAPPOINTED?targetDateOffset=" + "9" * 5000, BAD),
    _scenario("ORDER_" + "X" * 190, RULE),
    _scenario("ORDER SUCCESSFUL", BAD),
    _order_post("X-Kci-Delay at its largest", OK, **{"X-Kci-Delay": "999999"}),
    _order_post("X-Kci-Delay too large", BAD, **{"X-Kci-Delay": "9" * 40}),
    _order_post("X-Kci-Delay negative", BAD, **{"X-Kci-Delay": "-1"}),
    _order_post("X-Problem-Code junk", BAD, **{"X-Problem-Code": "Ω" * 300}),
    # --- huge numbers
    _order_post("order id 2^53", BAD, _order(id=2**53)),
    _order_post("order id 2^64", BAD, _order(id=2**64)),
    _order_post("order id 1e308", BAD, _order(id=1e308)),
    _order_post("order id 0", BAD, _order(id=0)),
    _json_post("order id of 5000 digits", "/service-orders", BAD, b'{"id": ' + b"9" * 5000 + b"}"),
    _json_post("order id 1e400 (infinity)", "/service-orders", BAD, b'{"id": 1e400}'),
    _json_post("NaN in a body", "/service-orders", BAD, b'{"id": NaN}'),
    Case(
        "reservation id 2^63",
        "POST",
        "/appointments",
        BAD,
        _reservation("2026-07-20T08:00:00+01:00", "2026-07-20T13:00:00+01:00", 2**63),
        headers=_gateway(),
    ),
    # --- far dates
    _order_post("requested 9999-12-31", RULE, _order(requestedCompletionDate="9999-12-31")),
    _order_post("requested 0001-01-01", RULE, _order(requestedCompletionDate="0001-01-01")),
    _order_post(
        "requested 2100-01-02, just past the horizon", RULE, _order(requestedCompletionDate="2100-01-02")
    ),
    # An id of its own: the answer must not depend on which cases ran before it.
    _order_post(
        "reappointed by ten years from the latest date taken",
        OK,
        {**_order(requestedCompletionDate="2028-06-30"), "id": 9002},
        **{"X-Scenario": "ORDER_REAPPOINTED?targetDateOffset=3650"},
    ),
    _gateway_get(
        "appointments from 9999-12-31",
        "/available-appointments",
        RULE,
        _appointments(appointmentFromDate="9999-12-31"),
    ),
    _gateway_get(
        "appointments from 0001-01-01",
        "/available-appointments",
        RULE,
        _appointments(appointmentFromDate="0001-01-01"),
    ),
    Case(
        "slot at the end of time",
        "POST",
        "/appointments",
        RULE,
        _reservation("9999-12-31T23:00:00-23:59", "9999-12-31T23:59:59-23:59"),
        headers=_gateway(),
    ),
    Case(
        "slot at the start of time",
        "POST",
        "/appointments",
        RULE,
        _reservation("0001-01-01T00:00:00+14:00", "0001-01-01T05:00:00+14:00"),
        headers=_gateway(),
    ),
    # --- deep nesting
    _json_post("100000 open brackets", "/service-orders", BAD, b"[" * 100_000),
    _json_post("objects 65 deep", "/service-orders", BAD, _nested(65).encode()),
    _json_post("objects 900 deep", "/appointments", BAD, _nested(900).encode()),
    _json_post("deep admin body", "/_admin/clock/advance", BAD, b"[" * 50_000, headers={}),
    _json_post("deep fault rule", "/_admin/faults", BAD, _nested(5000).encode(), headers={}),
    _gateway_get("deep address query", "/service-availability", BAD, {"address": "[" * 2600}),
    # --- bad Unicode
    _json_post("lone surrogate in a body", "/service-orders", BAD, b'{"id": 1, "tenant": "\\ud800"}'),
    _json_post("lone surrogate as a key", "/service-orders", BAD, b'{"\\udfff": 1}'),
    _gateway_get(
        "lone surrogate in the address query",
        "/service-availability",
        BAD,
        {"address": '{"id": "\\ud800", "type": "UPRN"}'},
    ),
    _json_post("invalid UTF-8", "/service-orders", BAD, b'{"tenant": "\xff\xfe"}'),
    _json_post("overlong UTF-8", "/_admin/clock/advance", BAD, b'{"by": "\xc0\xaf"}', headers={}),
    _order_post("a surrogate pair is fine", OK, _order(primaryContact={"name": "Ann \U0001f600"})),
    _order_post("NUL in a string", BAD | RULE | OK, _order(primaryContact={"name": "A\u0000n"})),
    # --- headers of every size
    _gateway_get("URL of 9000 bytes", "/service-availability", frozenset({414}), {"address": "x" * 9000}),
    Case("one header of 20 KiB", "GET", "/_admin/clock", frozenset({431}), headers={"X-Junk": "x" * 20_000}),
    Case(
        "150 headers", "GET", "/_admin/clock", frozenset({431}), headers={f"X-H{i}": "1" for i in range(150)}
    ),
    _gateway_get(
        "Tenant of 10 KiB",
        "/service-availability",
        BAD,
        {"address": json.dumps({"id": "100000000002", "type": "UPRN"})},
        Tenant="T" * 10_000,
    ),
    # --- wrong media types
    _order_sent_as("text/plain body", "text/plain", frozenset({415})),
    Case("no Content-Type", "POST", "/appointments", frozenset({415}), data=b"{}", headers=_gateway()),
    Case(
        "form body",
        "POST",
        "/_admin/faults",
        frozenset({415}),
        data=b"path=*&status=500",
        content_type="application/x-www-form-urlencoded",
    ),
    Case(
        "latin-1 JSON",
        "POST",
        "/_admin/clock/advance",
        frozenset({415}),
        data=b'{"by": "PT1M"}',
        content_type="application/json; charset=latin-1",
    ),
    _order_sent_as("JSON with a charset", "application/json; charset=UTF-8", OK),
    _order_sent_as("a +json type", "application/vnd.fibre+json", OK),
    # --- huge bodies
    _json_post("2 MiB body", "/service-orders", frozenset({413}), b'"' + b"x" * (2 * MIB) + b'"'),
    Case(
        "2 MiB chunked body",
        "POST",
        "/service-orders",
        frozenset({413}),
        data=b"[" + b"1," * MIB + b"1]",
        content_type="application/json",
        headers=_gateway(),
        chunked=True,
    ),
    Case(
        "small chunked body",
        "POST",
        "/_admin/clock/advance",
        frozenset({200}),
        data=b'{"by": "PT1M"}',
        content_type="application/json",
        chunked=True,
    ),
    _json_post("900 KiB string", "/service-orders", BAD, b'"' + b"x" * (900 * 1024) + b'"'),
    _json_post("a million wrong items", "/service-orders", BAD, b"[" + b"1," * 400_000 + b"1]"),
    # --- the admin surface
    Case("advance past the horizon", "POST", "/_admin/clock/advance", RULE, {"by": "P36500D"}),
    Case("advance past timedelta", "POST", "/_admin/clock/advance", RULE, {"by": "P99999999999D"}),
    Case(
        "advance by 400 digits of seconds",
        "POST",
        "/_admin/clock/advance",
        RULE,
        {"by": "PT" + "9" * 400 + "S"},
    ),
    Case("set to year 9999", "PUT", "/_admin/clock", RULE, {"now": "9999-12-31T23:59:59-23:59"}),
    Case("set to 0001", "PUT", "/_admin/clock", RULE, {"now": "0001-01-01T00:00:00+00:00"}),
    Case("fault with a huge status", "POST", "/_admin/faults", BAD, {"path": "*", "status": 10**30}),
    Case("reset with a wrong type", "POST", "/_admin/reset", BAD, {"keepClock": "yes"}),
    Case("journal limit of 40 digits", "GET", "/_admin/journal", BAD, query={"limit": "9" * 40}),
    Case("journal since year 0", "GET", "/_admin/journal", BAD, query={"since": "0000-01-01T00:00:00Z"}),
]


def _send(client: FlaskClient, case: Case) -> Any:
    kwargs: dict[str, Any] = {"method": case.method, "headers": case.headers, "query_string": case.query}
    if case.json_body is not None:
        kwargs["json"] = case.json_body
    elif case.data is not None:
        if case.chunked:  # a stream of unknown length, as a chunked upload reaches the app
            kwargs["input_stream"] = io.BytesIO(case.data)
            kwargs["headers"] = {**case.headers, "Transfer-Encoding": "chunked"}
            kwargs["environ_overrides"] = {"CONTENT_LENGTH": ""}  # the client would count it
        else:
            kwargs["data"] = case.data
        if case.content_type:
            kwargs["content_type"] = case.content_type
    return client.open(case.path, **kwargs)


def test_the_corpus_is_large_and_its_names_unique() -> None:
    assert len(CORPUS) >= 60
    assert len({case.name for case in CORPUS}) == len(CORPUS)


@pytest.fixture(scope="module")
def shared() -> Iterator[FlaskClient]:
    """One simulator for the whole corpus: each case also meets what the earlier ones left."""
    with demo_simulator() as application:
        yield application.test_client()


@pytest.mark.parametrize("case", CORPUS, ids=[case.name for case in CORPUS])
def test_a_hostile_request_is_answered_and_the_simulator_still_serves(
    shared: FlaskClient, case: Case
) -> None:
    client = shared
    response = _send(client, case)
    body = response.get_json(silent=True)
    if response.status_code >= 400:
        assert_error_body(response.status_code, body, set(case.expected))
        assert len(response.get_data()) < 16 * 1024, "an error must not echo the request back"
    else:
        assert response.status_code in case.expected, (response.status_code, body)
    assert_serves_normally(flask_caller(client))


WRONG_VALUES: list[Any] = [None, True, -1, 1.5, 1e308, "", "x" * 5000, [], {}, [[[[]]]], "\U0001f600"]


def test_wrong_types_in_every_order_field_are_refused_and_leave_no_trace(client: FlaskClient) -> None:
    headers = _gateway()
    for name in _order():
        for value in WRONG_VALUES:
            response = client.post("/service-orders", json=_order(**{name: value}), headers=headers)
            if response.status_code >= 400:
                assert_error_body(response.status_code, response.get_json(silent=True), {400, 404, 422})
    assert_serves_normally(flask_caller(client))


def test_wrong_types_in_every_admin_body_field_are_refused(client: FlaskClient) -> None:
    bodies = {
        "/_admin/clock/advance": ("POST", {"by": "PT1M"}),
        "/_admin/clock": ("PUT", {"now": "2026-07-02T09:00:00Z"}),
        "/_admin/faults": ("POST", {"path": "/service-orders", "status": 503, "times": 1}),
        "/_admin/reset": ("POST", {"keepClock": True}),
    }
    for path, (method, valid) in bodies.items():
        for name in valid:
            for value in WRONG_VALUES:
                response = client.open(path, method=method, json={**valid, name: value})
                assert response.status_code < 500, (path, name, value, response.get_json(silent=True))
                if response.status_code >= 400:
                    assert_error_body(response.status_code, response.get_json(silent=True), {400, 422})
    client.delete("/_admin/faults")
    assert_serves_normally(flask_caller(client))


def test_a_deep_body_is_journalled_as_text_and_the_journal_still_reads(
    app: Flask, client: FlaskClient
) -> None:
    client.post("/appointments", data=_nested(900), content_type="application/json", headers=_gateway())
    journal = client.get("/_admin/journal", query_string={"path": "/appointments"})
    assert journal.status_code == 200
    assert isinstance(journal.get_json()[0]["body"], str)
