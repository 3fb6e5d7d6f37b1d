"""Order, amendment and cancellation bodies in the contract's shapes, and placing an order.

The builders follow ``ProvideServiceOrder``, ``ModifyServiceOrder``,
``ServiceOrderAmendmentRequest`` and ``ServiceOrderCancellationRequest`` of
``supplier-api.yaml``. A NEW order is appointed when the target offers appointments
(a fresh reservation at the address) and carries a ``requestedCompletionDate`` otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx

from contracts.certification.addresses import TestAddress
from contracts.certification.behaviour.support import body_of, offered_slots, reserve, slot_instants
from contracts.certification.errors import RuleSkipped, RuleViolation
from contracts.certification.rules import Capability
from contracts.certification.target import Target

__all__ = [
    "CONTACT",
    "PlacedOrder",
    "amendment_request",
    "cancellation_request",
    "modify_order",
    "place_new_order",
    "provide_order",
    "requested_date",
]

CONTACT = {"name": "Certification Test", "email": "certify@example.com", "phoneNumber": "07700900000"}
NOTE = "fibresim certification run"
REQUESTED_DATE_MARGIN = timedelta(days=14)
"""How far past today (plus the lead time) a non-appointed order asks to be completed."""


def provide_order(
    order_id: int,
    tenant: str,
    address: Mapping[str, str],
    spec_id: str,
    line_profile: str,
    *,
    reservation: tuple[int, str | None] | None = None,
    requested: date | None = None,
    order_type: str = "NEW",
) -> dict[str, Any]:
    """A ``ProvideServiceOrder``: appointed with ``reservation`` or dated with ``requested``."""
    body: dict[str, Any] = {
        "id": order_id,
        "orderType": order_type,
        "tenant": tenant,
        "address": dict(address),
        "serviceOrderItem": {
            "serviceSpecification": {"id": spec_id},
            "serviceCharacteristics": [{"name": "LINE_PROFILE", "value": line_profile}],
        },
        "primaryContact": dict(CONTACT),
        "notes": NOTE,
    }
    if reservation is not None:
        body["appointmentReservationId"] = reservation[0]
        if reservation[1]:
            body["appointmentReservationReference"] = reservation[1]
    if requested is not None:
        body["requestedCompletionDate"] = requested.isoformat()
    return body


def modify_order(
    order_id: int,
    tenant: str,
    service_id: str,
    spec_id: str,
    line_profile: str,
    requested: date,
    *,
    notes: str | None = NOTE,
) -> dict[str, Any]:
    """A ``ModifyServiceOrder`` moving ``service_id`` to ``line_profile``; ``notes=None`` leaves them out."""
    body: dict[str, Any] = {
        "id": order_id,
        "orderType": "MODIFY",
        "tenant": tenant,
        "serviceId": service_id,
        "serviceOrderItem": {
            "serviceSpecification": {"id": spec_id},
            "serviceCharacteristics": [{"name": "LINE_PROFILE", "value": line_profile}],
        },
        "requestedCompletionDate": requested.isoformat(),
    }
    if notes is not None:
        body["notes"] = notes
    return body


def amendment_request(
    amendment_id: int, order_id: int, supplier_reference: str | None = None
) -> dict[str, Any]:
    """A ``ServiceOrderAmendmentRequest`` changing only the order's notes."""
    body: dict[str, Any] = {"id": amendment_id, "orderId": order_id, "notes": f"{NOTE}: amended"}
    if supplier_reference:
        body["supplierOrderReference"] = supplier_reference
    return body


def cancellation_request(
    cancellation_id: int,
    order_id: int,
    supplier_reference: str | None = None,
    reason: str = "CUSTOMER_CHANGED_MIND",
) -> dict[str, Any]:
    """A ``ServiceOrderCancellationRequest``."""
    body: dict[str, Any] = {"id": cancellation_id, "orderId": order_id, "reasonCode": reason}
    if supplier_reference:
        body["supplierOrderReference"] = supplier_reference
    return body


def requested_date(target: Target, lead_days: int = 10) -> date:
    """A completion date comfortably past the lead time."""
    return target.today() + timedelta(days=lead_days) + REQUESTED_DATE_MARGIN


@dataclass(frozen=True, slots=True)
class PlacedOrder:
    """An order the suite sent, and how the target answered."""

    order_id: int
    tenant: str
    body: Mapping[str, Any]
    response: httpx.Response
    answer: Any = None

    @property
    def accepted(self) -> bool:
        """Answered 201 or 202."""
        return self.response.status_code in {201, 202}

    @property
    def supplier_reference(self) -> str | None:
        """The supplierOrderReference of a 201 answer."""
        if isinstance(self.answer, dict) and self.answer.get("supplierOrderReference"):
            return str(self.answer["supplierOrderReference"])
        return None

    @property
    def status(self) -> str | None:
        """The status of a 201 answer."""
        return str(self.answer.get("status")) if isinstance(self.answer, dict) else None


def _reservation(
    target: Target, place: TestAddress, spec_id: str, tenant: str
) -> tuple[int, str | None] | None:
    """A fresh reservation at ``place`` for the order, or ``None`` when none can be had."""
    if not target.offers(Capability.APPOINTMENTS):
        return None
    try:
        slots = offered_slots(target, place.address, spec_id, from_date=target.today(), tenant=tenant)
    except RuleViolation:
        return None  # no appointments here: the order falls back to a requested date
    used: set[Any] = target.shared.setdefault("used_slots", set())
    fresh = [slot for slot in slots if slot.get("standard") is not False and slot_instants(slot) not in used]
    if not fresh:
        return None
    used.add(slot_instants(fresh[0]))
    reservation_id, response = reserve(target, place.address, spec_id, fresh[0], tenant=tenant)
    if response.status_code != 201:
        return None
    answer = body_of(target, response, "reservation for the order")
    reference = answer.get("supplierReference") if isinstance(answer, dict) else None
    return reservation_id, str(reference) if reference else None


def place_new_order(
    target: Target,
    place: TestAddress,
    spec_id: str,
    line_profile: str,
    *,
    extra_headers: Mapping[str, str] | None = None,
    appointed: bool = True,
    order_id: int | None = None,
) -> PlacedOrder:
    """Send a NEW provide order at ``place`` and remember how it was answered."""
    tenant = place.tenant or target.tenant
    if tenant is None:
        raise RuleSkipped("orders need a tenant (--tenant or tenant: in the address file)")
    reservation = _reservation(target, place, spec_id, tenant) if appointed else None
    body = provide_order(
        order_id or target.new_id(),
        tenant,
        place.address,
        spec_id,
        line_profile,
        reservation=reservation,
        requested=None if reservation else requested_date(target),
    )
    response = target.post(
        "/service-orders", json_body=body, headers=target.headers(tenant=tenant, **(extra_headers or {}))
    )
    answer = None
    if response.status_code == 201:
        answer = body_of(target, response, "order answer")
    placed = PlacedOrder(int(body["id"]), tenant, body, response, answer)
    if placed.accepted:
        status = f" {placed.status}" if placed.status else ""
        target.placed_orders[placed.order_id] = f"{response.status_code}{status}"
    return placed
