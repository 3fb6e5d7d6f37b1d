"""Orders: which provide, modify and cease orders a supplier accepts, and what completing one does.

The checks follow what availability says for the address (reference §3.6): the line
profile belongs to the chosen specification; ``NEW`` needs room for a new line;
``START``, ``TRANSFER`` and ``TAKEOVER`` name an existing line by ``ONT_REFERENCE`` and
``ONT_PORT``; ``SWAP`` names a live ``SERVICE_ID`` of the tenant and a permitted uplift;
``MODIFY`` and ``CEASE`` name a live service the tenant owns. Another tenant's service
is refused exactly like a service that does not exist, so nothing leaks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from typing import Any

from simulator.domain.availability import can_install_new_line, first_free_port
from simulator.domain.catalogue import Catalogue
from simulator.domain.errors import BusinessRuleViolation
from simulator.domain.inventory import AddressId, LiveService, Site


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


PROVIDE_TYPES = frozenset({"NEW", "START", "TAKEOVER", "TRANSFER", "SWAP"})
EXISTING_LINE_TYPES = frozenset({"START", "TAKEOVER", "TRANSFER"})


def kind_of(order_type: str) -> OrderKind:
    """The kind of an order from its ``orderType``."""
    if order_type in PROVIDE_TYPES:
        return OrderKind.PROVIDE
    return OrderKind(order_type)


def characteristics(body: Mapping[str, Any]) -> dict[str, str]:
    """The order's service characteristics as ``{name: value}``."""
    item = body.get("serviceOrderItem") or {}
    found = item.get("serviceCharacteristics") or body.get("serviceCharacteristics") or []
    return {str(c["name"]): str(c["value"]) for c in found if "name" in c and "value" in c}


def specification_of(body: Mapping[str, Any]) -> str | None:
    """The specification id the order names, if any."""
    item = body.get("serviceOrderItem") or {}
    spec = item.get("serviceSpecification") or {}
    return None if spec.get("id") is None else str(spec["id"])


@dataclass(frozen=True, slots=True)
class InventoryChange:
    """What completing an order does to the live services."""

    add: LiveService | None = None
    remove: str | None = None


@dataclass(frozen=True, slots=True)
class AcceptedOrder:
    """An order that passed the supplier's checks, with what it will change once complete."""

    change: InventoryChange
    lead_time_days: int
    losing_service: LiveService | None = None  # the other tenant's line a TAKEOVER/TRANSFER takes


def _owned(service: LiveService | None, tenant: str, service_id: str) -> LiveService:
    if service is None or service.tenant != tenant:
        raise BusinessRuleViolation(f"service {service_id} is not a live service of {tenant}")
    return service


def _line_profile(catalogue: Catalogue, spec_id: str, chars: Mapping[str, str]) -> str:
    spec = catalogue.specification(spec_id)
    profile_id = chars.get("LINE_PROFILE")
    if profile_id is None:
        raise BusinessRuleViolation("the LINE_PROFILE service characteristic is required")
    spec.line_profile(profile_id)
    return profile_id


def _port(site: Site, chars: Mapping[str, str]) -> int:
    reference, port = chars.get("ONT_REFERENCE"), chars.get("ONT_PORT")
    if reference is None or port is None:
        raise BusinessRuleViolation("ONT_REFERENCE and ONT_PORT characteristics name the existing line")
    if reference != site.ont_reference:
        raise BusinessRuleViolation(
            f"ONT {reference} is not at this address (its ONT is {site.ont_reference})"
        )
    if not port.isdigit() or not 1 <= int(port) <= site.ont_ports:
        raise BusinessRuleViolation(f"ONT {reference} has ports 1 to {site.ont_ports}, not {port}")
    return int(port)


def check_provide(
    body: Mapping[str, Any],
    site: Site | None,
    live: Sequence[LiveService],
    catalogue: Catalogue,
    new_service_id: str,
) -> AcceptedOrder:
    """Accept or refuse a provide order at ``site`` holding the ``live`` services."""
    address = AddressId.from_json(body["address"])
    if site is None or not site.covered:
        raise BusinessRuleViolation(f"{address.type} {address.id} is not within our coverage area")
    spec_id = specification_of(body) or ""
    if spec_id not in site.specifications:
        offered = ", ".join(site.specifications)
        raise BusinessRuleViolation(
            f"{spec_id} is not available at {address.type} {address.id} (offered: {offered})"
        )
    chars = characteristics(body)
    profile_id = _line_profile(catalogue, spec_id, chars)
    tenant, order_type = str(body["tenant"]), str(body["orderType"])
    lead = catalogue.specifications[spec_id].minimum_lead_time_days
    if order_type == "NEW":
        port = first_free_port(site, live)
        if port is None or not can_install_new_line(site, live):
            raise BusinessRuleViolation(
                f"no new line can be installed at {address.type} {address.id}: "
                + ("it already has its one service" if site.ont_ports == 1 else "every ONT port is in use")
            )
        added = LiveService(new_service_id, tenant, address, spec_id, profile_id, port)
        return AcceptedOrder(InventoryChange(add=added), lead)
    if order_type in EXISTING_LINE_TYPES:
        port = _port(site, chars)
        current = next((s for s in live if s.ont_port == port), None)
        if order_type == "START":
            if current is not None:
                raise BusinessRuleViolation(f"port {port} is in use; START takes an unused port")
            added = LiveService(new_service_id, tenant, address, spec_id, profile_id, port)
            return AcceptedOrder(InventoryChange(add=added), lead)
        if current is None:
            raise BusinessRuleViolation(f"no live service on port {port} to {order_type.lower()}")
        if current.tenant == tenant:
            raise BusinessRuleViolation(f"the service on port {port} is already {tenant}'s; use MODIFY")
        added = LiveService(new_service_id, tenant, address, spec_id, profile_id, port)
        change = InventoryChange(add=added, remove=current.service_id)
        return AcceptedOrder(change, 0, losing_service=current)
    # SWAP: regrade the tenant's own live service.
    service_id = chars.get("SERVICE_ID")
    if service_id is None:
        raise BusinessRuleViolation("a SWAP names the existing service in the SERVICE_ID characteristic")
    current = _owned(next((s for s in live if s.service_id == service_id), None), tenant, service_id)
    if not catalogue.can_swap(current.specification_id, spec_id):
        raise BusinessRuleViolation(f"{current.specification_id} cannot be swapped to {spec_id}")
    swapped = LiveService(service_id, tenant, address, spec_id, profile_id, current.ont_port)
    return AcceptedOrder(InventoryChange(add=swapped, remove=service_id), lead)


def check_modify(body: Mapping[str, Any], service: LiveService | None, catalogue: Catalogue) -> AcceptedOrder:
    """Accept or refuse a change of line profile on a live service of the tenant."""
    tenant, service_id = str(body["tenant"]), str(body["serviceId"])
    current = _owned(service, tenant, service_id)
    spec_id = specification_of(body) or current.specification_id
    if spec_id != current.specification_id:
        raise BusinessRuleViolation(f"a MODIFY keeps the specification {current.specification_id}; use SWAP")
    profile_id = _line_profile(catalogue, spec_id, characteristics(body))
    changed = LiveService(service_id, tenant, current.address, spec_id, profile_id, current.ont_port)
    return AcceptedOrder(InventoryChange(add=changed, remove=service_id), 1)


def check_cease(body: Mapping[str, Any], service: LiveService | None) -> AcceptedOrder:
    """Accept or refuse the cease of a live service of the tenant."""
    current = _owned(service, str(body["tenant"]), str(body["serviceId"]))
    return AcceptedOrder(InventoryChange(remove=current.service_id), 1)


def check_requested_date(requested: date | None, today: date, lead_time_days: int) -> None:
    """An unappointed order's requested completion date must respect the lead time."""
    if requested is None:
        raise BusinessRuleViolation("give appointmentReservationId or a requestedCompletionDate")
    earliest = today + timedelta(days=lead_time_days)
    if requested < earliest:
        raise BusinessRuleViolation(
            f"requestedCompletionDate {requested} is inside the minimum lead time of {lead_time_days} days "
            f"(earliest {earliest})"
        )


def target_of(requested: date | None, slot_start: datetime | None, now: datetime, zone: tzinfo) -> datetime:
    """When the order is expected to complete: the appointment, else 08:00 local on the requested date."""
    if slot_start is not None:
        return slot_start
    if requested is not None:
        return datetime.combine(requested, time(8), tzinfo=zone)
    return now
