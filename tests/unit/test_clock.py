"""Clocks: manual ones stand still, accelerated ones run faster, none goes backwards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.domain import clock as clock_module
from simulator.domain.clock import (
    AcceleratedClock,
    ManualClock,
    RealClock,
    clock_from_spec,
    format_instant,
    parse_duration,
)
from simulator.domain.errors import MalformedRequest

START = datetime(2026, 7, 1, 9, tzinfo=UTC)


class FakeWall:
    """Stands in for the wall clock so no test has to sleep."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def wall(monkeypatch: pytest.MonkeyPatch) -> FakeWall:
    fake = FakeWall()
    monkeypatch.setattr(clock_module, "_wall", fake)
    return fake


def test_a_manual_clock_stands_still_until_moved(wall: FakeWall) -> None:
    clock = ManualClock(START)
    wall.now += timedelta(hours=5)
    assert clock.now() == START
    assert clock.advance(timedelta(minutes=30)) == START + timedelta(minutes=30)
    assert clock.set(START + timedelta(days=2)) == START + timedelta(days=2)


def test_an_accelerated_clock_runs_factor_times_faster(wall: FakeWall) -> None:
    clock = AcceleratedClock(60, start=START)
    wall.now += timedelta(seconds=10)
    assert clock.now() == START + timedelta(minutes=10)
    clock.advance(timedelta(hours=1))
    wall.now += timedelta(seconds=1)
    assert clock.now() == START + timedelta(minutes=71)


def test_the_real_clock_follows_the_wall_plus_what_it_was_advanced(wall: FakeWall) -> None:
    clock = RealClock()
    assert clock.now() == wall.now
    clock.advance(timedelta(days=1))
    assert clock.now() == wall.now + timedelta(days=1)


@pytest.mark.parametrize(
    "clock", [ManualClock(START), RealClock(), AcceleratedClock(5)], ids=["manual", "real", "x5"]
)
def test_no_clock_moves_backwards(clock: ManualClock) -> None:
    with pytest.raises(MalformedRequest, match="backwards"):
        clock.advance(timedelta(seconds=-1))
    with pytest.raises(MalformedRequest, match="backwards"):
        clock.set(clock.now() - timedelta(days=1))


def test_a_time_without_an_offset_is_refused() -> None:
    with pytest.raises(MalformedRequest, match="UTC offset"):
        ManualClock(START).set(datetime(2026, 8, 1, 9))


@pytest.mark.parametrize(
    ("spec", "kind"),
    [
        ("real", "real"),
        ("manual", "manual"),
        ("manual@2026-07-01T09:00:00Z", "manual"),
        ("accelerated:60", "accelerated"),
    ],
)
def test_clock_specs_build_the_named_clock(spec: str, kind: str) -> None:
    assert clock_from_spec(spec).kind == kind


def test_a_manual_clock_spec_starts_at_its_time() -> None:
    assert clock_from_spec("manual@2026-07-01T09:00:00Z").now() == START


@pytest.mark.parametrize("spec", ["fast", "accelerated:0", "accelerated:-2", "manual@yesterday", ""])
def test_bad_clock_specs_are_refused_with_the_choices(spec: str) -> None:
    with pytest.raises(MalformedRequest):
        clock_from_spec(spec)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PT30M", timedelta(minutes=30)),
        ("P2D", timedelta(days=2)),
        ("P1DT2H3M4S", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("PT0.5S", timedelta(milliseconds=500)),
    ],
)
def test_durations_parse(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["P", "PT", "30M", "P1H", "P1DT", "-PT5M"])
def test_malformed_durations_are_refused(text: str) -> None:
    with pytest.raises(MalformedRequest):
        parse_duration(text)


@given(st.lists(st.timedeltas(min_value=timedelta(), max_value=timedelta(days=30)), max_size=20))
def test_advancing_a_manual_clock_adds_up(steps: list[timedelta]) -> None:
    clock = ManualClock(START)
    for step in steps:
        clock.advance(step)
    assert clock.now() == START + sum(steps, timedelta())


def test_instants_are_written_in_utc_with_a_z() -> None:
    assert format_instant(datetime.fromisoformat("2026-07-01T10:00:00+01:00")) == "2026-07-01T09:00:00Z"
