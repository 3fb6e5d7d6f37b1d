"""Orders as the APIs carry them: the order entity of KCIs and 201 answers, and request answers."""

from __future__ import annotations

from typing import Any

from contracts.model.order_states import OrderStatus, ReasonCode
from simulator.domain.clock import format_instant
from simulator.domain.kci_scripts import AppliesTo
from simulator.domain.order import Order, OrderRequest, Reply
from simulator.domain.order_commands import Contact, OrderKind


def _contact(contact: Contact) -> dict[str, str]:
    parts = {"name": contact.name, "email": contact.email, "phoneNumber": contact.phone_number}
    return {key: value for key, value in parts.items() if value is not None}


def _ordered(order: Order) -> dict[str, Any]:
    """What the tenant ordered, as its request named it (only the fields this kind of order uses)."""
    entity: dict[str, Any] = {}
    if order.gateway_id is not None:
        entity["id"] = order.gateway_id
    entity |= {"orderType": order.order_type.value, "tenant": order.id.tenant}
    if order.address is not None:
        entity["address"] = {"id": order.address.id, "type": order.address.type}
    if order.service_id is not None:
        entity["serviceId"] = order.service_id
    if order.specification_id is not None and order.kind in {OrderKind.PROVIDE, OrderKind.MODIFY}:
        entity["serviceOrderItem"] = {
            "serviceSpecification": {"id": order.specification_id},
            "serviceCharacteristics": [{"name": n, "value": v} for n, v in order.characteristics],
        }
    details = order.details
    if details.primary_contact is not None:
        entity["primaryContact"] = _contact(details.primary_contact)
    if details.secondary_contact is not None:
        entity["secondaryContact"] = _contact(details.secondary_contact)
    if order.reservation_id is not None:
        entity["appointmentReservationId"] = order.reservation_id
    if order.reservation_reference is not None:
        entity["appointmentReservationReference"] = order.reservation_reference
    if order.requested_date is not None:
        entity["requestedCompletionDate"] = order.requested_date.isoformat()
    if details.engineer_tasks:
        entity["engineerTasks"] = list(details.engineer_tasks)
    optional = {
        "hazards": details.hazards,
        "onSiteRestrictions": details.on_site_restrictions,
        "notes": details.notes,
        "reason": order.unsolicited_reason,
    }
    entity |= {key: value for key, value in optional.items() if value is not None}
    return entity


def order_entity(
    order: Order, request: OrderRequest | None = None, reason: ReasonCode | None = None
) -> dict[str, Any]:
    """The latest full order, as a KCI (answering ``request`` with ``reason``) or a 201 carries it."""
    entity = _ordered(order)
    entity["supplierOrderReference"] = order.supplier_reference
    if order.status is not OrderStatus.RECEIVED:
        entity["status"] = order.status.value
    dates = {
        "committedDate": order.committed_date,
        "targetDate": order.target_date,
        "completedDate": order.completed_date,
    }
    entity |= {key: format_instant(value) for key, value in dates.items() if value is not None}
    if order.appointment is not None:
        entity["appointmentTimeslot"] = {
            "timeslotStartDateTime": order.appointment.start.isoformat(),
            "timeslotEndDateTime": order.appointment.end.isoformat(),
        }
        entity["appointmentSupplierReference"] = order.appointment.supplier_reference
    if request is not None:
        prefix = (
            "serviceOrderAmendment" if request.kind is AppliesTo.AMENDMENT else "serviceOrderCancellation"
        )
        entity[f"{prefix}Id"] = request.request_id
        entity[f"{prefix}Reference"] = request.reference
    if reason is ReasonCode.ORDER_REJECTED:
        entity.pop("committedDate", None)  # a refused order was never committed
    return entity


def request_answer(order: Order, request: OrderRequest) -> dict[str, Any] | None:
    """The 201 body of an amendment applied or a cancellation made now (``None``: a 202)."""
    if request.reply is Reply.LATER:
        return None
    if request.kind is AppliesTo.AMENDMENT:
        return {
            "id": request.request_id,
            "orderId": request.order_id_sent,
            "supplierReference": request.reference,
            "supplierOrderReference": order.supplier_reference,
            "status": "COMPLETED",
        }
    return {
        "supplierReference": request.reference,
        "id": request.request_id,
        "orderId": request.order_id_sent,
        "reasonCode": request.reason_code,
    }
