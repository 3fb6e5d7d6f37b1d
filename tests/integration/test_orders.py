"""Orders through the Supplier API: validation against availability, answers, KCIs, inventory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient

from contracts import SUPPLIER_API
from contracts.certification.behaviour.order_requests import cancellation_request
from contracts.operations import operation_index
from scenarios import profile_path
from simulator.composition import close_app, create_app
from simulator.http.errors import register_error_handlers
from simulator.http.supplier_api import _not_implemented
from simulator.settings import Settings
from tests.conftest import START, gateway_headers
from tests.orders_support import (
    advance,
    cease,
    contract_problems,
    kcis,
    live_lines,
    modify,
    new_line_offered,
    order,
    post,
    provide,
    reasons,
)


def reserve_first_slot(
    client: FlaskClient, reservation_id: int, uprn: str = "100000000002"
) -> dict[str, str]:
    query = {
        "address": json.dumps({"id": uprn, "type": "UPRN"}),
        "serviceSpecification": json.dumps({"id": "FTTP"}),
        "appointmentPurpose": "PROVIDE",
    }
    slot = client.get("/available-appointments", query_string=query, headers=gateway_headers()).get_json()[
        "availableTimeslots"
    ][0]
    body = {
        "id": reservation_id,
        "address": {"id": uprn, "type": "UPRN"},
        "serviceSpecification": {"id": "FTTP"},
        "timeslot": {k: slot[k] for k in ("timeslotStartDateTime", "timeslotEndDateTime")},
    }
    assert post(client, "/appointments", body).status_code == 201
    return slot


def test_an_appointed_new_order_is_acknowledged_committed_and_completed(client: FlaskClient) -> None:
    slot = reserve_first_slot(client, 7)
    body = provide(1001, appointmentReservationId=7, appointmentReservationReference="A7")
    response = post(client, "/service-orders", body)
    assert response.status_code == 201
    answer = response.get_json()
    assert answer["status"] == "ACKNOWLEDGED"
    assert answer["supplierOrderReference"] == "SO-000001001"
    advance(client, "PT10M")
    stream = kcis(client, "1001")
    assert [k["reasonCode"] for k in stream] == ["COMMITTED", "UPDATE", "COMPLETED"]
    assert [k["sequenceNumber"] for k in stream] == [1, 2, 3]
    committed = stream[0]["provideServiceOrder"]
    assert committed["committedDate"] == committed["targetDate"]
    assert committed["committedDate"].startswith(slot["timeslotStartDateTime"][:10])
    assert stream[-1]["provideServiceOrder"]["serviceId"] == "S1001"
    assert all(contract_problems(kci) == [] for kci in stream)
    assert "S1001" in live_lines(client, "100000000002")
    assert not new_line_offered(client, "100000000002")


def test_the_same_gateway_order_id_twice_makes_one_order(client: FlaskClient) -> None:
    first = post(client, "/service-orders", provide(1002))
    again = post(client, "/service-orders", provide(1002))
    assert again.status_code == first.status_code == 201
    assert again.get_json() == first.get_json()
    assert [o["orderKey"] for o in client.get("/_admin/orders").get_json()] == ["1002"]


def test_a_line_profile_the_specification_lacks_is_refused(client: FlaskClient) -> None:
    response = post(client, "/service-orders", provide(1003, "100000000005", spec="FTTP-LITE", profile="4"))
    assert response.status_code == 422
    assert "line profile '4' is not offered on FTTP-LITE" in response.get_json()["messages"][0]


def test_a_new_line_at_a_full_single_service_address_is_refused(client: FlaskClient) -> None:
    response = post(
        client, "/service-orders", provide(1004, "100000000003", tenant="TENANT2"), tenant="TENANT2"
    )
    assert response.status_code == 422
    assert "no new line can be installed" in response.get_json()["messages"][0]


def test_an_expired_reservation_cannot_be_used_by_an_order(client: FlaskClient) -> None:
    reserve_first_slot(client, 8)
    advance(client, "PT31M")
    response = post(client, "/service-orders", provide(1005, appointmentReservationId=8))
    assert response.status_code == 422
    assert "expired" in response.get_json()["messages"][0]


def test_a_requested_date_inside_the_lead_time_is_refused(client: FlaskClient) -> None:
    response = post(client, "/service-orders", provide(1006, requestedCompletionDate="2026-07-03"))
    assert response.status_code == 422
    assert "minimum lead time of 10 days" in response.get_json()["messages"][0]


def test_modifying_another_tenants_service_is_refused_without_saying_whose_it_is(client: FlaskClient) -> None:
    response = post(
        client, "/service-orders", modify(1007, "S100000000003-1", "2", tenant="TENANT2"), "TENANT2"
    )
    assert response.status_code == 422
    message = response.get_json()["messages"][0]
    assert "not a live service of TENANT2" in message
    assert "TENANT1" not in message
    unknown = post(client, "/service-orders", modify(1008, "S-nothing", "2", tenant="TENANT2"), "TENANT2")
    assert unknown.get_json()["messages"][0].replace("S-nothing", "X") == message.replace(
        "S100000000003-1", "X"
    )


def test_a_completed_modify_changes_the_line_profile(client: FlaskClient) -> None:
    assert post(client, "/service-orders", modify(1009, "S100000000003-1", "4")).status_code == 201
    advance(client)
    assert reasons(client, "1009")[-1] == "COMPLETED"
    assert live_lines(client, "100000000003")["S100000000003-1"]["LINE_PROFILE"] == "4"


def test_a_completed_cease_removes_the_line_and_a_new_line_is_offered_again(client: FlaskClient) -> None:
    assert not new_line_offered(client, "100000000003")
    assert post(client, "/service-orders", cease(1010, "S100000000003-1")).status_code == 201
    advance(client)
    assert live_lines(client, "100000000003") == {}
    assert new_line_offered(client, "100000000003")


def swap_the_lite_line(order_id: int, spec: str, profile: str) -> dict[str, Any]:
    """A SWAP order moving the demo profile's FTTP-LITE line at 100000000005 to ``spec``/``profile``."""
    return provide(
        order_id,
        "100000000005",
        order_type="SWAP",
        spec=spec,
        profile=profile,
        extra_characteristics={"SERVICE_ID": "S100000000005-1"},
    )


def test_a_swap_uplifts_lite_to_pro_and_not_back(client: FlaskClient) -> None:
    swap = swap_the_lite_line(1011, "FTTP-PRO", "3")
    assert post(client, "/service-orders", swap).status_code == 201
    advance(client)
    line = live_lines(client, "100000000005")["S100000000005-1"]
    assert (line["SERVICE_SPECIFICATION"], line["LINE_PROFILE"]) == ("FTTP-PRO", "3")
    back = swap_the_lite_line(1012, "FTTP-LITE", "1")
    refused = post(client, "/service-orders", back)
    assert refused.status_code == 422
    assert "cannot be swapped" in refused.get_json()["messages"][0]


def test_an_order_the_scenario_rejects_is_answered_202_then_order_rejected(client: FlaskClient) -> None:
    response = post(client, "/service-orders", provide(1013), **{"X-Scenario": "ORDER_REJECTED"})
    assert response.status_code == 202
    assert response.get_data() == b""
    advance(client)
    stream = kcis(client, "1013")
    assert [k["reasonCode"] for k in stream] == ["ORDER_REJECTED"]
    assert stream[0]["provideServiceOrder"]["status"] == "REJECTED"
    assert stream[0]["text"]
    assert new_line_offered(client, "100000000002")


def test_an_in_progress_answer_carries_committed_and_target_dates(client: FlaskClient) -> None:
    response = post(client, "/service-orders", provide(1014), **{"X-Scenario": "ORDER_IN_PROGRESS"})
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "IN_PROGRESS"
    assert body["committedDate"] == body["targetDate"] == "2026-08-03T07:00:00Z"


def test_an_unknown_scenario_is_refused_listing_the_known_ones(client: FlaskClient) -> None:
    response = post(client, "/service-orders", provide(1015), **{"X-Scenario": "ORDER_TELEPORTED"})
    assert response.status_code == 422
    assert "ORDER_SUCCESSFUL" in " ".join(response.get_json()["messages"])


def test_the_kci_delay_header_spaces_the_kcis(client: FlaskClient) -> None:
    post(client, "/service-orders", provide(1016), **{"X-Kci-Delay": "120"})
    advance(client, "PT3M")
    assert reasons(client, "1016") == ["COMMITTED"]
    advance(client, "PT4M")
    assert reasons(client, "1016") == ["COMMITTED", "UPDATE", "COMPLETED"]


def test_a_delayed_order_carries_the_problem_code_header(client: FlaskClient) -> None:
    post(
        client,
        "/service-orders",
        provide(1017),
        **{"X-Scenario": "ORDER_DELAYED", "X-Problem-Code": "WAYLEAVE_ISSUE"},
    )
    advance(client)
    stream = kcis(client, "1017")
    delay = next(k for k in stream if k["reasonCode"] == "DELAY")
    assert delay["problemCode"] == "WAYLEAVE_ISSUE"
    assert delay["provideServiceOrder"]["status"] == "HELD"
    assert stream[-1]["reasonCode"] == "COMPLETED"


def test_information_required_is_answered_by_an_amendment_and_the_order_completes(
    client: FlaskClient,
) -> None:
    post(client, "/service-orders", provide(1018), **{"X-Scenario": "ORDER_PENDING"})
    advance(client)
    assert reasons(client, "1018") == ["COMMITTED", "INFORMATION_REQUIRED"]
    assert order(client, "1018")["status"] == "PENDING"
    amendment = {
        "id": 55,
        "orderId": 1018,
        "primaryContact": {"name": "Ann Example", "phoneNumber": "07700900001"},
    }
    assert post(client, "/service-order-amendments", amendment).status_code == 202
    advance(client)
    stream = kcis(client, "1018")
    assert [k["reasonCode"] for k in stream] == ["COMMITTED", "INFORMATION_REQUIRED", "AMENDED", "COMPLETED"]
    amended = stream[2]["provideServiceOrder"]
    assert amended["serviceOrderAmendmentId"] == 55
    assert amended["status"] == "IN_PROGRESS"
    assert amended["primaryContact"]["phoneNumber"] == "07700900001"


def test_amending_an_unknown_order_is_not_found(client: FlaskClient) -> None:
    response = post(client, "/service-order-amendments", {"id": 56, "orderId": 999999, "notes": "hello"})
    assert response.status_code == 404
    assert response.get_json()["code"] == "NOT_FOUND"


def test_a_completed_order_cannot_be_amended_or_cancelled(client: FlaskClient) -> None:
    post(client, "/service-orders", provide(1019))
    advance(client)
    amended = post(client, "/service-order-amendments", {"id": 57, "orderId": 1019, "notes": "late"})
    assert amended.status_code == 422
    assert "terminal" in amended.get_json()["messages"][0]
    cancelled = post(
        client,
        "/service-order-cancellations",
        {"id": 58, "orderId": 1019, "reasonCode": "CUSTOMER_CHANGED_MIND"},
    )
    assert cancelled.status_code == 422


def test_a_cancellation_stops_the_order_and_its_kci_names_the_cancellation(client: FlaskClient) -> None:
    post(client, "/service-orders", provide(1020))
    cancellation = {"id": 59, "orderId": 1020, "reasonCode": "CUSTOMER_CHANGED_MIND"}
    assert post(client, "/service-order-cancellations", cancellation).status_code == 202
    assert order(client, "1020")["status"] == "PENDING_CANCELLATION"
    advance(client, "PT1H")
    stream = kcis(client, "1020")
    assert [k["reasonCode"] for k in stream] == ["CANCELLED"]
    assert stream[0]["provideServiceOrder"]["serviceOrderCancellationId"] == 59
    assert new_line_offered(client, "100000000002")
    again = post(client, "/service-order-cancellations", cancellation)
    assert again.status_code == 202  # the same request id is answered the same way


def test_a_cancellation_past_the_point_of_no_return_is_refused(client: FlaskClient) -> None:
    body = provide(1021, requestedCompletionDate="2026-07-11")
    post(client, "/service-orders", body, **{"X-Scenario": "ORDER_ACKNOWLEDGED"})
    client.put("/_admin/clock", json={"now": "2026-07-10T20:00:00Z"})
    response = post(
        client, "/service-order-cancellations", {"id": 60, "orderId": 1021, "reasonCode": "OTHER"}
    )
    assert response.status_code == 422
    assert "point of no return" in response.get_json()["messages"][0]


def takeover(order_id: int) -> dict[str, object]:
    return provide(
        order_id,
        "100000000003",
        tenant="TENANT2",
        order_type="TAKEOVER",
        profile="3",
        extra_characteristics={"ONT_REFERENCE": "ONT100000000003", "ONT_PORT": "1"},
    )


def test_a_completed_takeover_moves_the_line_and_ceases_the_losing_tenants_service(
    client: FlaskClient,
) -> None:
    assert post(client, "/service-orders", takeover(2001), "TENANT2").status_code == 201
    advance(client)
    assert reasons(client, "2001")[-1] == "COMPLETED"
    assert reasons(client, "UC-000000001") == ["CREATED", "COMMITTED", "COMPLETED"]
    created = kcis(client, "UC-000000001")[0]["ceaseServiceOrder"]
    assert (created["orderType"], created["tenant"], created["serviceId"]) == (
        "UNSOLICITED_CEASE",
        "TENANT1",
        "S100000000003-1",
    )
    assert live_lines(client, "100000000003", "TENANT2")["S2001"]["LINE_PROFILE"] == "3"
    assert "S100000000003-1" not in live_lines(client, "100000000003", "TENANT1")


def test_cancel_other_on_the_unsolicited_cease_cancels_the_takeover(client: FlaskClient) -> None:
    post(client, "/service-orders", takeover(2002), "TENANT2")
    advance(client, "PT40S")
    objection = cancellation_request(61, 9001, "UC-000000001", reason="NO_AUTHORISATION")
    assert post(client, "/service-order-cancellations", objection).status_code == 202
    advance(client, "PT1H")
    assert reasons(client, "UC-000000001")[-1] == "CANCELLED"
    assert reasons(client, "2002")[-1] == "CANCELLED"
    assert "S100000000003-1" in live_lines(client, "100000000003", "TENANT1")


def test_a_cancel_other_reason_on_an_ordinary_order_is_refused(client: FlaskClient) -> None:
    post(client, "/service-orders", provide(1022))
    response = post(
        client, "/service-order-cancellations", {"id": 62, "orderId": 1022, "reasonCode": "NO_AUTHORISATION"}
    )
    assert response.status_code == 422


@pytest.mark.parametrize(
    "scenario",
    [
        "ORDER_SUCCESSFUL",
        "ORDER_ASYNC_SUCCESSFUL",
        "ORDER_DELAYED",
        "ORDER_REAPPOINTED",
        "ORDER_CANCELLED",
        "ORDER_WARNING_ADDITIONAL",
        "ORDER_RESUBMIT",
        "ORDER_DELIVERY_FAULTS",
        "ORDER_ACKNOWLEDGED",
        "ORDER_REAPPOINT",
    ],
)
def test_every_kci_of_a_scenario_honours_the_contract(client: FlaskClient, scenario: str) -> None:
    assert post(client, "/service-orders", provide(1100), **{"X-Scenario": scenario}).status_code in {
        201,
        202,
    }
    advance(client, "PT2H")
    stream = kcis(client, "1100")
    assert stream, scenario
    for kci in stream:
        assert contract_problems(kci) == [], (scenario, kci["reasonCode"])


def test_an_operation_not_built_would_answer_501_with_the_error_body() -> None:
    # Every operation of the contract is built now (the T2R ones last); the 501 stays for new ones.
    assert [op.key for op in operation_index(SUPPLIER_API) if not op.implemented] == []
    app = Flask("unbuilt")
    register_error_handlers(app)
    app.add_url_rule("/later", view_func=lambda: _not_implemented("POST", "/later")(None))  # type: ignore[arg-type]
    response = app.test_client().get("/later")
    assert response.status_code == 501
    assert response.get_json()["code"] == "NOT_IMPLEMENTED"
    assert set(response.get_json()) == {"uuid", "code", "messages"}


def test_the_profile_chooses_how_orders_are_answered_by_default(tmp_path: Path) -> None:
    document = yaml.safe_load(profile_path("demo").read_text())
    document["orders"] = {"orderScenario": "ORDER_ASYNC_SUCCESSFUL"}
    custom = tmp_path / "async-supplier.yaml"
    custom.write_text(yaml.safe_dump(document))
    app = create_app(
        Settings(profile=str(custom), database=":memory:", clock=f"manual@{START}", background=False)
    )
    client = app.test_client()
    assert post(client, "/service-orders", provide(1200)).status_code == 202
    assert (
        post(
            client, "/service-orders", provide(1201, "100000000004"), **{"X-Scenario": "ORDER_SUCCESSFUL"}
        ).status_code
        == 201
    )
    advance(client)
    assert reasons(client, "1200")[0] == "ACKNOWLEDGED"
    close_app(app)


def test_fields_an_amendment_may_not_change_are_ignored(client: FlaskClient) -> None:
    post(client, "/service-orders", provide(1300))
    amendment = {
        "id": 70,
        "orderId": 1300,
        "notes": "gate code 1234",
        "tenant": "TENANT9",
        "status": "COMPLETED",
    }
    assert post(client, "/service-order-amendments", amendment).status_code == 202
    advance(client, "PT40S")
    amended = next(k for k in kcis(client, "1300") if k["reasonCode"] == "AMENDED")["provideServiceOrder"]
    assert amended["notes"] == "gate code 1234"
    assert amended["tenant"] == "TENANT1"
    assert amended["status"] == "ACKNOWLEDGED"
