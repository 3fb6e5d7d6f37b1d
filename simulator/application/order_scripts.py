"""Use case: play the KCI scripts of orders as the simulator clock moves.

Each step moves the order (see :meth:`simulator.domain.order.Order.play_next_step`) and
its KCI goes into the outbox in the same transaction, so a restart loses nothing.
Completing an order changes the inventory availability reports.
"""

from __future__ import annotations

from simulator.application.context import Context
from simulator.application.order_effects import InventoryReader, ProfileScripts, save_with_events
from simulator.domain.errors import NotFound
from simulator.domain.order import Order
from simulator.domain.order_events import OrderId


def run_due_steps(context: Context, limit: int = 1000) -> int:
    """Play every scripted step that is due on the simulator clock; returns how many KCIs that made."""
    played = 0
    for _round in range(limit):
        with context.store.reading() as unit:
            due = unit.orders.due(context.clock.now(), 50)
        if not due:
            break
        for order_id in due:
            played += _play_due(context, order_id, force=False)
    return played


def force_next_step(context: Context, order_id: OrderId) -> Order:
    """Play an order's next scripted step now, whatever its delay."""
    _play_due(context, order_id, force=True)
    with context.store.reading() as unit:
        order = unit.orders.get(order_id)
    assert order is not None  # orders are never deleted
    return order


def _play_due(context: Context, order_id: OrderId, *, force: bool) -> int:
    """Lock, load, play the step, save: returns how many KCIs the step made."""
    with context.store.transaction() as unit:
        unit.lock(f"order:{order_id}")
        order = unit.orders.get(order_id)
        if order is None:
            raise NotFound(f"no order {order_id.key}")
        before = order.last_sequence
        events = order.play_next_step(
            context.clock.now(),
            ProfileScripts(context),
            InventoryReader(context, unit),
            context.zone,
            force=force,
        )
        save_with_events(context, unit, order, events)
        return order.last_sequence - before
