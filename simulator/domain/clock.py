"""Clocks: the only place in the domain that knows what time it is.

``RealClock`` follows the wall clock, ``AcceleratedClock`` runs it faster from a
starting point, and ``ManualClock`` only moves when told. Every clock can be moved
forward by hand (``advance``/``set``), which is how tests and users expire a
reservation or fast-forward an order without sleeping. Clocks never go backwards,
except when :meth:`Clock.reset` puts them back to their start.

Every clock stops at a *horizon* (:data:`DEFAULT_HORIZON`, the start of 2100, unless
configured): moving it past that is refused with a 422 that says so, and a clock that
runs by itself stands still there. Without it, a clock moved near ``datetime.max``
would make every later date calculation overflow, i.e. every later request fail.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from simulator.domain.errors import BusinessRuleViolation, ConfigurationError, MalformedRequest, excerpt

DEFAULT_HORIZON = datetime(2100, 1, 1, tzinfo=UTC)
"""Where clocks stop unless told otherwise: far enough for any test, far from ``datetime.max``."""
LATEST_HORIZON = datetime(9000, 1, 1, tzinfo=UTC)
"""The latest horizon allowed: dates a few years beyond it must still be representable."""
MAX_ACCELERATION = 1_000_000.0


class ClockHorizonReached(BusinessRuleViolation):
    """The clock was asked to move past its horizon."""


class ClockCannotGoBack(BusinessRuleViolation):
    """The clock was asked to move backwards (a well-formed request the clock's rule refuses)."""


class Clock(Protocol):
    """Tells the time (always timezone-aware UTC) and can be moved forward, up to ``horizon``."""

    kind: str
    horizon: datetime

    @property
    def state(self) -> ClockState:
        """The clock as a value (what a shared clock stores)."""
        ...

    def now(self) -> datetime:
        """The current instant, in UTC."""
        ...

    def advance(self, by: timedelta) -> datetime:
        """Move forward by ``by``; returns the new time."""
        ...

    def set(self, to: datetime) -> datetime:
        """Jump forward to ``to``; returns the new time."""
        ...

    def reset(self) -> datetime:
        """Go back to where the clock started (the one way back); returns the new time."""
        ...


def check_horizon(horizon: datetime) -> datetime:
    """``horizon`` as aware UTC, refused when it is naive or beyond :data:`LATEST_HORIZON`."""
    if horizon.tzinfo is None:
        raise ConfigurationError(f"clock horizon {horizon.isoformat()} needs a UTC offset")
    horizon = horizon.astimezone(UTC)
    if horizon > LATEST_HORIZON:
        raise ConfigurationError(
            f"clock horizon {format_instant(horizon)} is after {format_instant(LATEST_HORIZON)}"
        )
    return horizon


EARLIEST_DATE = date(1900, 1, 1)
"""The earliest date a request may name: before it, only overflow lies in wait."""


def check_date_in_range(field: str, value: date, horizon: datetime) -> None:
    """Refuse (422) a date in a request before :data:`EARLIEST_DATE` or after the clock's horizon.

    The rules would refuse such a date anyway (in the past, beyond booking), but only after
    date arithmetic on it, which overflows near ``date.max`` and ``date.min``.
    """
    day = value.date() if isinstance(value, datetime) else value
    if day < EARLIEST_DATE:
        raise BusinessRuleViolation(f"{field} {day.isoformat()} is before {EARLIEST_DATE.isoformat()}")
    if day > horizon.date():
        raise BusinessRuleViolation(
            f"{field} {day.isoformat()} is after the simulator clock's horizon {format_instant(horizon)}"
        )


def _wall() -> datetime:
    return datetime.now(UTC)  # noqa: TID251 - the one sanctioned read of the wall clock


def wall_time() -> datetime:
    """The wall clock's reading (for code outside the domain that keeps a clock's state elsewhere)."""
    return _wall()


@dataclass(frozen=True, slots=True)
class ClockState:
    """Everything a clock is, as a value: where it can be kept (in memory or in a database).

    ``now`` and the moves take the wall clock's reading, so a state read by several
    processes tells them all the same time. ``start`` is where a manual or accelerated
    clock starts (unused by a real clock); ``wall_start`` is when an accelerated one
    started running; ``offset`` is everything it was moved by since. ``spec`` is the text
    it was built from (``""`` when built in code), so a process can tell whether a stored
    clock is the one it was asked for.
    """

    kind: str
    start: datetime
    wall_start: datetime
    factor: float
    offset: timedelta
    horizon: datetime
    spec: str = ""

    def _base(self, wall: datetime) -> datetime:
        if self.kind == "manual":
            return self.start
        if self.kind == "accelerated":
            # In seconds and clamped first: a long run at a high factor must stop at the horizon,
            # not overflow datetime on the way there.
            elapsed = (wall - self.wall_start).total_seconds() * self.factor
            room = (self.horizon - self.start).total_seconds()
            return self.start + timedelta(seconds=max(0.0, min(elapsed, room)))
        return wall

    def now(self, wall: datetime) -> datetime:
        """The current instant, in UTC (never later than the horizon)."""
        return min(self._base(wall) + self.offset, self.horizon)

    def advanced(self, by: timedelta, wall: datetime) -> ClockState:
        """The clock moved forward by ``by``; refuses to move backwards or past the horizon."""
        if by < timedelta():
            raise ClockCannotGoBack("the clock cannot move backwards")
        now = self.now(wall)
        # Compared as a remaining span, so even timedelta.max cannot overflow a date.
        if by > self.horizon - now:
            raise ClockHorizonReached(
                f"the clock stops at its horizon {format_instant(self.horizon)}: moving "
                f"{format_instant(now)} on by {by} would pass it (fibresim serve --clock-horizon sets it)"
            )
        return replace(self, offset=self.offset + by)

    def set_to(self, to: datetime, wall: datetime) -> ClockState:
        """The clock jumped forward to ``to`` (timezone-aware); refuses backwards or past the horizon."""
        if to.tzinfo is None:
            raise MalformedRequest("the clock needs a time with a UTC offset")
        try:
            target = to.astimezone(UTC)
        except OverflowError:  # 9999-12-31T23:59-23:59 is past the last representable UTC instant
            target = datetime.max.replace(tzinfo=UTC)
        if target > self.horizon:
            raise ClockHorizonReached(
                f"the clock stops at its horizon {format_instant(self.horizon)}: "
                f"{to.isoformat()} is after it (fibresim serve --clock-horizon sets it)"
            )
        return self.advanced(target - self.now(wall), wall)

    def restarted(self, wall: datetime) -> ClockState:
        """Every move forgotten: back to the clock's own reading (an accelerated one restarts)."""
        return replace(self, offset=timedelta(), wall_start=wall)


class _OffsetClock:
    """A clock whose :class:`ClockState` is kept in this process."""

    kind = "real"
    horizon: datetime

    def __init__(self, horizon: datetime = DEFAULT_HORIZON) -> None:
        self._lock = threading.Lock()
        self.horizon = check_horizon(horizon)
        wall = _wall()
        self._state = ClockState(self.kind, wall, wall, 1.0, timedelta(), self.horizon)

    @property
    def state(self) -> ClockState:
        """The clock as a value."""
        return self._state

    def now(self) -> datetime:
        """The current instant, in UTC (never later than the horizon)."""
        return self._state.now(_wall())

    def advance(self, by: timedelta) -> datetime:
        """Move forward by ``by``; refuses to move backwards or past the horizon."""
        with self._lock:
            self._state = self._state.advanced(by, _wall())
            return self.now()

    def set(self, to: datetime) -> datetime:
        """Jump forward to ``to`` (timezone-aware); refuses to move backwards or past the horizon."""
        with self._lock:
            self._state = self._state.set_to(to, _wall())
            return self.now()

    def reset(self) -> datetime:
        """Forget every move: back to the clock's own reading."""
        with self._lock:
            self._state = self._state.restarted(_wall())
            return self.now()


class RealClock(_OffsetClock):
    """The wall clock, plus whatever it has been advanced by."""

    kind = "real"


class AcceleratedClock(_OffsetClock):
    """Runs ``factor`` times faster than the wall clock from ``start``."""

    kind = "accelerated"

    def __init__(
        self, factor: float, start: datetime | None = None, horizon: datetime = DEFAULT_HORIZON
    ) -> None:
        super().__init__(horizon)
        if not 0 < factor <= MAX_ACCELERATION:
            raise MalformedRequest(
                f"the acceleration factor must be above 0 and at most {MAX_ACCELERATION:g}"
            )
        self.factor = factor
        self._state = replace(self._state, factor=factor, start=start or self._state.wall_start)


class ManualClock(_OffsetClock):
    """Stands still until advanced or set."""

    kind = "manual"

    def __init__(self, start: datetime | None = None, horizon: datetime = DEFAULT_HORIZON) -> None:
        super().__init__(horizon)
        start = start or self._state.wall_start
        if start.tzinfo is None:
            raise MalformedRequest("the clock needs a time with a UTC offset")
        start = start.astimezone(UTC)
        if start > self.horizon:
            raise ConfigurationError(
                f"the clock starts at {format_instant(start)}, "
                f"after its horizon {format_instant(self.horizon)}"
            )
        self._state = replace(self._state, start=start)


_CLOCK_SPEC = re.compile(r"^(real|manual(?:@(?P<start>\S+))?|accelerated:(?P<factor>[0-9.]+))$")


def clock_from_spec(spec: str, horizon: datetime = DEFAULT_HORIZON) -> Clock:
    """Build a clock from ``real``, ``manual``, ``manual@<ISO time>`` or ``accelerated:<factor>``.

    The clock stops at ``horizon`` (see :class:`ClockHorizonReached`).
    """
    return _clock_from_spec(spec, horizon)


def clock_state_from_spec(spec: str, horizon: datetime = DEFAULT_HORIZON) -> ClockState:
    """The state of a clock just built from ``spec`` (see :func:`clock_from_spec`)."""
    return _clock_from_spec(spec, horizon).state


def _clock_from_spec(spec: str, horizon: datetime) -> _OffsetClock:
    match = _CLOCK_SPEC.match(spec.strip())
    if match is None:
        raise MalformedRequest(
            f"unknown clock {spec!r}: use real, manual, manual@2026-07-01T09:00:00Z or accelerated:<factor>"
        )
    if match["factor"] is not None:
        try:
            factor = float(match["factor"])
        except ValueError:
            raise MalformedRequest(f"bad acceleration factor in {spec!r}") from None
        return _with_spec(AcceleratedClock(factor, horizon=horizon), spec)
    if spec.startswith("manual"):
        start = None
        if match["start"]:
            try:
                start = datetime.fromisoformat(match["start"])
            except ValueError:
                raise MalformedRequest(f"bad start time in {spec!r}") from None
        return _with_spec(ManualClock(start, horizon), spec)
    return _with_spec(RealClock(horizon), spec)


def _with_spec(clock: _OffsetClock, spec: str) -> _OffsetClock:
    clock._state = replace(clock.state, spec=spec.strip())
    return clock


_DURATION = re.compile(r"^P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$")


def parse_duration(text: str) -> timedelta:
    """Parse an ISO-8601 duration of days/hours/minutes/seconds (``P1DT2H``, ``PT90S``)."""
    match = _DURATION.match(text)
    if match is None or text in {"P", "PT"} or text.endswith("T"):
        raise MalformedRequest(f"{excerpt(text)} is not an ISO-8601 duration such as PT30M or P2D")
    try:
        return timedelta(
            days=int(match["d"] or 0),
            hours=int(match["h"] or 0),
            minutes=int(match["m"] or 0),
            seconds=float(match["s"] or 0),
        )
    except OverflowError:  # beyond timedelta's ~2.7 million years: well formed, but no clock goes there
        raise ClockHorizonReached(f"{excerpt(text)} is longer than any clock can move") from None


def parse_horizon(text: str) -> datetime:
    """A ``--clock-horizon`` value: an ISO date (``2100-01-01``) or an instant with a UTC offset."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigurationError(f"clock horizon {text!r} is not an ISO date or date-time") from None
    if moment.tzinfo is None and len(text.strip()) <= len("2100-01-01"):
        moment = moment.replace(tzinfo=UTC)  # a bare date means midnight UTC
    return check_horizon(moment)


def format_instant(moment: datetime) -> str:
    """An instant as the APIs write it: UTC with a ``Z`` (``2026-07-01T09:00:00Z``)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
