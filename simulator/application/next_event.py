"""Use case: move the clock straight to the next thing scheduled to happen, and apply it.

Two kinds of business work wait on the simulator clock: an order's next scripted KCI step
(``orders.next_step_due``) and a held reservation's expiry. KCI delivery retries wait on
real time instead (see ARCHITECTURE.md), so they are not events of this clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from simulator.application.context import Context
from simulator.application.due_work import DUE_WORK, DueWorkDone, run_due_work
from simulator.storage import orders as order_store
from simulator.storage import reservations as reservation_store


class EventKind(StrEnum):
    """What a scheduled event is."""

    KCI_STEP = "kciStep"
    RESERVATION_EXPIRY = "reservationExpiry"


@dataclass(frozen=True, slots=True)
class ScheduledEvent:
    """The earliest work the simulator clock is waiting for, and whose it is."""

    kind: EventKind
    at: datetime
    tenant: str
    subject: str
    """The order's key (a KCI step) or the reservation's id (an expiry), as text."""


@dataclass(frozen=True, slots=True)
class NextEventDone:
    """What advancing to the next event did: the event (``None``: nothing was scheduled),
    whether the clock moved (not when the event was already due), and what was applied."""

    event: ScheduledEvent | None
    moved: bool
    applied: DueWorkDone


def next_scheduled_event(context: Context) -> ScheduledEvent | None:
    """The earliest scripted KCI step or reservation expiry still to come (or overdue)."""
    with context.database.reading() as connection:
        step = order_store.earliest_step(connection)
        expiring = reservation_store.earliest_expiry(connection)
    candidates: list[ScheduledEvent] = []
    if step is not None:
        due, order = step
        candidates.append(ScheduledEvent(EventKind.KCI_STEP, due, order.tenant, order.key))
    if expiring is not None:
        candidates.append(
            ScheduledEvent(
                EventKind.RESERVATION_EXPIRY, expiring.expires_at, expiring.tenant, str(expiring.id)
            )
        )
    return min(candidates, key=lambda event: event.at, default=None)


def advance_to_next_event(context: Context) -> NextEventDone:
    """Move the clock to the next scheduled event (never backwards) and apply what is due then.

    An event already due moves nothing and is simply applied; with nothing scheduled the
    clock stays where it is. Moving past the clock's horizon is refused (422) as any move is.
    """
    with context.database.exclusive(DUE_WORK):
        event = next_scheduled_event(context)
        moved = event is not None and event.at > context.clock.now()
        if moved:
            assert event is not None  # for the type checker: moved implies an event
            context.clock.set(event.at)
        return NextEventDone(event=event, moved=moved, applied=run_due_work(context))
