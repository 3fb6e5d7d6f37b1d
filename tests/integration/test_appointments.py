"""Appointment availability and reservation through the Supplier API, on a manual clock."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import gateway_headers

COVERED = {"id": "100000000002", "type": "UPRN"}


def offered(client: FlaskClient, purpose: str = "PROVIDE", **query: str) -> list[dict[str, Any]]:
    params = {
        "address": json.dumps(query.pop("address", COVERED)),
        "serviceSpecification": json.dumps({"id": query.pop("spec", "FTTP")}),
        "appointmentPurpose": purpose,
        **query,
    }
    response = client.get("/available-appointments", query_string=params, headers=gateway_headers())
    assert response.status_code == 200, response.get_json()
    slots: list[dict[str, Any]] = response.get_json()["availableTimeslots"]
    return slots


def reserve(client: FlaskClient, slot: dict[str, Any], reservation_id: int = 234, **extra: Any) -> Any:
    body = {
        "id": reservation_id,
        "address": extra.pop("address", COVERED),
        "serviceSpecification": {"id": extra.pop("spec", "FTTP")},
        "purpose": "PROVIDE",
        "timeslot": {
            "timeslotStartDateTime": slot["timeslotStartDateTime"],
            "timeslotEndDateTime": slot["timeslotEndDateTime"],
        },
        **extra,
    }
    return client.post("/appointments", json=body, headers=gateway_headers())


def advance(client: FlaskClient, by: str) -> dict[str, Any]:
    response = client.post("/_admin/clock/advance", json={"by": by})
    assert response.status_code == 200
    state: dict[str, Any] = response.get_json()
    return state


def test_the_first_slot_respects_the_specifications_lead_time(client: FlaskClient) -> None:
    first = datetime.fromisoformat(offered(client)[0]["timeslotStartDateTime"])
    assert first.date() >= date(2026, 7, 11)  # 1 July + 10 days of FTTP lead time
    lite = offered(client, address={"id": "100000000005", "type": "UPRN"}, spec="FTTP-LITE")
    assert datetime.fromisoformat(lite[0]["timeslotStartDateTime"]).date() >= date(2026, 7, 6)


def test_a_later_appointment_from_date_moves_the_first_slot(client: FlaskClient) -> None:
    slots = offered(client, appointmentFromDate="2026-07-20")
    assert datetime.fromisoformat(slots[0]["timeslotStartDateTime"]).date() == date(2026, 7, 20)


def test_summer_slots_carry_the_bst_offset_and_winter_slots_do_not(client: FlaskClient) -> None:
    summer = offered(client, classifications="WEEKDAY_PM")[0]
    assert summer["timeslotStartDateTime"].endswith("T13:00:00+01:00")
    assert client.put("/_admin/clock", json={"now": "2027-01-04T09:00:00Z"}).status_code == 200
    winter = offered(client, classifications="WEEKDAY_PM")[0]
    assert winter["timeslotStartDateTime"].endswith("T13:00:00+00:00")


def test_the_classification_filter_returns_only_those_slots(client: FlaskClient) -> None:
    slots = offered(client, classifications="SATURDAY_AM,WEEKDAY_EVENING")
    assert {slot["classification"] for slot in slots} == {"SATURDAY_AM", "WEEKDAY_EVENING"}
    assert all(slot["standard"] is False for slot in slots)


def test_a_reservation_echoes_the_request_with_reference_expiry_and_classification(
    client: FlaskClient,
) -> None:
    slot = offered(client)[0]
    response = reserve(client, slot)
    assert response.status_code == 201
    body = response.get_json()
    assert body["id"] == 234
    assert body["supplierReference"] == "A234"
    assert body["expiryDateTime"] == "2026-07-01T09:30:00Z"  # the demo's 30-minute hold
    assert body["timeslot"] == slot
    assert body["serviceSpecification"] == {"id": "FTTP", "name": "FTTP"}


def test_the_same_reservation_sent_twice_is_answered_with_the_same_hold(client: FlaskClient) -> None:
    slot = offered(client, classifications="WEEKDAY_EVENING")[0]
    first = reserve(client, slot).get_json()
    advance(client, "PT5M")
    again = reserve(client, slot)
    assert again.status_code == 201
    assert again.get_json()["expiryDateTime"] == first["expiryDateTime"]


def test_a_full_slot_is_refused_and_no_longer_offered(client: FlaskClient) -> None:
    slot = offered(client, classifications="WEEKDAY_EVENING")[0]  # capacity 1
    assert reserve(client, slot, 1).status_code == 201
    refused = reserve(client, slot, 2)
    assert refused.status_code == 422
    assert "full" in refused.get_json()["messages"][0]
    assert slot not in offered(client, classifications="WEEKDAY_EVENING")


def test_an_expired_reservation_gives_its_capacity_back(client: FlaskClient) -> None:
    slot = offered(client, classifications="WEEKDAY_EVENING")[0]
    assert reserve(client, slot, 1).status_code == 201
    state = advance(client, "PT31M")
    assert state["applied"]["reservationsExpired"] == 1
    assert slot in offered(client, classifications="WEEKDAY_EVENING")
    assert reserve(client, slot, 2).status_code == 201
    statuses = {r["id"]: r["status"] for r in client.get("/_admin/reservations").get_json()}
    assert statuses == {1: "EXPIRED", 2: "HELD"}


def test_reusing_the_id_of_an_expired_reservation_is_refused(client: FlaskClient) -> None:
    slot = offered(client, classifications="WEEKDAY_EVENING")[0]
    assert reserve(client, slot, 1).status_code == 201
    advance(client, "PT30M")
    assert reserve(client, slot, 1).status_code == 422


@pytest.mark.parametrize(
    ("start", "end", "reason"),
    [
        ("2026-06-30T08:00:00+01:00", "2026-06-30T13:00:00+01:00", "in the past"),
        ("2026-07-03T08:00:00+01:00", "2026-07-03T13:00:00+01:00", "lead time"),
        ("2026-07-14T09:00:00+01:00", "2026-07-14T11:00:00+01:00", "not a slot this supplier offers"),
        ("2026-12-25T08:00:00+00:00", "2026-12-25T13:00:00+00:00", "horizon"),
    ],
)
def test_a_slot_the_supplier_would_not_offer_is_refused_naming_why(
    client: FlaskClient, start: str, end: str, reason: str
) -> None:
    response = reserve(client, {"timeslotStartDateTime": start, "timeslotEndDateTime": end})
    assert response.status_code == 422
    assert reason in " ".join(response.get_json()["messages"])


def test_the_same_slot_written_in_utc_is_accepted(client: FlaskClient) -> None:
    slot = offered(client, classifications="WEEKDAY_PM")[0]
    as_utc = {
        key: datetime.fromisoformat(slot[key]).astimezone(UTC).isoformat().replace("+00:00", "Z")
        for key in ("timeslotStartDateTime", "timeslotEndDateTime")
    }
    assert as_utc["timeslotStartDateTime"].endswith("T12:00:00Z")
    response = reserve(client, as_utc)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["timeslot"] == slot


def test_a_time_without_an_offset_is_a_malformed_request(client: FlaskClient) -> None:
    response = reserve(
        client, {"timeslotStartDateTime": "2026-07-14T13:00:00", "timeslotEndDateTime": "2026-07-14T18:00:00"}
    )
    assert response.status_code == 400
    assert response.get_json()["code"] == "MALFORMED_REQUEST"
    assert "timeslotStartDateTime" in response.get_json()["messages"][0]


@pytest.mark.parametrize(
    ("address", "specification", "said"),
    [
        pytest.param(
            {"id": "100000000001", "type": "UPRN"}, "FTTP", "FTTP is not available", id="no coverage"
        ),
        pytest.param(COVERED, "FTTX", "FTTP-PRO", id="unknown specification, the known ones listed"),
    ],
)
def test_appointments_for_what_cannot_be_installed_there_are_refused(
    client: FlaskClient, address: dict[str, str], specification: str, said: str
) -> None:
    params = {
        "address": json.dumps(address),
        "serviceSpecification": json.dumps({"id": specification}),
        "appointmentPurpose": "PROVIDE",
    }
    response = client.get("/available-appointments", query_string=params, headers=gateway_headers())
    assert response.status_code == 422
    assert said in response.get_json()["messages"][0]


def test_a_repair_visit_does_not_wait_for_the_installation_lead_time(client: FlaskClient) -> None:
    first = datetime.fromisoformat(offered(client, purpose="REPAIR")[0]["timeslotStartDateTime"])
    assert first.date() < date(2026, 7, 11)
