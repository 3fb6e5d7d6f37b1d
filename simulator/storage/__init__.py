"""Persistence: an SQLite file by default, PostgreSQL by URL, through SQLAlchemy Core."""

from simulator.storage.database import Database, database_url

__all__ = ["Database", "database_url"]
