"""What a simulator must still do after any input: answer a gateway's normal calls correctly.

:func:`assert_serves_normally` works on a Flask test client or on a served simulator (over
HTTP), so the same check follows every hostile case in-process and across a restart.
"""

from __future__ import annotations

import itertools
import json
import uuid
from typing import Any, Protocol

_ids = itertools.count(700_001)
# Estate addresses, one per check, so checks never compete for one address's line.
_estate = itertools.count(200_000_000_100)


class Answer(Protocol):
    """The part of a response the check reads (Flask's and httpx's responses both have it)."""

    status_code: int


class Caller(Protocol):
    """Something that sends a request and returns its status and JSON body."""

    def __call__(
        self, method: str, path: str, *, json_body: Any = None, query: dict[str, str] | None = None
    ) -> tuple[int, Any]: ...


def _headers() -> dict[str, str]:
    return {"X-Request-ID": str(uuid.uuid4()), "X-Conversation-ID": str(uuid.uuid4()), "Tenant": "TENANT1"}


def flask_caller(client: Any) -> Caller:
    """A :class:`Caller` over a Flask test client."""

    def call(
        method: str, path: str, *, json_body: Any = None, query: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        response = client.open(path, method=method, json=json_body, query_string=query, headers=_headers())
        return response.status_code, response.get_json(silent=True)

    return call


def http_caller(http: Any, base: str) -> Caller:
    """A :class:`Caller` over an ``httpx.Client`` and a served simulator's base URL."""

    def call(
        method: str, path: str, *, json_body: Any = None, query: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        response = http.request(method, base + path, json=json_body, params=query, headers=_headers())
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, None

    return call


def assert_error_body(status: int, body: Any, expected: set[int]) -> None:
    """An answer with one of the ``expected`` statuses and the API's error body."""
    assert status in expected, (status, body)
    assert isinstance(body, dict), body
    assert set(body) == {"uuid", "code", "messages"}, body
    assert body["messages"]
    assert all(isinstance(m, str) and len(m) <= 501 for m in body["messages"])


def _fresh_address(call: Caller) -> dict[str, str]:
    """The next estate address where TENANT1 may order a new FTTP line (availability says so)."""
    for _attempt in range(100):
        address = {"id": str(next(_estate)), "type": "UPRN"}
        status, availability = call("GET", "/service-availability", query={"address": json.dumps(address)})
        assert status == 200, availability
        offered = {spec["id"] for spec in availability["serviceSpecifications"]}
        if "FTTP" in offered and "line" in availability.get("siteInformation", {}):
            return address
    raise AssertionError("no estate address offers a new FTTP line")


def assert_serves_normally(call: Caller) -> None:
    """Availability, a reservation, an order on it, and the clock moving its KCIs along."""
    address = _fresh_address(call)

    query = {
        "address": json.dumps(address),
        "serviceSpecification": json.dumps({"id": "FTTP"}),
        "appointmentPurpose": "PROVIDE",
    }
    status, offer = call("GET", "/available-appointments", query=query)
    assert status == 200, offer
    slot = offer["availableTimeslots"][0]
    reservation_id, order_id = next(_ids), next(_ids)
    status, held = call(
        "POST",
        "/appointments",
        json_body={
            "id": reservation_id,
            "address": address,
            "serviceSpecification": {"id": "FTTP"},
            "timeslot": {k: slot[k] for k in ("timeslotStartDateTime", "timeslotEndDateTime")},
        },
    )
    assert status == 201, held
    order = {
        "id": order_id,
        "orderType": "NEW",
        "tenant": "TENANT1",
        "address": address,
        "serviceOrderItem": {
            "serviceSpecification": {"id": "FTTP"},
            "serviceCharacteristics": [{"name": "LINE_PROFILE", "value": "1"}],
        },
        "primaryContact": {"name": "Ann Example"},
        "appointmentReservationId": reservation_id,
        "appointmentReservationReference": held["supplierReference"]
        if held and "supplierReference" in held
        else "A",
    }
    status, placed = call("POST", "/service-orders", json_body=order)
    assert status in {201, 202}, placed

    status, before = call("GET", "/_admin/clock")
    assert status == 200, before
    status, moved = call("POST", "/_admin/clock/advance", json_body={"by": "PT1H"})
    assert status == 200, moved
    assert moved["now"] > before["now"]
    status, kcis = call("GET", f"/_admin/orders/{order_id}/kcis")
    assert status == 200, kcis
    assert kcis, "the order made no KCI"
    status, journal = call("GET", "/_admin/journal", query={"limit": "5"})
    assert status == 200, journal
