"""A read straight on a driver connection gives what the same statement gives through SQLAlchemy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import bindparam, func, select

from simulator.application.journal import JournalEntry
from simulator.storage import Database
from simulator.storage import journal as journal_store
from simulator.storage.database import utc
from simulator.storage.tables import journal

START = datetime(2026, 7, 1, 9, tzinfo=UTC)
METHODS = ("GET", "POST")

# Dates as a parameter and as columns read, a literal of the statement's own, a parameter twice.
SINCE = bindparam("since")
COUNTED = (
    select(journal.c.at, journal.c.method, func.count())
    .where(
        journal.c.at > SINCE,
        journal.c.method == "GET",
        (journal.c.status >= bindparam("status")) | (journal.c.at < SINCE),
    )
    .group_by(journal.c.at, journal.c.method)
    .order_by(journal.c.at)
)


def _entry(at: datetime, method: str, status: int) -> JournalEntry:
    return JournalEntry(at, method, "/service-availability", "", "TENANT1", "r", "c", None, status, None)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(
        st.tuples(st.integers(0, 600), st.sampled_from(METHODS), st.sampled_from((200, 404, 503))),
        max_size=30,
    ),
    since=st.integers(-5, 605),
    status=st.sampled_from((0, 400, 500, 600)),
)
def test_a_direct_read_gives_the_rows_sqlalchemy_gives(
    database_url: str, rows: list[tuple[int, str, int]], since: int, status: int
) -> None:
    database = Database(database_url)
    database.create_schema()
    try:
        with database.transaction() as connection:
            journal_store.clear(connection)
            entries = [_entry(START + timedelta(seconds=s), method, code) for s, method, code in rows]
            journal_store.record_many(connection, entries)
        params = {"since": START + timedelta(seconds=since), "status": status}
        with database.reading() as connection:
            expected = [(utc(at), method, count) for at, method, count in connection.execute(COUNTED, params)]

        read = [(utc(at), method, count) for at, method, count in database.read_directly(COUNTED, params)]

        assert read == expected
        assert all(isinstance(at, datetime) for at, _, _ in read)  # converted back, not the stored text
    finally:
        database.dispose()
