"""Orders, their amendments and cancellations, and their history, as typed rows.

An order is stored under (tenant, order key): gateway ids are unique per tenant only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update

from contracts.model.order_states import OrderStatus, ReasonCode
from simulator.domain.inventory import AddressId, LiveService
from simulator.domain.kci_scripts import AppliesTo
from simulator.domain.order import Appointment, Order, OrderRequest, Reply
from simulator.domain.order_commands import (
    AmendmentChanges,
    OrderDetails,
    OrderType,
)
from simulator.domain.order_events import OrderId
from simulator.domain.orders import InventoryChange
from simulator.storage import value_codecs
from simulator.storage.database import utc

# Re-exported: the ports and the use cases name it from here.
from simulator.storage.scripted_rows import HistoryEntry as HistoryEntry  # noqa: PLC0414
from simulator.storage.scripted_rows import due_keys, history_entries, history_values
from simulator.storage.scripted_rows import optional_utc as _when
from simulator.storage.scripted_rows import request_owner as _request_owner
from simulator.storage.tables import order_history, order_requests, orders
from simulator.storage.value_codecs import SCENARIO_COLUMNS
from simulator.storage.value_codecs import contact as _contact
from simulator.storage.value_codecs import contact_json as _contact_json
from simulator.storage.value_codecs import scenario as _scenario
from simulator.storage.value_codecs import scenario_values as _scenario_values

# --- value objects to columns and back ----------------------------------------------------


def _changes_json(changes: AmendmentChanges | None) -> dict[str, Any] | None:
    if changes is None:
        return None
    return {
        **value_codecs.visit_changes_json(changes),
        "characteristics": value_codecs.characteristics_json(changes.characteristics),
        "requestedDate": None if changes.requested_date is None else changes.requested_date.isoformat(),
        "engineerTasks": None if changes.engineer_tasks is None else list(changes.engineer_tasks),
    }


def _changes(raw: dict[str, Any] | None) -> AmendmentChanges | None:
    if raw is None:
        return None
    tasks, requested = raw["engineerTasks"], raw["requestedDate"]
    return value_codecs.visit_changes(
        raw,
        AmendmentChanges,
        characteristics=value_codecs.characteristics(raw["characteristics"]),
        requested_date=None if requested is None else date.fromisoformat(requested),
        engineer_tasks=None if tasks is None else tuple(tasks),
    )


def _change_values(change: InventoryChange | None) -> dict[str, Any]:
    added = None if change is None else change.add
    return {
        "change_remove": None if change is None else change.remove,
        "add_service_id": None if added is None else added.service_id,
        "add_tenant": None if added is None else added.tenant,
        "add_address_id": None if added is None else added.address.id,
        "add_address_type": None if added is None else added.address.type,
        "add_specification_id": None if added is None else added.specification_id,
        "add_line_profile_id": None if added is None else added.line_profile_id,
        "add_ont_port": None if added is None else added.ont_port,
    }


def _change(row: Any) -> InventoryChange | None:
    if row.change_remove is None and row.add_service_id is None:
        return None
    added = None
    if row.add_service_id is not None:
        added = LiveService(
            row.add_service_id,
            row.add_tenant,
            AddressId(row.add_address_id, row.add_address_type),
            row.add_specification_id,
            row.add_line_profile_id,
            row.add_ont_port,
        )
    return InventoryChange(add=added, remove=row.change_remove)


def _values(order: Order, reply_body: dict[str, Any] | None) -> dict[str, Any]:
    details, appointment = order.details, order.appointment
    return {
        "gateway_id": order.gateway_id,
        "supplier_reference": order.supplier_reference,
        "order_type": order.order_type.value,
        "status": order.status.value,
        "previous_status": None if order.previous is None else order.previous.value,
        "address_id": None if order.address is None else order.address.id,
        "address_type": None if order.address is None else order.address.type,
        "service_id": order.service_id,
        "specification_id": order.specification_id,
        "characteristics": [list(pair) for pair in order.characteristics],
        "primary_contact": _contact_json(details.primary_contact),
        "secondary_contact": _contact_json(details.secondary_contact),
        "engineer_tasks": list(details.engineer_tasks),
        "hazards": details.hazards,
        "on_site_restrictions": details.on_site_restrictions,
        "notes": details.notes,
        "requested_date": order.requested_date,
        "reservation_id": order.reservation_id,
        "reservation_reference": order.reservation_reference,
        "unsolicited_reason": order.unsolicited_reason,
        **_change_values(order.change),
        "target_at": order.target,
        "committed_at": order.committed_date,
        "target_date_at": order.target_date,
        "completed_at": order.completed_date,
        "appointment_start": None if appointment is None else appointment.start.isoformat(),
        "appointment_end": None if appointment is None else appointment.end.isoformat(),
        "appointment_reference": None if appointment is None else appointment.supplier_reference,
        "linked_tenant": None if order.linked is None else order.linked.tenant,
        "linked_key": None if order.linked is None else order.linked.key,
        "paused": order.paused,
        **_scenario_values(order.scenario, SCENARIO_COLUMNS),
        "script": order.script,
        "next_step": order.next_step,
        "next_step_due": order.next_step_due,
        "tail": [reason.value for reason in order.tail],
        "last_sequence": order.last_sequence,
        "conversation_id": order.conversation_id,
        "reply": order.reply.value,
        **({} if reply_body is None else {"reply_body": reply_body}),
        "created_at": order.created_at,
        "updated_at": order.updated_at,
    }


def _order(row: Any, requests: tuple[OrderRequest, ...]) -> Order:
    appointment = None
    if row.appointment_start is not None:
        appointment = Appointment(
            datetime.fromisoformat(row.appointment_start),
            datetime.fromisoformat(row.appointment_end),
            row.appointment_reference,
        )
    return Order(
        id=OrderId(row.tenant, row.order_key),
        gateway_id=row.gateway_id,
        supplier_reference=row.supplier_reference,
        order_type=OrderType(row.order_type),
        status=OrderStatus(row.status),
        previous=None if row.previous_status is None else OrderStatus(row.previous_status),
        address=None if row.address_id is None else AddressId(row.address_id, row.address_type),
        service_id=row.service_id,
        specification_id=row.specification_id,
        characteristics=tuple((str(n), str(v)) for n, v in row.characteristics),
        details=OrderDetails(
            primary_contact=_contact(row.primary_contact),
            secondary_contact=_contact(row.secondary_contact),
            engineer_tasks=tuple(row.engineer_tasks),
            hazards=row.hazards,
            on_site_restrictions=row.on_site_restrictions,
            notes=row.notes,
        ),
        requested_date=row.requested_date,
        reservation_id=row.reservation_id,
        reservation_reference=row.reservation_reference,
        unsolicited_reason=row.unsolicited_reason,
        change=_change(row),
        target=_when(row.target_at),
        committed_date=_when(row.committed_at),
        target_date=_when(row.target_date_at),
        completed_date=_when(row.completed_at),
        appointment=appointment,
        linked=None if row.linked_key is None else OrderId(row.linked_tenant, row.linked_key),
        paused=bool(row.paused),
        scenario=_scenario(row._mapping, SCENARIO_COLUMNS),
        script=row.script,
        next_step=row.next_step,
        next_step_due=_when(row.next_step_due),
        tail=tuple(ReasonCode(reason) for reason in row.tail),
        last_sequence=row.last_sequence,
        requests=requests,
        conversation_id=row.conversation_id,
        reply=Reply(row.reply),
        created_at=utc(row.created_at),
        updated_at=utc(row.updated_at),
    )


def _request(row: Any) -> OrderRequest:
    return OrderRequest(
        kind=AppliesTo(row.kind),
        request_id=row.request_id,
        reference=row.reference,
        order_id_sent=row.order_id_sent,
        scenario=_scenario(row._mapping, SCENARIO_COLUMNS),
        reply=Reply(row.reply),
        queued=bool(row.queued),
        step=row.step,
        changes=_changes(row.changes),
        new_target=_when(row.new_target),
        reason_code=row.reason_code,
    )


# Built once: placing and moving orders runs them for every order (bind parameters are
# prefixed where a column of the same name is also set).
_REQUESTS_OF = (
    select(order_requests)
    .where(order_requests.c.tenant == bindparam("tenant"), order_requests.c.order_key == bindparam("key"))
    .order_by(order_requests.c.position)
)
_INSERT_REQUEST = insert(order_requests)
_UPDATE_REQUEST = update(order_requests).where(
    order_requests.c.tenant == bindparam("key_tenant"),
    order_requests.c.kind == bindparam("key_kind"),
    order_requests.c.request_id == bindparam("key_request_id"),
)
_INSERT_ORDER = insert(orders)
_UPDATE_ORDER = update(orders).where(
    orders.c.tenant == bindparam("key_tenant"), orders.c.order_key == bindparam("key_order_key")
)
_GET_ORDER = select(orders).where(
    orders.c.tenant == bindparam("tenant"), orders.c.order_key == bindparam("order_key")
)
_INSERT_HISTORY = insert(order_history)


def _requests_of(connection: Connection, tenant: str, key: str) -> tuple[OrderRequest, ...]:
    rows = connection.execute(_REQUESTS_OF, {"tenant": tenant, "key": key})
    return tuple(_request(row) for row in rows)


def _loaded(connection: Connection, row: Any) -> Order:
    return _order(row, _requests_of(connection, row.tenant, row.order_key))


def _save_requests(connection: Connection, order: Order, *, new: bool = False) -> None:
    """Store the order's requests that changed; a ``new`` order has none stored yet."""
    if not order.requests:  # most orders are never amended nor cancelled
        return
    stored = (
        {}
        if new
        else {(r.kind, r.request_id): r for r in _requests_of(connection, order.id.tenant, order.id.key)}
    )
    for position, request in enumerate(order.requests):
        if stored.get((request.kind, request.request_id)) == request:
            continue
        values = {
            "order_key": order.id.key,
            "position": position,
            "reference": request.reference,
            "order_id_sent": request.order_id_sent,
            **_scenario_values(request.scenario, SCENARIO_COLUMNS),
            "reply": request.reply.value,
            "queued": request.queued,
            "step": request.step,
            "changes": _changes_json(request.changes),
            "new_target": request.new_target,
            "reason_code": request.reason_code,
        }
        if (request.kind, request.request_id) in stored:
            key = {
                "key_tenant": order.id.tenant,
                "key_kind": request.kind.value,
                "key_request_id": request.request_id,
            }
            connection.execute(_UPDATE_REQUEST, {**values, **key})
        else:
            identity = {
                "tenant": order.id.tenant,
                "kind": request.kind.value,
                "request_id": request.request_id,
            }
            connection.execute(_INSERT_REQUEST, {**identity, **values})


# --- the repository functions -------------------------------------------------------------


def insert_order(connection: Connection, order: Order, reply_body: dict[str, Any] | None = None) -> None:
    """Store a new order, with the body of its first answer (given again to a repeat)."""
    connection.execute(
        _INSERT_ORDER, {"tenant": order.id.tenant, "order_key": order.id.key, **_values(order, reply_body)}
    )
    _save_requests(connection, order, new=True)


def save(connection: Connection, order: Order) -> None:
    """Store an order's new state."""
    key = {"key_tenant": order.id.tenant, "key_order_key": order.id.key}
    connection.execute(_UPDATE_ORDER, {**_values(order, None), **key})
    _save_requests(connection, order)


def get(connection: Connection, tenant: str, order_key: str) -> Order | None:
    """The tenant's order under ``order_key``, if any."""
    row = connection.execute(_GET_ORDER, {"tenant": tenant, "order_key": order_key}).first()
    return None if row is None else _loaded(connection, row)


def reply_body(connection: Connection, tenant: str, order_key: str) -> dict[str, Any] | None:
    """The body of the first answer to the order."""
    body = connection.execute(
        select(orders.c.reply_body).where(orders.c.tenant == tenant, orders.c.order_key == order_key)
    ).scalar_one_or_none()
    return None if body is None else dict(body)


def with_key(connection: Connection, order_key: str) -> list[Order]:
    """Every tenant's order under ``order_key`` (for the admin API, which sees all tenants)."""
    rows = connection.execute(select(orders).where(orders.c.order_key == order_key).order_by(orders.c.tenant))
    return [_loaded(connection, row) for row in rows]


def by_supplier_reference(connection: Connection, tenant: str, reference: str) -> Order | None:
    """The tenant's order the supplier knows as ``reference``, if any."""
    row = connection.execute(
        select(orders).where(orders.c.tenant == tenant, orders.c.supplier_reference == reference)
    ).first()
    return None if row is None else _loaded(connection, row)


def request_owner(connection: Connection, tenant: str, kind: AppliesTo, request_id: int) -> str | None:
    """The key of the tenant's order that received amendment/cancellation ``request_id``, if any."""
    key = _request_owner(connection, order_requests.c.order_key, tenant, kind.value, request_id)
    return None if key is None else str(key)


def due(connection: Connection, now: datetime, limit: int = 200) -> list[OrderId]:
    """Orders whose next scripted step is due, earliest first."""
    rows = due_keys(connection, orders, (orders.c.tenant, orders.c.order_key), now, limit)
    return [OrderId(row.tenant, row.order_key) for row in rows]


def listing(connection: Connection, tenant: str | None = None, limit: int = 500) -> list[Order]:
    """The most recent orders, newest first."""
    query = (
        select(orders)
        .order_by(orders.c.created_at.desc(), orders.c.order_key.desc(), orders.c.tenant)
        .limit(limit)
    )
    if tenant is not None:
        query = query.where(orders.c.tenant == tenant)
    return [_loaded(connection, row) for row in connection.execute(query)]


def next_unsolicited_number(connection: Connection) -> int:
    """A fresh number for a supplier-raised order."""
    count = connection.execute(select(func.count()).where(orders.c.gateway_id.is_(None))).scalar_one()
    return int(count) + 1


def add_history(connection: Connection, order: OrderId, entry: HistoryEntry) -> None:
    """Record an event of an order."""
    connection.execute(
        _INSERT_HISTORY, {"tenant": order.tenant, "order_key": order.key, **history_values(entry)}
    )


def history(connection: Connection, order_key: str, tenant: str | None = None) -> list[HistoryEntry]:
    """Everything that happened to an order, in order (``tenant``: that tenant's order under the key)."""
    query = select(order_history).where(order_history.c.order_key == order_key).order_by(order_history.c.id)
    if tenant is not None:
        query = query.where(order_history.c.tenant == tenant)
    return history_entries(connection.execute(query))


# --- paged reads for the dashboard ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderSummary:
    """One row of an order list: enough to find the order, not the whole aggregate."""

    tenant: str
    order_key: str
    supplier_reference: str
    order_type: str
    status: str
    address_id: str | None
    script: str
    next_step_due: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class OrderFilter:
    """What an order list is narrowed to; ``None`` leaves a field free."""

    tenant: str | None = None
    status: str | None = None
    order_type: str | None = None
    address_id: str | None = None


_SUMMARY_COLUMNS = (
    orders.c.tenant,
    orders.c.order_key,
    orders.c.supplier_reference,
    orders.c.order_type,
    orders.c.status,
    orders.c.address_id,
    orders.c.script,
    orders.c.next_step_due,
    orders.c.created_at,
    orders.c.updated_at,
)


def page(connection: Connection, narrowed: OrderFilter, *, limit: int, offset: int = 0) -> list[OrderSummary]:
    """Up to ``limit`` orders matching ``narrowed``, newest first, skipping ``offset`` of them.

    The filters and the paging are the database's: one page costs one indexed query,
    however many orders there are.
    """
    query = select(*_SUMMARY_COLUMNS)
    for column, value in (
        (orders.c.tenant, narrowed.tenant),
        (orders.c.status, narrowed.status),
        (orders.c.order_type, narrowed.order_type),
        (orders.c.address_id, narrowed.address_id),
    ):
        if value is not None:
            query = query.where(column == value)
    query = (
        query.order_by(orders.c.created_at.desc(), orders.c.order_key.desc(), orders.c.tenant)
        .limit(limit)
        .offset(offset)
    )
    return [
        OrderSummary(
            tenant=row.tenant,
            order_key=row.order_key,
            supplier_reference=row.supplier_reference,
            order_type=row.order_type,
            status=row.status,
            address_id=row.address_id,
            script=row.script,
            next_step_due=_when(row.next_step_due),
            created_at=utc(row.created_at),
            updated_at=utc(row.updated_at),
        )
        for row in connection.execute(query)
    ]


def earliest_step(connection: Connection) -> tuple[datetime, OrderId] | None:
    """When the next scripted step of any order is due, and whose it is (``None``: none is)."""
    row = connection.execute(
        select(orders.c.next_step_due, orders.c.tenant, orders.c.order_key)
        .where(orders.c.next_step_due.is_not(None))
        .order_by(orders.c.next_step_due)
        .limit(1)
    ).first()
    return None if row is None else (utc(row.next_step_due), OrderId(row.tenant, row.order_key))
