"""The journal stores checked JSON as the text it came as, and reads back the same document."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.application.journal import EncodedJson, JournalEntry
from simulator.http.journal import _parsed_body
from simulator.storage import Database
from simulator.storage import journal as journal_store

# What a JSON body holds (no lone surrogates: parse_json refuses those before they are kept).
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=8)
DOCUMENTS = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=12,
)
AT = datetime(2026, 7, 1, 9, tzinfo=UTC)


def entry(body: Any, response: Any) -> JournalEntry:
    return JournalEntry(AT, "POST", "/service-orders", "", "TENANT1", "r", "c", body, 201, response)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=DOCUMENTS, spaced=st.booleans())
def test_checked_json_text_reads_back_as_its_document(database_url: str, document: Any, spaced: bool) -> None:
    raw = json.dumps(document, indent=2 if spaced else None, ensure_ascii=spaced).encode()
    kept = _parsed_body(raw)
    assert isinstance(kept, EncodedJson)  # checked, and stored as it came
    database = Database(database_url)
    database.create_schema()
    try:
        with database.transaction() as connection:
            journal_store.record_many(connection, [entry(kept, {"plain": document})])
        with database.reading() as connection:
            (stored,) = journal_store.query(connection, limit=1)
        assert stored.body == document
        assert stored.response == {"plain": document}
    finally:
        database.dispose()


def test_a_body_that_is_not_json_is_kept_as_text() -> None:
    kept = _parsed_body(b'{"id": 1')
    assert not isinstance(kept, EncodedJson)
    assert kept == '{"id": 1'


def test_the_write_ahead_log_is_truncated_only_once_past_the_limit(tmp_path: Path) -> None:
    database = Database(str(tmp_path / "fibresim.sqlite3"))
    database.create_schema()
    wal = tmp_path / "fibresim.sqlite3-wal"
    keep_reading = database.engine.raw_connection()  # an open connection keeps the log in place
    try:
        with database.transaction() as connection:
            journal_store.record_many(connection, [entry({"n": n}, {"text": "x" * 500}) for n in range(200)])
        grown = wal.stat().st_size
        assert grown > 0
        assert journal_store.checkpoint_wal(database, larger_than=grown) is False
        assert wal.stat().st_size == grown  # under the limit: left to SQLite's own checkpoints
        assert journal_store.checkpoint_wal(database, larger_than=grown - 1) is True
        assert wal.stat().st_size == 0
    finally:
        keep_reading.close()
        database.dispose()
