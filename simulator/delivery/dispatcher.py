"""The KCI dispatcher: delivers what the outbox holds, per order in sequence, at least once.

A round (:meth:`KciDispatcher.run_once`) reads the deliverable KCIs in one short read and
gives the connection back, then works through them in groups of ``concurrency``: the KCIs
of one group belong to different orders (one per order is deliverable), so they are sent
at once on a thread pool with no database connection held. Attempts are recorded in one
short transaction per :data:`RECORD_EVERY` of them, or sooner after :data:`RECORD_SECONDS`
(a transaction per KCI cost more than sending it). A crash between sending and recording
sends those KCIs again, with the same ``id``: delivery is at least once. A KCI keeps its
``id`` on every re-delivery (it is in the stored payload), so the gateway can recognise
repeats.

Ordering. Per order only the lowest pending sequence number is deliverable, so KCI n+1
waits while n is being retried. A **rejected** KCI (any 4xx but 408/429, or a policy out
of attempts) is terminal and does *not* block the next one: the gateway has said it will
never take it, and holding the rest of the order for ever would stall the order for good.
The gateway then sees a gap in the sequence; the rejection, with the gateway's error body,
is in the attempt journal (``outbox.attempts_for``).

Faults stored on an entry, for gateway developers testing their buffering:

* ``duplicate``: once the gateway accepts the KCI, it is sent again at once, same ``id``.
  The copy is journalled with outcome ``DUPLICATE`` and never changes the KCI's state.
* ``swap_with_next``: the order's next pending KCI is sent first, then this one.
* ``hold_back``: this one is held back until the order's next KCI has gone, then sent.
  It behaves as ``swap_with_next``; the names describe what the gateway should observe.

For both reorderings the KCI waits (nothing of the order is sent) until the next KCI is
queued and due; if that next KCI's attempt is answered "retry", this one keeps waiting. A
fault is cleared once acted on.

The background thread (:meth:`start` / :meth:`stop`) runs rounds until stopped: straight
on while KCIs are moving, otherwise every ``interval`` seconds. It logs failures and
carries on; nothing escapes it.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from simulator.delivery.pacing import Pacing
from simulator.delivery.transport import KciTransport, TransportResult
from simulator.domain.clock import Clock
from simulator.domain.retry import DELIVERED, REJECTED, RETRY, RetryPolicy
from simulator.storage import Database, outbox
from simulator.storage.outbox import OutboxEntry

log = logging.getLogger(__name__)

DUPLICATE: Final = "duplicate"
SWAP_WITH_NEXT: Final = "swap_with_next"
HOLD_BACK: Final = "hold_back"
FAULTS: Final = {
    DUPLICATE: "sent twice with the same id",
    SWAP_WITH_NEXT: "swapped with the order's next KCI",
    HOLD_BACK: "held back until the order's next KCI has gone",
}

#: Journal outcome of the deliberate second copy sent by the ``duplicate`` fault.
DUPLICATE_SENT: Final = "DUPLICATE"

_MAX_ERROR = 2000  # kci_outbox.last_error and kci_attempts.error are String(2000)
#: Attempts recorded in one transaction at most, and the longest they wait to be recorded.
RECORD_EVERY: Final = 64
RECORD_SECONDS: Final = 0.25


@dataclass(frozen=True, slots=True)
class DispatchReport:
    """What one round did: attempts by outcome, deliberate copies, and KCIs held by a fault."""

    delivered: int = 0
    rejected: int = 0
    retried: int = 0
    duplicates: int = 0
    held: int = 0

    @property
    def attempts(self) -> int:
        """Every KCI sent in the round, copies included."""
        return self.delivered + self.rejected + self.retried + self.duplicates


@dataclass(frozen=True, slots=True)
class _Attempt:
    """One send of a KCI and what to record of it."""

    entry: OutboxEntry
    number: int
    result: TransportResult
    outcome: str
    error: str | None
    at: datetime
    next_attempt_at: datetime | None
    latency_ms: int


class KciDispatcher:
    """Delivers outbox KCIs over ``transport``; ``clock`` is the delivery clock (wall time in production).

    ``rng`` draws the back-off jitter (pass a seeded one for repeatable tests); ``interval``
    is the background thread's rest between idle rounds; ``batch`` bounds one round;
    ``concurrency`` is how many KCIs (of as many orders) are in flight at once at most
    (:class:`~simulator.delivery.pacing.Pacing` sends a group in turn when that is faster).
    """

    def __init__(
        self,
        database: Database,
        transport: KciTransport,
        clock: Clock,
        policy: RetryPolicy | None = None,
        rng: random.Random | None = None,
        *,
        interval: float = 0.2,
        batch: int = 500,
        concurrency: int = 16,
        gate: Callable[[], bool] | None = None,
    ) -> None:
        self._database = database
        self._transport = transport
        self._clock = clock
        self._policy = policy or RetryPolicy()
        self._rng = rng or random.Random()
        self._interval = interval
        self._batch = batch
        self._concurrency = max(1, concurrency)
        self._pool: ThreadPoolExecutor | None = None  # made on first use, shut down by stop()
        self._pacing = Pacing()  # in turn or in parallel, whichever this gateway answers faster
        # Whether this process may deliver now (it holds the background lease): with several
        # workers or replicas, exactly one delivers, so each KCI goes out once per attempt.
        self._gate = gate or (lambda: True)
        self._round_lock = threading.Lock()  # one round at a time, thread or caller
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- one round ---------------------------------------------------------------------------

    def run_once(self) -> DispatchReport:
        """Send every KCI that is due now (the lowest pending one per order) and record the attempts."""
        return self._round(None)

    def _round(self, stop: threading.Event | None) -> DispatchReport:
        tally: Counter[str] = Counter()
        with self._round_lock:
            with self._database.reading() as connection:
                entries = outbox.deliverable(connection, self._clock.now(), self._batch)
            plain = [entry for entry in entries if entry.fault not in {SWAP_WITH_NEXT, HOLD_BACK}]
            sent: list[_Attempt] = []
            recorded_at = time.monotonic()
            for start in range(0, len(plain), self._concurrency):
                if (stop is not None and stop.is_set()) or not self._gate():
                    break
                sent += self._send_group(plain[start : start + self._concurrency])
                # Attempts are recorded together, but soon: a crash sends the unrecorded ones again.
                if len(sent) >= RECORD_EVERY or time.monotonic() - recorded_at >= RECORD_SECONDS:
                    self._settle(sent, tally)
                    sent, recorded_at = [], time.monotonic()
            self._settle(sent, tally)
            for entry in entries:
                if entry.fault not in {SWAP_WITH_NEXT, HOLD_BACK}:
                    continue
                if (stop is not None and stop.is_set()) or not self._gate():
                    break
                try:
                    self._reorder(entry, tally)
                except Exception:  # one bad entry (or a database hiccup) must not stop the others
                    log.exception("KCI %s of order %s: delivery failed", entry.kci_id, entry.order_key)
        return DispatchReport(
            delivered=tally[DELIVERED],
            rejected=tally[REJECTED],
            retried=tally[RETRY],
            duplicates=tally[DUPLICATE_SENT],
            held=tally["held"],
        )

    def _send_group(self, group: list[OutboxEntry]) -> list[_Attempt]:
        """Send KCIs of different orders, in turn or in parallel as :class:`Pacing` finds cheaper.

        Nothing is recorded yet.
        """
        if self._concurrency == 1 or len(group) == 1:  # nothing to send side by side
            return [self._send_once(entry, entry.attempts + 1) for entry in group]
        sent: list[_Attempt] = []
        started = time.perf_counter()
        if self._pacing.in_turn():
            for entry in group:
                sent.append(self._send_once(entry, entry.attempts + 1))
                if self._pacing.cut_short(time.perf_counter() - started, len(sent)):
                    break
            self._pacing.note(True, time.perf_counter() - started, len(sent))
            if len(sent) == len(group):
                return sent
            started = time.perf_counter()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._concurrency, thread_name_prefix="kci-send")
        rest = group[len(sent) :]
        sent += self._pool.map(lambda entry: self._send_once(entry, entry.attempts + 1), rest)
        self._pacing.note(False, time.perf_counter() - started, len(rest))
        return sent

    def _settle(self, attempts: list[_Attempt], tally: Counter[str]) -> None:
        """Record ``attempts`` in one transaction; then send the copies a ``duplicate`` fault asks for."""
        if not attempts:
            return
        try:
            self._record(attempts, tally)
            for attempt in attempts:
                if attempt.outcome == DELIVERED and attempt.entry.fault == DUPLICATE:
                    self._attempt(attempt.entry, attempt.number + 1, tally, copy=True)
                    self._clear_fault(attempt.entry)
        except Exception:  # a database hiccup: the unrecorded KCIs are sent again next round
            log.exception("KCI delivery: %d attempts not recorded", len(attempts))

    def _dispatch(self, entry: OutboxEntry, tally: Counter[str]) -> None:
        if entry.fault in {SWAP_WITH_NEXT, HOLD_BACK}:
            self._reorder(entry, tally)
        else:
            self._deliver(entry, tally)

    def _deliver(self, entry: OutboxEntry, tally: Counter[str]) -> str:
        """Send once, record; for a ``duplicate`` fault, send the accepted KCI again."""
        outcome = self._attempt(entry, entry.attempts + 1, tally)
        if outcome == DELIVERED and entry.fault == DUPLICATE:
            self._attempt(entry, entry.attempts + 2, tally, copy=True)
            self._clear_fault(entry)
        return outcome

    def _reorder(self, entry: OutboxEntry, tally: Counter[str]) -> None:
        """Send the order's next KCI before ``entry``; wait while there is none, or it is not due."""
        with self._database.reading() as connection:
            following = outbox.next_pending_after(
                connection, entry.order_key, entry.sequence_number, entry.tenant
            )
        now = self._clock.now()
        if following is None or (following.next_attempt_at is not None and following.next_attempt_at > now):
            tally["held"] += 1
            return
        if self._deliver(following, tally) == RETRY:
            tally["held"] += 1  # the next one has not gone yet, so this one still waits
            return
        self._clear_fault(entry)
        self._deliver(entry, tally)

    def _attempt(self, entry: OutboxEntry, attempt: int, tally: Counter[str], *, copy: bool = False) -> str:
        done = self._send_once(entry, attempt, copy=copy)
        self._record([done], tally)
        return done.outcome

    def _send_once(self, entry: OutboxEntry, attempt: int, *, copy: bool = False) -> _Attempt:
        """Send ``entry`` and judge the answer by the retry policy (nothing is recorded yet)."""
        sent_at = self._clock.now()
        result = self._send(entry)
        now = self._clock.now()
        outcome: str = result.outcome
        error = _error_text(result)
        next_attempt_at = None
        if copy:
            outcome = DUPLICATE_SENT
        elif outcome == RETRY and self._policy.gives_up_after(attempt):
            outcome = REJECTED
            error = f"gave up after {attempt} attempts; last: {error or result.status_code}"[:_MAX_ERROR]
        elif outcome == RETRY:
            next_attempt_at = now + self._policy.delay_for(attempt, self._rng, result.retry_after)
        latency = max(0, round((now - sent_at).total_seconds() * 1000))
        return _Attempt(entry, attempt, result, outcome, error, now, next_attempt_at, latency)

    def _record(self, attempts: list[_Attempt], tally: Counter[str]) -> None:
        """Record ``attempts`` in one transaction, then count and log them."""
        records = [
            outbox.Attempt(
                done.entry.kci_id,
                attempt=done.number,
                at=done.at,
                outcome=done.outcome,
                status_code=done.result.status_code,
                error=done.error,
                next_attempt_at=done.next_attempt_at,
                latency_ms=done.latency_ms,
            )
            for done in attempts
        ]
        with self._database.transaction() as connection:
            outbox.record_attempts(connection, records)
        for done in attempts:
            tally[done.outcome] += 1
            entry = done.entry
            log.log(
                logging.WARNING if done.outcome == REJECTED else logging.INFO,
                "KCI %s (order %s, sequence %d) attempt %d: %s %s%s",
                entry.kci_id,
                entry.order_key,
                entry.sequence_number,
                done.number,
                done.outcome,
                done.result.status_code or done.result.error,
                "" if done.next_attempt_at is None else f", next at {done.next_attempt_at.isoformat()}",
            )

    def _send(self, entry: OutboxEntry) -> TransportResult:
        try:
            return self._transport.send(entry.kci_id, entry.payload)
        except Exception as error:  # a broken transport counts as a failed attempt, with back-off
            log.exception("KCI %s: the transport raised", entry.kci_id)
            return TransportResult(None, error=f"transport failed: {type(error).__name__}: {error}")

    def _clear_fault(self, entry: OutboxEntry) -> None:
        with self._database.transaction() as connection:
            outbox.clear_fault(connection, entry.kci_id)
        log.info("KCI %s: fault %s acted on (%s)", entry.kci_id, entry.fault, FAULTS.get(entry.fault or ""))

    # -- background thread -------------------------------------------------------------------

    def start(self) -> None:
        """Run rounds on a daemon thread until :meth:`stop` (a second call does nothing)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="kci-dispatcher", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread after the KCI in flight (at most ``timeout`` seconds' wait)."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                log.warning("the KCI dispatcher did not stop within %s seconds", timeout)
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

    @property
    def running(self) -> bool:
        """Whether the background thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stop.is_set():
            if not self._gate():
                self._stop.wait(self._interval)
                continue
            try:
                report = self._round(self._stop)
            except Exception:  # e.g. the database is unreachable: log, rest, try again
                log.exception("KCI delivery round failed; trying again in %s seconds", self._interval)
                report = DispatchReport()
            # Straight on while KCIs are moving (each order's next one may now be due).
            moving = report.delivered + report.rejected > 0
            self._stop.wait(0 if moving else self._interval)


def _error_text(result: TransportResult) -> str | None:
    if result.outcome == DELIVERED:
        return None
    text = result.error or result.body
    return None if text is None else text[:_MAX_ERROR]
