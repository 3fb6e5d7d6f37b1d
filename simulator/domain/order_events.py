"""What happened to an order: the events :class:`~simulator.domain.order.Order` returns.

The application layer acts on them in the transaction that saves the order: it writes
the history, puts KCIs into the outbox, changes the inventory, stores the reservation
an order used, and carries effects over to the linked order of a takeover.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeAlias

from contracts.model.order_states import OrderStatus, ReasonCode
from simulator.domain.inventory import LiveService
from simulator.domain.orders import InventoryChange
from simulator.domain.reservations import Reservation
from simulator.domain.scripted import KciDue

if TYPE_CHECKING:
    from simulator.domain.order import Order, OrderRequest


@dataclass(frozen=True, slots=True)
class OrderId:
    """An order's identity: the tenant and its key (the gateway id as text, or the ``UC-`` reference)."""

    tenant: str
    key: str

    def __str__(self) -> str:
        return f"{self.tenant}/{self.key}"


@dataclass(frozen=True, slots=True)
class StatusChanged:
    """An event of the order's history (PLACED, RAISED, PAUSED, AMENDMENT_RECEIVED, ...)."""

    order: OrderId
    at: datetime
    event: str
    before: OrderStatus | None
    after: OrderStatus
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class InventoryChanged:
    """A completed order changed the live services availability reports."""

    order: OrderId
    change: InventoryChange


@dataclass(frozen=True, slots=True)
class ReservationConsumed:
    """An order (or its amendment) used a held reservation: the slot is now its appointment."""

    reservation: Reservation


@dataclass(frozen=True, slots=True)
class UnsolicitedCeaseDue:
    """A TAKEOVER or TRANSFER takes another tenant's line: that tenant gets a cease it did not ask for."""

    takeover: OrderId
    losing: LiveService
    target: datetime


class LinkedEffect(StrEnum):
    """What an unsolicited cease does to the takeover that raised it."""

    PAUSE = "PAUSE"  # the losing side objected: the takeover waits for the answer
    RESUME = "RESUME"  # the objection was refused: the takeover carries on
    CANCEL = "CANCEL"  # the objection was upheld: the takeover is cancelled


@dataclass(frozen=True, slots=True)
class LinkedOrderAffected:
    """Something on one order changes the linked one (see :class:`LinkedEffect`)."""

    linked: OrderId
    by: OrderId
    effect: LinkedEffect
    at: datetime


__all__ = [
    "InventoryChanged",
    "KciDue",
    "LinkedEffect",
    "LinkedOrderAffected",
    "OrderEvent",
    "OrderId",
    "OrderKciDue",
    "ReservationConsumed",
    "StatusChanged",
    "UnsolicitedCeaseDue",
]

# A KCI of an order (quoted: the order's module imports this one).
OrderKciDue: TypeAlias = "KciDue[Order, OrderRequest | None, ReasonCode, OrderStatus]"
OrderEvent: TypeAlias = (
    "StatusChanged | OrderKciDue | InventoryChanged | ReservationConsumed | UnsolicitedCeaseDue"
    " | LinkedOrderAffected"
)
