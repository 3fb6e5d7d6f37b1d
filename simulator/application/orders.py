"""Use case: place an order.

Placing an order validates it against what availability says for the address and
against its appointment (a live reservation, or a requested date outside the lead
time); the answer (201 or 202) and the KCIs that follow come from a script chosen by the
profile, or per request by the gateway's ``X-Scenario`` header. The order, its history
and anything it raises (the unsolicited cease of a takeover) are written in one
transaction; :mod:`simulator.application.order_scripts` then plays the script.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from contracts.model.order_states import (
    OrderState,
    OrderStatus,
    advance,
)
from simulator.application.context import Context
from simulator.domain.clock import format_instant
from simulator.domain.errors import BusinessRuleViolation, NotFound
from simulator.domain.inventory import AddressId, LiveService
from simulator.domain.kci_scripts import (
    AppliesTo,
    KciScript,
    ScriptResponse,
    resolve_script,
    response_triggers,
)
from simulator.domain.orders import (
    AcceptedOrder,
    InventoryChange,
    OrderKind,
    check_cease,
    check_modify,
    check_provide,
    check_requested_date,
    kind_of,
    target_of,
)
from simulator.domain.reservations import confirm
from simulator.kci_script_loader import load_scripts
from simulator.storage import inventory as inventory_store
from simulator.storage import orders as order_store
from simulator.storage import reservations as reservation_store
from simulator.storage.orders import HistoryEntry, OrderRecord


@dataclass(frozen=True, slots=True)
class Scenario:
    """What a request asked for through the gateway's test-stub headers."""

    name: str | None = None
    params: tuple[tuple[str, str], ...] = ()
    problem_code: str | None = None
    kci_delay: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The scenario as stored with the order."""
        return {
            "name": self.name,
            "params": dict(self.params),
            "problemCode": self.problem_code,
            "kciDelay": self.kci_delay,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Scenario:
        """The scenario stored with an order."""
        params = tuple(sorted((raw.get("params") or {}).items()))
        return cls(raw.get("name"), params, raw.get("problemCode"), raw.get("kciDelay"))


@dataclass(frozen=True, slots=True)
class Answer:
    """How a create call is answered: status and body (``None`` for a bodiless 202)."""

    status: int
    body: dict[str, Any] | None


def script_for(context: Context, scenario: Scenario, applies_to: AppliesTo) -> KciScript:
    """The script a request runs: its ``X-Scenario``, else the profile's default for its kind."""
    name = scenario.name or context.profile.orders.get(f"{applies_to.value}Scenario")
    return resolve_script(
        load_scripts(),
        name,
        dict(scenario.params),
        scenario.problem_code,
        scenario.kci_delay,
        applies_to=applies_to,
    )


def zone_of(context: Context) -> ZoneInfo:
    return ZoneInfo(context.profile.appointments.timezone)


def record_history(
    connection: Connection,
    record: OrderRecord,
    at: datetime,
    event: str,
    before: OrderStatus | None,
    **detail: Any,
) -> None:
    entry = HistoryEntry(at, event, None if before is None else before.value, record.status.value, detail)
    order_store.add_history(connection, record.order_key, entry)


def _address(body: dict[str, Any]) -> AddressId:
    return AddressId.from_json(body["address"])


def _accept(context: Context, connection: Connection, body: dict[str, Any]) -> AcceptedOrder:
    kind = kind_of(str(body["orderType"]))
    catalogue = context.profile.catalogue
    if kind is OrderKind.PROVIDE:
        address = _address(body)
        site = context.directory.find(address)
        live = inventory_store.at_address(connection, address) if site is not None else []
        return check_provide(body, site, live, catalogue, new_service_id=f"S{body['id']}")
    service = inventory_store.get(connection, str(body["serviceId"]))
    if kind is OrderKind.MODIFY:
        return check_modify(body, service, catalogue)
    return check_cease(body, service)


def confirm_reservation(
    connection: Connection, body: dict[str, Any], tenant: str, order_id: int, now: datetime
) -> datetime:
    """Confirm the reservation an order or amendment names; returns the appointment start."""
    reservation_id = int(body["appointmentReservationId"])
    held = reservation_store.get(connection, reservation_id)
    if held is None or held.tenant != tenant:
        raise BusinessRuleViolation(f"appointment reservation {reservation_id} is not known for {tenant}")
    reference = body.get("appointmentReservationReference")
    if reference is not None and reference != held.supplier_reference:
        raise BusinessRuleViolation(
            f"appointmentReservationReference {reference} does not match reservation {reservation_id}"
        )
    if "address" in body and held.address_key != _address(body).key:
        raise BusinessRuleViolation(f"reservation {reservation_id} is for another address")
    confirmed, _event = confirm(held, now, order_id)
    reservation_store.set_status(connection, confirmed)
    return held.slot.start


def _change_json(change: InventoryChange) -> dict[str, Any]:
    added = change.add
    if added is None:
        return {"remove": change.remove, "add": None}
    return {
        "remove": change.remove,
        "add": {
            "serviceId": added.service_id,
            "tenant": added.tenant,
            "address": {"id": added.address.id, "type": added.address.type},
            "specification": added.specification_id,
            "lineProfile": added.line_profile_id,
            "ontPort": added.ont_port,
        },
    }


def due_after(script: KciScript, index: int, after: datetime) -> datetime | None:
    return after + script.steps[index].delay if index < len(script.steps) else None


def place_order(
    context: Context,
    body: dict[str, Any],
    tenant: str,
    scenario: Scenario,
    conversation_id: str | None = None,
) -> Answer:
    """Accept (201/202) or refuse (422) an order; a repeated gateway id gets the first answer again.

    ``conversation_id`` (the gateway's ``X-Conversation-ID``) travels with every KCI of the order.
    """
    if body.get("tenant") != tenant:
        raise BusinessRuleViolation(
            f"the order's tenant {body.get('tenant')!r} is not the Tenant header {tenant!r}"
        )
    script = script_for(context, scenario, AppliesTo.ORDER)
    order_id = int(body["id"])
    with context.database.transaction() as connection:
        context.database.lock(connection, f"order:{order_id}")
        existing = order_store.get(connection, str(order_id))
        if existing is not None:
            if existing.tenant != tenant:
                raise BusinessRuleViolation(f"order id {order_id} is already used by another tenant")
            stored = existing.context["answer"]
            return Answer(stored["status"], stored["body"])
        now = context.clock.now()
        accepted = _accept(context, connection, body)
        slot_start = None
        if body.get("appointmentReservationId") is not None:
            slot_start = confirm_reservation(connection, body, tenant, order_id, now)
        else:
            requested = body.get("requestedCompletionDate")
            check_requested_date(
                None if requested is None else date.fromisoformat(requested),
                now.astimezone(zone_of(context)).date(),
                accepted.lead_time_days,
            )
        requested = body.get("requestedCompletionDate")
        target = target_of(
            None if requested is None else date.fromisoformat(requested), slot_start, now, zone_of(context)
        )
        record = _new_record(order_id, tenant, body, script, scenario, accepted, target, now)
        answer = (
            Answer(202, None)
            if script.response is ScriptResponse.ACCEPTED
            else Answer(201, dict(record.body))
        )
        record.context["answer"] = {"status": answer.status, "body": answer.body}
        if conversation_id:
            record.context["conversationId"] = conversation_id
        order_store.insert_order(connection, record)
        record_history(connection, record, now, "PLACED", None, script=script.name, answer=answer.status)
        if accepted.losing_service is not None:
            _raise_unsolicited_cease(context, connection, record, accepted.losing_service, target, now)
    return answer


def _new_record(
    order_id: int,
    tenant: str,
    body: dict[str, Any],
    script: KciScript,
    scenario: Scenario,
    accepted: AcceptedOrder,
    target: datetime,
    now: datetime,
) -> OrderRecord:
    state = OrderState(OrderStatus.RECEIVED)
    for trigger in response_triggers(script):
        state = advance(state, trigger)
    reference = f"SO-{order_id:09d}"
    order_body = {**body, "supplierOrderReference": reference}
    if state.status is not OrderStatus.RECEIVED:
        order_body["status"] = state.status.value
    if script.response is ScriptResponse.IN_PROGRESS:
        order_body["committedDate"] = order_body["targetDate"] = format_instant(target)
    return OrderRecord(
        order_key=str(order_id),
        gateway_id=order_id,
        supplier_reference=reference,
        tenant=tenant,
        kind=kind_of(str(body["orderType"])),
        order_type=str(body["orderType"]),
        status=state.status,
        previous=state.previous,
        script=script.name,
        next_step=0,
        next_step_due=due_after(script, 0, now),
        last_sequence=0,
        body=order_body,
        context={
            "scenario": scenario.as_json(),
            "change": _change_json(accepted.change),
            "target": format_instant(target),
            "requests": [],
        },
        created_at=now,
        updated_at=now,
    )


def _raise_unsolicited_cease(
    context: Context,
    connection: Connection,
    takeover: OrderRecord,
    losing: LiveService,
    target: datetime,
    now: datetime,
) -> None:
    """The losing tenant of a TAKEOVER or TRANSFER gets a cease order it did not ask for."""
    number = order_store.next_unsolicited_number(connection)
    reference = f"UC-{number:09d}"
    script = script_for(context, Scenario("UNSOLICITED_CEASE"), AppliesTo.ORDER)
    record = OrderRecord(
        order_key=reference,
        gateway_id=None,
        supplier_reference=reference,
        tenant=losing.tenant,
        kind=OrderKind.UNSOLICITED_CEASE,
        order_type="UNSOLICITED_CEASE",
        status=OrderStatus.RECEIVED,
        previous=None,
        script=script.name,
        next_step=0,
        next_step_due=due_after(script, 0, now),
        last_sequence=0,
        body={
            "supplierOrderReference": reference,
            "orderType": "UNSOLICITED_CEASE",
            "tenant": losing.tenant,
            "serviceId": losing.service_id,
            "address": {"id": losing.address.id, "type": losing.address.type},
            "reason": "CHANGE_OF_CP",
            "requestedCompletionDate": target.astimezone(zone_of(context)).date().isoformat(),
        },
        context={
            "scenario": Scenario("UNSOLICITED_CEASE").as_json(),
            "linked": takeover.order_key,
            "requests": [],
        },
        created_at=now,
        updated_at=now,
    )
    order_store.insert_order(connection, record)
    record_history(connection, record, now, "RAISED", None, takeover=takeover.order_key)
    takeover.context["linked"] = reference
    order_store.save(connection, takeover)


def get_order(context: Context, order_key: str) -> OrderRecord:
    """One order, or 404."""
    with context.database.reading() as connection:
        record = order_store.get(connection, order_key)
    if record is None:
        raise NotFound(f"no order {order_key}")
    return record
