"""The access tokens' signing key: kept in the database, so every worker and every restart
signs and checks tokens with the same key."""

from __future__ import annotations

from collections.abc import Callable

from simulator.application.context import Context
from simulator.storage.schema import stored_value

SIGNING_KEY = "token_signing_key"


def token_signing_key(context: Context, make: Callable[[], str]) -> str:
    """The stored key; the first caller stores ``make()`` (under a lock, so only one is kept)."""
    database = context.database
    with database.transaction() as connection:
        database.lock(connection, SIGNING_KEY)
        return stored_value(connection, SIGNING_KEY, make)
