"""KCIs cross real HTTP to a receiver process through a gateway outage: every one arrives, once per id,
in sequence per order, with its own id kept on every re-delivery.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from simulator.delivery import ClientCredentials, HttpTransport, KciDispatcher
from simulator.delivery.dispatcher import DUPLICATE
from simulator.domain.clock import RealClock
from simulator.domain.retry import DELIVERED, RETRY, RetryPolicy
from simulator.storage import Database, outbox
from tests.integration.test_receiver import CLIENT_ID, CLIENT_SECRET, provide_story
from tests.served import served_command

pytestmark = pytest.mark.e2e

FAST = RetryPolicy(base_delay=timedelta(milliseconds=50), max_delay=timedelta(milliseconds=400))
OUTAGE = 5  # the receiver answers the first five KCI requests with 503


@contextmanager
def served_receiver(*args: str) -> Iterator[str]:
    """Run ``fibresim receiver`` as its own process on a free loopback port; yield its base URL."""
    with served_command("receiver", *args, ready_path="/_receiver/health") as base:
        yield base


def pending(database: Database) -> int:
    with database.reading() as connection:
        return outbox.pending_count(connection)


def deliver_everything(database: Database, base: str) -> int:
    """Run a dispatcher thread until the outbox is empty (30 s at most); return the tokens it fetched."""
    clock = RealClock()
    auth = ClientCredentials(f"{base}/auth/supplier/access-token", CLIENT_ID, CLIENT_SECRET, clock=clock)
    with HttpTransport(base, auth, timeout=5) as transport:
        dispatcher = KciDispatcher(database, transport, clock, FAST, interval=0.05)
        dispatcher.start()
        try:
            deadline = time.monotonic() + 30
            while pending(database) and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            dispatcher.stop()
    return auth.tokens_fetched


def test_every_kci_arrives_once_in_sequence_through_a_gateway_outage(tmp_path: Path) -> None:
    database = Database(str(tmp_path / "outbox.sqlite3"))
    database.create_schema()
    stories = {order_id: provide_story(order_id) for order_id in (1001, 1002)}
    doubled = stories[1002][2]["id"]  # a deliberate duplicate, to show the receiver flags it
    with database.transaction() as connection:
        for order_id, story in stories.items():
            for kci in story:
                outbox.enqueue(
                    connection,
                    kci_id=kci["id"],
                    order_key=str(order_id),
                    sequence_number=kci["sequenceNumber"],
                    payload=kci,
                    now=RealClock().now(),
                    fault=DUPLICATE if kci["id"] == doubled else None,
                )

    with served_receiver("--require-token", "--fail-first", str(OUTAGE)) as base:
        tokens = deliver_everything(database, base)
        received: list[dict[str, Any]] = httpx.get(f"{base}/_receiver/kcis").json()
        answered = [entry["status"] for entry in httpx.get(f"{base}/_receiver/requests").json()]

    assert pending(database) == 0
    assert answered[:OUTAGE] == [503] * OUTAGE
    assert set(answered[OUTAGE:]) == {204}
    assert tokens == 1
    for order_id, story in stories.items():
        arrived = [kci for kci in received if kci["orderKey"] == str(order_id)]
        assert [kci["id"] for kci in arrived if not kci["duplicate"]] == [kci["id"] for kci in story]
        assert [kci["id"] for kci in arrived if kci["duplicate"]] == ([doubled] if order_id == 1002 else [])
        assert [kci["body"] for kci in arrived if not kci["duplicate"]] == story
        assert all(kci["notes"] == [] for kci in arrived)  # nothing out of order, no gaps
    with database.reading() as connection:
        retried = {
            kci_id: outbox.attempts_for(connection, kci_id)
            for kci_id in (s[0]["id"] for s in stories.values())
        }
    for journal in retried.values():
        assert journal[-1].outcome == DELIVERED
        assert {attempt.outcome for attempt in journal[:-1]} <= {RETRY}
    assert sum(len(journal) - 1 for journal in retried.values()) == OUTAGE
    database.dispose()
