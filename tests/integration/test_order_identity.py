"""An order is the tenant's own: ids are unique per tenant, and fields an order kind lacks are never kept."""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient

from tests.conftest import gateway_headers
from tests.orders_support import advance, cease, kcis, modify, post, provide


def _reserve(client: FlaskClient, reservation_id: int, tenant: str, uprn: str) -> int:
    query = {
        "address": json.dumps({"id": uprn, "type": "UPRN"}),
        "serviceSpecification": json.dumps({"id": "FTTP"}),
        "appointmentPurpose": "PROVIDE",
    }
    slot = client.get(
        "/available-appointments", query_string=query, headers=gateway_headers(tenant)
    ).get_json()["availableTimeslots"][0]
    body = {
        "id": reservation_id,
        "address": {"id": uprn, "type": "UPRN"},
        "serviceSpecification": {"id": "FTTP"},
        "timeslot": {k: slot[k] for k in ("timeslotStartDateTime", "timeslotEndDateTime")},
    }
    response = post(client, "/appointments", body, tenant)
    assert response.status_code == 201, response.get_json()
    return response.status_code


def test_two_tenants_each_place_their_own_order_1001(client: FlaskClient) -> None:
    _reserve(client, 7, "TENANT2", "100000000004")
    _reserve(client, 7, "TENANT1", "100000000002")
    theirs = provide(1001, "100000000004", tenant="TENANT2", appointmentReservationId=7)
    ours = provide(1001, tenant="TENANT1", appointmentReservationId=7)
    assert post(client, "/service-orders", theirs, "TENANT2").status_code == 201
    answer = post(client, "/service-orders", ours, "TENANT1")
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["address"]["id"] == "100000000002"
    for tenant in ("TENANT1", "TENANT2"):
        amendment = {"id": 55, "orderId": 1001, "notes": f"{tenant} calls ahead"}
        assert post(client, "/service-order-amendments", amendment, tenant).status_code == 202
        cancellation = {"id": 56, "orderId": 1001, "reasonCode": "CUSTOMER_CHANGED_MIND"}
        assert post(client, "/service-order-cancellations", cancellation, tenant).status_code == 202
    advance(client, "PT2H")
    for tenant, uprn in (("TENANT1", "100000000002"), ("TENANT2", "100000000004")):
        response = client.get("/_admin/orders/1001/kcis", query_string={"tenant": tenant})
        stream = [entry["payload"] for entry in response.get_json()]
        assert [k["reasonCode"] for k in stream] == ["AMENDED", "CANCELLED"]
        assert stream[0]["provideServiceOrder"]["notes"] == f"{tenant} calls ahead"
        assert stream[0]["provideServiceOrder"]["address"]["id"] == uprn
        assert stream[1]["provideServiceOrder"]["serviceOrderCancellationId"] == 56
    reservations = client.get("/_admin/reservations").get_json()
    assert sorted((r["tenant"], r["id"], r["status"]) for r in reservations) == [
        ("TENANT1", 7, "CONFIRMED"),
        ("TENANT2", 7, "CONFIRMED"),
    ]


def test_an_admin_key_two_tenants_share_asks_which_tenant(client: FlaskClient) -> None:
    post(client, "/service-orders", provide(1001, "100000000004", tenant="TENANT2"), "TENANT2")
    post(client, "/service-orders", provide(1001), "TENANT1")
    assert client.get("/_admin/orders/1001").status_code == 400
    found = client.get("/_admin/orders/1001", query_string={"tenant": "TENANT2"}).get_json()
    assert (found["tenant"], found["body"]["address"]["id"]) == ("TENANT2", "100000000004")
    assert client.get("/_admin/orders/1001", query_string={"tenant": "TENANT9"}).status_code == 404


def test_another_tenants_order_is_answered_like_one_never_placed(client: FlaskClient) -> None:
    post(client, "/service-orders", provide(1001, "100000000004", tenant="TENANT2"), "TENANT2")
    theirs = post(client, "/service-order-amendments", {"id": 57, "orderId": 1001, "notes": "x"}, "TENANT1")
    never = post(client, "/service-order-amendments", {"id": 58, "orderId": 4242, "notes": "x"}, "TENANT1")
    assert theirs.status_code == never.status_code == 404
    assert theirs.get_json()["messages"][0].replace("1001", "N") == never.get_json()["messages"][0].replace(
        "4242", "N"
    )
    reference = {"id": 59, "orderId": 4242, "supplierOrderReference": "SO-000001001", "reasonCode": "OTHER"}
    assert post(client, "/service-order-cancellations", reference, "TENANT1").status_code == 404


def test_a_reservation_of_another_tenant_cannot_be_used(client: FlaskClient) -> None:
    _reserve(client, 8, "TENANT2", "100000000002")
    response = post(client, "/service-orders", provide(1002, appointmentReservationId=8), "TENANT1")
    assert response.status_code == 422
    assert response.get_json()["messages"] == ["appointment reservation 8 is not known for TENANT1"]


def test_fields_a_modify_or_cease_does_not_use_are_never_kept(client: FlaskClient) -> None:
    body = modify(1003, "S100000000003-1", "4") | {"targetDate": "not a date", "committedDate": "soon"}
    assert post(client, "/service-orders", body).status_code == 201
    advance(client)
    stream = kcis(client, "1003")
    assert stream[-1]["reasonCode"] == "COMPLETED"
    assert all(k["modifyServiceOrder"]["targetDate"] != "not a date" for k in stream)
    assert "soon" not in json.dumps(stream)
    ceased = cease(1004, "S100000000005-1") | {"engineerTasks": ["INSTALL_ROUTER"], "hazards": "dog"}
    assert post(client, "/service-orders", ceased).status_code == 201
    advance(client)
    assert "hazards" not in kcis(client, "1004")[-1]["ceaseServiceOrder"]


@pytest.mark.parametrize(
    ("date", "why"),
    [("9999-12-31", "horizon"), ("2030-01-01", "days ahead")],  # past the clock's horizon; past 730 days
)
def test_a_requested_date_far_in_the_future_is_refused_at_arrival(
    client: FlaskClient, date: str, why: str
) -> None:
    response = post(client, "/service-orders", provide(1005, requestedCompletionDate=date))
    assert response.status_code == 422
    assert why in response.get_json()["messages"][0]
    assert client.get("/_admin/orders/1005").status_code == 404
