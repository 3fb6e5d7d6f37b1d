"""Read models of orders, their KCIs and reservations, for the admin API (which sees every tenant).

An order is named by its key (the gateway id, or ``UC-<n>``) and, when several tenants
used the same id, by its tenant too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simulator.application.context import Context
from simulator.application.order_scripts import force_next_step
from simulator.application.ports import UnitOfWork
from simulator.domain.errors import MalformedRequest, NotFound
from simulator.domain.order import Order
from simulator.storage.orders import HistoryEntry
from simulator.storage.outbox import PENDING, Attempt, OutboxEntry, kci_body


@dataclass(frozen=True, slots=True)
class OrderView:
    """An order with everything that happened to it."""

    order: Order
    history: list[HistoryEntry]


@dataclass(frozen=True, slots=True)
class KciView:
    """A KCI in the outbox, with its delivery attempts when asked for."""

    entry: OutboxEntry
    attempts: list[Attempt] | None = None

    @property
    def payload(self) -> dict[str, Any]:
        """The KCI as the gateway receives it (without its delivery metadata)."""
        return kci_body(self.entry.payload)


def _find(unit: UnitOfWork, key: str, tenant: str | None) -> Order:
    found = [o for o in unit.orders.with_key(key) if tenant is None or o.id.tenant == tenant]
    if not found:
        raise NotFound(f"no order {key}" + ("" if tenant is None else f" for {tenant}"))
    if len(found) > 1:
        tenants = ", ".join(o.id.tenant for o in found)
        raise MalformedRequest(f"order {key} is an order of {tenants}; name one with ?tenant=")
    return found[0]


def _view(unit: UnitOfWork, order: Order) -> OrderView:
    return OrderView(order, unit.orders.history(order.id))


def list_orders(context: Context, tenant: str | None = None) -> list[OrderView]:
    """Orders, newest first, each with its history."""
    with context.store.reading() as unit:
        return [_view(unit, order) for order in unit.orders.listing(tenant)]


def find_order(context: Context, key: str, tenant: str | None = None) -> OrderView:
    """One order with its history, or 404."""
    with context.store.reading() as unit:
        return _view(unit, _find(unit, key, tenant))


def play_next_step(context: Context, key: str, tenant: str | None = None) -> OrderView:
    """Play the order's next scripted step now; the order afterwards."""
    with context.store.reading() as unit:
        order_id = _find(unit, key, tenant).id
    force_next_step(context, order_id)
    with context.store.reading() as unit:
        return _view(unit, _find(unit, key, order_id.tenant))


def order_kcis(context: Context, key: str, tenant: str | None = None) -> list[KciView]:
    """The KCIs of one order, with their delivery attempts."""
    with context.store.reading() as unit:
        order = _find(unit, key, tenant)
        entries = unit.outbox.for_order(order.id)
        return [KciView(entry, unit.outbox.attempts_for(entry.kci_id)) for entry in entries]


def recent_kcis(context: Context) -> list[KciView]:
    """Every KCI in the outbox, newest first, without attempts."""
    with context.store.reading() as unit:
        return [KciView(entry) for entry in unit.outbox.recent()]


def add_delivery_fault(
    context: Context, key: str, tenant: str | None, sequence_number: int, fault: str
) -> None:
    """Mark one pending KCI of the order for a delivery fault (404 when there is no such KCI)."""
    with context.store.transaction() as unit:
        order = _find(unit, key, tenant)
        entry = next(
            (e for e in unit.outbox.for_order(order.id) if e.sequence_number == sequence_number), None
        )
        if entry is None or entry.state != PENDING:
            raise NotFound(f"order {key} has no pending KCI {sequence_number}")
        unit.outbox.set_fault(entry.kci_id, fault)
