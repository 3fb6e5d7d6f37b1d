"""An order's KCIs travel from a served simulator to a served receiver, through failures and a restart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import gateway_headers
from tests.orders_support import provide
from tests.served import free_port, served_command, served_simulator, wait_for

pytestmark = pytest.mark.e2e

CLOCK = "manual@2026-07-01T09:00:00Z"


def received(receiver: str, count: int) -> list[dict[str, Any]] | None:
    """The KCIs the receiver accepted, once there are ``count`` (deliberate duplicates aside)."""
    kcis: list[dict[str, Any]] = httpx.get(f"{receiver}/_receiver/kcis").json()
    firsts = [kci for kci in kcis if not kci["duplicate"]]
    return firsts if len(firsts) >= count else None


def place_and_play(simulator: str, order_id: int) -> list[str]:
    response = httpx.post(f"{simulator}/service-orders", json=provide(order_id), headers=gateway_headers())
    assert response.status_code == 201, response.text
    httpx.post(f"{simulator}/_admin/clock/advance", json={"by": "PT10M"}).raise_for_status()
    outbox = httpx.get(f"{simulator}/_admin/orders/{order_id}/kcis").json()
    return [entry["kciId"] for entry in outbox]


def test_kcis_arrive_once_in_order_with_the_same_ids_after_the_gateway_recovers(tmp_path: Path) -> None:
    with served_command(
        "receiver", "--require-token", "--fail-first", "3", ready_path="/_receiver/health"
    ) as receiver:
        kci_options = (
            "--kci-url",
            receiver,
            "--kci-token-url",
            f"{receiver}/auth/supplier/access-token",
            "--kci-client-id",
            "supplier-client-id",
            "--kci-client-secret",
            "supplier-client-secret",
        )
        with served_simulator(
            "--db", str(tmp_path / "sim.sqlite3"), "--clock", CLOCK, *kci_options
        ) as simulator:
            issued = place_and_play(simulator, 3001)
            assert len(issued) == 3
            arrived = wait_for(
                lambda: (
                    [k for k in httpx.get(f"{receiver}/_receiver/kcis").json() if not k["duplicate"]][:3]
                    if len(httpx.get(f"{receiver}/_receiver/kcis").json()) >= 3
                    else None
                )
            )
            assert [k["id"] for k in arrived] == issued
            assert [k["sequenceNumber"] for k in arrived] == [1, 2, 3]
            attempts = httpx.get(f"{simulator}/_admin/orders/3001/kcis").json()
            assert attempts[0]["attempts"] == 4  # three 503s, then accepted
            assert {a["outcome"] for a in attempts[0]["attemptLog"]} == {"RETRY", "DELIVERED"}
            assert all(entry["state"] == "DELIVERED" for entry in attempts)


def test_kcis_issued_before_a_restart_are_delivered_after_it(tmp_path: Path) -> None:
    database = str(tmp_path / "sim.sqlite3")
    port = free_port()
    with served_command("receiver", ready_path="/_receiver/health", port=port) as receiver:
        with served_simulator("--db", database, "--clock", CLOCK) as simulator:
            issued = place_and_play(simulator, 3002)  # no KCI URL yet: the KCIs wait in the outbox
        assert httpx.get(f"{receiver}/_receiver/kcis").json() == []
        with served_simulator("--db", database, "--clock", CLOCK, "--kci-url", receiver):
            arrived = wait_for(
                lambda: (k := httpx.get(f"{receiver}/_receiver/kcis").json()) and len(k) >= 3 and k
            )
            assert [k["id"] for k in arrived] == issued
