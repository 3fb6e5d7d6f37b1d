"""Two simulators on one database file (as two worker processes are) are one simulator."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from simulator.composition import Simulator
from simulator.settings import Settings
from simulator.storage import Database
from simulator.storage.leases import SqlLeases
from simulator.storage.shared_state import INVENTORY, bump
from tests.conftest import START, address_query, gateway_headers
from tests.orders_support import advance, live_lines, post, provide


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[FlaskClient, FlaskClient]]:
    options = Settings(database=str(tmp_path / "one.sqlite3"), clock=f"manual@{START}", background=False)
    with Simulator(options) as first, Simulator(options) as second:
        yield first.app.test_client(), second.app.test_client()


def test_a_clock_moved_through_one_is_the_clock_of_the_other(pair: tuple[FlaskClient, FlaskClient]) -> None:
    first, second = pair
    moved = first.post("/_admin/clock/advance", json={"by": "P1DT2H"}).get_json()["now"]
    assert moved == "2026-07-02T11:00:00Z"
    assert second.get("/_admin/clock").get_json()["now"] == moved
    second.post("/_admin/reset")
    assert first.get("/_admin/clock").get_json()["now"] == START


def test_an_order_completed_through_one_changes_what_the_other_answers(
    pair: tuple[FlaskClient, FlaskClient],
) -> None:
    first, second = pair
    assert live_lines(second, "100000000002") == {}  # answered, and cached, by the second
    assert post(first, "/service-orders", provide(9001)).status_code == 201
    advance(first)
    assert "S9001" in live_lines(second, "100000000002")


def test_a_fault_budget_is_shared(pair: tuple[FlaskClient, FlaskClient]) -> None:
    first, second = pair
    assert first.post("/_admin/faults", json={"status": 500, "times": 1}).status_code == 201
    query = address_query("100000000002")
    statuses = [c.get("/service-availability", query_string=query, headers=gateway_headers()).status_code
                for c in (second, first, second, first)]  # fmt: skip
    assert statuses == [500, 200, 200, 200]
    assert first.get("/_admin/faults").get_json()[0]["hits"] == 1


def test_a_simulator_started_with_another_clock_starts_it_afresh(tmp_path: Path) -> None:
    database = str(tmp_path / "one.sqlite3")
    with Simulator(Settings(database=database, clock=f"manual@{START}", background=False)) as first:
        first.app.test_client().post("/_admin/clock/advance", json={"by": "PT1H"})
    with Simulator(Settings(database=database, clock=f"manual@{START}", background=False)) as again:
        assert again.app.test_client().get("/_admin/clock").get_json()["now"] == "2026-07-01T10:00:00Z"
    with Simulator(
        Settings(database=database, clock="manual@2026-08-01T00:00:00Z", background=False)
    ) as other:
        assert other.app.test_client().get("/_admin/clock").get_json()["now"] == "2026-08-01T00:00:00Z"


TTL = timedelta(seconds=10)
T0 = datetime(2026, 7, 1, tzinfo=UTC)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(0, 30)), max_size=12))
def test_at_most_one_process_holds_the_lease_at_any_time(
    tmp_path_factory: pytest.TempPathFactory, asks: list[tuple[str, int]]
) -> None:
    database = Database(str(tmp_path_factory.mktemp("lease") / "lease.sqlite3"))
    try:
        database.create_schema()
        leases = SqlLeases(database)
        until: dict[str, datetime] = {}
        now = T0
        for holder, wait in asks:
            now += timedelta(seconds=wait)
            held = leases.hold("background", holder, now, TTL)
            others = [h for h, end in until.items() if h != holder and end > now]
            assert held == (not others)
            if held:
                until[holder] = now + TTL
    finally:
        database.dispose()


def test_a_commit_that_changes_the_shared_state_moves_the_generation_every_mapping_sees(
    tmp_path: Path,
) -> None:
    """Reads of the shared state are skipped only while no process has committed a change."""
    url = str(tmp_path / "one.sqlite3")
    first, second = Database(url), Database(url)
    try:
        first.create_schema()
        second.create_schema()
        assert first.generation is not None
        assert second.generation is not None
        before = second.generation.read()
        with first.transaction() as connection:
            connection.execute(text("SELECT 1"))  # a write transaction that leaves the shared state alone
        assert second.generation.read() == before
        with first.transaction() as connection:
            bump(connection, INVENTORY)
        moved = second.generation.read()
        assert moved != before

        def bump_then_fail() -> None:
            with first.transaction() as connection:
                bump(connection, INVENTORY)
                raise RuntimeError("rolled back")

        with pytest.raises(RuntimeError):
            bump_then_fail()
        assert second.generation.read() == moved  # nothing committed, nothing to read again
    finally:
        first.dispose()
        second.dispose()
