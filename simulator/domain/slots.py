"""The engineer slot grid: which appointment windows a supplier offers, and when.

Slots are computed, never stored: a day's windows come from the profile, minus closed
dates, from the first bookable day (lead time) to the booking horizon. Times are UK
local (or the profile's zone) and carry the right UTC offset across clock changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta

WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


@dataclass(frozen=True, slots=True)
class SlotWindow:
    """A recurring appointment window, e.g. weekdays 08:00-13:00 ``WEEKDAY_AM``."""

    days: frozenset[int]  # 0 = Monday, as date.weekday()
    start: time
    end: time
    classification: str
    standard: bool = True
    capacity: int = 2
    purposes: frozenset[str] = frozenset({"PROVIDE", "REPAIR", "MODIFY"})


@dataclass(frozen=True, slots=True)
class AppointmentPolicy:
    """The supplier's slot grid and reservation terms."""

    windows: tuple[SlotWindow, ...]
    timezone: str = "Europe/London"
    reservation_ttl: timedelta = timedelta(minutes=30)
    horizon_days: int = 28
    closed_dates: frozenset[date] = frozenset()
