"""The order aggregate alone: commands in, events out, with hand-written fakes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.model.order_states import OrderStatus, ReasonCode
from simulator.domain.errors import BusinessRuleViolation
from simulator.domain.inventory import AddressId, LiveService, Site
from simulator.domain.kci_scripts import AppliesTo, KciScript, ScriptResponse, ScriptStep
from simulator.domain.order import Order, Reply
from simulator.domain.order_commands import AmendmentChanges, AmendOrder, OrderType, PlaceOrder, Scenario
from simulator.domain.order_events import InventoryChanged, KciDue, StatusChanged
from simulator.domain.orders import AcceptedOrder, InventoryChange

NOW = datetime(2026, 7, 1, 9, tzinfo=UTC)
ZONE = ZoneInfo("Europe/London")
ADDRESS = AddressId("100000000002")
NEW_LINE = LiveService("S1001", "TENANT1", ADDRESS, "FTTP", "1", 1)
SUCCESSFUL = KciScript(
    "ORDER_SUCCESSFUL",
    "",
    ScriptResponse.ACKNOWLEDGED,
    (ScriptStep(ReasonCode.COMMITTED), ScriptStep(ReasonCode.COMPLETED)),
)
AMENDMENT_ACCEPTED = KciScript(
    "AMENDMENT_ACCEPTED",
    "",
    ScriptResponse.ACCEPTED,
    (ScriptStep(ReasonCode.AMENDED),),
    applies_to=AppliesTo.AMENDMENT,
)


class FakeScripts:
    def script(self, scenario: Scenario, applies_to: AppliesTo) -> KciScript:
        return AMENDMENT_ACCEPTED if applies_to is AppliesTo.AMENDMENT else SUCCESSFUL


class EmptyInventory:
    def service(self, service_id: str) -> LiveService | None:
        return None

    def at_address(self, address: AddressId) -> list[LiveService]:
        return []

    def site(self, address: AddressId) -> Site | None:
        return None


def placed(order_id: int = 1001) -> Order:
    command = PlaceOrder(
        order_id,
        "TENANT1",
        "TENANT1",
        OrderType.NEW,
        address=ADDRESS,
        specification_id="FTTP",
        requested_date=(NOW + timedelta(days=30)).date(),
    )
    accepted = AcceptedOrder(InventoryChange(add=NEW_LINE), lead_time_days=10)
    order, events = Order.place(command, accepted, SUCCESSFUL, None, NOW, ZONE)
    assert [e.event for e in events if isinstance(e, StatusChanged)] == ["PLACED"]
    return order


def test_a_placed_order_is_the_tenants_and_answered_now() -> None:
    order = placed()
    assert (order.id.tenant, order.id.key, order.status, order.reply) == (
        "TENANT1",
        "1001",
        OrderStatus.ACKNOWLEDGED,
        Reply.DONE,
    )


def test_playing_the_script_makes_numbered_kcis_and_changes_the_inventory_at_completion() -> None:
    order = placed()
    events = []
    for _ in range(3):
        events += order.play_next_step(NOW + timedelta(hours=1), FakeScripts(), EmptyInventory(), ZONE)
    kcis = [e for e in events if isinstance(e, KciDue)]
    assert [(k.reason, k.sequence_number) for k in kcis] == [
        (ReasonCode.COMMITTED, 1),
        (ReasonCode.COMPLETED, 2),
    ]
    assert kcis[0].entity.status is OrderStatus.IN_PROGRESS  # the KCI carries the order as it was then
    assert [e.change for e in events if isinstance(e, InventoryChanged)] == [InventoryChange(add=NEW_LINE)]
    assert order.service_id == "S1001"


def test_a_completed_order_refuses_an_amendment() -> None:
    order = placed()
    for _ in range(2):
        order.play_next_step(NOW + timedelta(hours=1), FakeScripts(), EmptyInventory(), ZONE)
    command = AmendOrder(9, 1001, "TENANT1", AmendmentChanges(notes="late"))
    with pytest.raises(BusinessRuleViolation, match="terminal"):
        order.amend(
            command, AMENDMENT_ACCEPTED, refuse_while_pending=True, held=None, scripts=FakeScripts(), now=NOW
        )


@given(st.text(min_size=1, max_size=40), st.integers(1, 10**9))
def test_an_amendment_answered_later_changes_the_notes_only_when_its_kci_plays(
    notes: str, amendment_id: int
) -> None:
    order = placed()
    command = AmendOrder(amendment_id, 1001, "TENANT1", AmendmentChanges(notes=notes))
    request, _events = order.amend(
        command, AMENDMENT_ACCEPTED, refuse_while_pending=True, held=None, scripts=FakeScripts(), now=NOW
    )
    assert (request.reply, order.status, order.details.notes) == (
        Reply.LATER,
        OrderStatus.PENDING_AMENDMENT,
        None,
    )
    events = order.play_next_step(NOW + timedelta(hours=1), FakeScripts(), EmptyInventory(), ZONE)
    [kci] = [e for e in events if isinstance(e, KciDue)]
    assert (kci.reason, kci.request, order.details.notes) == (ReasonCode.AMENDED, request, notes)
    assert order.status is OrderStatus.ACKNOWLEDGED
