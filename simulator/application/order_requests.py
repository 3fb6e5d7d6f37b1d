"""Use cases: amend or cancel an in-flight order (reference §3.8, §3.9, §7).

A request is answered 201 (applied now), 202 (answered later by KCI) or 422, by its
script; a repeated request id gets its first answer again. "Cancel other" reason codes
object to an unsolicited cease and, when accepted, cancel the takeover that raised it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from contracts.model.order_states import (
    OrderState,
    OrderStatus,
    advance,
    amendment_refusal,
    cancellation_refusal,
)
from simulator.application.context import Context
from simulator.application.order_scripts import (
    apply_amendment,
    cancel_linked,
    order_script,
    pause_linked,
    schedule_next,
    tail_steps,
)
from simulator.application.orders import Answer, Scenario, confirm_reservation, record_history, script_for
from simulator.domain.clock import format_instant
from simulator.domain.errors import BusinessRuleViolation, NotFound
from simulator.domain.kci_scripts import (
    AppliesTo,
    KciScript,
    ScriptResponse,
    response_triggers,
)
from simulator.domain.orders import (
    OrderKind,
)
from simulator.storage import orders as order_store
from simulator.storage.orders import OrderRecord

CANCEL_OTHER_REASONS = frozenset(
    {
        "NO_AUTHORISATION",
        "CUSTOMER_NOT_AWARE",
        "DELIBERATE_MISLEAD",
        "PURCHASED_DIFFERENT_PRODUCT",
        "END_USER_NOT_MOVING",
    }
)
# What an amendment may change (reference §3.8); anything else it carries is ignored, so an
# unknown field can never overwrite the order's identity or status.
AMENDABLE_FIELDS = frozenset(
    {
        "serviceCharacteristics",
        "primaryContact",
        "secondaryContact",
        "appointmentReservationId",
        "appointmentReservationReference",
        "requestedCompletionDate",
        "engineerTasks",
        "hazards",
        "onSiteRestrictions",
        "notes",
    }
)


def _order_for_request(connection: Connection, body: dict[str, Any], tenant: str) -> OrderRecord:
    reference = body.get("supplierOrderReference")
    record = None
    if reference:
        record = order_store.by_supplier_reference(connection, str(reference))
    if record is None:
        record = order_store.get(connection, str(body["orderId"]))
    if record is None or record.tenant != tenant:
        raise NotFound(f"no order {body['orderId']} for {tenant}")
    return record


def _request_answer(record: OrderRecord, kind: str, request_id: int) -> Answer | None:
    stored = (record.context.get("answers") or {}).get(f"{kind}:{request_id}")
    return None if stored is None else Answer(stored["status"], stored["body"])


def _remember(record: OrderRecord, kind: str, request_id: int, answer: Answer) -> None:
    record.context.setdefault("answers", {})[f"{kind}:{request_id}"] = {
        "status": answer.status,
        "body": answer.body,
    }


@contextmanager
def _order_under_lock(
    context: Context, body: dict[str, Any], tenant: str
) -> Iterator[tuple[Connection, OrderRecord]]:
    """The order a request names, read again once its lock is held (so nothing changes under us)."""
    with context.database.transaction() as connection:
        key = _order_for_request(connection, body, tenant).order_key
        context.database.lock(connection, f"order:{key}")
        record = order_store.get(connection, key)
        assert record is not None  # orders are never deleted
        yield connection, record


def _new_request(kind: AppliesTo, body: dict[str, Any], scenario: Scenario, prefix: str) -> dict[str, Any]:
    return {
        "kind": kind.value,
        "id": int(body["id"]),
        "reference": f"{prefix}-{int(body['id']):09d}",
        "scenario": scenario.as_json(),
        "step": 0,
    }


def _receive(script: KciScript, record: OrderRecord) -> OrderStatus:
    """Apply what the request's answer does to the order (PENDING_AMENDMENT, CANCELLED, …)."""
    before = record.status
    state = OrderState(record.status, record.previous)
    for trigger in response_triggers(script):
        state = advance(state, trigger)
    record.status, record.previous = state.status, state.previous
    record.body["status"] = state.status.value
    return before


def _finish(
    context: Context,
    connection: Connection,
    record: OrderRecord,
    request: dict[str, Any],
    answer: Answer,
    before: OrderStatus,
    now: datetime,
    **detail: Any,
) -> Answer:
    """Remember the answer, record the event, schedule what follows and store the order."""
    _remember(record, request["kind"], request["id"], answer)
    event = f"{request['kind'].upper()}_RECEIVED"
    record_history(connection, record, now, event, before, answer=answer.status, **detail)
    schedule_next(context, record, now)
    record.updated_at = now
    order_store.save(connection, record)
    return answer


def _queue(record: OrderRecord, request: dict[str, Any]) -> None:
    record.context["requests"] = [*(record.context.get("requests") or []), request]


def amend_order(context: Context, body: dict[str, Any], tenant: str, scenario: Scenario) -> Answer:
    """Accept (201 applied / 202 pending) or refuse (422) an amendment of an in-flight order."""
    script = script_for(context, scenario, AppliesTo.AMENDMENT)
    with _order_under_lock(context, body, tenant) as (connection, record):
        repeated = _request_answer(record, "amendment", int(body["id"]))
        if repeated is not None:
            return repeated
        refuse_second = bool(context.profile.orders.get("refuseSecondAmendment", True))
        refusal = amendment_refusal(
            record.status, record.kind is OrderKind.UNSOLICITED_CEASE, refuse_while_pending=refuse_second
        )
        if refusal is not None:
            raise BusinessRuleViolation(f"order {record.order_key} cannot be amended: {refusal}")
        if script.response is ScriptResponse.REJECTED:
            raise BusinessRuleViolation(f"amendment {body['id']} is refused by scenario {script.name}")
        now = context.clock.now()
        request = _new_request(AppliesTo.AMENDMENT, body, scenario, "AM")
        request["changes"] = {k: v for k, v in body.items() if k in AMENDABLE_FIELDS}
        if "appointmentReservationId" in request["changes"]:
            gateway_id = record.gateway_id or 0
            start = confirm_reservation(connection, request["changes"], tenant, gateway_id, now)
            request["changes"]["targetDate"] = format_instant(start)
        before = _receive(script, record)
        answer = _request_reply(script, body, request["reference"], record)
        if script.response is ScriptResponse.APPLIED:
            apply_amendment(record, request)
            if record.next_step >= len(order_script(context, record).steps):
                record.context["tail"] = [s.reason.value for s in tail_steps(record)]
        else:
            _queue(record, request)
        return _finish(context, connection, record, request, answer, before, now, amendmentId=body["id"])


def _request_reply(script: KciScript, body: dict[str, Any], reference: str, record: OrderRecord) -> Answer:
    if script.response is not ScriptResponse.APPLIED:
        return Answer(202, None)
    applied = {
        "id": body["id"],
        "orderId": body["orderId"],
        "supplierReference": reference,
        "supplierOrderReference": record.supplier_reference,
        "status": "COMPLETED",
    }
    return Answer(201, applied)


def cancel_order(context: Context, body: dict[str, Any], tenant: str, scenario: Scenario) -> Answer:
    """Accept (201 cancelled / 202 pending) or refuse (422) a cancellation, including "cancel other"."""
    script = script_for(context, scenario, AppliesTo.CANCELLATION)
    with _order_under_lock(context, body, tenant) as (connection, record):
        repeated = _request_answer(record, "cancellation", int(body["id"]))
        if repeated is not None:
            return repeated
        reason = str(body["reasonCode"])
        unsolicited = record.kind is OrderKind.UNSOLICITED_CEASE
        if unsolicited != (reason in CANCEL_OTHER_REASONS):
            raise BusinessRuleViolation(
                "an unsolicited cease is objected to with a cancel-other reason code "
                f"({', '.join(sorted(CANCEL_OTHER_REASONS))}); "
                "other orders are cancelled with the normal codes"
            )
        now = context.clock.now()
        refusal = cancellation_refusal(record.status, _past_point_of_no_return(context, record, now))
        if refusal is not None:
            raise BusinessRuleViolation(f"order {record.order_key} cannot be cancelled: {refusal}")
        if script.response is ScriptResponse.REJECTED:
            raise BusinessRuleViolation(f"cancellation {body['id']} is refused by scenario {script.name}")
        request = _new_request(AppliesTo.CANCELLATION, body, scenario, "CN")
        before = _receive(script, record)
        if script.response is ScriptResponse.APPLIED:
            reply = {"supplierReference": request["reference"], "id": body["id"], "orderId": body["orderId"]}
            answer = Answer(201, {**reply, "reasonCode": reason})
            record.next_step_due = None
            cancel_linked(context, connection, record, now)
        else:
            answer = Answer(202, None)
            _queue(record, request)
            if unsolicited:
                pause_linked(connection, record, now)
        return _finish(
            context,
            connection,
            record,
            request,
            answer,
            before,
            now,
            cancellationId=body["id"],
            reason=reason,
        )


def _past_point_of_no_return(context: Context, record: OrderRecord, now: datetime) -> bool:
    """Cancellation is refused once the engineer is (nearly) on the way: N hours before the target."""
    hours = context.profile.orders.get("pointOfNoReturnHours", 24)
    target = record.body.get("targetDate") or record.context.get("target")
    if hours is None or target is None or record.kind is OrderKind.UNSOLICITED_CEASE:
        return False
    return now >= datetime.fromisoformat(target) - timedelta(hours=float(hours))
