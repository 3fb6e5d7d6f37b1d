"""The retry policy: which answers are retried, and how long each retry waits."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.domain.retry import DELIVERED, REJECTED, RETRY, RetryPolicy, classify, retry_after

POLICY = RetryPolicy()


@pytest.mark.parametrize(
    ("status", "timed_out", "connection_error", "expected"),
    [
        (200, False, False, DELIVERED),
        (202, False, False, DELIVERED),
        (204, False, False, DELIVERED),
        (400, False, False, REJECTED),
        (401, False, False, REJECTED),
        (403, False, False, REJECTED),
        (404, False, False, REJECTED),
        (409, False, False, REJECTED),
        (422, False, False, REJECTED),
        (408, False, False, RETRY),
        (429, False, False, RETRY),
        (500, False, False, RETRY),
        (502, False, False, RETRY),
        (503, False, False, RETRY),
        (504, False, False, RETRY),
        (301, False, False, RETRY),
        (None, True, False, RETRY),
        (None, False, True, RETRY),
        (None, False, False, RETRY),
    ],
)
def test_each_answer_is_classified_as_delivered_rejected_or_retry(
    status: int | None, timed_out: bool, connection_error: bool, expected: str
) -> None:
    assert classify(status, timed_out=timed_out, connection_error=connection_error) == expected


def test_the_first_retry_waits_about_the_base_delay() -> None:
    delay = POLICY.delay_for(1, random.Random(1))
    assert timedelta(seconds=0.5) <= delay <= timedelta(seconds=1)


def test_delays_grow_with_each_attempt_until_the_cap() -> None:
    ceilings = [POLICY.ceiling(attempt) for attempt in range(1, 12)]
    assert ceilings[:5] == [timedelta(seconds=s) for s in (1, 2, 4, 8, 16)]
    assert ceilings == sorted(ceilings)
    assert ceilings[-1] == POLICY.max_delay == timedelta(minutes=5)


def test_the_same_random_source_gives_the_same_delays() -> None:
    first = [POLICY.delay_for(n, random.Random(7)) for n in range(1, 10)]
    second = [POLICY.delay_for(n, random.Random(7)) for n in range(1, 10)]
    assert first == second


@given(attempt=st.integers(min_value=1, max_value=10**6), seed=st.integers(min_value=0, max_value=2**32))
def test_every_delay_lies_between_half_the_ceiling_and_the_ceiling(attempt: int, seed: int) -> None:
    delay = POLICY.delay_for(attempt, random.Random(seed))
    ceiling = POLICY.ceiling(attempt)
    assert timedelta() <= ceiling / 2 <= delay <= ceiling <= POLICY.max_delay


@given(
    attempt=st.integers(min_value=1, max_value=40),
    seed=st.integers(min_value=0, max_value=2**32),
    base_ms=st.integers(min_value=1, max_value=5_000),
    factor=st.floats(min_value=2, max_value=10),
)
def test_below_the_cap_a_retry_never_waits_less_than_the_one_before(
    attempt: int, seed: int, base_ms: int, factor: float
) -> None:
    policy = RetryPolicy(
        base_delay=timedelta(milliseconds=base_ms), factor=factor, max_delay=timedelta(days=1)
    )
    rng = random.Random(seed)
    if policy.ceiling(attempt + 1) < policy.max_delay:
        assert policy.delay_for(attempt, rng) <= policy.delay_for(attempt + 1, rng)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("5", timedelta(seconds=5)),
        (" 120 ", timedelta(seconds=120)),
        ("0", timedelta()),
        (None, None),
        ("", None),
        ("-3", None),
        ("1.5", None),
        ("soon", None),
        ("Wed, 21 Oct 2026 07:28:00 GMT", None),
    ],
)
def test_a_retry_after_header_is_read_as_seconds(header: str | None, expected: timedelta | None) -> None:
    assert retry_after(header) == expected


def test_a_retry_after_longer_than_the_back_off_is_honoured() -> None:
    delay = POLICY.delay_for(1, random.Random(1), retry_after=timedelta(seconds=30))
    assert delay == timedelta(seconds=30)


def test_a_retry_after_shorter_than_the_back_off_does_not_shorten_it() -> None:
    without = POLICY.delay_for(6, random.Random(3))
    assert POLICY.delay_for(6, random.Random(3), retry_after=timedelta(seconds=1)) == without


def test_a_huge_retry_after_is_capped_at_the_policy_limit() -> None:
    delay = POLICY.delay_for(1, random.Random(1), retry_after=timedelta(days=3))
    assert delay == POLICY.retry_after_limit == timedelta(hours=1)


def test_without_a_limit_the_policy_never_gives_up() -> None:
    assert not POLICY.gives_up_after(10**9)


def test_with_a_limit_the_policy_gives_up_after_that_many_attempts() -> None:
    policy = RetryPolicy(max_attempts=3)
    assert [policy.gives_up_after(n) for n in (1, 2, 3)] == [False, False, True]


@pytest.mark.parametrize(
    "arguments",
    [
        {"base_delay": timedelta()},
        {"factor": 0.5},
        {"base_delay": timedelta(seconds=10), "max_delay": timedelta(seconds=1)},
        {"max_attempts": 0},
    ],
)
def test_a_nonsensical_policy_is_refused(arguments: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="must be"):
        RetryPolicy(**arguments)  # type: ignore[arg-type]


def test_attempts_are_counted_from_one() -> None:
    with pytest.raises(ValueError, match="from 1"):
        POLICY.ceiling(0)
