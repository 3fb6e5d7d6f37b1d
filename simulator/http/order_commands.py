"""Validated Supplier API order requests to domain commands: each order kind keeps only its fields.

The contract has checked types and shapes; here dates become ``date`` values (a
malformed one is a 400 now, never stored) and the fields an order kind does not use
are left behind, so they can never be echoed or acted on later.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from simulator.domain.errors import MalformedRequest
from simulator.domain.inventory import AddressId
from simulator.domain.kci_scripts import parse_scenario_header
from simulator.domain.order_commands import (
    REMOVE,
    AmendmentChanges,
    AmendOrder,
    CancelOrder,
    Characteristics,
    Contact,
    ContactChange,
    FollowUp,
    OrderDetails,
    OrderKind,
    OrderType,
    PlaceOrder,
    Removal,
    Scenario,
    VisitChanges,
    VisitDetails,
)
from simulator.http.request_validation import ValidRequest


def scenario(valid: ValidRequest) -> Scenario:
    """The test-stub headers of the request (reference §8)."""
    header = valid.headers.get("X-Scenario")
    name, params = (None, {}) if not header else parse_scenario_header(header)
    return Scenario(
        name,
        tuple(sorted(params.items())),
        valid.headers.get("X-Problem-Code"),
        valid.headers.get("X-Kci-Delay"),
    )


def _date(body: dict[str, Any], field: str) -> date | None:
    value = body.get(field)
    if value is None:
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise MalformedRequest(f"body {field}: {value!r} is not a date (YYYY-MM-DD)") from None


def _address(raw: dict[str, Any] | None) -> AddressId | None:
    return None if raw is None else AddressId(str(raw["id"]), str(raw.get("type", "UPRN")))


def contact(raw: dict[str, Any] | None) -> Contact | None:
    """A contact object of a request body as a domain ``Contact``."""
    if raw is None:
        return None
    return Contact(raw.get("name"), raw.get("email"), raw.get("phoneNumber"))


def characteristics(found: list[dict[str, Any]] | None) -> Characteristics:
    """The ``name``/``value`` objects of a request body as domain characteristics, in their order."""
    return tuple((str(c["name"]), str(c["value"])) for c in found or [] if "name" in c and "value" in c)


def characteristics_change(found: list[dict[str, Any]] | None) -> Characteristics | None:
    """An amendment's characteristics: absent (``None``, unchanged) or the new ones."""
    return None if found is None else characteristics(found)


def text(body: dict[str, Any], field: str) -> str | None:
    """An optional field of a request body as text."""
    value = body.get(field)
    return None if value is None else str(value)


def place_order(valid: ValidRequest) -> PlaceOrder:
    """``POST /service-orders`` as a command: provides, modifies and ceases keep their own fields."""
    body = valid.body
    order_type = OrderType(str(body["orderType"]))
    kind = order_type.kind
    item = body.get("serviceOrderItem") or {}
    ordered = kind in {OrderKind.PROVIDE, OrderKind.MODIFY}
    details = OrderDetails(
        primary_contact=contact(body.get("primaryContact")),
        secondary_contact=None if kind is OrderKind.CEASE else contact(body.get("secondaryContact")),
        engineer_tasks=tuple(body.get("engineerTasks") or ()) if kind is OrderKind.PROVIDE else (),
        hazards=text(body, "hazards") if kind is OrderKind.PROVIDE else None,
        on_site_restrictions=text(body, "onSiteRestrictions") if kind is OrderKind.PROVIDE else None,
        notes=text(body, "notes"),
    )
    appointed = kind is not OrderKind.CEASE and body.get("appointmentReservationId") is not None
    return PlaceOrder(
        order_id=int(body["id"]),
        tenant=valid.headers["Tenant"],
        named_tenant=str(body["tenant"]),
        order_type=order_type,
        address=_address(body.get("address")),
        service_id=None if kind is OrderKind.PROVIDE else str(body["serviceId"]),
        specification_id=(item.get("serviceSpecification") or {}).get("id") if ordered else None,
        characteristics=characteristics(item.get("serviceCharacteristics")) if ordered else (),
        requested_date=_date(body, "requestedCompletionDate"),
        reservation_id=int(body["appointmentReservationId"]) if appointed else None,
        reservation_reference=text(body, "appointmentReservationReference") if appointed else None,
        details=details,
        scenario=scenario(valid),
        conversation_id=valid.headers.get("X-Conversation-ID") or None,
    )


def change(body: dict[str, Any], field: str) -> str | Removal | None:
    """An amendment field: absent (``None``), emptied (``REMOVE``) or a new value."""
    if field not in body:
        return None
    value = body[field]
    return REMOVE if value in ("", None) else str(value)


def contact_change(raw: dict[str, Any] | None) -> ContactChange | None:
    """An amendment's contact object: ``{}`` removes the contact."""
    if raw is None:
        return None
    if not raw:
        return ContactChange(remove_contact=True)  # ``{}`` removes the contact (§3.8)
    return ContactChange(change(raw, "name"), change(raw, "email"), change(raw, "phoneNumber"))


ChangesT = TypeVar("ChangesT", bound=VisitChanges)
FollowUpT = TypeVar("FollowUpT", bound=FollowUp)
DetailsT = TypeVar("DetailsT", bound=VisitDetails)


def _visit(
    body: dict[str, Any],
    contact_of: Callable[[dict[str, Any] | None], object],
    text_of: Callable[[dict[str, Any], str], object],
) -> dict[str, Any]:
    # A problem's details and an amendment's changes read the same body fields, as values
    # or as changes.
    reservation = body.get("appointmentReservationId")
    return {
        "primary_contact": contact_of(body.get("primaryContact")),
        "secondary_contact": contact_of(body.get("secondaryContact")),
        "hazards": text_of(body, "hazards"),
        "on_site_restrictions": text_of(body, "onSiteRestrictions"),
        "notes": text_of(body, "notes"),
        "reservation_id": None if reservation is None else int(reservation),
        "reservation_reference": text_of(body, "appointmentReservationReference"),
    }


def visit_details(body: dict[str, Any], details: Callable[..., DetailsT]) -> DetailsT:
    """The contacts, site notes and appointment a request names, as ``details``."""
    return details(**_visit(body, contact, text))


def visit_changes(body: dict[str, Any], changes: Callable[..., ChangesT], **own: Any) -> ChangesT:
    """An amendment's changes to contacts, site notes and appointment, then the ``own`` of its kind."""
    return changes(**_visit(body, contact_change, change), **own)


def follow_up(
    valid: ValidRequest, command: Callable[..., FollowUpT], about: str, reference: str, **own: Any
) -> FollowUpT:
    """An amendment or cancellation as ``command``: what every follow-up names, then its ``own`` fields.

    ``about`` is the body field of the order's or problem's id, ``reference`` that of its
    supplier reference.
    """
    body = valid.body
    return command(
        int(body["id"]),
        int(body[about]),
        valid.headers["Tenant"],
        supplier_reference=text(body, reference) or None,
        scenario=scenario(valid),
        **own,
    )


def amend_order(valid: ValidRequest) -> AmendOrder:
    """``POST /service-order-amendments`` as a command: only what an amendment may change (§3.8)."""
    body = valid.body
    tasks = body.get("engineerTasks")
    changes = visit_changes(
        body,
        AmendmentChanges,
        characteristics=characteristics_change(body.get("serviceCharacteristics")),
        requested_date=_date(body, "requestedCompletionDate"),
        engineer_tasks=None if tasks is None else tuple(str(t) for t in tasks),
    )
    return follow_up(valid, AmendOrder, "orderId", "supplierOrderReference", changes=changes)


def cancel_order(valid: ValidRequest) -> CancelOrder:
    """``POST /service-order-cancellations`` as a command."""
    reason = str(valid.body["reasonCode"])
    return follow_up(valid, CancelOrder, "orderId", "supplierOrderReference", reason_code=reason)
