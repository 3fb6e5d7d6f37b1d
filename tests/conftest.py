"""Shared fixtures: an app on an in-memory database and a manual clock, and its client."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings

from simulator.composition import close_app, create_app
from simulator.settings import Settings
from tests.postgres import fresh_database, postgres_server

# "quick" runs on every test run and is seeded (derandomize), so a run is repeatable and CI
# cannot go red by chance; "thorough" roams with fresh seeds for a deliberate deep run:
#   pytest --hypothesis-profile=thorough
settings.register_profile(
    "quick",
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "thorough", max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
settings.load_profile("quick")

# A Wednesday in British Summer Time; tests move the clock from here.
START = "2026-07-01T09:00:00Z"


@contextmanager
def demo_simulator() -> Iterator[Flask]:
    """The simulator on the demo profile, an in-memory database and a manual clock; closed after."""
    application = create_app(Settings(database=":memory:", clock=f"manual@{START}", background=False))
    try:
        yield application
    finally:
        close_app(application)


@pytest.fixture
def app() -> Iterator[Flask]:
    """The simulator on the demo profile, an in-memory database and a manual clock."""
    with demo_simulator() as application:
        yield application


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client for ``app``."""
    return app.test_client()


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A PostgreSQL server for the whole session (skips the test when none can be had)."""
    with postgres_server() as url:
        if url is None:
            pytest.skip("no PostgreSQL server: install the postgresql package or set FIBRESIM_TEST_PG_URL")
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind: an SQLite file, then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield str(tmp_path / "fibresim.sqlite3")
        return
    with fresh_database(request.getfixturevalue("postgres_server_url")) as url:
        yield url


def gateway_headers(tenant: str = "TENANT1", **extra: str) -> dict[str, str]:
    """The headers the gateway sends on every Supplier API call."""
    return {
        "X-Request-ID": str(uuid.uuid4()),
        "X-Conversation-ID": str(uuid.uuid4()),
        "Tenant": tenant,
        **extra,
    }


def address_query(uprn: str, kind: str = "UPRN", **extra: Any) -> dict[str, str]:
    """Query string for an availability check, the address JSON-encoded as the gateway does."""
    return {"address": json.dumps({"id": uprn, "type": kind}), **extra}
