"""Everything that becomes due as the clock moves: run after every manual move, and by a ticker.

One runner at a time, across workers and replicas: a manual move holds the due-work turn
while the clock moves and what fell due is applied, so the ticker (wherever it runs) does
not play the same steps beside it (each order's lock kept that safe, but every step was
then tried twice, and the move's count told only its own share).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from simulator.application.appointments import expire_reservations
from simulator.application.assurance_steps import run_due_assurance_steps
from simulator.application.context import Context
from simulator.application.order_scripts import run_due_steps


@dataclass(frozen=True, slots=True)
class DueWorkDone:
    """What one pass of due work changed."""

    reservations_expired: int
    kcis_issued: int


def run_due_work(context: Context) -> DueWorkDone:
    """Apply everything due at the clock's current time."""
    expired = expire_reservations(context)
    issued = run_due_steps(context) + run_due_assurance_steps(context)
    return DueWorkDone(reservations_expired=expired, kcis_issued=issued)


DUE_WORK: Final = "due work"
"""The name of the due-work turn (see :meth:`simulator.storage.Database.exclusive`)."""


def move_clock(context: Context, move: Callable[[], object]) -> DueWorkDone:
    """Move the clock with ``move``, then apply everything due, holding the due-work turn throughout."""
    with context.database.exclusive(DUE_WORK):
        move()
        return run_due_work(context)


def run_due_work_unless_busy(context: Context) -> DueWorkDone | None:
    """The ticker's pass: what :func:`run_due_work` does, or nothing (``None``) while another runs it."""
    with context.database.exclusive(DUE_WORK, wait=False) as held:
        return run_due_work(context) if held else None
