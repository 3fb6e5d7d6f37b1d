"""Persistence: an SQLite file by default, PostgreSQL by URL, through SQLAlchemy Core."""

from simulator.storage.database import Database, database_url, shown_database
from simulator.storage.schema import SCHEMA_VERSION, SchemaMismatch

__all__ = ["SCHEMA_VERSION", "Database", "SchemaMismatch", "database_url", "shown_database"]
