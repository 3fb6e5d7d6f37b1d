"""Clocks: the only place in the domain that knows what time it is.

``RealClock`` follows the wall clock, ``AcceleratedClock`` runs it faster from a
starting point, and ``ManualClock`` only moves when told. Every clock can be moved
forward by hand (``advance``/``set``), which is how tests and users expire a
reservation or fast-forward an order without sleeping. Clocks never go backwards.
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol

from simulator.domain.errors import MalformedRequest


class Clock(Protocol):
    """Tells the time (always timezone-aware UTC) and can be moved forward."""

    kind: str

    def now(self) -> datetime:
        """The current instant, in UTC."""
        ...

    def advance(self, by: timedelta) -> datetime:
        """Move forward by ``by``; returns the new time."""
        ...

    def set(self, to: datetime) -> datetime:
        """Jump forward to ``to``; returns the new time."""
        ...


def _wall() -> datetime:
    return datetime.now(UTC)  # noqa: TID251 - the one sanctioned read of the wall clock


class _OffsetClock:
    """Shared logic: a base clock reading plus an offset that only grows."""

    kind = "real"

    def __init__(self) -> None:
        self._offset = timedelta()
        self._lock = threading.Lock()

    def _base(self) -> datetime:
        return _wall()

    def now(self) -> datetime:
        """The current instant, in UTC."""
        return self._base() + self._offset

    def advance(self, by: timedelta) -> datetime:
        """Move forward by ``by``; refuses to move backwards."""
        if by < timedelta():
            raise MalformedRequest("the clock cannot move backwards")
        with self._lock:
            self._offset += by
            return self.now()

    def set(self, to: datetime) -> datetime:
        """Jump forward to ``to`` (timezone-aware); refuses to move backwards."""
        if to.tzinfo is None:
            raise MalformedRequest("the clock needs a time with a UTC offset")
        return self.advance(to - self.now())


class RealClock(_OffsetClock):
    """The wall clock, plus whatever it has been advanced by."""

    kind = "real"


class AcceleratedClock(_OffsetClock):
    """Runs ``factor`` times faster than the wall clock from ``start``."""

    kind = "accelerated"

    def __init__(self, factor: float, start: datetime | None = None) -> None:
        super().__init__()
        if factor <= 0:
            raise MalformedRequest("the acceleration factor must be positive")
        self.factor = factor
        self._wall_start = _wall()
        self._start = start or self._wall_start

    def _base(self) -> datetime:
        return self._start + (_wall() - self._wall_start) * self.factor


class ManualClock(_OffsetClock):
    """Stands still until advanced or set."""

    kind = "manual"

    def __init__(self, start: datetime | None = None) -> None:
        super().__init__()
        start = start or _wall()
        if start.tzinfo is None:
            raise MalformedRequest("the clock needs a time with a UTC offset")
        self._start = start.astimezone(UTC)

    def _base(self) -> datetime:
        return self._start


_CLOCK_SPEC = re.compile(r"^(real|manual(?:@(?P<start>\S+))?|accelerated:(?P<factor>[0-9.]+))$")


def clock_from_spec(spec: str) -> Clock:
    """Build a clock from ``real``, ``manual``, ``manual@<ISO time>`` or ``accelerated:<factor>``."""
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
        return AcceleratedClock(factor)
    if spec.startswith("manual"):
        start = None
        if match["start"]:
            try:
                start = datetime.fromisoformat(match["start"])
            except ValueError:
                raise MalformedRequest(f"bad start time in {spec!r}") from None
        return ManualClock(start)
    return RealClock()


_DURATION = re.compile(r"^P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$")


def parse_duration(text: str) -> timedelta:
    """Parse an ISO-8601 duration of days/hours/minutes/seconds (``P1DT2H``, ``PT90S``)."""
    match = _DURATION.match(text)
    if match is None or text in {"P", "PT"} or text.endswith("T"):
        raise MalformedRequest(f"{text!r} is not an ISO-8601 duration such as PT30M or P2D")
    return timedelta(
        days=int(match["d"] or 0),
        hours=int(match["h"] or 0),
        minutes=int(match["m"] or 0),
        seconds=float(match["s"] or 0),
    )


def format_instant(moment: datetime) -> str:
    """An instant as the APIs write it: UTC with a ``Z`` (``2026-07-01T09:00:00Z``)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
