"""The composition root builds a whole simulator and takes it down in order."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from simulator.composition import Simulator
from simulator.settings import Settings
from tests.conftest import START, address_query, gateway_headers
from tests.served import _wait_until_ready, free_port


def _threads() -> set[str]:
    return {thread.name for thread in threading.enumerate() if thread.name.startswith("fibresim-")}


def test_closing_a_simulator_stops_its_threads_and_keeps_the_journal(tmp_path: Path) -> None:
    database = tmp_path / "s.sqlite3"
    settings = Settings(
        database=str(database), clock=f"manual@{START}", background=True, kci_url="http://127.0.0.1:9"
    )
    before = _threads()
    with Simulator(settings) as simulator:
        assert _threads() - before >= {"fibresim-ticker", "fibresim-journal"}
        answer = simulator.app.test_client().get(
            "/service-availability", query_string=address_query("100000000002"), headers=gateway_headers()
        )
        assert answer.status_code == 200
    assert _threads() - before == set()
    simulator.close()  # closing twice is harmless
    connection = sqlite3.connect(tmp_path / "s.sqlite3-requests")  # the journal's own file
    try:
        [(count,)] = connection.execute("select count(*) from journal").fetchall()
    finally:
        connection.close()
    assert count == 1  # the writer's last batch was written before the database closed


def test_a_simulator_that_cannot_open_its_profile_leaves_nothing_running(tmp_path: Path) -> None:
    before = _threads()
    with pytest.raises(Exception, match=r"missing\.yaml"):
        Simulator(Settings(database=str(tmp_path / "s.sqlite3"), profile=str(tmp_path / "missing.yaml")))
    assert _threads() == before


def test_sigterm_closes_a_served_simulator_cleanly(tmp_path: Path) -> None:
    port = free_port()
    database = tmp_path / "s.sqlite3"
    command = [sys.executable, "-m", "simulator.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    # One worker: a worker the server stops late under load may leave SQLite's WAL behind it.
    command += ["--db", str(database), "--clock", f"manual@{START}", "--workers", "1"]
    with (tmp_path / "log").open("w+") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, text=True)
        try:
            base = _wait_until_ready(process, log, f"http://127.0.0.1:{port}", "/_admin/health")
            answer = httpx.get(
                f"{base}/service-availability",
                params=address_query("100000000002"),
                headers=gateway_headers(),
            )
            assert answer.status_code == 200
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    # A clean close checkpoints SQLite's write-ahead logs away, the journal's file's too.
    assert not (tmp_path / "s.sqlite3-wal").exists()
    assert not (tmp_path / "s.sqlite3-requests-wal").exists()
    connection = sqlite3.connect(tmp_path / "s.sqlite3-requests")
    try:
        [(count,)] = connection.execute("select count(*) from journal where path = '/service-availability'")
    finally:
        connection.close()
    assert count == 1
