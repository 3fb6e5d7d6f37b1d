"""Two ``fibresim serve`` replicas on one PostgreSQL database behave as one simulator."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import httpx
import psycopg
import pytest

from tests.conftest import gateway_headers
from tests.orders_support import provide
from tests.postgres import fresh_database
from tests.served import served_command, served_simulator, wait_for
from tests.slot_race import evening_slot, race_for

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

CLOCK = "manual@2026-07-01T09:00:00Z"
RACERS = 12


def test_two_replicas_on_one_postgresql_are_one_simulator(postgres_server_url: str) -> None:
    with (
        fresh_database(postgres_server_url) as database,
        served_command("receiver", ready_path="/_receiver/health") as receiver,
    ):
        options = ("--db", database, "--clock", CLOCK, "--kci-url", receiver, "--workers", "1")
        with served_simulator(*options) as first, served_simulator(*options) as second:
            # A clock moved through one replica is the clock of both.
            moved = httpx.post(f"{first}/_admin/clock/advance", json={"by": "PT1H"}).json()["now"]
            assert moved == "2026-07-01T10:00:00Z"
            assert httpx.get(f"{second}/_admin/clock").json()["now"] == moved

            # Exactly one of many reservations racing for the last unit wins, across replicas.
            statuses = race_for(evening_slot(first), [first, second], RACERS)  # half on each
            assert sorted(statuses).count(201) == 1, statuses
            assert sorted(statuses).count(422) == RACERS - 1, statuses

            # An order placed through one replica is amended through the other.
            placed = httpx.post(
                f"{first}/service-orders",
                json=provide(4001),
                headers={**gateway_headers(), "X-Scenario": "ORDER_PENDING"},
            )
            assert placed.status_code == 201, placed.text
            httpx.post(f"{second}/_admin/clock/advance", json={"by": "PT10M"}).raise_for_status()
            amendment = {
                "id": 77,
                "orderId": 4001,
                "primaryContact": {"name": "Ann", "phoneNumber": "07700900001"},
            }
            amended = httpx.post(
                f"{second}/service-order-amendments", json=amendment, headers=gateway_headers()
            )
            assert amended.status_code == 202, amended.text
            httpx.post(f"{first}/_admin/clock/advance", json={"by": "PT10M"}).raise_for_status()

            # Its KCIs go out once each, in sequence, with gapless numbers, whichever replica delivers.
            outbox = httpx.get(f"{second}/_admin/orders/4001/kcis").json()
            issued = [entry["kciId"] for entry in outbox]
            assert [entry["sequenceNumber"] for entry in outbox] == list(range(1, len(issued) + 1))

            def arrived() -> list[dict[str, Any]] | None:
                kcis: list[dict[str, Any]] = httpx.get(f"{receiver}/_receiver/kcis").json()
                return kcis if len(kcis) >= len(issued) else None

            wait_for(arrived)
            time.sleep(1)  # a second delivery, were there one, would arrive by now
            kcis = httpx.get(f"{receiver}/_receiver/kcis").json()
            assert [k["id"] for k in kcis] == issued
            assert [k["sequenceNumber"] for k in kcis] == list(range(1, len(issued) + 1))
            reasons = [k["reasonCode"] for k in kcis]
            assert reasons == ["COMMITTED", "INFORMATION_REQUIRED", "AMENDED", "COMPLETED"]

            # The process delivering KCIs dies: when its lease runs out, another takes over.
            with psycopg.connect(database) as connection:
                row = connection.execute("SELECT holder FROM leases WHERE name = 'background'").fetchone()
            assert row is not None
            os.kill(int(row[0].split(":")[1]), signal.SIGKILL)
            placed = httpx.post(
                f"{second}/service-orders",
                json=provide(4002, "100000000005", spec="FTTP-LITE", profile="2"),
                headers=gateway_headers(),
            )
            assert placed.status_code == 201, placed.text
            httpx.post(f"{second}/_admin/clock/advance", json={"by": "PT10M"}).raise_for_status()
            later = [entry["kciId"] for entry in httpx.get(f"{second}/_admin/orders/4002/kcis").json()]
            assert later
            wait_for(lambda: len(httpx.get(f"{receiver}/_receiver/kcis").json()) >= len(issued) + len(later))
            assert [k["id"] for k in httpx.get(f"{receiver}/_receiver/kcis").json()] == issued + later
