"""The inventory survives a restart, on SQLite and on PostgreSQL alike."""

from __future__ import annotations

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
