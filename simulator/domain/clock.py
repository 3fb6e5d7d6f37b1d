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


class _OffsetClock:
    """Shared logic: a base clock reading plus an offset that only grows."""

    kind = "real"
    horizon: datetime

    def __init__(self, horizon: datetime = DEFAULT_HORIZON) -> None:
        self._offset = timedelta()
        self._lock = threading.Lock()
        self.horizon = check_horizon(horizon)

    def _base(self) -> datetime:
        return _wall()

    def now(self) -> datetime:
        """The current instant, in UTC (never later than the horizon)."""
        return min(self._base() + self._offset, self.horizon)

    def advance(self, by: timedelta) -> datetime:
        """Move forward by ``by``; refuses to move backwards or past the horizon."""
        if by < timedelta():
            raise ClockCannotGoBack("the clock cannot move backwards")
        with self._lock:
            now = self.now()
            # Compared as a remaining span, so even timedelta.max cannot overflow a date.
            if by > self.horizon - now:
                raise ClockHorizonReached(
                    f"the clock stops at its horizon {format_instant(self.horizon)}: moving "
                    f"{format_instant(now)} on by {by} would pass it (fibresim serve --clock-horizon sets it)"
                )
            self._offset += by
            return self.now()

    def set(self, to: datetime) -> datetime:
        """Jump forward to ``to`` (timezone-aware); refuses to move backwards or past the horizon."""
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
        return self.advance(target - self.now())

    def reset(self) -> datetime:
        """Forget every move: back to the clock's own reading."""
        with self._lock:
            self._offset = timedelta()
            self._restart()
            return self.now()

    def _restart(self) -> None:
        """Hook for clocks that run from a start point."""


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
        self._wall_start = _wall()
        self._start = start or self._wall_start

    def _base(self) -> datetime:
        # In seconds and clamped first: a long run at a high factor must stop at the horizon,
        # not overflow datetime on the way there.
        elapsed = (_wall() - self._wall_start).total_seconds() * self.factor
        room = (self.horizon - self._start).total_seconds()
        return self._start + timedelta(seconds=max(0.0, min(elapsed, room)))

    def _restart(self) -> None:
        self._wall_start = _wall()


class ManualClock(_OffsetClock):
    """Stands still until advanced or set."""

    kind = "manual"

    def __init__(self, start: datetime | None = None, horizon: datetime = DEFAULT_HORIZON) -> None:
        super().__init__(horizon)
        start = start or _wall()
        if start.tzinfo is None:
            raise MalformedRequest("the clock needs a time with a UTC offset")
        self._start = start.astimezone(UTC)
        if self._start > self.horizon:
            raise ConfigurationError(
                f"the clock starts at {format_instant(self._start)}, "
                f"after its horizon {format_instant(self.horizon)}"
            )

    def _base(self) -> datetime:
        return self._start


_CLOCK_SPEC = re.compile(r"^(real|manual(?:@(?P<start>\S+))?|accelerated:(?P<factor>[0-9.]+))$")


def clock_from_spec(spec: str, horizon: datetime = DEFAULT_HORIZON) -> Clock:
    """Build a clock from ``real``, ``manual``, ``manual@<ISO time>`` or ``accelerated:<factor>``.

    The clock stops at ``horizon`` (see :class:`ClockHorizonReached`).
    """
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
        return AcceleratedClock(factor, horizon=horizon)
    if spec.startswith("manual"):
        start = None
        if match["start"]:
            try:
                start = datetime.fromisoformat(match["start"])
            except ValueError:
                raise MalformedRequest(f"bad start time in {spec!r}") from None
        return ManualClock(start, horizon)
    return RealClock(horizon)


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
