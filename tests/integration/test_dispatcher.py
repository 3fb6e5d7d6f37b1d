"""The dispatcher delivers the outbox per order in sequence, retries on the delivery clock, acts on
delivery faults and survives a restart; on SQLite and PostgreSQL, against a scripted fake gateway.
"""

from __future__ import annotations

import copy
import logging
import random
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.delivery.dispatcher import DUPLICATE, HOLD_BACK, SWAP_WITH_NEXT, KciDispatcher
from simulator.delivery.transport import TransportResult
from simulator.domain.clock import ManualClock
from simulator.domain.retry import DELIVERED, REJECTED, RETRY, RetryPolicy
from simulator.storage import Database, outbox
from simulator.storage.outbox import OutboxEntry
from tests.integration.test_receiver import make_kci, provide_story

START = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
POLICY = RetryPolicy(base_delay=timedelta(seconds=10), factor=2, max_delay=timedelta(minutes=5))
LONGEST_WAIT = POLICY.max_delay


def ok() -> TransportResult:
    return TransportResult(204)


def answer(status: int, body: str | None = None, retry_after: timedelta | None = None) -> TransportResult:
    return TransportResult(status, body=body, retry_after=retry_after)


def timeout() -> TransportResult:
    return TransportResult(None, error="timed out: read", timed_out=True)


def refused() -> TransportResult:
    return TransportResult(None, error="connection failed: refused", connection_error=True)


class FakeGateway:
    """Answers each KCI from a script (204 once the script runs out) and remembers every send.

    It also notes how many database connections the dispatcher had checked out while it
    waited for the gateway.
    """

    def __init__(self, database: Database | None = None) -> None:
        self.sent: list[dict[str, Any]] = []
        self.outcomes: list[tuple[str, str]] = []
        self.connections_held: list[int] = []
        self.sent_something = threading.Event()
        self._database = database
        self._script: dict[str, deque[TransportResult | Exception]] = defaultdict(deque)

    def will_answer(self, kci_id: str, *results: TransportResult | Exception) -> None:
        self._script[kci_id].extend(results)

    def send(self, kci_id: str, payload: dict[str, Any]) -> TransportResult:
        assert payload["id"] == kci_id
        if self._database is not None:
            self.connections_held.append(self._database.engine.pool.checkedout())  # type: ignore[attr-defined]
        self.sent.append(copy.deepcopy(payload))
        self.sent_something.set()
        script = self._script[kci_id]
        result = script.popleft() if script else ok()
        if isinstance(result, Exception):
            raise result
        self.outcomes.append((kci_id, result.outcome))
        return result

    def ids(self) -> list[str]:
        return [kci["id"] for kci in self.sent]


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    db.create_schema()
    yield db
    db.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def gateway(database: Database) -> FakeGateway:
    return FakeGateway(database)


def dispatcher_for(
    database: Database, gateway: FakeGateway, clock: ManualClock, policy: RetryPolicy = POLICY, **options: Any
) -> KciDispatcher:
    return KciDispatcher(database, gateway, clock, policy, random.Random(1), **options)


def queue(
    database: Database, kci: dict[str, Any], *, order: str | None = None, fault: str | None = None
) -> str:
    entity = next(value for key, value in kci.items() if key.endswith("ServiceOrder"))
    with database.transaction() as connection:
        outbox.enqueue(
            connection,
            kci_id=kci["id"],
            order_key=order or str(entity["id"]),
            sequence_number=kci["sequenceNumber"],
            payload=kci,
            now=START,
            fault=fault,
        )
    return str(kci["id"])


def queue_story(database: Database, order_id: int, count: int = 5) -> list[str]:
    return [queue(database, kci) for kci in provide_story(order_id)[:count]]


def queue_story_with_a_fault_on_the_first(database: Database, fault: str, count: int) -> list[str]:
    """Queue an order's first ``count`` KCIs, the first carrying the delivery ``fault``."""
    ids = queue_story(database, 1, count=count)
    with database.transaction() as connection:
        outbox.set_fault(connection, ids[0], fault)
    return ids


def two_kcis_the_first_answered(
    database: Database, gateway: FakeGateway, *results: TransportResult
) -> tuple[str, str]:
    """Queue an order's first two KCIs; the gateway will answer the first with ``results``."""
    first, second = queue_story(database, 1, count=2)
    gateway.will_answer(first, *results)
    return first, second


def entry_of(database: Database, kci_id: str) -> OutboxEntry:
    with database.reading() as connection:
        entries = [
            entry
            for order in _order_keys(connection)
            for entry in outbox.for_order(connection, order)
            if entry.kci_id == kci_id
        ]
    assert len(entries) == 1, kci_id
    return entries[0]


def _order_keys(connection: Any) -> list[str]:
    from sqlalchemy import select

    from simulator.storage.tables import kci_outbox

    return list(connection.execute(select(kci_outbox.c.order_key).distinct()).scalars())


def attempts(database: Database, kci_id: str) -> list[outbox.Attempt]:
    with database.reading() as connection:
        return outbox.attempts_for(connection, kci_id)


def pending(database: Database) -> int:
    with database.reading() as connection:
        return outbox.pending_count(connection)


def run_until_delivered(
    dispatcher: KciDispatcher, database: Database, clock: ManualClock, rounds: int = 40
) -> int:
    """Run rounds (moving the clock past any back-off) until nothing is pending; return the rounds used."""
    for used in range(1, rounds + 1):
        dispatcher.run_once()
        if pending(database) == 0:
            return used
        clock.advance(LONGEST_WAIT)
    raise AssertionError(f"KCIs still pending after {rounds} rounds")


# -- ordering ----------------------------------------------------------------------------------


def test_each_orders_kcis_are_delivered_in_sequence_one_per_order_per_round(
    database: Database, gateway: FakeGateway, clock: ManualClock
) -> None:
    first = queue_story(database, 1)
    second = queue_story(database, 2)
    dispatcher = dispatcher_for(database, gateway, clock)

    report = dispatcher.run_once()
    assert (report.delivered, report.attempts) == (2, 2)
    assert sorted(gateway.ids()) == sorted([first[0], second[0]])
    for _ in range(4):
        dispatcher.run_once()

    assert pending(database) == 0
    assert [kci_id for kci_id in gateway.ids() if kci_id in first] == first
    assert [kci_id for kci_id in gateway.ids() if kci_id in second] == second
    assert entry_of(database, first[0]).delivered_at == START


def test_no_database_connection_is_held_while_the_gateway_is_called(
    database: Database, gateway: FakeGateway, clock: ManualClock
) -> None:
    ids = queue_story(database, 1, count=3)
    queue(database, make_kci(sequence=1, order_id=2), fault=DUPLICATE)
    with database.transaction() as connection:
        outbox.set_fault(connection, ids[0], SWAP_WITH_NEXT)
    gateway.will_answer(ids[2], answer(503))
    run_until_delivered(dispatcher_for(database, gateway, clock), database, clock)
    assert len(gateway.connections_held) >= 5
    assert set(gateway.connections_held) == {0}


def test_the_next_kci_waits_while_the_one_before_is_being_retried(
    database: Database, gateway: FakeGateway, clock: ManualClock
) -> None:
    first, _second = two_kcis_the_first_answered(database, gateway, answer(503))
    dispatcher = dispatcher_for(database, gateway, clock)

    report = dispatcher.run_once()
    assert (report.retried, report.delivered) == (1, 0)
    assert dispatcher.run_once().attempts == 0
    assert gateway.ids() == [first]


def test_a_retry_goes_only_once_the_delivery_clock_passes_next_attempt_at(
    database: Database, gateway: FakeGateway, clock: ManualClock
) -> None:
    first, second = two_kcis_the_first_answered(database, gateway, answer(503))
    dispatcher = dispatcher_for(database, gateway, clock)
    dispatcher.run_once()

    due = entry_of(database, first).next_attempt_at
    assert due is not None
    assert START + POLICY.base_delay / 2 <= due <= START + POLICY.base_delay
    clock.set(due - timedelta(milliseconds=1))
    assert dispatcher.run_once().attempts == 0
    clock.set(due)
    assert dispatcher.run_once().delivered == 1
    assert dispatcher.run_once().delivered == 1
    assert gateway.ids() == [first, first, second]


def test_every_re_delivery_keeps_the_kci_id_and_body(
    database: Database, gateway: FakeGateway, clock: ManualClock
) -> None:
    [kci_id] = queue_story(database, 1, count=1)
    gateway.will_answer(kci_id, answer(503), timeout(), refused(), answer(429))
    run_until_delivered(dispatcher_for(database, gateway, clock), database, clock)
    assert gateway.ids() == [kci_id] * 5
    assert all(payload == gateway.sent[0] for payload in gateway.sent)


def test_a_retry_after_from_the_gateway_sets_the_next_attempt(
    database: Database, gateway: FakeGateway, clock: ManualClock
) -> None:
    [kci_id] = queue_story(database, 1, count=1)
    gateway.will_answer(kci_id, answer(503, retry_after=timedelta(minutes=2)))
    dispatcher_for(database, gateway, clock).run_once()
    assert entry_of(database, kci_id).next_attempt_at == START + timedelta(minutes=2)


# -- rejection ---------------------------------------------------------------------------------

ERROR_BODY = '{"uuid": "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f", "code": "INVALID_REQUEST", "messages": ["no"]}'


def test_a_4xx_is_rejected_with_the_gateways_error_body_and_the_next_kci_proceeds(
    database: Database, gateway: FakeGateway, clock: ManualClock
) -> None:
    first, second = two_kcis_the_first_answered(database, gateway, answer(422, body=ERROR_BODY))
    dispatcher = dispatcher_for(database, gateway, clock)

    assert dispatcher.run_once().rejected == 1
    rejected = entry_of(database, first)
    assert (rejected.state, rejected.last_status_code, rejected.last_error) == (REJECTED, 422, ERROR_BODY)
    assert dispatcher.run_once().delivered == 1  # no back-off: a rejection is final
    assert gateway.ids() == [first, second]


def test_a_policy_out_of_attempts_gives_up_and_the_next_kci_proceeds(
    database: Database, gateway: FakeGateway, clock: ManualClock
) -> None:
    first, second = two_kcis_the_first_answered(database, gateway, answer(503), timeout())
    dispatcher = dispatcher_for(
        database, gateway, clock, RetryPolicy(base_delay=timedelta(seconds=1), max_attempts=2)
    )
    run_until_delivered(dispatcher, database, clock)
    abandoned = entry_of(database, first)
    assert abandoned.state == REJECTED
    assert abandoned.last_error == "gave up after 2 attempts; last: timed out: read"
    assert gateway.ids() == [first, first, second]


def test_an_error_longer_than_the_journal_holds_is_shortened(
    database: Database, gateway: FakeGateway, clock: ManualClock
) -> None:
    [kci_id] = queue_story(database, 1, count=1)
    gateway.will_answer(kci_id, answer(400, body="x" * 5000))
    dispatcher_for(database, gateway, clock).run_once()
    assert len(entry_of(database, kci_id).last_error or "") == 2000


# -- the journal -------------------------------------------------------------------------------


def test_every_attempt_is_journalled(database: Database, gateway: FakeGateway, clock: ManualClock) -> None:
    [kci_id] = queue_story(database, 1, count=1)
    gateway.will_answer(kci_id, answer(503), timeout())
    run_until_delivered(dispatcher_for(database, gateway, clock), database, clock)

    journal = attempts(database, kci_id)
    assert [(a.attempt, a.outcome, a.status_code) for a in journal] == [
        (1, RETRY, 503),
        (2, RETRY, None),
        (3, DELIVERED, 204),
    ]
    assert [a.error for a in journal] == [None, "timed out: read", None]
    assert journal[0].next_attempt_at is not None
    assert journal[0].at < journal[0].next_attempt_at <= journal[1].at
    assert journal[2].next_attempt_at is None
    assert entry_of(database, kci_id).attempts == 3


def test_a_transport_that_raises_counts_as_a_failed_attempt_with_back_off(
    database: Database, gateway: FakeGateway, clock: ManualClock
) -> None:
    [kci_id] = queue_story(database, 1, count=1)
    gateway.will_answer(kci_id, RuntimeError("boom"))
    dispatcher = dispatcher_for(database, gateway, clock)
    assert dispatcher.run_once().retried == 1
    [attempt] = attempts(database, kci_id)
    assert (attempt.outcome, attempt.error) == (RETRY, "transport failed: RuntimeError: boom")
    assert attempt.next_attempt_at is not None
    assert attempt.next_attempt_at > START
    assert dispatcher.run_once().attempts == 0  # no hot loop against a broken transport


# -- delivery faults ---------------------------------------------------------------------------


def test_a_duplicate_fault_sends_the_accepted_kci_twice_with_the_same_id(
    database: Database, gateway: FakeGateway, clock: ManualClock
) -> None:
    first, second = queue_story_with_a_fault_on_the_first(database, DUPLICATE, count=2)
    dispatcher = dispatcher_for(database, gateway, clock)

    report = dispatcher.run_once()
    assert (report.delivered, report.duplicates) == (1, 1)
    assert gateway.ids() == [first, first]
    assert gateway.sent[0] == gateway.sent[1]
    delivered = entry_of(database, first)
    assert (delivered.state, delivered.fault) == (DELIVERED, None)
    assert [a.outcome for a in attempts(database, first)] == [DELIVERED, "DUPLICATE"]
    dispatcher.run_once()
    assert gateway.ids() == [first, first, second]


def test_a_duplicate_fault_waits_for_the_delivery_the_gateway_accepts(
    database: Database, gateway: FakeGateway, clock: ManualClock
) -> None:
    kci_id = queue(database, make_kci(), fault=DUPLICATE)
    gateway.will_answer(kci_id, answer(503))
    dispatcher = dispatcher_for(database, gateway, clock)
    dispatcher.run_once()
    assert entry_of(database, kci_id).fault == DUPLICATE
    run_until_delivered(dispatcher, database, clock)
    assert gateway.ids() == [kci_id] * 3
    assert entry_of(database, kci_id).fault is None


def test_a_rejected_duplicate_copy_does_not_undo_the_delivery(
    database: Database, gateway: FakeGateway, clock: ManualClock
) -> None:
    kci_id = queue(database, make_kci(), fault=DUPLICATE)
    gateway.will_answer(kci_id, ok(), answer(409, body="seen it"))
    dispatcher_for(database, gateway, clock).run_once()
    assert entry_of(database, kci_id).state == DELIVERED


@pytest.mark.parametrize("fault", [SWAP_WITH_NEXT, HOLD_BACK])
def test_a_reordering_fault_sends_the_next_kci_first(
    fault: str, database: Database, gateway: FakeGateway, clock: ManualClock
) -> None:
    first, second, third = queue_story_with_a_fault_on_the_first(database, fault, count=3)
    dispatcher = dispatcher_for(database, gateway, clock)

    assert dispatcher.run_once().delivered == 2
    assert gateway.ids() == [second, first]
    assert entry_of(database, first).fault is None
    dispatcher.run_once()
    assert gateway.ids() == [second, first, third]


@pytest.mark.parametrize("fault", [SWAP_WITH_NEXT, HOLD_BACK])
def test_a_reordering_fault_holds_the_kci_until_the_next_one_is_queued(
    fault: str, database: Database, gateway: FakeGateway, clock: ManualClock
) -> None:
    story = provide_story(1)
    first = queue(database, story[0], fault=fault)
    dispatcher = dispatcher_for(database, gateway, clock)

    report = dispatcher.run_once()
    assert (report.attempts, report.held) == (0, 1)
    assert entry_of(database, first).fault == fault
    second = queue(database, story[1])
    dispatcher.run_once()
    assert gateway.ids() == [second, first]


def test_a_reordered_kci_keeps_waiting_while_the_next_one_is_retried(
    database: Database, gateway: FakeGateway, clock: ManualClock
) -> None:
    first, second = queue_story_with_a_fault_on_the_first(database, HOLD_BACK, count=2)
    gateway.will_answer(second, answer(503))
    dispatcher = dispatcher_for(database, gateway, clock)

    assert dispatcher.run_once().held == 1
    assert dispatcher.run_once().attempts == 0  # the next one is backing off
    assert gateway.ids() == [second]
    clock.advance(LONGEST_WAIT)
    dispatcher.run_once()
    assert gateway.ids() == [second, second, first]


# -- restarts and the background thread --------------------------------------------------------


def test_pending_kcis_survive_a_restart(database_url: str, clock: ManualClock) -> None:
    before = Database(database_url)
    before.create_schema()
    first, second = queue_story(before, 1, count=2)
    third = queue_story(before, 2, count=1)[0]
    gateway = FakeGateway()
    gateway.will_answer(first, answer(503))
    report = dispatcher_for(before, gateway, clock).run_once()
    assert (report.retried, report.delivered) == (1, 1)
    before.dispose()

    after = Database(database_url)
    after.create_schema()
    restarted = FakeGateway(after)
    clock.advance(LONGEST_WAIT)
    run_until_delivered(dispatcher_for(after, restarted, clock), after, clock)
    assert restarted.ids() == [first, second]
    assert [a.outcome for a in attempts(after, first)] == [RETRY, DELIVERED]
    assert entry_of(after, third).attempts == 1
    after.dispose()


def test_the_background_thread_delivers_and_stops_promptly(
    database: Database, gateway: FakeGateway, clock: ManualClock
) -> None:
    dispatcher = dispatcher_for(database, gateway, clock, interval=0.01)
    dispatcher.start()
    dispatcher.start()  # a second start is harmless
    try:
        [kci_id] = queue_story(database, 1, count=1)
        assert gateway.sent_something.wait(10)
    finally:
        began = time.monotonic()
        dispatcher.stop()
        stopped_in = time.monotonic() - began
    assert not dispatcher.running
    assert stopped_in < 2
    assert entry_of(database, kci_id).state == DELIVERED  # the KCI in flight was recorded


class _Alarm(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.raised = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.raised.set()


def test_a_failing_round_is_logged_and_the_thread_carries_on(database_url: str, clock: ManualClock) -> None:
    unready = Database(database_url)  # no schema yet: every round fails until it exists
    gateway = FakeGateway()
    alarm = _Alarm()
    logger = logging.getLogger("simulator.delivery.dispatcher")
    logger.addHandler(alarm)
    dispatcher = dispatcher_for(unready, gateway, clock, interval=0.01)
    try:
        dispatcher.start()
        assert alarm.raised.wait(10)
        unready.create_schema()
        queue_story(unready, 1, count=1)
        assert gateway.sent_something.wait(10)
        assert dispatcher.running
    finally:
        dispatcher.stop()
        logger.removeHandler(alarm)
        unready.dispose()


# -- a property --------------------------------------------------------------------------------

TRANSIENT = st.sampled_from([answer(503), answer(500), answer(429), answer(408), timeout(), refused()])


@given(
    failures=st.lists(st.lists(TRANSIENT, max_size=3), min_size=6, max_size=6),
    reorder=st.sampled_from([None, SWAP_WITH_NEXT, DUPLICATE]),
)
def test_whatever_transient_failures_occur_each_order_is_accepted_in_sequence_once_per_kci(
    database: Database, failures: list[list[TransportResult]], reorder: str | None
) -> None:
    clock = ManualClock(START)
    gateway = FakeGateway()
    orders = {f"order-{uuid.uuid4().hex[:12]}": provide_story(n)[:3] for n in (1, 2)}
    for order, kcis in orders.items():
        for kci in kcis:
            queue(database, kci, order=order, fault=reorder if kci["sequenceNumber"] == 2 else None)
    for kci, script in zip([k for kcis in orders.values() for k in kcis], failures, strict=True):
        gateway.will_answer(kci["id"], *script)

    run_until_delivered(dispatcher_for(database, gateway, clock), database, clock, rounds=60)

    for kcis in orders.values():
        ids = [kci["id"] for kci in kcis]
        accepted = [kci_id for kci_id, outcome in gateway.outcomes if kci_id in ids and outcome == DELIVERED]
        expected = [ids[0], ids[2], ids[1]] if reorder == SWAP_WITH_NEXT else ids
        if reorder == DUPLICATE:
            expected = [ids[0], ids[1], ids[1], ids[2]]
        assert accepted == expected
