"""Hostile requests against a served simulator (gunicorn, an SQLite file), across a restart.

What only a real server shows: raw request lines and headers of every size, a chunked body
with no length, a body cut short; then the process is restarted on the same file and must
still serve and move its clock.
"""

from __future__ import annotations

import contextlib
import socket
from pathlib import Path

import httpx
import pytest

from tests.hostile.support import assert_error_body, assert_serves_normally, http_caller
from tests.served import free_port, served_simulator

pytestmark = pytest.mark.e2e

CLOCK = "manual@2026-07-01T09:00:00Z"


def _raw(base: str, request: bytes, *, read: int = 65536) -> bytes:
    """Send ``request`` as bytes and return what came back (the status line first)."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        # The server may answer and close before the whole request is sent.
        with contextlib.suppress(OSError):
            connection.sendall(request)
        answer = b""
        while len(answer) < read:
            chunk = connection.recv(65536)
            if not chunk:
                break
            answer += chunk
            if b"\r\n\r\n" in answer and answer.split(b"\r\n\r\n", 1)[1].endswith((b"}\n", b"}")):
                break
        return answer


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


@pytest.fixture
def database(tmp_path: Path) -> str:
    return str(tmp_path / "hostile.sqlite3")


def test_a_served_simulator_survives_hostile_requests_and_a_restart(database: str) -> None:
    port = free_port()
    args = ("--db", database, "--clock", CLOCK, "--profile", "demo")
    with served_simulator(*args, port=port) as base, httpx.Client(timeout=30) as http:
        call = http_caller(http, base)
        # The poison of old: stored, it failed every later clock move.
        headers = {"X-Request-ID": "1", "X-Conversation-ID": "1", "Tenant": "TENANT1"}
        scenario = {**headers, "X-Scenario": "ORDER_REAPPOINTED?targetDateOffset=9999999999"}
        refused = http.post(f"{base}/service-orders", json={"id": 1}, headers=scenario)
        assert refused.status_code in {400, 422}
        too_far = http.post(f"{base}/_admin/clock/advance", json={"by": "P99999999999D"})
        assert_error_body(too_far.status_code, too_far.json(), {422})

        # A 3 MiB chunked body: refused by the app's limit, answered with the error body.
        chunked = http.post(
            f"{base}/service-orders",
            content=iter([b"[" + b"1," * 1_500_000 + b"1]"]),
            headers={**headers, "Content-Type": "application/json"},
        )
        assert_error_body(chunked.status_code, chunked.json(), {413})
        # A declared 100 MB body: refused before a byte of it is read.
        declared = _raw(
            base,
            b"POST /service-orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 104857600\r\nConnection: close\r\n\r\n[1,",
        )
        assert _status(declared) == 413
        assert b'"MALFORMED_REQUEST"' in declared

        # Request lines and headers: the app's error body where the server lets the request through.
        long_target = _raw(
            base, b"GET /_admin/clock?" + b"a" * 8100 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        assert _status(long_target) == 414
        assert b'"MALFORMED_REQUEST"' in long_target
        big_header = _raw(
            base,
            b"GET /_admin/clock HTTP/1.1\r\nHost: x\r\nX-Big: "
            + b"x" * 30_000
            + b"\r\nConnection: close\r\n\r\n",
        )
        assert _status(big_header) == 431
        assert b'"MALFORMED_REQUEST"' in big_header
        # Beyond the server's own limits the server answers itself (documented in the README).
        huge_line = _raw(base, b"GET /" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _status(huge_line) in {400, 414}
        # A body cut short: the client goes away mid-upload.
        _raw(
            base,
            b"POST /_admin/clock/advance HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"by"',
            read=0,
        )

        assert_serves_normally(call)
        before = http.get(f"{base}/_admin/clock").json()["now"]

    with served_simulator(*args, port=free_port()) as base, httpx.Client(timeout=30) as http:
        call = http_caller(http, base)
        moved = http.post(f"{base}/_admin/clock/advance", json={"by": "P2D"})
        assert moved.status_code == 200, moved.text
        assert moved.json()["now"] >= before
        assert_serves_normally(call)
        reset = http.post(f"{base}/_admin/reset")
        assert reset.status_code == 200
        assert reset.json()["removed"]["orders"] >= 1
        assert_serves_normally(call)
