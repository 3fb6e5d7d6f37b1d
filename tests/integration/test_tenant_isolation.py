"""Tenant isolation: no Supplier API answer lets one tenant tell that another exists.

The same TENANT2 conversation is held with two simulators: a fresh one, and one where TENANT1
has first reserved appointments, placed, amended and cancelled orders under the very ids
TENANT2 then uses. Every answer TENANT2 gets (status and body, error uuids aside) must be the
same in both, so nothing of TENANT1's orders, reservations, amendments or cancellations, nor
their ids, shows through.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import demo_simulator
from tests.orders_support import post, provide

THEIR_ADDRESS = "100000000004"  # TENANT1 works here
OUR_ADDRESS = "100000000002"  # TENANT2 works here
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture
def shared() -> Iterator[Flask]:
    """A second simulator, beside the ``app`` fixture's, for TENANT1 to work in first."""
    with demo_simulator() as app:
        yield app


def reserve(client: FlaskClient, tenant: str, reservation_id: int, uprn: str, nth: int) -> Any:
    query = {
        "address": json.dumps({"id": uprn, "type": "UPRN"}),
        "serviceSpecification": json.dumps({"id": "FTTP"}),
        "appointmentPurpose": "PROVIDE",
    }
    offered = client.get("/available-appointments", query_string=query, headers=_headers(tenant))
    slot = offered.get_json()["availableTimeslots"][nth]
    body = {
        "id": reservation_id,
        "address": {"id": uprn, "type": "UPRN"},
        "serviceSpecification": {"id": "FTTP"},
        "timeslot": {k: slot[k] for k in ("timeslotStartDateTime", "timeslotEndDateTime")},
    }
    return post(client, "/appointments", body, tenant)


def _headers(tenant: str) -> dict[str, str]:
    return {"X-Request-ID": "r", "X-Conversation-ID": "c", "Tenant": tenant}


def tenant1_goes_first(client: FlaskClient) -> None:
    """TENANT1 uses reservation ids 7 and 8 and order ids 1001 and 1003 (a later slot than TENANT2's)."""
    assert reserve(client, "TENANT1", 7, THEIR_ADDRESS, 5).status_code == 201
    assert reserve(client, "TENANT1", 8, THEIR_ADDRESS, 6).status_code == 201
    placed = post(client, "/service-orders", provide(1001, THEIR_ADDRESS, appointmentReservationId=7))
    assert placed.status_code == 201
    assert post(client, "/service-orders", provide(1003, THEIR_ADDRESS, order_type="NEW")).status_code in {
        201,
        202,
    }
    amendment = {"id": 61, "orderId": 1003, "notes": "gate code 1234"}
    assert post(client, "/service-order-amendments", amendment).status_code in {201, 202}
    cancellation = {"id": 62, "orderId": 1001, "reasonCode": "CUSTOMER_CHANGED_MIND"}
    assert post(client, "/service-order-cancellations", cancellation).status_code == 202


def tenant2_conversation(client: FlaskClient) -> list[tuple[str, int, Any]]:
    """What TENANT2 does and is told, with the ids TENANT1 also used (and ids only TENANT1 used)."""
    t2 = "TENANT2"
    answers: list[tuple[str, Any]] = [
        (
            "availability",
            client.get(
                "/service-availability",
                query_string={"address": json.dumps({"id": OUR_ADDRESS, "type": "UPRN"})},
                headers=_headers(t2),
            ),
        ),
        ("reserve 7 (TENANT1's id too)", reserve(client, t2, 7, OUR_ADDRESS, 0)),
        (
            "order 1001 on reservation 7",
            post(client, "/service-orders", provide(1001, tenant=t2, appointmentReservationId=7), t2),
        ),
        (
            "order 1002 on reservation 8 (only TENANT1's)",
            post(client, "/service-orders", provide(1002, tenant=t2, appointmentReservationId=8), t2),
        ),
        (
            "amend order 1003 (only TENANT1's)",
            post(client, "/service-order-amendments", {"id": 61, "orderId": 1003, "notes": "x"}, t2),
        ),
        (
            "cancel order 1003 (only TENANT1's)",
            post(
                client,
                "/service-order-cancellations",
                {"id": 62, "orderId": 1003, "reasonCode": "CUSTOMER_CHANGED_MIND"},
                t2,
            ),
        ),
        (
            "cancel by TENANT1's supplier reference",
            post(
                client,
                "/service-order-cancellations",
                {
                    "id": 63,
                    "orderId": 1001,
                    "supplierOrderReference": "SO-000001003",
                    "reasonCode": "CUSTOMER_CHANGED_MIND",
                },
                t2,
            ),
        ),
        (
            "amend order 1001 (both tenants')",
            post(client, "/service-order-amendments", {"id": 64, "orderId": 1001, "notes": "y"}, t2),
        ),
    ]
    return [
        (what, response.status_code, _without_uuids(response.get_json(silent=True)))
        for what, response in answers
    ]


def _without_uuids(body: Any) -> Any:
    return json.loads(_UUID.sub("<uuid>", json.dumps(body)))


def test_two_tenants_placing_orders_cannot_tell_the_other_exists(app: Flask, shared: Flask) -> None:
    tenant1_goes_first(shared.test_client())
    alone = tenant2_conversation(app.test_client())
    beside_another = tenant2_conversation(shared.test_client())
    for mine, theirs in zip(alone, beside_another, strict=True):
        assert mine == theirs
    shown = json.dumps([body for _what, _status, body in beside_another])
    assert "TENANT1" not in shown
    assert "gate code" not in shown
    # The conversation did reach the refusals it is about, not only successes.
    statuses = {what: status for what, status, _body in alone}
    assert statuses["reserve 7 (TENANT1's id too)"] == 201
    assert statuses["order 1001 on reservation 7"] == 201
    assert statuses["amend order 1003 (only TENANT1's)"] == 404
    assert statuses["cancel order 1003 (only TENANT1's)"] == 404
