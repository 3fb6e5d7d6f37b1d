"""Use case: place an order (reference §3.6).

Placing an order checks it against what availability says for the address and against
its appointment (a live reservation, or a requested date outside the lead time); the
answer (201 or 202) and the KCIs that follow come from a script chosen by the profile,
or per request by the gateway's ``X-Scenario`` header. The order, its history and
anything it raises (the unsolicited cease of a takeover) are written in one
transaction; :mod:`simulator.application.order_scripts` then plays the script.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simulator.application.context import Context
from simulator.application.order_effects import apply_events, script_for
from simulator.application.order_views import order_entity
from simulator.application.ports import UnitOfWork
from simulator.domain.inventory import Site
from simulator.domain.kci_scripts import AppliesTo
from simulator.domain.order import Order, Reply, check_tenant
from simulator.domain.order_commands import OrderKind, PlaceOrder, Scenario
from simulator.domain.order_events import OrderEvent, OrderId, UnsolicitedCeaseDue
from simulator.domain.orders import AcceptedOrder, check_cease, check_modify, check_provide

__all__ = ["Answer", "Scenario", "place_order"]


@dataclass(frozen=True, slots=True)
class Answer:
    """How a create call was answered: now with a body, or later by KCI (no body)."""

    reply: Reply
    body: dict[str, Any] | None


def _accept(context: Context, unit: UnitOfWork, command: PlaceOrder, site: Site | None) -> AcceptedOrder:
    catalogue = context.profile.catalogue
    kind = command.order_type.kind
    if kind is OrderKind.PROVIDE:
        assert command.address is not None  # a provide always names its address
        live = unit.inventory.at_address(command.address) if site is not None else []
        return check_provide(command, site, live, catalogue, new_service_id=f"S{command.order_id}")
    service = unit.inventory.get(command.service_id or "")
    if kind is OrderKind.MODIFY:
        return check_modify(command, service, catalogue)
    return check_cease(command, service)


def place_order(context: Context, command: PlaceOrder) -> Answer:
    """Accept or refuse (422) an order; a repeated gateway id gets the first answer again.

    Ids are the tenant's own: another tenant's order under the same id is another order.
    """
    check_tenant(command)
    script = script_for(context, command.scenario, AppliesTo.ORDER)
    order_id = OrderId(command.tenant, str(command.order_id))
    # The site comes from the address directory, not the database: found before the write
    # lock is taken, so writers queue only for what needs it.
    site = context.directory.find(command.address) if command.address is not None else None
    with context.store.transaction() as unit:
        unit.lock(f"order:{order_id}")
        existing = unit.orders.get(order_id)
        if existing is not None:
            return Answer(existing.reply, unit.orders.reply_body(order_id))
        now = context.clock.now()
        accepted = _accept(context, unit, command, site)
        held = None
        if command.reservation_id is not None:
            held = unit.reservations.get(command.tenant, command.reservation_id)
        order, events = Order.place(command, accepted, script, held, now, context.zone)
        body = order_entity(order) if order.reply is Reply.DONE else None
        unsolicited = [e for e in events if isinstance(e, UnsolicitedCeaseDue)]
        raised: list[OrderEvent] = []
        for due in unsolicited:
            raised += _raise_unsolicited_cease(context, unit, order, due)
        unit.orders.add(order, body)
        apply_events(context, unit, [e for e in events if not isinstance(e, UnsolicitedCeaseDue)] + raised)
    return Answer(order.reply, body)


def _raise_unsolicited_cease(
    context: Context, unit: UnitOfWork, takeover: Order, due: UnsolicitedCeaseDue
) -> list[OrderEvent]:
    """The losing tenant of a TAKEOVER or TRANSFER gets a cease order it did not ask for."""
    scenario = Scenario("UNSOLICITED_CEASE")
    script = script_for(context, scenario, AppliesTo.ORDER)
    unit.lock("unsolicited cease numbers")  # two takeovers at once on PostgreSQL: two numbers
    number = unit.orders.next_unsolicited_number()
    cease, events = Order.raise_unsolicited_cease(
        due, number, script, scenario, context.clock.now(), context.zone
    )
    unit.orders.add(cease, None)
    takeover.link(cease.id)
    return events
