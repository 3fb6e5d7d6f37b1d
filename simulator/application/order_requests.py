"""Use cases: amend or cancel an in-flight order (reference §3.8, §3.9, §7).

A request is answered 201 (applied now), 202 (answered later by KCI) or 422, by its
script (the rules are :meth:`simulator.domain.order.Order.amend` and ``cancel``); a
repeated request id gets its first answer again. Request ids are the tenant's own.
"""

from __future__ import annotations

from collections.abc import Callable

from simulator.application.context import Context
from simulator.application.order_effects import ProfileScripts, save_with_events, script_for
from simulator.application.order_views import request_answer
from simulator.application.orders import Answer
from simulator.application.ports import UnitOfWork
from simulator.domain.errors import NotFound
from simulator.domain.kci_scripts import AppliesTo
from simulator.domain.order import Order, OrderRequest
from simulator.domain.order_commands import AmendOrder, CancelOrder
from simulator.domain.order_events import OrderEvent, OrderId


def _named_order(unit: UnitOfWork, tenant: str, order_id: int, reference: str | None) -> OrderId:
    """The tenant's order a request names, by supplier reference or else gateway id (404 if none)."""
    found = None if not reference else unit.orders.by_supplier_reference(tenant, reference)
    if found is None:
        found = unit.orders.get(OrderId(tenant, str(order_id)))
    if found is None:
        raise NotFound(f"no order {order_id} for {tenant}")
    return found.id


def _locked_order(unit: UnitOfWork, order_id: OrderId) -> Order:
    # Read again once the lock is held, so nothing changes under us.
    unit.lock(f"order:{order_id}")
    order = unit.orders.get(order_id)
    assert order is not None  # orders are never deleted
    return order


def _repeat(unit: UnitOfWork, order: Order, kind: AppliesTo, request_id: int) -> Answer | None:
    """The first answer to a repeated request id; a tenant's id names one request of one order."""
    owner = unit.orders.request_owner(order.id.tenant, kind, request_id)
    if owner is None:
        return None
    request = order.request_answered_before(kind, request_id)
    return Answer(request.reply, request_answer(order, request))


def _on_order(
    context: Context,
    kind: AppliesTo,
    command: AmendOrder | CancelOrder,
    decide: Callable[[UnitOfWork, Order], tuple[OrderRequest, list[OrderEvent]]],
) -> Answer:
    """Lock the order ``command`` names, answer a repeated request id as before, else let ``decide`` rule."""
    tenant = command.tenant
    with context.store.transaction() as unit:
        named = _named_order(unit, tenant, command.entity_id, command.supplier_reference)
        order = _locked_order(unit, named)
        repeated = _repeat(unit, order, kind, command.request_id)
        if repeated is not None:
            return repeated
        request, events = decide(unit, order)
        save_with_events(context, unit, order, events)
        return Answer(request.reply, request_answer(order, request))


def amend_order(context: Context, command: AmendOrder) -> Answer:
    """Accept (201 applied / 202 pending) or refuse (422) an amendment of an in-flight order."""
    script = script_for(context, command.scenario, AppliesTo.AMENDMENT)
    refuse_while_pending = bool(context.profile.orders.get("refuseSecondAmendment", True))

    def decide(unit: UnitOfWork, order: Order) -> tuple[OrderRequest, list[OrderEvent]]:
        reservation_id = command.changes.reservation_id
        held = None if reservation_id is None else unit.reservations.get(command.tenant, reservation_id)
        return order.amend(
            command,
            script,
            refuse_while_pending=refuse_while_pending,
            held=held,
            scripts=ProfileScripts(context),
            now=context.clock.now(),
        )

    return _on_order(context, AppliesTo.AMENDMENT, command, decide)


def cancel_order(context: Context, command: CancelOrder) -> Answer:
    """Accept (201 cancelled / 202 pending) or refuse (422) a cancellation, including "cancel other"."""
    script = script_for(context, command.scenario, AppliesTo.CANCELLATION)
    hours = context.profile.orders.get("pointOfNoReturnHours", 24)

    def decide(_unit: UnitOfWork, order: Order) -> tuple[OrderRequest, list[OrderEvent]]:
        return order.cancel(
            command,
            script,
            point_of_no_return_hours=None if hours is None else float(hours),
            scripts=ProfileScripts(context),
            now=context.clock.now(),
        )

    return _on_order(context, AppliesTo.CANCELLATION, command, decide)
