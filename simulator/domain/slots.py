"""The engineer slot grid: which appointment windows a supplier offers, and when.

Slots are computed, never stored: a day's windows come from the profile, minus closed
dates, from the first bookable day (lead time) to the booking horizon. Times are UK
local (or the profile's zone) and carry the right UTC offset across clock changes.

Decisions the API leaves open, taken here:

* **Lead time counts calendar days** from *today in the policy's zone* (not working
  days, not 24-hour periods from ``now``): with a 10-day lead time, a request made at
  any hour on Wednesday 1 July can book from Saturday 11 July. Weekends and closed
  dates count towards the lead time; they simply offer no slots.
* **The horizon is inclusive**: ``horizon_days=28`` offers slots up to and including
  the 28th day after today.
* **Clock changes**: window times are local wall-clock times. A window whose start or
  end does not exist on a spring-forward day (01:30 in the Europe/London gap) is not
  offered that day; a window in the repeated hour of an autumn day takes its first
  occurrence (BST, ``fold=0``).
* **Capacity** is counted per slot start instant (UTC) within a *patch* chosen by the
  caller; ``booked`` maps that instant to the number of holding reservations.

The grid for a (policy, today) pair is computed once and cached, so answering a
request costs one cache lookup, a bisect and a filter over at most a horizon's worth
of prebuilt, immutable ``Slot`` values.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from simulator.domain.errors import BusinessRuleViolation, ConfigurationError, MalformedRequest

WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")

PURPOSES = frozenset({"PROVIDE", "REPAIR", "MODIFY"})

CLASSIFICATIONS = frozenset(
    f"{day}{part}"
    for day in ("WEEKDAY", "SATURDAY", "SUNDAY")
    for part in ("", "_AM", "_PM", "_EARLY", "_EVENING")
)

_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

_NOTHING_BOOKED: Mapping[datetime, int] = MappingProxyType({})


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

    def describe(self) -> str:
        """``08:00-13:00 WEEKDAY_AM``: how the window reads in a refusal message."""
        return f"{self.start:%H:%M}-{self.end:%H:%M} {self.classification}"


@dataclass(frozen=True, slots=True)
class AppointmentPolicy:
    """The supplier's slot grid and reservation terms."""

    windows: tuple[SlotWindow, ...]
    timezone: str = "Europe/London"
    reservation_ttl: timedelta = timedelta(minutes=30)
    horizon_days: int = 28
    closed_dates: frozenset[date] = frozenset()


@dataclass(frozen=True, slots=True)
class Slot:
    """One bookable occurrence of a window, with aware local start and end times.

    ``key`` is the start instant in UTC; together with a patch it identifies the
    capacity pool the slot draws on, and it is the key of ``booked`` mappings.
    """

    start: datetime
    end: datetime
    classification: str
    standard: bool
    capacity: int
    key: datetime = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("a slot needs start and end times with a UTC offset")
        # Computed once: the grid is cached, so every request reuses this value.
        object.__setattr__(self, "key", self.start.astimezone(UTC))


@dataclass(frozen=True, slots=True)
class _Occurrence:
    """A slot and the window it came from (for purposes and refusal messages)."""

    window: SlotWindow
    slot: Slot


@dataclass(frozen=True, slots=True)
class _Grid:
    """Every occurrence from today to the horizon, sorted by start; ``days`` is parallel."""

    occurrences: tuple[_Occurrence, ...]
    days: tuple[date, ...]


@lru_cache(maxsize=32)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigurationError(f"appointments/timezone: unknown time zone {name!r}") from None


def _as_utc(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise MalformedRequest(
            f"{what} {moment.isoformat()} has no UTC offset; send e.g. 2026-07-14T12:00:00Z"
        )
    return moment.astimezone(UTC)


def _local(day: date, at: time, zone: ZoneInfo) -> datetime | None:
    """``day`` at wall-clock ``at`` in ``zone``, or ``None`` if that time is skipped by a clock change."""
    moment = datetime.combine(day, at, tzinfo=zone)
    # A time in the spring-forward gap does not survive a round trip through UTC.
    if moment.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != moment.replace(tzinfo=None):
        return None
    return moment


@lru_cache(maxsize=4096)
def _day_occurrences(policy: AppointmentPolicy, day: date) -> tuple[_Occurrence, ...]:
    """The windows that run on ``day`` (ignoring closed dates), sorted by start instant."""
    zone = _zone(policy.timezone)
    weekday = day.weekday()
    found = []
    for window in policy.windows:
        if weekday not in window.days:
            continue
        start = _local(day, window.start, zone)
        end = _local(day, window.end, zone)
        if start is None or end is None or end <= start:
            continue
        found.append(
            _Occurrence(window, Slot(start, end, window.classification, window.standard, window.capacity))
        )
    found.sort(key=lambda occurrence: occurrence.slot.key)
    return tuple(found)


@lru_cache(maxsize=64)
def _grid(policy: AppointmentPolicy, today: date) -> _Grid:
    occurrences: list[_Occurrence] = []
    days: list[date] = []
    for offset in range(policy.horizon_days + 1):
        day = today + timedelta(days=offset)
        if day in policy.closed_dates:
            continue
        for occurrence in _day_occurrences(policy, day):
            occurrences.append(occurrence)
            days.append(day)
    return _Grid(tuple(occurrences), tuple(days))


def _today(now_utc: datetime, policy: AppointmentPolicy) -> date:
    return now_utc.astimezone(_zone(policy.timezone)).date()


def _earliest(today: date, lead_time_days: int, from_date: date | None) -> date:
    earliest = today + timedelta(days=lead_time_days)
    return earliest if from_date is None or from_date < earliest else from_date


def first_bookable_day(now: datetime, lead_time_days: int, from_date: date | None, tz: str) -> date:
    """The first day slots may be offered: the later of ``from_date`` and today + lead time.

    "Today" is the local date in ``tz`` (just after midnight BST it is already tomorrow
    in the UK while still today in UTC), and the lead time is counted in calendar
    days, so weekends and closed dates count towards it.
    """
    today = _as_utc(now, "now").astimezone(_zone(tz)).date()
    return _earliest(today, lead_time_days, from_date)


def _wanted_classifications(classifications: Collection[str] | None) -> frozenset[str] | None:
    if not classifications:
        return None  # absent or empty: every classification
    wanted = frozenset(classifications)
    unknown = wanted - CLASSIFICATIONS
    if unknown:
        raise MalformedRequest(
            f"unknown timeslot classification(s) {', '.join(sorted(unknown))}; "
            f"use any of {', '.join(sorted(CLASSIFICATIONS))}"
        )
    return wanted


def _check_purpose(purpose: str) -> None:
    if purpose not in PURPOSES:
        raise MalformedRequest(
            f"unknown appointment purpose {purpose!r}; use one of {', '.join(sorted(PURPOSES))}"
        )


def offered_slots(
    policy: AppointmentPolicy,
    *,
    now: datetime,
    lead_time_days: int,
    from_date: date | None = None,
    classifications: Collection[str] | None = None,
    purpose: str = "PROVIDE",
    booked: Mapping[datetime, int] = _NOTHING_BOOKED,
) -> list[Slot]:
    """The slots a tenant may reserve now, sorted by start.

    Slots run from :func:`first_bookable_day` to today + ``policy.horizon_days``
    (inclusive), skip closed dates, keep only windows offered for ``purpose`` and, when
    ``classifications`` is given and non-empty, of those classifications. A slot is
    dropped when it does not start after ``now`` or when ``booked[slot.key]`` has
    reached its capacity. Unknown purposes or classifications are a 400.
    """
    _check_purpose(purpose)
    wanted = _wanted_classifications(classifications)
    now_utc = _as_utc(now, "now")
    today = _today(now_utc, policy)
    grid = _grid(policy, today)
    occurrences = grid.occurrences
    result: list[Slot] = []
    for index in range(bisect_left(grid.days, _earliest(today, lead_time_days, from_date)), len(occurrences)):
        occurrence = occurrences[index]
        slot = occurrence.slot
        if (
            slot.key > now_utc
            and purpose in occurrence.window.purposes
            and (wanted is None or slot.classification in wanted)
            and booked.get(slot.key, 0) < slot.capacity
        ):
            result.append(slot)
    return result


def check_slot_offered(
    policy: AppointmentPolicy,
    *,
    now: datetime,
    lead_time_days: int,
    start: datetime,
    end: datetime,
    purpose: str,
    booked: Mapping[datetime, int] = _NOTHING_BOOKED,
) -> Slot:
    """The offered slot starting at ``start`` and ending at ``end``, or a 422 saying why not.

    Times are compared as instants, so ``12:00Z`` and ``13:00+01:00`` name the same
    July slot. Reasons are checked in this order, and the first that applies is
    reported: in the past, inside the minimum lead time, beyond the booking horizon,
    closed date, not a slot this supplier offers (listing that day's windows), not
    offered for the purpose, full. Times without an offset are a 400.
    """
    _check_purpose(purpose)
    now_utc = _as_utc(now, "now")
    start_utc = _as_utc(start, "timeslotStartDateTime")
    end_utc = _as_utc(end, "timeslotEndDateTime")
    if end_utc <= start_utc:
        raise MalformedRequest(f"timeslot ends ({end.isoformat()}) before it starts ({start.isoformat()})")
    zone = _zone(policy.timezone)
    local_start = start_utc.astimezone(zone)
    what = f"timeslot {local_start.isoformat()} to {end_utc.astimezone(zone).isoformat()}"
    if start_utc <= now_utc:
        raise BusinessRuleViolation(f"{what} is in the past (now is {now_utc.astimezone(zone).isoformat()})")
    today = _today(now_utc, policy)
    day = local_start.date()
    first = _earliest(today, lead_time_days, None)
    if day < first:
        raise BusinessRuleViolation(
            f"{what} is inside the minimum lead time of {lead_time_days} days (first bookable day is {first})"
        )
    last = today + timedelta(days=policy.horizon_days)
    if day > last:
        raise BusinessRuleViolation(
            f"{what} is beyond the booking horizon of {policy.horizon_days} days "
            f"(last bookable day is {last})"
        )
    if day in policy.closed_dates:
        raise BusinessRuleViolation(f"{what} falls on a closed date ({day}); no appointments that day")
    candidates = _day_occurrences(policy, day)
    match = next(
        (o for o in candidates if o.slot.key == start_utc and o.slot.end.astimezone(UTC) == end_utc), None
    )
    if match is None:
        windows = (
            ", ".join(o.window.describe() for o in candidates) or f"none on {_DAY_NAMES[day.weekday()]}s"
        )
        raise BusinessRuleViolation(
            f"{what} is not a slot this supplier offers (offered windows on that day: {windows})"
        )
    if purpose not in match.window.purposes:
        raise BusinessRuleViolation(
            f"{what} is not offered for purpose {purpose} "
            f"(offered for {', '.join(sorted(match.window.purposes))})"
        )
    slot = match.slot
    if booked.get(slot.key, 0) >= slot.capacity:
        raise BusinessRuleViolation(f"{what} is full (all {slot.capacity} appointments are reserved)")
    return slot
