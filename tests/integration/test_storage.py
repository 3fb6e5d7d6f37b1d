"""The inventory survives a restart, on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import event, text

from simulator.application import availability as use_case
from simulator.application.context import Context
from simulator.domain.clock import ManualClock
from simulator.domain.inventory import AddressId, LiveService
from simulator.profiles import load_profile
from simulator.storage import Database, inventory

PROFILE = load_profile("demo")
ADDRESS = AddressId("100000000002")


def open_context(url: str) -> Context:
    return Context.open(PROFILE, Database(url), ManualClock())


def test_a_new_live_service_is_still_there_after_a_restart(database_url: str) -> None:
    first = open_context(database_url)
    assert use_case.availability_at(first, ADDRESS, "TENANT1").new_line is not None
    with first.database.transaction() as connection:
        inventory.add(connection, LiveService("S-new", "TENANT1", ADDRESS, "FTTP", "2", 1))
    first.database.dispose()

    second = open_context(database_url)
    answer = use_case.availability_at(second, ADDRESS, "TENANT1")
    assert answer.new_line is None
    assert [line.service.service_id for line in answer.existing_lines] == ["S-new"]
    second.database.dispose()


def test_a_ceased_seed_service_is_not_brought_back_on_restart(database_url: str) -> None:
    first = open_context(database_url)
    with first.database.transaction() as connection:
        inventory.remove(connection, "S100000000003-1")
    first.database.dispose()

    second = open_context(database_url)
    answer = use_case.availability_at(second, AddressId("100000000003"), "TENANT1")
    assert answer.existing_lines == ()
    assert answer.new_line is not None
    second.database.dispose()


def test_seeding_writes_the_estate_once(database_url: str) -> None:
    context = open_context(database_url)
    with context.database.reading() as connection:
        before = len(inventory.at_address(connection, AddressId("100000000004")))
    with context.database.transaction() as connection:
        assert not inventory.seed(
            connection, PROFILE.fingerprint, context.directory.initial_live_services(), context.clock.now()
        )
        assert len(inventory.at_address(connection, AddressId("100000000004"))) == before == 1
    context.database.dispose()


def test_a_workers_threads_reuse_their_sqlite_connections(tmp_path: Path) -> None:
    # Bursts of twelve request threads each holding a connection at once, with a lull between
    # them: the pool keeps what is given back, so no burst opens (and sets up) more.
    database = Database(f"sqlite:///{tmp_path / 'pool.sqlite3'}")
    database.create_schema()
    opened = []
    event.listen(database.engine, "connect", lambda *_: opened.append(1))
    together = threading.Barrier(12)

    def requests() -> None:
        for _ in range(5):
            with database.reading() as connection:
                connection.execute(text("SELECT 1"))
                together.wait(timeout=10)
            together.wait(timeout=10)  # the lull: every connection is back in the pool

    threads = [threading.Thread(target=requests) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    database.dispose()
    assert 1 <= len(opened) <= 12
