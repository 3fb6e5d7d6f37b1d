"""Acting on what orders report: history, the KCI outbox, inventory, reservations, linked orders.

Everything here runs inside the unit of work that saves the order, so a KCI is written
in the same transaction as the state change that caused it.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from simulator.application.context import Context
from simulator.application.kci_outbox import enqueue_kci
from simulator.application.order_views import order_entity
from simulator.application.ports import UnitOfWork
from simulator.domain.inventory import AddressId, LiveService, Site
from simulator.domain.kci_scripts import AppliesTo, KciScript, resolve_script
from simulator.domain.order import Order
from simulator.domain.order_commands import Scenario
from simulator.domain.order_events import (
    InventoryChanged,
    KciDue,
    LinkedEffect,
    LinkedOrderAffected,
    OrderEvent,
    ReservationConsumed,
    StatusChanged,
    UnsolicitedCeaseDue,
)
from simulator.kci_script_loader import load_scripts
from simulator.storage.orders import HistoryEntry


def script_for(context: Context, scenario: Scenario, applies_to: AppliesTo) -> KciScript:
    """The script a request runs: its ``X-Scenario``, else the profile's default for its kind."""
    name = scenario.name or context.profile.orders.get(f"{applies_to.value}Scenario")
    return _resolved(name, scenario.params, scenario.problem_code, scenario.kci_delay, applies_to)


@lru_cache(maxsize=1024)
def _resolved(
    name: str | None,
    params: tuple[tuple[str, str], ...],
    problem_code: str | None,
    kci_delay: str | None,
    applies_to: AppliesTo,
) -> KciScript:
    # Remembered: scripts are immutable and the shipped set is fixed, and every step of every
    # order resolves its script again (a refusal raises, so it is never remembered).
    return resolve_script(load_scripts(), name, dict(params), problem_code, kci_delay, applies_to=applies_to)


class ProfileScripts:
    """The scripts an order plays, as the profile and the shipped scenarios define them."""

    def __init__(self, context: Context) -> None:
        self._context = context

    def script(self, scenario: Scenario, applies_to: AppliesTo) -> KciScript:
        """The script ``scenario`` selects for a request of kind ``applies_to``."""
        return script_for(self._context, scenario, applies_to)


class InventoryReader:
    """What completing an order reads about the live services, inside the unit of work."""

    def __init__(self, context: Context, unit: UnitOfWork) -> None:
        self._context = context
        self._unit = unit

    def service(self, service_id: str) -> LiveService | None:
        """The live service, if it is live."""
        return self._unit.inventory.get(service_id)

    def at_address(self, address: AddressId) -> list[LiveService]:
        """The live services at ``address``."""
        return self._unit.inventory.at_address(address)

    def site(self, address: AddressId) -> Site | None:
        """The site at ``address``."""
        return self._context.directory.find(address)


def apply_events(context: Context, unit: UnitOfWork, events: Iterable[OrderEvent]) -> None:
    """Store and act on every event, in the order the domain reported them."""
    for event in events:
        match event:
            case StatusChanged():
                before = None if event.before is None else event.before.value
                entry = HistoryEntry(event.at, event.event, before, event.after.value, dict(event.detail))
                unit.orders.add_history(event.order, entry)
            case KciDue():
                order = event.entity
                entity = (order.kind.entity_key, order_entity(order, event.request, event.reason))
                entry = enqueue_kci(
                    unit,
                    order.id,
                    event,
                    entity,
                    status=order.status.value,
                    conversation_id=order.conversation_id,
                )
                unit.orders.add_history(order.id, entry)
            case InventoryChanged():
                if event.change.remove:
                    unit.inventory.remove(event.change.remove)
                if event.change.add is not None:
                    unit.inventory.add(event.change.add)
            case ReservationConsumed():
                unit.reservations.save(event.reservation)
            case LinkedOrderAffected():
                _affect_linked(context, unit, event)
            case UnsolicitedCeaseDue():
                raise AssertionError("placing an order raises the unsolicited cease itself")


def _affect_linked(context: Context, unit: UnitOfWork, event: LinkedOrderAffected) -> None:
    """What an unsolicited cease does to the takeover that raised it."""
    linked = unit.orders.get(event.linked)
    if linked is None:
        return
    scripts = ProfileScripts(context)
    if event.effect is LinkedEffect.PAUSE:
        events = linked.pause(event.by, event.at)
    elif event.effect is LinkedEffect.RESUME:
        events = linked.resume(event.by, event.at, scripts)
    else:
        events = linked.cancel_for_objection(event.at, scripts, InventoryReader(context, unit), context.zone)
    if events:
        unit.orders.save(linked)
        apply_events(context, unit, events)


def save_with_events(context: Context, unit: UnitOfWork, order: Order, events: list[OrderEvent]) -> None:
    """Save the order, then act on its events (KCIs join the same transaction)."""
    unit.orders.save(order)
    apply_events(context, unit, events)
