"""Everything that becomes due as the clock moves: run after every manual move, and by a ticker."""

from __future__ import annotations

from dataclasses import dataclass

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
