"""Beside an SQLite file the journal keeps a file of its own, so its writes never wait for the orders'."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from simulator.application import journal as journal_use_case
from simulator.cli import main
from simulator.composition import Simulator
from simulator.settings import Settings
from simulator.storage import Database, SchemaMismatch
from simulator.storage import journal as journal_store
from tests.conftest import START, address_query, gateway_headers

COVERED = "100000000002"


def _simulator(db: Path, **settings: Any) -> Simulator:
    return Simulator(Settings(database=str(db), clock=f"manual@{START}", background=False, **settings))


def _ask(client: FlaskClient, request_id: str) -> None:
    headers = gateway_headers("TENANT1", **{"X-Request-ID": request_id})
    answer = client.get("/service-availability", query_string=address_query(COVERED), headers=headers)
    assert answer.status_code == 200


def _journalled(client: FlaskClient) -> list[str]:
    return [entry["requestId"] for entry in client.get("/_admin/journal").get_json()]


def _rows(database: Database) -> int:
    with database.reading() as connection:
        return len(journal_store.query(connection, limit=1000))


def test_the_journal_of_an_sqlite_file_is_a_file_beside_it_and_outlives_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "fibresim.sqlite3"
    with _simulator(db) as simulator:
        client = simulator.app.test_client()
        _ask(client, "first")
        _ask(client, "second")
        assert simulator.context.journal_database is not simulator.database
        assert _rows(simulator.database) == 0  # nothing in the database's own journal table
        assert _rows(simulator.context.journal_database) == 2
    assert (tmp_path / "fibresim.sqlite3-requests").is_file()

    with _simulator(db) as simulator:
        assert _journalled(simulator.app.test_client()) == ["second", "first"]


def test_journal_batches_are_written_while_an_order_holds_the_write_turn(tmp_path: Path) -> None:
    with _simulator(tmp_path / "fibresim.sqlite3") as simulator:
        context = simulator.context
        entry = journal_use_case.JournalEntry(
            context.clock.now(), "GET", "/service-availability", "", "TENANT1", "r", "c", None, 200, None
        )
        written = threading.Event()

        def record() -> None:
            journal_use_case.record(context, [entry], trim_to=100)
            written.set()

        with simulator.database.transaction():  # SQLite's one writer, as a placement holds it
            writer = threading.Thread(target=record)
            writer.start()
            recorded_meanwhile = written.wait(timeout=10)
        writer.join(timeout=10)
        assert recorded_meanwhile
        assert _rows(context.journal_database) == 1


def test_a_memory_database_keeps_its_journal_in_itself() -> None:
    with Simulator(Settings(database=":memory:", clock=f"manual@{START}", background=False)) as simulator:
        _ask(simulator.app.test_client(), "only")
        assert simulator.context.journal_database is simulator.database
        assert _rows(simulator.database) == 1


def test_a_reset_forgets_and_counts_the_journal_in_its_own_file(tmp_path: Path) -> None:
    with _simulator(tmp_path / "fibresim.sqlite3") as simulator:
        client = simulator.app.test_client()
        for n in range(3):
            _ask(client, f"r{n}")
        answer = client.post("/_admin/reset")
        assert answer.status_code == 200
        assert answer.get_json()["removed"]["journal"] == 3
        assert _journalled(client) == []


def test_reset_db_empties_the_journal_file_too(tmp_path: Path) -> None:
    db = tmp_path / "fibresim.sqlite3"
    with _simulator(db) as simulator:
        _ask(simulator.app.test_client(), "before")
    assert main(["reset-db", "--db", str(db)]) == 0
    with _simulator(db) as simulator:
        assert _journalled(simulator.app.test_client()) == []


def test_a_journal_file_of_another_version_is_refused_naming_the_database(tmp_path: Path) -> None:
    db = tmp_path / "fibresim.sqlite3"
    with _simulator(db):
        pass
    stamped = sqlite3.connect(tmp_path / "fibresim.sqlite3-requests")
    with stamped:
        stamped.execute("update fibresim_meta set value = '999' where key = 'schema_version'")
    stamped.close()
    with pytest.raises(SchemaMismatch) as refused:
        _simulator(db)
    message = str(refused.value)
    assert f"reset-db --db {db}'" in message
    assert "--db " + str(db) + "-requests" not in message
    assert main(["reset-db", "--db", str(db)]) == 0
    with _simulator(db) as simulator:  # the advice works: the journal's file is current again
        assert _journalled(simulator.app.test_client()) == []
