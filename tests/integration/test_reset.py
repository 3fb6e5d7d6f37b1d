"""POST /_admin/reset: back to the profile's initial state, and serving normally afterwards."""

from __future__ import annotations

import json

from flask.testing import FlaskClient

from simulator.storage.tables import metadata
from tests.conftest import START, address_query, gateway_headers
from tests.hostile.support import assert_serves_normally, flask_caller
from tests.orders_support import post, provide

SLOT_QUERY = {
    "address": json.dumps({"id": "100000000002", "type": "UPRN"}),
    "serviceSpecification": json.dumps({"id": "FTTP"}),
    "appointmentPurpose": "PROVIDE",
}


def _first_slot(client: FlaskClient) -> dict[str, str]:
    offer = client.get(
        "/available-appointments", query_string=SLOT_QUERY, headers=gateway_headers()
    ).get_json()
    slot: dict[str, str] = offer["availableTimeslots"][0]
    return slot


def _reserve(client: FlaskClient, reservation_id: int, slot: dict[str, str]) -> int:
    body = {
        "id": reservation_id,
        "address": {"id": "100000000002", "type": "UPRN"},
        "serviceSpecification": {"id": "FTTP"},
        "timeslot": {k: slot[k] for k in ("timeslotStartDateTime", "timeslotEndDateTime")},
    }
    return int(post(client, "/appointments", body).status_code)


def _has_new_line(client: FlaskClient) -> bool:
    answer = client.get(
        "/service-availability", query_string=address_query("100000000002"), headers=gateway_headers()
    )
    return "line" in answer.get_json()["siteInformation"]


def test_a_reset_forgets_orders_reservations_kcis_journal_and_faults(client: FlaskClient) -> None:
    slot = _first_slot(client)
    held = 0
    while _first_slot(client) == slot and held < 10:  # the slot's whole capacity
        held += 1
        assert _reserve(client, held, slot) == 201
    assert _first_slot(client) != slot
    assert post(client, "/service-orders", provide(1001, appointmentReservationId=1)).status_code == 201
    client.post("/_admin/clock/advance", json={"by": "P30D"})  # the order completes: a line is live
    assert not _has_new_line(client)
    client.post("/_admin/faults", json={"path": "/service-availability", "status": 503})

    answer = client.post("/_admin/reset")

    assert answer.status_code == 200
    removed = answer.get_json()["removed"]
    assert removed["orders"] == 1
    assert removed["reservations"] == held
    assert removed["faultRules"] == 1
    # fibresim_meta (schema stamp, token signing key) describes the database and is kept; the
    # shared clock and versions and the background lease are moved by the reset, not emptied;
    # fault rules are counted as faultRules.
    kept = {"fibresim_meta", "shared_state", "leases", "fault_rules"}
    assert set(removed) == {table.name for table in metadata.sorted_tables} - kept | {"faultRules"}
    assert answer.get_json()["clock"] == {"now": START, "kind": "manual", "reset": True}
    assert client.get("/_admin/orders").get_json() == []
    assert client.get("/_admin/kcis").get_json() == []
    assert client.get("/_admin/reservations").get_json() == []
    assert client.get("/_admin/faults").get_json() == []
    assert client.get("/_admin/journal").get_json() == []
    assert _has_new_line(client)  # the inventory is the profile's again
    assert _first_slot(client) == slot  # the capacity came back
    assert (
        post(client, "/service-orders", provide(1001, requestedCompletionDate="2026-08-03")).status_code
        == 201
    )
    assert_serves_normally(flask_caller(client))


def test_a_reset_may_keep_the_clock(client: FlaskClient) -> None:
    moved = client.post("/_admin/clock/advance", json={"by": "P2D"}).get_json()["now"]
    answer = client.post("/_admin/reset", json={"keepClock": True})
    assert answer.status_code == 200
    assert answer.get_json()["clock"]["now"] == moved
    assert answer.get_json()["clock"]["reset"] is False
    assert client.get("/_admin/clock").get_json()["now"] == moved


def test_a_reset_brings_back_a_profile_line_an_order_ceased(client: FlaskClient) -> None:
    tenant_line = client.get(
        "/service-availability", query_string=address_query("100000000003"), headers=gateway_headers()
    ).get_json()["siteInformation"]["existingLines"]
    assert tenant_line
    cease = {
        "id": 2001,
        "orderType": "CEASE",
        "tenant": "TENANT1",
        "serviceId": "S100000000003-1",
        "requestedCompletionDate": "2026-08-03",
    }
    assert post(client, "/service-orders", cease).status_code in {201, 202}
    client.post("/_admin/clock/advance", json={"by": "P60D"})
    gone = client.get(
        "/service-availability", query_string=address_query("100000000003"), headers=gateway_headers()
    )
    assert not gone.get_json()["siteInformation"].get("existingLines")
    client.post("/_admin/reset")
    back = client.get(
        "/service-availability", query_string=address_query("100000000003"), headers=gateway_headers()
    )
    assert back.get_json()["siteInformation"]["existingLines"] == tenant_line


def test_a_reset_with_bad_options_changes_nothing(client: FlaskClient) -> None:
    assert post(client, "/service-orders", provide(1001)).status_code == 201
    for body in ({"keepClock": "yes"}, {"keep": True}, [True]):
        answer = client.post("/_admin/reset", json=body)
        assert answer.status_code == 400
        assert set(answer.get_json()) == {"uuid", "code", "messages"}
    assert client.post("/_admin/reset", data="keepClock", content_type="text/plain").status_code == 415
    assert len(client.get("/_admin/orders").get_json()) == 1
