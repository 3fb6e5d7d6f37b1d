"""Pacing: the dispatcher keeps to whichever way of sending a group costs less, and keeps checking."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from simulator.delivery.pacing import CUT_SHORT, WEIGHT, Pacing


def test_parallel_first_then_in_turn_once_then_the_cheaper() -> None:
    pacing = Pacing(probe_every=4)
    assert pacing.in_turn() is False
    pacing.note(False, 0.004, 4)  # 1 ms a KCI in parallel
    assert pacing.in_turn() is True
    pacing.note(True, 0.002, 4)  # 0.5 ms a KCI in turn
    # Group 3 in turn (cheaper), group 4 tries parallel again, then in turn again.
    assert [pacing.in_turn() for _ in range(5)] == [True, False, True, True, True]


def test_a_way_that_becomes_dearer_is_left() -> None:
    pacing = Pacing(probe_every=1000)
    pacing.in_turn()
    pacing.note(False, 0.004, 4)
    pacing.in_turn()
    pacing.note(True, 0.002, 4)
    assert pacing.in_turn() is True
    for _ in range(10):  # the gateway slows down: in turn now costs 5 ms a KCI
        pacing.note(True, 0.02, 4)
    assert pacing.in_turn() is False


def test_a_try_in_turn_is_cut_short_once_it_costs_clearly_more_than_parallel() -> None:
    pacing = Pacing()
    assert pacing.cut_short(1.0, 1) is False  # nothing to compare with yet
    pacing.note(False, 0.04, 4)  # 10 ms a KCI in parallel
    assert pacing.cut_short(0.01 * CUT_SHORT, 1) is False
    assert pacing.cut_short(0.05, 1) is True


@given(st.lists(st.tuples(st.booleans(), st.floats(0.0001, 1.0), st.integers(1, 16)), max_size=60))
def test_once_both_ways_are_measured_the_cheaper_is_chosen_but_for_the_probes(
    groups: list[tuple[bool, float, int]],
) -> None:
    pacing = Pacing(probe_every=5)
    model: dict[bool, float] = {}  # the moving cost per KCI of each way, as the docstring defines it
    for way, seconds, sent in groups:
        pacing.in_turn()
        pacing.note(way, seconds, sent)
        old = model.get(way)
        model[way] = seconds / sent if old is None else old + (seconds / sent - old) * WEIGHT
    following = [pacing.in_turn() for _ in range(5)]
    if True in model and False in model:
        cheaper = model[True] <= model[False]
        assert following.count(cheaper) == 4  # one try of the other way in every five groups
    elif False not in model:
        assert following == [False] * 5  # parallel is measured first
