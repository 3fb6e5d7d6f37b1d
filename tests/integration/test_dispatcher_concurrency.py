"""The dispatcher sends the KCIs of different orders at once, and still one order's in sequence."""

from __future__ import annotations

import threading
import time
from typing import Any

from simulator.delivery.dispatcher import DispatchReport
from simulator.delivery.transport import TransportResult
from simulator.storage import Database
from tests.integration.test_dispatcher import (  # the fixtures too, used by name
    FakeGateway,
    ManualClock,
    attempts,
    clock,
    database,
    dispatcher_for,
    pending,
    queue_story,
    run_until_delivered,
)

__all__ = ["clock", "database"]


class MeetingGateway(FakeGateway):
    """Answers only once ``parties`` sends are in flight together (a barrier, bounded by a timeout).

    A dispatcher that sends one KCI at a time never gets an answer from it: every send
    times out at the barrier and counts as a failed attempt.
    """

    def __init__(self, database: Database, parties: int) -> None:
        super().__init__(database)
        self._barrier = threading.Barrier(parties, timeout=10)
        self.threads: set[str] = set()

    def send(self, kci_id: str, payload: dict[str, Any]) -> TransportResult:
        self.threads.add(threading.current_thread().name)
        try:
            self._barrier.wait()
        except threading.BrokenBarrierError:
            return TransportResult(None, error="nobody else was in flight", timed_out=True)
        return super().send(kci_id, payload)


def test_first_kcis_of_four_orders_are_in_flight_together_and_recorded(
    database: Database, clock: ManualClock
) -> None:
    firsts = [queue_story(database, order_id, count=1)[0] for order_id in (11, 12, 13, 14)]
    gateway = MeetingGateway(database, parties=4)
    dispatcher = dispatcher_for(database, gateway, clock, concurrency=4)
    try:
        report = dispatcher.run_once()
    finally:
        dispatcher.stop()
    assert report.delivered == 4
    assert sorted(gateway.ids()) == sorted(firsts)
    assert len(gateway.threads) == 4
    assert all([attempt.outcome for attempt in attempts(database, kci)] == ["DELIVERED"] for kci in firsts)
    assert pending(database) == 0


def test_concurrent_rounds_keep_each_orders_sequence(database: Database, clock: ManualClock) -> None:
    stories = {order_id: queue_story(database, order_id, count=5) for order_id in range(20, 32)}
    gateway = FakeGateway(database)
    dispatcher = dispatcher_for(database, gateway, clock, concurrency=8)
    try:
        rounds = run_until_delivered(dispatcher, database, clock)
    finally:
        dispatcher.stop()
    sent = gateway.ids()
    assert sorted(sent) == sorted(kci for story in stories.values() for kci in story)
    for story in stories.values():
        assert [kci for kci in sent if kci in story] == story
    assert rounds <= 5  # one KCI per order per round: five rounds for stories of five


class PacedGateway(FakeGateway):
    """Answers each KCI after ``delay`` seconds and notes which thread sent it."""

    def __init__(self, database: Database, delay: float) -> None:
        super().__init__(database)
        self.delay = delay
        self.threads_in_order: list[str] = []
        self._lock = threading.Lock()

    def send(self, kci_id: str, payload: dict[str, Any]) -> TransportResult:
        time.sleep(self.delay)
        with self._lock:
            self.threads_in_order.append(threading.current_thread().name)
            return super().send(kci_id, payload)


def first_kcis_sent_through(
    database: Database, clock: ManualClock, orders: range, delay: float
) -> tuple[DispatchReport, list[str]]:
    """One round over the first KCIs of ``orders``, concurrency 4: the report, and each send's thread."""
    for order_id in orders:
        queue_story(database, order_id, count=1)
    gateway = PacedGateway(database, delay=delay)
    dispatcher = dispatcher_for(database, gateway, clock, concurrency=4)
    try:
        return dispatcher.run_once(), gateway.threads_in_order
    finally:
        dispatcher.stop()


def test_after_a_parallel_first_group_a_quick_gateway_is_tried_in_turn(
    database: Database, clock: ManualClock
) -> None:
    report, names = first_kcis_sent_through(database, clock, range(40, 52), delay=0)
    assert report.delivered == 12
    assert all(name.startswith("kci-send") for name in names[:4])  # taken to be far away at first
    assert names[4] == threading.current_thread().name  # then tried in turn
    assert pending(database) == 0


def test_a_slow_gateway_keeps_its_kcis_in_flight_together_after_one_try_in_turn(
    database: Database, clock: ManualClock
) -> None:
    report, names = first_kcis_sent_through(database, clock, range(60, 76), delay=0.05)
    assert report.delivered == 16
    # One send in turn (the try, cut short at once: 50 ms against 12.5 ms a KCI in parallel).
    assert names.count(threading.current_thread().name) == 1
    assert names[4] == threading.current_thread().name
