"""Random tenants drive orders, amendments, cancellations and the clock; the KCI streams stay sound."""

from __future__ import annotations

import json

from flask import Flask
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, invariant, rule

from contracts.model.order_states import TRANSITIONS, Keep, OrderStatus, RequestReceived, apply_reason
from simulator.domain.inventory import AddressId, LiveService
from simulator.http.errors import register_error_handlers
from simulator.storage import inventory, outbox
from simulator.storage import orders as order_store
from tests.conftest import gateway_headers
from tests.orders_support import cease, modify, provide
from tests.simulator_machine import SimulatorMachine, sound_stream

TENANTS = ("TENANT1", "TENANT2")
ADDRESSES = ("100000000002", "100000000003", "100000000004", "100000000005", "200000000001", "200000000007")
ORDER_SCENARIOS = (
    "ORDER_SUCCESSFUL",
    "ORDER_ASYNC_SUCCESSFUL",
    "ORDER_DELAYED",
    "ORDER_PENDING",
    "ORDER_REAPPOINT",
    "ORDER_REJECTED",
    "ORDER_CANCELLED",
    "ORDER_IN_PROGRESS",
    "ORDER_DELIVERY_FAULTS",
)
AMENDMENT_SCENARIOS = ("AMENDMENT_ACCEPTED", "AMENDMENT_REJECTED", "AMENDMENT_PENDING")
CANCELLATION_SCENARIOS = ("CANCELLATION_ACCEPTED", "CANCELLATION_REJECTED", "CANCELLATION_PENDING")


def legal(from_status: str, reason: str, to_status: str) -> bool:
    """Whether some remembered previous status makes ``from --reason--> to`` a declared move."""
    trigger = {
        "AMENDMENT_RECEIVED": RequestReceived.AMENDMENT,
        "CANCELLATION_RECEIVED": RequestReceived.CANCELLATION,
    }
    key = (OrderStatus(from_status), trigger.get(reason, reason))
    targets = TRANSITIONS.get(key)  # type: ignore[call-overload]
    if targets is None:
        return False
    return any(
        t is Keep.PREVIOUS or (t is Keep.UNCHANGED and to_status == from_status) or t == to_status
        for t in targets
    )


class OrderFlows(SimulatorMachine):
    """The model is the simulator's own record; the invariants check it against the rules."""

    orders = Bundle("orders")

    def _services(self, uprn: str, tenant: str) -> list[tuple[str, str]]:
        answer = self.client.get(
            "/service-availability",
            query_string={"address": json.dumps({"id": uprn, "type": "UPRN"})},
            headers=gateway_headers(tenant),
        ).get_json()
        lines = answer["siteInformation"].get("existingLines", [])
        chars = [{c["name"]: c["value"] for c in line["lineCharacteristics"]} for line in lines]
        return [(c["SERVICE_ID"], c["SERVICE_SPECIFICATION"]) for c in chars if "SERVICE_ID" in c]

    @rule(
        target=orders,
        tenant=st.sampled_from(TENANTS),
        uprn=st.sampled_from(ADDRESSES),
        kind=st.sampled_from(["NEW", "MODIFY", "CEASE"]),
        scenario=st.sampled_from(ORDER_SCENARIOS),
        profile=st.sampled_from(["1", "2", "3", "4"]),
    )
    def place(self, tenant: str, uprn: str, kind: str, scenario: str, profile: str) -> int:
        order_id = self._id()
        services = self._services(uprn, tenant)
        if kind == "NEW" or not services:
            spec = "FTTP" if uprn != "100000000005" else "FTTP-PRO"
            body = provide(order_id, uprn, tenant=tenant, spec=spec, profile=profile)
        elif kind == "MODIFY":
            service_id, spec = services[0]
            body = modify(order_id, service_id, profile, tenant=tenant, spec=spec)
        else:
            body = cease(order_id, services[0][0], tenant=tenant)
        self._post("/service-orders", body, tenant, scenario, allowed={201, 202, 422})
        return order_id

    @rule(order_id=orders, scenario=st.sampled_from(AMENDMENT_SCENARIOS), tenant=st.sampled_from(TENANTS))
    def amend(self, order_id: int, scenario: str, tenant: str) -> None:
        body = {"id": self._id(), "orderId": order_id, "notes": "please call ahead"}
        self._post("/service-order-amendments", body, tenant, scenario, allowed={201, 202, 404, 422})

    @rule(order_id=orders, scenario=st.sampled_from(CANCELLATION_SCENARIOS), tenant=st.sampled_from(TENANTS))
    def cancel(self, order_id: int, scenario: str, tenant: str) -> None:
        body = {"id": self._id(), "orderId": order_id, "reasonCode": "CUSTOMER_CHANGED_MIND"}
        self._post("/service-order-cancellations", body, tenant, scenario, allowed={201, 202, 404, 422})

    @invariant()
    def every_kci_stream_is_sound(self) -> None:
        seen: set[str] = set()
        with self.context.database.reading() as connection:
            for record in order_store.listing(connection):
                sound_stream(outbox.for_order(connection, record.id.key, record.id.tenant), seen, record.id)
                for event in order_store.history(connection, record.id.key, record.id.tenant):
                    if event.from_status is None or event.event in {"PAUSED", "RESUMED", "STEP_SKIPPED"}:
                        continue
                    assert legal(event.from_status, event.event, event.to_status or ""), (
                        record.id,
                        event,
                    )

    @invariant()
    def the_inventory_matches_the_completed_orders(self) -> None:
        with self.context.database.reading() as connection:
            completed = [
                (
                    next(
                        e.at
                        for e in order_store.history(connection, r.id.key, r.id.tenant)
                        if e.event == "COMPLETED"
                    ),
                    r,
                )
                for r in order_store.listing(connection)
                if r.status is OrderStatus.COMPLETED
            ]
            expected: dict[str, LiveService] = {}
            touched: set[str] = set()
            for _at, record in sorted(completed, key=lambda pair: (pair[0], pair[1].last_sequence)):
                change = record.change
                if change is None:
                    continue
                if change.remove:
                    expected[change.remove] = None  # type: ignore[assignment]
                    touched.add(change.remove)
                added = change.add
                if added:
                    expected[added.service_id] = LiveService(
                        added.service_id,
                        added.tenant,
                        AddressId(added.address.id),
                        added.specification_id,
                        added.line_profile_id,
                        added.ont_port,
                    )
                    touched.add(added.service_id)
            for service_id in touched:
                assert inventory.get(connection, service_id) == expected[service_id]


OrderFlows.TestCase.settings = settings(stateful_step_count=25, deadline=None)
test_order_flows_keep_their_streams_and_inventory_sound = OrderFlows.TestCase


def test_an_illegal_transition_reaching_the_http_layer_is_a_422_invalid_request() -> None:
    app = Flask("refusing")
    register_error_handlers(app)

    @app.get("/move")
    def move() -> str:
        apply_reason(OrderStatus.ACKNOWLEDGED, None, "COMPLETED")
        return "moved"

    answer = app.test_client().get("/move")
    assert answer.status_code == 422
    assert answer.get_json()["code"] == "INVALID_REQUEST"
    assert "COMPLETED is not allowed when the order is ACKNOWLEDGED" in answer.get_json()["messages"][0]
