"""Orders and their history: the latest full order, its script position, and every event."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from contracts.model.order_states import OrderStatus
from simulator.domain.orders import OrderKind
from simulator.storage.database import utc
from simulator.storage.tables import order_history, orders


@dataclass
class OrderRecord:
    """One order as stored: identity, state, script position, latest body and context."""

    order_key: str
    gateway_id: int | None
    supplier_reference: str
    tenant: str
    kind: OrderKind
    order_type: str
    status: OrderStatus
    previous: OrderStatus | None
    script: str
    next_step: int
    next_step_due: datetime | None
    last_sequence: int
    body: dict[str, Any]
    context: dict[str, Any]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """Something that happened to an order."""

    at: datetime
    event: str
    from_status: str | None
    to_status: str | None
    detail: dict[str, Any] = field(default_factory=dict)


def _record(row: Any) -> OrderRecord:
    return OrderRecord(
        order_key=row.order_key,
        gateway_id=row.gateway_id,
        supplier_reference=row.supplier_reference,
        tenant=row.tenant,
        kind=OrderKind(row.kind),
        order_type=row.order_type,
        status=OrderStatus(row.status),
        previous=None if row.previous_status is None else OrderStatus(row.previous_status),
        script=row.script,
        next_step=row.next_step,
        next_step_due=None if row.next_step_due is None else utc(row.next_step_due),
        last_sequence=row.last_sequence,
        body=dict(row.body),
        context=dict(row.context),
        created_at=utc(row.created_at),
        updated_at=utc(row.updated_at),
    )


def _values(record: OrderRecord) -> dict[str, Any]:
    return {
        "gateway_id": record.gateway_id,
        "supplier_reference": record.supplier_reference,
        "tenant": record.tenant,
        "kind": record.kind.value,
        "order_type": record.order_type,
        "status": record.status.value,
        "previous_status": None if record.previous is None else record.previous.value,
        "script": record.script,
        "next_step": record.next_step,
        "next_step_due": record.next_step_due,
        "last_sequence": record.last_sequence,
        "body": record.body,
        "context": record.context,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    }


def insert_order(connection: Connection, record: OrderRecord) -> None:
    """Store a new order."""
    connection.execute(insert(orders).values(order_key=record.order_key, **_values(record)))


def save(connection: Connection, record: OrderRecord) -> None:
    """Store an order's new state."""
    connection.execute(update(orders).where(orders.c.order_key == record.order_key).values(_values(record)))


def get(connection: Connection, order_key: str) -> OrderRecord | None:
    """The order under ``order_key``, if any."""
    row = connection.execute(select(orders).where(orders.c.order_key == order_key)).first()
    return None if row is None else _record(row)


def by_supplier_reference(connection: Connection, reference: str) -> OrderRecord | None:
    """The order the supplier knows as ``reference``, if any."""
    row = connection.execute(select(orders).where(orders.c.supplier_reference == reference)).first()
    return None if row is None else _record(row)


def due(connection: Connection, now: datetime, limit: int = 200) -> list[str]:
    """Keys of orders whose next scripted step is due, earliest first."""
    rows = connection.execute(
        select(orders.c.order_key)
        .where(orders.c.next_step_due.is_not(None), orders.c.next_step_due <= now)
        .order_by(orders.c.next_step_due)
        .limit(limit)
    )
    return [row.order_key for row in rows]


def listing(connection: Connection, tenant: str | None = None, limit: int = 500) -> list[OrderRecord]:
    """The most recent orders, newest first."""
    query = select(orders).order_by(orders.c.created_at.desc(), orders.c.order_key.desc()).limit(limit)
    if tenant is not None:
        query = query.where(orders.c.tenant == tenant)
    return [_record(row) for row in connection.execute(query)]


def next_unsolicited_number(connection: Connection) -> int:
    """A fresh number for a supplier-raised order."""
    count = connection.execute(select(func.count()).where(orders.c.gateway_id.is_(None))).scalar_one()
    return int(count) + 1


def add_history(connection: Connection, order_key: str, entry: HistoryEntry) -> None:
    """Record an event of an order."""
    connection.execute(
        insert(order_history).values(
            order_key=order_key,
            at=entry.at,
            event=entry.event,
            from_status=entry.from_status,
            to_status=entry.to_status,
            detail=entry.detail,
        )
    )


def history(connection: Connection, order_key: str) -> list[HistoryEntry]:
    """Everything that happened to an order, in order."""
    rows = connection.execute(
        select(order_history).where(order_history.c.order_key == order_key).order_by(order_history.c.id)
    )
    return [HistoryEntry(utc(r.at), r.event, r.from_status, r.to_status, dict(r.detail)) for r in rows]
