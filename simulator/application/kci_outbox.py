"""Putting a KCI into the outbox: what every KCI carries, whether about an order, a test or a problem.

The aggregates report a :class:`~simulator.domain.scripted.KciDue`; the effects of each
add the entity the KCI is about, and this module does the rest: the envelope (a new
``id``, the sequence number, ``issuedOn``, the reason, problem code and text), the
outbox entry under the owner's sequence, and the history entry that records it.
"""

from __future__ import annotations

import uuid
from typing import Any

from simulator.application.ports import UnitOfWork
from simulator.domain.clock import format_instant
from simulator.domain.order_events import OrderId
from simulator.domain.scripted import KciDue
from simulator.storage.orders import HistoryEntry
from simulator.storage.outbox import DELIVERY_CONTEXT

__all__ = ["enqueue_kci"]


def enqueue_kci(
    unit: UnitOfWork,
    owner: OrderId,
    event: KciDue[Any, Any, Any, Any],
    entity: tuple[str, dict[str, Any]],
    *,
    status: str,
    conversation_id: str | None,
) -> HistoryEntry:
    """Put the KCI ``event`` makes into ``owner``'s sequence; returns the history entry recording it.

    ``entity`` is the KCI field that carries the entity and its value; ``status`` is the
    entity's status after the step. The outbox sequences KCIs per (tenant, key), so a
    test's ``ST-`` and a problem's ``SP-`` keys have sequences of their own.
    """
    kci: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "sequenceNumber": event.sequence_number,
        "issuedOn": format_instant(event.at),
        "reasonCode": str(event.reason),
    }
    if event.problem_code is not None:
        kci["problemCode"] = str(event.problem_code)
    if event.text:
        kci["text"] = event.text
    field, value = entity
    kci[field] = value
    if conversation_id:
        kci[DELIVERY_CONTEXT] = {"conversationId": conversation_id}
    unit.outbox.enqueue(
        owner,
        kci_id=kci["id"],
        sequence_number=event.sequence_number,
        payload=kci,
        now=event.at,
        fault=event.fault,
    )
    detail = {"sequenceNumber": event.sequence_number, "kciId": kci["id"]}
    return HistoryEntry(event.at, str(event.reason), str(event.before), status, detail)
