"""Use case: play the KCI scripts of orders as the simulator clock moves.

Each step moves the order through the state machine, updates the latest full order,
and writes the KCI into the outbox in the same transaction, so a restart loses
nothing. Amendments and cancellations run their own short scripts; while one is
pending the order's own script waits, and resumes once the request is answered. An
order in PENDING waits for the tenant's amendment; after it the supplier carries on to
completion. Completing an order changes the inventory availability reports.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from contracts.model.order_states import (
    IllegalTransition,
    OrderState,
    OrderStatus,
    ProblemCode,
    ReasonCode,
    advance,
    is_terminal,
)
from simulator.application.context import Context
from simulator.application.orders import Scenario, get_order, record_history, script_for, zone_of
from simulator.domain.availability import first_free_port
from simulator.domain.clock import format_instant
from simulator.domain.errors import NotFound
from simulator.domain.inventory import AddressId, LiveService
from simulator.domain.kci_scripts import (
    AppliesTo,
    KciScript,
    ScriptStep,
)
from simulator.domain.orders import (
    OrderKind,
)
from simulator.storage import inventory as inventory_store
from simulator.storage import orders as order_store
from simulator.storage import outbox
from simulator.storage.orders import OrderRecord


def order_script(context: Context, record: OrderRecord) -> KciScript:
    return script_for(context, Scenario.from_json(record.context["scenario"]), AppliesTo.ORDER)


def _request_script(context: Context, request: dict[str, Any]) -> KciScript:
    applies_to = AppliesTo(request["kind"])
    return script_for(context, Scenario.from_json(request["scenario"]), applies_to)


def tail_steps(record: OrderRecord) -> list[ScriptStep]:
    """How the supplier carries on once a tenant's amendment answered a PENDING order."""
    if record.status is OrderStatus.ACKNOWLEDGED:
        return [ScriptStep(ReasonCode.COMMITTED), ScriptStep(ReasonCode.COMPLETED, add_service_id=True)]
    if record.status is OrderStatus.IN_PROGRESS:
        return [ScriptStep(ReasonCode.COMPLETED, add_service_id=True)]
    return []


def _current_step(context: Context, record: OrderRecord) -> tuple[ScriptStep, dict[str, Any] | None] | None:
    """The step to play next, and the request it belongs to (``None``: the order's own script)."""
    requests = record.context.get("requests") or []
    if requests:
        request = requests[0]
        steps = _request_script(context, request).steps
        return (steps[request["step"]], request) if request["step"] < len(steps) else None
    tail = record.context.get("tail")
    if tail:
        return ScriptStep(ReasonCode(tail[0]), add_service_id=tail[0] == ReasonCode.COMPLETED), None
    steps = order_script(context, record).steps
    return (steps[record.next_step], None) if record.next_step < len(steps) else None


def schedule_next(context: Context, record: OrderRecord, after: datetime) -> None:
    """Work out when the next step is due (``None``: nothing until someone acts)."""
    found = _current_step(context, record)
    waiting_for_tenant = record.status is OrderStatus.PENDING and not record.context.get("requests")
    paused = bool(record.context.get("paused"))
    if found is None or waiting_for_tenant or paused or is_terminal(record.status):
        record.next_step_due = None
        return
    step, _request = found
    record.next_step_due = after + step.delay


def run_due_steps(context: Context, limit: int = 1000) -> int:
    """Play every scripted step that is due on the simulator clock; returns how many KCIs that made."""
    played = 0
    for _round in range(limit):
        with context.database.reading() as connection:
            keys = order_store.due(connection, context.clock.now(), limit=50)
        if not keys:
            break
        for key in keys:
            played += _play_due(context, key, force=False)
    return played


def force_next_step(context: Context, order_key: str) -> OrderRecord:
    """Play an order's next scripted step now, whatever its delay."""
    _play_due(context, order_key, force=True)
    return get_order(context, order_key)


def _play_due(context: Context, order_key: str, *, force: bool) -> int:
    with context.database.transaction() as connection:
        context.database.lock(connection, f"order:{order_key}")
        record = order_store.get(connection, order_key)
        if record is None:
            raise NotFound(f"no order {order_key}")
        now = context.clock.now()
        due = record.next_step_due
        if not force and (due is None or due > now):
            return 0
        at = now if force or due is None else due
        found = _current_step(context, record)
        if found is None:
            record.next_step_due = None
            order_store.save(connection, record)
            return 0
        step, request = found
        made = _play(context, connection, record, step, request, at)
        _move_on(context, record, request, at)
        record.updated_at = at
        order_store.save(connection, record)
        return made


def _move_on(context: Context, record: OrderRecord, request: dict[str, Any] | None, at: datetime) -> None:
    if request is not None:
        request["step"] += 1
        if request["step"] >= len(_request_script(context, request).steps):
            record.context["requests"] = record.context["requests"][1:]
    elif record.context.get("tail"):
        record.context["tail"] = record.context["tail"][1:]
    else:
        record.next_step += 1
    schedule_next(context, record, at)


def _play(
    context: Context,
    connection: Connection,
    record: OrderRecord,
    step: ScriptStep,
    request: dict[str, Any] | None,
    at: datetime,
) -> int:
    """Apply one step: move the state, update the order, queue the KCI. Returns KCIs queued."""
    before = record.status
    if step.reason is ReasonCode.COMPLETED:
        problem = _completion_problem(context, connection, record)
        if problem is not None:
            # The address changed since the order was accepted (another order took the port,
            # or ceased the service): the supplier cancels instead of completing.
            step = ScriptStep(ReasonCode.CANCELLED, problem_code=ProblemCode.CAPACITY_ISSUE, text=problem)
    try:
        state = advance(OrderState(record.status, record.previous), step.reason, status=step.status)
    except IllegalTransition as refused:
        # The order moved on (a cancellation, say) and this step no longer applies.
        record_history(
            connection, record, at, "STEP_SKIPPED", before, reason=step.reason.value, why=str(refused)
        )
        return 0
    record.status, record.previous = state.status, state.previous
    body = record.body
    body["status"] = state.status.value
    _apply_step(context, connection, record, step, request, at)
    record.last_sequence += 1
    kci: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "sequenceNumber": record.last_sequence,
        "issuedOn": format_instant(at),
        "reasonCode": step.reason.value,
    }
    if request is not None and step.reason is ReasonCode.AMENDED:
        # The KCI carries the order as amended.
        apply_amendment(record, request)
        if record.next_step >= len(order_script(context, record).steps):
            record.context["tail"] = [s.reason.value for s in tail_steps(record)]
    if step.problem_code is not None:
        kci["problemCode"] = step.problem_code.value
    if step.text:
        kci["text"] = step.text
    kci[record.kind.entity_key] = _entity(record, request, step)
    fault = None if step.fault is None else step.fault.value
    payload = dict(kci)
    if record.context.get("conversationId"):
        payload[outbox.DELIVERY_CONTEXT] = {"conversationId": record.context["conversationId"]}
    outbox.enqueue(
        connection,
        kci_id=kci["id"],
        order_key=record.order_key,
        sequence_number=record.last_sequence,
        payload=payload,
        now=at,
        fault=fault,
    )
    record_history(
        connection,
        record,
        at,
        step.reason.value,
        before,
        sequenceNumber=record.last_sequence,
        kciId=kci["id"],
    )
    if state.status is OrderStatus.COMPLETED:
        _complete(connection, record)
    if state.status is OrderStatus.CANCELLED:
        cancel_linked(context, connection, record, at)
    if step.reason is ReasonCode.CANCELLATION_REJECTED and record.kind is OrderKind.UNSOLICITED_CEASE:
        _resume_linked(context, connection, record, at)
    return 1


def _entity(record: OrderRecord, request: dict[str, Any] | None, step: ScriptStep) -> dict[str, Any]:
    entity = dict(record.body)
    if request is not None:
        prefix = (
            "serviceOrderAmendment"
            if request["kind"] == AppliesTo.AMENDMENT.value
            else "serviceOrderCancellation"
        )
        entity[f"{prefix}Id"] = request["id"]
        entity[f"{prefix}Reference"] = request["reference"]
    if step.reason is ReasonCode.ORDER_REJECTED:
        entity.pop("committedDate", None)
    return entity


def _apply_step(
    context: Context,
    connection: Connection,
    record: OrderRecord,
    step: ScriptStep,
    request: dict[str, Any] | None,
    at: datetime,
) -> None:
    body = record.body
    target = datetime.fromisoformat(record.context.get("target") or format_instant(at))
    if step.reason is ReasonCode.COMMITTED or step.reason is ReasonCode.CREATED:
        if step.committed_date_offset_days is not None:
            target = at + timedelta(days=step.committed_date_offset_days)
        body.setdefault("committedDate", format_instant(target))
        body["targetDate"] = format_instant(target)
    if step.target_date_offset_days is not None:
        moved = datetime.fromisoformat(body.get("targetDate") or format_instant(target))
        body["targetDate"] = format_instant(moved + timedelta(days=step.target_date_offset_days))
        record.context["target"] = body["targetDate"]
    if step.reappoint:
        start = datetime.fromisoformat(body["targetDate"])
        body["appointmentTimeslot"] = {
            "timeslotStartDateTime": start.astimezone(zone_of(context)).isoformat(),
            "timeslotEndDateTime": (start + timedelta(hours=4)).astimezone(zone_of(context)).isoformat(),
        }
        body["appointmentSupplierReference"] = f"R{record.order_key}-{record.last_sequence + 1}"
    if step.add_service_id or step.reason is ReasonCode.COMPLETED:
        service_id = _service_id(record)
        if service_id is not None:
            body["serviceId"] = service_id
    if step.reason is ReasonCode.COMPLETED:
        body["completedDate"] = format_instant(at)
    if step.reason is ReasonCode.CREATED and request is None:
        body.setdefault("status", record.status.value)


def _completion_problem(context: Context, connection: Connection, record: OrderRecord) -> str | None:
    """Why the order's inventory change can no longer be made, or ``None`` (may move the new port)."""
    change = record.context.get("change") or {}
    removed = change.get("remove")
    if removed and inventory_store.get(connection, removed) is None:
        return f"service {removed} is no longer live"
    added = change.get("add")
    if not added:
        return None
    address = AddressId.from_json(added["address"])
    others = [s for s in inventory_store.at_address(connection, address) if s.service_id != removed]
    if all(s.ont_port != added["ontPort"] for s in others):
        return None
    site = context.directory.find(address)
    port = None if site is None else first_free_port(site, others)
    if port is None or removed:
        return f"ONT port {added['ontPort']} at {address.type} {address.id} has been taken by another service"
    added["ontPort"] = port
    return None


def _service_id(record: OrderRecord) -> str | None:
    added = (record.context.get("change") or {}).get("add")
    return None if added is None else str(added["serviceId"])


def _complete(connection: Connection, record: OrderRecord) -> None:
    """A completed order changes the inventory that availability reports."""
    change = record.context.get("change")
    if not change:
        return  # an unsolicited cease: the takeover that caused it moves the line
    if change.get("remove"):
        inventory_store.remove(connection, change["remove"])
    added = change.get("add")
    if added is not None:
        inventory_store.add(
            connection,
            LiveService(
                service_id=added["serviceId"],
                tenant=added["tenant"],
                address=AddressId.from_json(added["address"]),
                specification_id=added["specification"],
                line_profile_id=added["lineProfile"],
                ont_port=added["ontPort"],
            ),
        )


def pause_linked(connection: Connection, record: OrderRecord, at: datetime) -> None:
    """While the losing side's objection is decided, the takeover it objects to waits."""
    takeover = order_store.get(connection, record.context.get("linked") or "")
    if takeover is None or is_terminal(takeover.status):
        return
    takeover.context["paused"] = True
    takeover.next_step_due = None
    takeover.updated_at = at
    order_store.save(connection, takeover)
    record_history(connection, takeover, at, "PAUSED", takeover.status, by=record.order_key)


def _resume_linked(context: Context, connection: Connection, record: OrderRecord, at: datetime) -> None:
    """The objection was refused: the takeover carries on."""
    takeover = order_store.get(connection, record.context.get("linked") or "")
    if takeover is None or not takeover.context.pop("paused", False):
        return
    schedule_next(context, takeover, at)
    takeover.updated_at = at
    order_store.save(connection, takeover)
    record_history(connection, takeover, at, "RESUMED", takeover.status, by=record.order_key)


def cancel_linked(context: Context, connection: Connection, record: OrderRecord, at: datetime) -> None:
    """Cancelling an unsolicited cease (a "cancel other") cancels the takeover that raised it."""
    linked_key = record.context.get("linked")
    if record.kind is not OrderKind.UNSOLICITED_CEASE or not linked_key:
        return
    takeover = order_store.get(connection, linked_key)
    if takeover is None or is_terminal(takeover.status):
        return
    takeover.context.pop("paused", None)
    step = ScriptStep(
        ReasonCode.CANCELLED,
        problem_code=ProblemCode.OTHER,
        text=f"the current provider's customer objected to the {takeover.order_type.lower()}",
    )
    _play(context, connection, takeover, step, None, at)
    takeover.next_step_due = None
    takeover.updated_at = at
    order_store.save(connection, takeover)


def apply_amendment(record: OrderRecord, request: dict[str, Any]) -> None:
    """Supplied fields replace the order's; arrays are replaced whole (reference §3.8)."""
    changes = dict(request["changes"])
    characteristics = changes.pop("serviceCharacteristics", None)
    if characteristics is not None and "serviceOrderItem" in record.body:
        record.body["serviceOrderItem"] = {
            **record.body["serviceOrderItem"],
            "serviceCharacteristics": characteristics,
        }
    for key, value in changes.items():
        if key == "targetDate":
            # A tenant-driven change is the one thing that may move committedDate.
            record.body["targetDate"] = value
            if "committedDate" in record.body:
                record.body["committedDate"] = value
            record.context["target"] = value
        elif value in ("", [], None):
            record.body.pop(key, None)
        elif isinstance(value, dict) and isinstance(record.body.get(key), dict):
            record.body[key] = {**record.body[key], **value}
        else:
            record.body[key] = value
