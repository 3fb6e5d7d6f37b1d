"""The database carries a schema version: an empty one is stamped, its own version is used,
any other version is refused before anything is served (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, inspect, select, update

from simulator.domain.errors import ConfigurationError
from simulator.storage import SCHEMA_VERSION, Database, SchemaMismatch
from simulator.storage.database import database_url as to_sqlalchemy
from simulator.storage.schema import VERSION_KEY, fibresim_meta
from simulator.storage.tables import live_services, metadata


def opened(url: str) -> Database:
    database = Database(url)
    database.create_schema()
    return database


def stamp(url: str, value: str | None) -> None:
    """Rewrite the stored version (``None``: drop the stamp table, as the previous release had none)."""
    engine = create_engine(to_sqlalchemy(url))
    with engine.begin() as connection:
        if value is None:
            fibresim_meta.drop(connection)
        else:
            connection.execute(update(fibresim_meta).values(value=value))
    engine.dispose()


def refusal(url: str) -> str:
    database = Database(url)
    try:
        with pytest.raises(SchemaMismatch) as caught:
            database.create_schema()
    finally:
        database.dispose()
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_an_empty_database_is_created_and_stamped(database_url: str) -> None:
    database = opened(database_url)
    with database.reading() as connection:
        names = set(inspect(connection).get_table_names())
        version = connection.execute(
            select(fibresim_meta.c.value).where(fibresim_meta.c.key == VERSION_KEY)
        ).scalar_one()
    database.dispose()
    assert set(metadata.tables) <= names
    assert version == str(SCHEMA_VERSION)


def _add_live_service(database: Database, service_id: str) -> None:
    with database.transaction() as connection:
        connection.execute(
            live_services.insert().values(
                service_id=service_id,
                tenant="T",
                address_key="UPRN:1",
                address_id="1",
                address_type="UPRN",
                specification_id="FTTP",
                line_profile_id="1",
                ont_port=1,
            )
        )


def test_a_database_of_this_version_is_used_and_keeps_its_data(database_url: str) -> None:
    first = opened(database_url)
    _add_live_service(first, "S-1")
    first.dispose()
    second = opened(database_url)
    with second.reading() as connection:
        assert connection.execute(select(live_services.c.service_id)).scalars().all() == ["S-1"]
    second.dispose()


def test_a_database_of_the_previous_release_without_a_stamp_is_refused(database_url: str) -> None:
    opened(database_url).dispose()
    stamp(database_url, None)
    message = refusal(database_url)
    assert "was written by an earlier fibresim (schema version 1)" in message
    assert f"this fibresim uses schema version {SCHEMA_VERSION}" in message
    assert "fibresim reset-db" in message


def test_an_older_stamp_is_refused(database_url: str) -> None:
    opened(database_url).dispose()
    stamp(database_url, str(SCHEMA_VERSION - 1))
    assert f"an earlier fibresim (schema version {SCHEMA_VERSION - 1})" in refusal(database_url)


def test_a_newer_stamp_is_refused(database_url: str) -> None:
    opened(database_url).dispose()
    stamp(database_url, str(SCHEMA_VERSION + 1))
    assert f"a newer fibresim (schema version {SCHEMA_VERSION + 1})" in refusal(database_url)


def test_an_unreadable_stamp_is_refused_as_unknown(database_url: str) -> None:
    opened(database_url).dispose()
    stamp(database_url, "two")
    assert "an unknown fibresim" in refusal(database_url)


def test_tables_that_are_not_the_simulators_do_not_count(database_url: str) -> None:
    other = MetaData()
    Table("their_table", other, Column("id", Integer, primary_key=True), Column("x", String(5)))
    engine = create_engine(to_sqlalchemy(database_url))
    other.create_all(engine)
    engine.dispose()
    database = opened(database_url)
    with database.reading() as connection:
        assert "their_table" in inspect(connection).get_table_names()
    database.dispose()


def test_reset_makes_a_refused_database_usable_and_empty(database_url: str) -> None:
    first = opened(database_url)
    _add_live_service(first, "S-old")
    first.dispose()
    stamp(database_url, None)
    refusal(database_url)
    database = Database(database_url)
    database.reset_schema()
    database.create_schema()
    with database.reading() as connection:
        assert connection.execute(select(live_services.c.service_id)).scalars().all() == []
    database.dispose()


def test_a_file_that_is_not_a_database_is_named_plainly(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a database, just some text that is long enough to have a header\n" * 20)
    database = Database(str(path))
    with pytest.raises(ConfigurationError) as caught:
        database.create_schema()
    database.dispose()
    assert str(caught.value) == f"cannot open database {path}: file is not a database"
