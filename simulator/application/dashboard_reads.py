"""Read models of the dashboard: one page at a time, filtered by the database.

The dashboard must stay usable with a million addresses and a hundred thousand orders, so
nothing here loads a whole table: every list is one ``LIMIT``/``OFFSET`` (orders,
reservations) or keyset (journal) query with its filters in SQL, and a page asks for one
row more than it shows to know whether another page follows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from simulator.application.appointments import available_appointments
from simulator.application.context import Context
from simulator.application.order_effects import script_for
from simulator.domain.errors import FibresimError
from simulator.domain.inventory import AddressId, LiveService, Site
from simulator.domain.kci_scripts import AppliesTo, KciScript
from simulator.domain.order import Order
from simulator.domain.reservations import Reservation
from simulator.domain.slots import Slot
from simulator.storage import orders as order_store
from simulator.storage import reservations as reservation_store
from simulator.storage.orders import OrderFilter, OrderSummary

__all__ = ["AddressView", "OrderFilter", "OrderSummary", "Page", "address_view", "order_page", "order_script"]

Row = TypeVar("Row")
PAGE_SIZE = 25
MAX_PAGE = 10_000  # deep enough for any browsing; keeps OFFSET bounded


@dataclass(frozen=True, slots=True)
class Page(Generic[Row]):
    """One page of a list: its rows, its number (from 1) and whether another follows."""

    rows: Sequence[Row]
    number: int
    has_next: bool


def _bounded(number: int) -> int:
    return max(1, min(number, MAX_PAGE))


def order_page(
    context: Context, narrowed: OrderFilter, number: int = 1, size: int = PAGE_SIZE
) -> Page[OrderSummary]:
    """Page ``number`` of the orders matching ``narrowed``, newest first."""
    number = _bounded(number)
    with context.database.reading() as connection:
        rows = order_store.page(connection, narrowed, limit=size + 1, offset=(number - 1) * size)
    return Page(rows[:size], number, len(rows) > size)


@dataclass(frozen=True, slots=True)
class AddressView:
    """Everything the supplier holds about one address.

    ``site`` is ``None`` for an address the supplier does not know; ``slots`` are those it
    would offer now per covered specification (for a provide), ``slot_problems`` why none
    could be offered for a specification.
    """

    address: AddressId
    site: Site | None
    live_services: list[LiveService]
    reservations: Page[Reservation]
    slots: dict[str, list[Slot]]
    slot_problems: dict[str, str]


SLOTS_SHOWN = 12


def address_view(context: Context, address: AddressId, reservation_page: int = 1) -> AddressView:
    """The site, live services, reservations (one page) and bookable slots of ``address``."""
    site = context.directory.find(address)
    number = _bounded(reservation_page)
    with context.store.reading() as unit:
        live = unit.inventory.at_address(address)
    with context.database.reading() as connection:
        held = reservation_store.at_address(
            connection, address.key, limit=PAGE_SIZE + 1, offset=(number - 1) * PAGE_SIZE
        )
    slots: dict[str, list[Slot]] = {}
    problems: dict[str, str] = {}
    for spec_id in site.specifications if site is not None else ():
        try:
            slots[spec_id] = available_appointments(context, address, spec_id, "PROVIDE").slots[:SLOTS_SHOWN]
        except FibresimError as refused:  # shown, not raised: the page is about the address
            problems[spec_id] = "; ".join(refused.messages)
    return AddressView(
        address=address,
        site=site,
        live_services=live,
        reservations=Page(held[:PAGE_SIZE], number, len(held) > PAGE_SIZE),
        slots=slots,
        slot_problems=problems,
    )


def order_script(context: Context, order: Order) -> KciScript | None:
    """The script driving ``order`` (its own, or that of an amendment or cancellation it got).

    ``None`` when it can no longer be resolved (a scenario the profile has since dropped):
    the dashboard then shows only the script's name.
    """
    candidates = [(order.scenario, AppliesTo.ORDER)] + [(r.scenario, r.kind) for r in order.requests]
    for scenario, kind in candidates:
        try:
            script = script_for(context, scenario, kind)
        except FibresimError:
            continue
        if script.name == order.script:
            return script
    return None
