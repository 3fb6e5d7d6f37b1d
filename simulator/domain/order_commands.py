"""What a tenant asks of an order: place it, amend it, cancel it (reference §3.6, §3.8, §3.9).

The HTTP layer builds these from a validated request; each holds only the fields its
kind of order uses, already parsed (dates are ``date`` values, ids integers), so no
request JSON reaches the domain and a field an order kind does not use is never kept.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, replace
from datetime import date
from enum import StrEnum
from typing import TypeVar

from simulator.domain.inventory import AddressId

# (name, value) pairs, in the order the tenant sent them.
Characteristics = tuple[tuple[str, str], ...]


class OrderKind(StrEnum):
    """Which KCI entity an order travels as."""

    PROVIDE = "PROVIDE"
    MODIFY = "MODIFY"
    CEASE = "CEASE"
    UNSOLICITED_CEASE = "UNSOLICITED_CEASE"

    @property
    def entity_key(self) -> str:
        """The KCI field that carries an order of this kind."""
        return {
            OrderKind.PROVIDE: "provideServiceOrder",
            OrderKind.MODIFY: "modifyServiceOrder",
        }.get(self, "ceaseServiceOrder")


class OrderType(StrEnum):
    """The ``orderType`` of an order; the supplier raises ``UNSOLICITED_CEASE`` itself."""

    NEW = "NEW"
    START = "START"
    TRANSFER = "TRANSFER"
    TAKEOVER = "TAKEOVER"
    SWAP = "SWAP"
    MODIFY = "MODIFY"
    CEASE = "CEASE"
    UNSOLICITED_CEASE = "UNSOLICITED_CEASE"

    @property
    def kind(self) -> OrderKind:
        """The kind of order this type is."""
        if self in PROVIDE_TYPES:
            return OrderKind.PROVIDE
        return OrderKind(self.value)


PROVIDE_TYPES = frozenset(
    {OrderType.NEW, OrderType.START, OrderType.TAKEOVER, OrderType.TRANSFER, OrderType.SWAP}
)
EXISTING_LINE_TYPES = frozenset({OrderType.START, OrderType.TAKEOVER, OrderType.TRANSFER})


@dataclass(frozen=True, slots=True)
class Contact:
    """A contact for the order; every part may be missing once amended away."""

    name: str | None = None
    email: str | None = None
    phone_number: str | None = None


@dataclass(frozen=True, slots=True)
class Scenario:
    """What a request asked for through the gateway's test-stub headers (reference §8)."""

    name: str | None = None
    params: tuple[tuple[str, str], ...] = ()
    problem_code: str | None = None
    kci_delay: str | None = None


@dataclass(frozen=True, slots=True)
class VisitDetails:
    """Who to contact and what an engineer should know: what orders and problems both carry."""

    primary_contact: Contact | None = None
    secondary_contact: Contact | None = None
    hazards: str | None = None
    on_site_restrictions: str | None = None
    notes: str | None = None


@dataclass(frozen=True, slots=True)
class OrderDetails(VisitDetails):
    """What the tenant tells the supplier about the work, beyond what is ordered."""

    engineer_tasks: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    """``POST /service-orders``: a provide, modify or cease order under the gateway's ``order_id``.

    ``tenant`` is the ``Tenant`` header; ``named_tenant`` the tenant the body names.
    ``address`` is for provides (and, when sent, modifies and ceases); ``service_id`` for
    modifies and ceases; ``specification_id`` and ``characteristics`` for provides and
    modifies.
    """

    order_id: int
    tenant: str
    named_tenant: str
    order_type: OrderType
    address: AddressId | None = None
    service_id: str | None = None
    specification_id: str | None = None
    characteristics: Characteristics = ()
    requested_date: date | None = None
    reservation_id: int | None = None
    reservation_reference: str | None = None
    details: OrderDetails = OrderDetails()
    scenario: Scenario = Scenario()
    conversation_id: str | None = None


# An amendment field left out is ``None`` (unchanged); ``REMOVE`` takes the value away.
class Removal(StrEnum):
    """The tenant sent an empty value: remove what the order holds."""

    REMOVE = "REMOVE"


REMOVE = Removal.REMOVE


@dataclass(frozen=True, slots=True)
class ContactChange:
    """Parts of a contact to change; ``None`` leaves a part, ``REMOVE`` empties it."""

    name: str | Removal | None = None
    email: str | Removal | None = None
    phone_number: str | Removal | None = None
    remove_contact: bool = False  # ``{}``: the contact goes


def changed(current: str | None, change: str | Removal | None) -> str | None:
    """A field after an amendment: kept (``None``), emptied (``REMOVE``) or replaced."""
    if change is None:
        return current
    return None if change is REMOVE else str(change)


def amended_contact(current: Contact | None, change: ContactChange | None) -> Contact | None:
    """A contact after an amendment's ``change`` (orders and service problems alike)."""
    if change is None:
        return current
    if change.remove_contact:
        return None
    base = current or Contact()
    return Contact(
        changed(base.name, change.name),
        changed(base.email, change.email),
        changed(base.phone_number, change.phone_number),
    )


@dataclass(frozen=True, slots=True)
class VisitChanges:
    """What an amendment of an order or a problem changes of its :class:`VisitDetails` and appointment."""

    primary_contact: ContactChange | None = None
    secondary_contact: ContactChange | None = None
    hazards: str | Removal | None = None
    on_site_restrictions: str | Removal | None = None
    notes: str | Removal | None = None
    reservation_id: int | None = None
    reservation_reference: str | Removal | None = None


DetailsT = TypeVar("DetailsT", bound=VisitDetails)


def amended_details(details: DetailsT, changes: VisitChanges) -> DetailsT:
    """``details`` after an amendment's ``changes`` to contacts and site notes."""
    return replace(
        details,
        primary_contact=amended_contact(details.primary_contact, changes.primary_contact),
        secondary_contact=amended_contact(details.secondary_contact, changes.secondary_contact),
        hazards=changed(details.hazards, changes.hazards),
        on_site_restrictions=changed(details.on_site_restrictions, changes.on_site_restrictions),
        notes=changed(details.notes, changes.notes),
    )


@dataclass(frozen=True, slots=True)
class AmendmentChanges(VisitChanges):
    """What an order amendment changes (reference §3.8); anything else it carried was ignored."""

    characteristics: Characteristics | None = None
    requested_date: date | None = None
    engineer_tasks: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class FollowUp:
    """What every amendment and cancellation names, of an order and of a service problem alike."""

    request_id: int  # the tenant's id for this request: a repeat is known by it
    entity_id: int  # the gateway id of the order or problem it is about
    tenant: str
    _: KW_ONLY
    supplier_reference: str | None = None  # the supplier's reference of that order or problem
    scenario: Scenario = Scenario()


@dataclass(frozen=True, slots=True)
class AmendOrder(FollowUp):
    """``POST /service-order-amendments``: change an in-flight order."""

    changes: AmendmentChanges


CANCEL_OTHER_REASONS = frozenset(
    {
        "NO_AUTHORISATION",
        "CUSTOMER_NOT_AWARE",
        "DELIBERATE_MISLEAD",
        "PURCHASED_DIFFERENT_PRODUCT",
        "END_USER_NOT_MOVING",
    }
)


@dataclass(frozen=True, slots=True)
class CancelOrder(FollowUp):
    """``POST /service-order-cancellations``: stop an in-flight order, or object to an unsolicited cease."""

    reason_code: str

    @property
    def is_cancel_other(self) -> bool:
        """Whether the reason objects to an unsolicited cease ("cancel other")."""
        return self.reason_code in CANCEL_OTHER_REASONS
