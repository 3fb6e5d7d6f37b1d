"""Clocks: manual ones stand still, accelerated ones run faster, none goes backwards."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.domain import clock as clock_module
from simulator.domain.clock import (
    DEFAULT_HORIZON,
    AcceleratedClock,
    ClockCannotGoBack,
    ClockHorizonReached,
    ManualClock,
    RealClock,
    clock_from_spec,
    format_instant,
    parse_duration,
    parse_horizon,
)
from simulator.domain.errors import ConfigurationError, MalformedRequest

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
    with pytest.raises(ClockCannotGoBack, match="backwards"):
        clock.advance(timedelta(seconds=-1))
    with pytest.raises(ClockCannotGoBack, match="backwards"):
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


# --- the horizon -----------------------------------------------------------------------------


@pytest.mark.parametrize("by", [timedelta(days=365 * 80), timedelta.max, timedelta(days=999_999_999)])
def test_the_clock_refuses_to_pass_its_horizon_and_stays_where_it_was(by: timedelta) -> None:
    clock = ManualClock(START)
    with pytest.raises(ClockHorizonReached, match="horizon 2100-01-01T00:00:00Z") as caught:
        clock.advance(by)
    assert caught.value.status == 422
    assert clock.now() == START
    assert clock.advance(timedelta(days=1)) == START + timedelta(days=1)  # still usable


@pytest.mark.parametrize(
    "text", ["2100-01-01T00:00:01Z", "9999-12-31T23:59:59+00:00", "9999-12-31T23:59:59-23:59"]
)
def test_setting_the_clock_past_its_horizon_is_refused(text: str) -> None:
    clock = ManualClock(START)
    with pytest.raises(ClockHorizonReached):
        clock.set(datetime.fromisoformat(text))
    assert clock.now() == START


def test_the_clock_may_reach_its_horizon_exactly() -> None:
    clock = ManualClock(START)
    assert clock.set(DEFAULT_HORIZON) == DEFAULT_HORIZON
    with pytest.raises(ClockHorizonReached):
        clock.advance(timedelta(microseconds=1))


def test_the_horizon_is_configurable() -> None:
    horizon = parse_horizon("2030-01-01")
    clock = clock_from_spec("manual@2026-07-01T09:00:00Z", horizon)
    assert clock.horizon == datetime(2030, 1, 1, tzinfo=UTC)
    with pytest.raises(ClockHorizonReached, match="2030-01-01"):
        clock.advance(timedelta(days=2000))


@pytest.mark.parametrize("text", ["someday", "9999-01-01", "2100-01-01T00:00:00"])
def test_a_bad_horizon_is_a_configuration_error(text: str) -> None:
    with pytest.raises(ConfigurationError):
        parse_horizon(text)


def test_a_clock_that_starts_after_its_horizon_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="after its horizon"):
        clock_from_spec("manual@2101-01-01T00:00:00Z")


def test_a_fast_clock_stands_still_at_its_horizon_instead_of_overflowing(wall: FakeWall) -> None:
    clock = AcceleratedClock(1_000_000, start=START)
    wall.now += timedelta(days=365 * 100)  # a century of wall time at a million times
    assert clock.now() == DEFAULT_HORIZON


def test_the_real_clock_stands_still_at_its_horizon(wall: FakeWall) -> None:
    clock = RealClock()
    clock.set(DEFAULT_HORIZON - timedelta(seconds=1))
    wall.now += timedelta(hours=1)
    assert clock.now() == DEFAULT_HORIZON


@pytest.mark.parametrize("factor", ["accelerated:1000000000", "accelerated:99999999999999999999"])
def test_an_absurd_acceleration_is_refused(factor: str) -> None:
    with pytest.raises(MalformedRequest, match="at most"):
        clock_from_spec(factor)


@pytest.mark.parametrize("text", ["P99999999999D", "PT" + "9" * 400 + "S", "P9999999999999999999999D"])
def test_a_duration_longer_than_any_clock_can_move_is_a_422(text: str) -> None:
    with pytest.raises(ClockHorizonReached) as caught:
        parse_duration(text)
    assert len(str(caught.value)) < 200


@given(st.lists(st.timedeltas(min_value=timedelta(), max_value=timedelta.max), max_size=10))
def test_no_sequence_of_moves_leaves_the_clock_past_its_horizon(steps: list[timedelta]) -> None:
    clock = ManualClock(START)
    for step in steps:
        with contextlib.suppress(ClockHorizonReached):
            clock.advance(step)
        assert START <= clock.now() <= DEFAULT_HORIZON
    clock.now() + timedelta(days=3650)  # what scripts add to it stays representable


# --- reset -----------------------------------------------------------------------------------


def test_a_reset_puts_a_manual_clock_back_to_its_start() -> None:
    clock = ManualClock(START)
    clock.advance(timedelta(days=3))
    assert clock.reset() == START


def test_a_reset_restarts_an_accelerated_clock_from_its_start(wall: FakeWall) -> None:
    clock = AcceleratedClock(60, start=START)
    wall.now += timedelta(minutes=1)
    clock.advance(timedelta(days=1))
    assert clock.reset() == START
