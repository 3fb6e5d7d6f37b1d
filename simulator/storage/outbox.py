"""The KCI outbox: KCIs written with the state change that caused them, delivered later.

Delivery is at-least-once: a KCI stays ``PENDING`` until the gateway accepts it
(``DELIVERED``) or refuses it for good (``REJECTED``). Per order, only the lowest
pending sequence number is deliverable, so KCI n+1 never overtakes KCI n, unless a
delivery fault asks for exactly that.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from itertools import groupby
from operator import itemgetter
from typing import Any, TypeVar

from sqlalchemy import Connection, bindparam, func, insert, or_, select, update

from simulator.storage.database import utc
from simulator.storage.tables import kci_attempts, kci_outbox

# Delivery metadata riding along in an outbox payload (e.g. the order's conversation id);
# the transport strips it, so the gateway receives the KCI alone.
DELIVERY_CONTEXT = "_delivery"

PENDING = "PENDING"
DELIVERED = "DELIVERED"
REJECTED = "REJECTED"


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One KCI waiting for (or past) delivery."""

    kci_id: str
    order_key: str
    sequence_number: int
    payload: dict[str, Any]
    state: str
    attempts: int
    next_attempt_at: datetime | None
    fault: str | None
    created_at: datetime
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    tenant: str = ""  # whose order: order keys are unique per tenant only


@dataclass(frozen=True, slots=True)
class Attempt:
    """One delivery attempt and what came of it."""

    kci_id: str
    attempt: int
    at: datetime
    outcome: str
    status_code: int | None
    error: str | None
    next_attempt_at: datetime | None
    latency_ms: int | None = None


_Stored = TypeVar("_Stored", "OutboxEntry", "Attempt")  # a row of kci_outbox, or of kci_attempts


def kci_body(payload: dict[str, Any]) -> dict[str, Any]:
    """The KCI as the gateway receives it: the outbox payload without its delivery metadata."""
    return {key: value for key, value in payload.items() if key != DELIVERY_CONTEXT}


def _from_row(kind: type[_Stored], row: Any) -> _Stored:
    """A ``kind`` of the row's columns of the same names, its date-times as aware UTC."""
    values: dict[str, Any] = {}
    for field in fields(kind):
        value = getattr(row, field.name)
        values[field.name] = utc(value) if isinstance(value, datetime) else value
    return kind(**values)


# Built once: every order step enqueues a KCI, and building the statement cost more than running it.
_ENQUEUE = insert(kci_outbox)


def enqueue(
    connection: Connection,
    *,
    kci_id: str,
    order_key: str,
    sequence_number: int,
    payload: dict[str, Any],
    now: datetime,
    fault: str | None = None,
    tenant: str = "",
) -> None:
    """Add a KCI of ``tenant``'s order ``order_key``, issued at ``now`` (simulator clock), to the outbox."""
    connection.execute(
        _ENQUEUE,
        {
            "kci_id": kci_id,
            "tenant": tenant,
            "order_key": order_key,
            "sequence_number": sequence_number,
            "payload": payload,
            "created_at": now,
            "state": PENDING,
            "attempts": 0,
            "next_attempt_at": None,
            "fault": fault,
        },
    )


def deliverable(connection: Connection, now: datetime, limit: int = 100) -> list[OutboxEntry]:
    """Per order, the pending KCI with the lowest sequence number, when it is due, oldest first.

    ``now`` is the delivery clock's time (retry back-off runs on wall time, whatever
    the simulator's clock does).

    A faulted entry (``swap_with_next``, ``hold_back``) is returned like any other; the
    dispatcher looks up the order's next KCI itself (:func:`next_pending_after`).
    """
    lowest = (
        select(
            kci_outbox.c.tenant,
            kci_outbox.c.order_key,
            func.min(kci_outbox.c.sequence_number).label("sequence_number"),
        )
        .where(kci_outbox.c.state == PENDING)
        .group_by(kci_outbox.c.tenant, kci_outbox.c.order_key)
        .subquery()
    )
    rows = connection.execute(
        select(kci_outbox)
        .join(
            lowest,
            (kci_outbox.c.tenant == lowest.c.tenant)
            & (kci_outbox.c.order_key == lowest.c.order_key)
            & (kci_outbox.c.sequence_number == lowest.c.sequence_number),
        )
        .where(or_(kci_outbox.c.next_attempt_at.is_(None), kci_outbox.c.next_attempt_at <= now))
        .order_by(kci_outbox.c.created_at, kci_outbox.c.order_key)
        .limit(limit)
    )
    return [_from_row(OutboxEntry, row) for row in rows]


def next_pending_after(
    connection: Connection, order_key: str, sequence_number: int, tenant: str = ""
) -> OutboxEntry | None:
    """The order's next pending KCI after ``sequence_number``, if one is queued."""
    row = connection.execute(
        select(kci_outbox)
        .where(
            kci_outbox.c.tenant == tenant,
            kci_outbox.c.order_key == order_key,
            kci_outbox.c.sequence_number > sequence_number,
            kci_outbox.c.state == PENDING,
        )
        .order_by(kci_outbox.c.sequence_number)
        .limit(1)
    ).first()
    return None if row is None else _from_row(OutboxEntry, row)


# Built once: delivery records an attempt per KCI sent, and building statements per call
# cost more than running them.
_OUTBOX_ROW = update(kci_outbox).where(kci_outbox.c.kci_id == bindparam("kci"))
_COMMON: dict[str, Any] = {
    "attempts": kci_outbox.c.attempts + 1,
    "last_status_code": bindparam("status"),
    "last_error": bindparam("err"),
}
_AFTER = {
    DELIVERED: _OUTBOX_ROW.values(**_COMMON, state=DELIVERED, delivered_at=bindparam("when")),
    REJECTED: _OUTBOX_ROW.values(**_COMMON, state=REJECTED),
    PENDING: _OUTBOX_ROW.values(**_COMMON, next_attempt_at=bindparam("next_at")),
}
_ADD_ATTEMPT = insert(kci_attempts).values(
    kci_id=bindparam("kci"),
    attempt=bindparam("attempt_no"),
    at=bindparam("when"),
    outcome=bindparam("result"),
    status_code=bindparam("status"),
    error=bindparam("err"),
    next_attempt_at=bindparam("next_at"),
    latency_ms=bindparam("latency"),
)


def record_attempts(connection: Connection, attempts: list[Attempt]) -> None:
    """Record delivery attempts (numbered by the caller); DELIVERED or REJECTED ends a KCI's delivery."""
    rows = [
        {
            "kci": attempt.kci_id,
            "attempt_no": attempt.attempt,
            "when": attempt.at,
            "result": attempt.outcome,
            "status": attempt.status_code,
            "err": attempt.error,
            "next_at": attempt.next_attempt_at,
            "latency": attempt.latency_ms,
        }
        for attempt in attempts
    ]
    # One statement per run of attempts with the same effect, in the order given.
    effects = [
        (
            attempt.outcome if attempt.outcome in {DELIVERED, REJECTED} else PENDING,
            # A retry waits until next_attempt_at (now when none is given).
            {**row, "next_at": attempt.next_attempt_at or attempt.at},
        )
        for attempt, row in zip(attempts, rows, strict=True)
    ]
    for after, run in groupby(effects, key=itemgetter(0)):
        connection.execute(_AFTER[after], [values for _, values in run])
    if rows:
        connection.execute(_ADD_ATTEMPT, rows)


def clear_fault(connection: Connection, kci_id: str) -> None:
    """Forget a delivery fault once it has been acted on."""
    connection.execute(update(kci_outbox).where(kci_outbox.c.kci_id == kci_id).values(fault=None))


def set_fault(connection: Connection, kci_id: str, fault: str | None) -> None:
    """Ask for a delivery fault on a pending KCI (``duplicate``, ``swap_with_next``, ``hold_back``)."""
    connection.execute(
        update(kci_outbox)
        .where(kci_outbox.c.kci_id == kci_id, kci_outbox.c.state == PENDING)
        .values(fault=fault)
    )


def for_order(connection: Connection, order_key: str, tenant: str | None = None) -> list[OutboxEntry]:
    """Every KCI of an order, by sequence number (``tenant``: that tenant's order under the key)."""
    query = select(kci_outbox).where(kci_outbox.c.order_key == order_key)
    if tenant is not None:
        query = query.where(kci_outbox.c.tenant == tenant)
    rows = connection.execute(query.order_by(kci_outbox.c.sequence_number))
    return [_from_row(OutboxEntry, row) for row in rows]


def attempts_for(connection: Connection, kci_id: str) -> list[Attempt]:
    """Every delivery attempt of one KCI, in order."""
    rows = connection.execute(
        select(kci_attempts).where(kci_attempts.c.kci_id == kci_id).order_by(kci_attempts.c.attempt)
    )
    return [_from_row(Attempt, row) for row in rows]


def pending_count(connection: Connection) -> int:
    """How many KCIs still wait for delivery."""
    return int(connection.execute(select(func.count()).where(kci_outbox.c.state == PENDING)).scalar_one())


def recent(connection: Connection, limit: int = 500) -> list[OutboxEntry]:
    """The newest KCIs first."""
    rows = connection.execute(
        select(kci_outbox)
        .order_by(kci_outbox.c.created_at.desc(), kci_outbox.c.sequence_number.desc())
        .limit(limit)
    )
    return [_from_row(OutboxEntry, row) for row in rows]
