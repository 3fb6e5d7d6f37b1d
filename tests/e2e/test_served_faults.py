"""Fault rules on ``fibresim serve``'s default server: shared by the worker processes."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.conftest import START, address_query, gateway_headers
from tests.served import served_simulator

pytestmark = pytest.mark.e2e

CALLS = 12


def test_worker_processes_share_fault_budgets_and_drop_connections(tmp_path: Path) -> None:
    options = ("--db", str(tmp_path / "s.sqlite3"), "--clock", f"manual@{START}", "--workers", "2")
    with served_simulator(*options) as base:
        params = address_query("100000000002")
        assert httpx.post(f"{base}/_admin/faults", json={"status": 503, "times": 3}).status_code == 201
        statuses = []
        for _ in range(CALLS):  # a new connection each: the calls spread over both workers
            statuses.append(
                httpx.get(f"{base}/service-availability", params=params, headers=gateway_headers())
            )
        assert [r.status_code for r in statuses] == [503] * 3 + [200] * (CALLS - 3)
        assert httpx.get(f"{base}/_admin/faults").json()[0]["hits"] == 3

        assert httpx.post(f"{base}/_admin/faults", json={"drop": True, "times": 1}).status_code == 201
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{base}/service-availability", params=params, headers=gateway_headers())
        answer = httpx.get(f"{base}/service-availability", params=params, headers=gateway_headers())
        assert answer.status_code == 200
