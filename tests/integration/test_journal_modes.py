"""The journal's modes (off, errors, all), its bound on rows, its queue and its shutdown flush."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st

from simulator.application import journal as journal_use_case
from simulator.application.context import Context
from simulator.application.journal import JournalEntry
from simulator.composition import close_app, create_app
from simulator.http.journal import JournalWriter
from simulator.settings import Settings
from tests.conftest import START, address_query, gateway_headers

COVERED = "100000000002"


def _app(database: str = ":memory:", **settings: Any) -> Flask:
    return create_app(Settings(database=database, clock=f"manual@{START}", background=False, **settings))


@pytest.fixture(params=["off", "errors", "all"])
def mode(request: pytest.FixtureRequest) -> str:
    chosen: str = request.param
    return chosen


@pytest.fixture
def moded(mode: str) -> Iterator[FlaskClient]:
    application = _app(journal=mode)
    yield application.test_client()
    close_app(application)


def _call(client: FlaskClient, kind: str, request_id: str) -> int:
    """One Supplier API call of ``kind``; its status."""
    headers = gateway_headers("TENANT1", **{"X-Request-ID": request_id})
    if kind == "ok":
        response = client.get("/service-availability", query_string=address_query(COVERED), headers=headers)
    elif kind == "malformed":
        response = client.post(
            "/service-orders", data="{not json", headers={**headers, "Content-Type": "application/json"}
        )
    else:
        response = client.get("/no-such-path", headers=headers)
    return response.status_code


def _journal(client: FlaskClient) -> list[dict[str, Any]]:
    response = client.get("/_admin/journal", query_string={"limit": 1000})
    assert response.status_code == 200
    entries: list[dict[str, Any]] = response.get_json()
    return entries


def test_each_mode_keeps_what_it_says(moded: FlaskClient, mode: str) -> None:
    statuses = {
        request_id: _call(moded, kind, request_id)
        for request_id, kind in (("a", "ok"), ("b", "malformed"), ("c", "ok"), ("d", "unknown"))
    }
    assert statuses["a"] == 200
    assert statuses["b"] == 400
    kept = {entry["requestId"]: entry["status"] for entry in _journal(moded)}
    expected = {
        "off": {},
        "errors": {key: status for key, status in statuses.items() if status >= 400},
        "all": statuses,
    }[mode]
    assert kept == expected


def test_the_status_names_the_mode_and_the_bound(mode: str) -> None:
    application = _app(journal=mode, journal_max_rows=7)
    try:
        status = application.test_client().get("/_admin/journal/status").get_json()
    finally:
        close_app(application)
    assert status["mode"] == mode
    assert status["maxRows"] == 7
    assert status["dropped"] == 0
    assert status["queued"] == 0


def test_a_token_request_that_fails_is_journalled_without_its_secret_in_errors_mode() -> None:
    application = _app(journal="errors")
    client = application.test_client()
    try:
        form = {"grant_type": "client_credentials", "client_id": "demo-gateway", "client_secret": "not-it"}
        refused = client.post("/auth/access-token", data=form)
        assert refused.status_code in {400, 401}
        [entry] = _journal(client)
    finally:
        close_app(application)
    assert entry["status"] == refused.status_code
    assert "not-it" not in str(entry)
    assert entry["body"] == entry["response"] == "(withheld: it carries credentials)"


def _entry(number: int) -> JournalEntry:
    return JournalEntry(
        at=datetime(2026, 7, 1, 9, tzinfo=UTC),
        method="GET",
        path="/service-availability",
        query="",
        tenant="TENANT1",
        request_id=f"r{number}",
        conversation_id=None,
        body=None,
        status=200,
        response=b'{"n": %d}' % number,
    )


@pytest.fixture(scope="module")
def journal_app() -> Iterator[Flask]:
    application = _app()
    yield application
    close_app(application)


@given(
    keep=st.integers(min_value=1, max_value=12),
    capacity=st.integers(min_value=1, max_value=15),
    # The stream: how many entries arrive before each flush.
    bursts=st.lists(st.integers(min_value=0, max_value=25), min_size=1, max_size=8),
)
def test_the_journal_never_holds_more_than_its_bound_and_counts_what_it_drops(
    journal_app: Flask, keep: int, capacity: int, bursts: list[int]
) -> None:
    context: Context = journal_app.extensions["fibresim.context"]
    journal_use_case.clear(context)
    dropped_before = journal_use_case.dropped(context)
    writer = JournalWriter(context, keep=keep, capacity=capacity)
    accepted: list[str] = []
    number = 0
    for burst in bursts:
        for _ in range(burst):
            number += 1
            if writer.add(_entry(number)):
                accepted.append(f"r{number}")
        writer.flush()
        rows = journal_use_case.read(context, limit=1000)
        assert len(rows) <= keep
        # The newest accepted entries, newest first, each with its parsed answer.
        assert [row.request_id for row in rows] == accepted[::-1][:keep]
        assert all(row.response == {"n": int(row.request_id[1:])} for row in rows)  # type: ignore[index]
    assert journal_use_case.dropped(context) - dropped_before == number - len(accepted)
    assert writer.dropped_here == number - len(accepted)


def test_stopping_the_writer_writes_every_entry_still_queued(journal_app: Flask) -> None:
    context: Context = journal_app.extensions["fibresim.context"]
    journal_use_case.clear(context)
    writer = JournalWriter(context, interval=3600)  # the thread would not flush on its own
    writer.start()
    for number in range(1, 41):
        assert writer.add(_entry(number))
    assert writer.queued == 40
    writer.stop()
    assert writer.queued == 0
    assert len(journal_use_case.read(context, limit=1000)) == 40


def test_closing_a_served_simulator_keeps_every_answered_request(tmp_path: Path) -> None:
    database = str(tmp_path / "journal.sqlite3")
    application = create_app(Settings(database=database, clock=f"manual@{START}", background=True))
    client = application.test_client()
    for number in range(25):
        assert _call(client, "ok", f"close-{number}") == 200
    close_app(application)

    reopened = _app(database)
    try:
        kept = {entry["requestId"] for entry in _journal(reopened.test_client())}
    finally:
        close_app(reopened)
    assert kept == {f"close-{number}" for number in range(25)}


def test_writers_of_several_processes_trimming_at_once_keep_exactly_the_newest(tmp_path: Path) -> None:
    # Two simulators on one database file stand for two worker processes, each with its writer.
    database = str(tmp_path / "shared.sqlite3")
    first, second = _app(database), _app(database)
    try:
        writers = [
            JournalWriter(application.extensions["fibresim.context"], keep=25)
            for application in (first, second)
        ]

        def write(writer: JournalWriter, start: int) -> None:
            for number in range(start, start + 200):
                writer.add(_entry(number))
                if number % 17 == 0:
                    writer.flush()
            writer.flush()

        threads = [
            threading.Thread(target=write, args=(writer, start))
            for writer, start in zip(writers, (0, 1000), strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        rows = journal_use_case.read(first.extensions["fibresim.context"], limit=1000)
    finally:
        close_app(first)
        close_app(second)
    assert len(rows) == 25
    # 400 entries written in all: the newest 25 are kept, none missing, newest first.
    assert [row.id for row in rows] == list(range(400, 375, -1))
