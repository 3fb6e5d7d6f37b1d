"""The database schema, as SQLAlchemy Core tables (SQLite and PostgreSQL alike)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)

metadata = MetaData()

inventory_seeds = Table(
    "inventory_seeds",
    metadata,
    Column("fingerprint", String(64), primary_key=True),
    Column("seeded_at", DateTime(timezone=True), nullable=False),
)

live_services = Table(
    "live_services",
    metadata,
    Column("service_id", String(50), primary_key=True),
    Column("tenant", String(50), nullable=False),
    Column("address_key", String(80), nullable=False, index=True),
    Column("address_id", String(64), nullable=False),
    Column("address_type", String(20), nullable=False),
    Column("specification_id", String(50), nullable=False),
    Column("line_profile_id", String(50), nullable=False),
    Column("ont_port", Integer, nullable=False),
    UniqueConstraint("address_key", "ont_port", name="one_service_per_port"),
)

reservations = Table(
    "reservations",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("supplier_reference", String(50), nullable=False),
    Column("tenant", String(50), nullable=False),
    Column("address_key", String(80), nullable=False),
    Column("specification_id", String(50), nullable=False),
    Column("patch", String(80), nullable=False),
    Column("purpose", String(20), nullable=False),
    Column("slot_start", DateTime(timezone=True), nullable=False),
    Column("slot_end", DateTime(timezone=True), nullable=False),
    Column("classification", String(30), nullable=False),
    Column("standard", Integer, nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("status", String(20), nullable=False),
    Column("order_id", BigInteger, nullable=True),
    Column("local_times", JSON, nullable=False),  # slot start/end with the offsets the gateway saw
    Index("reservations_by_slot", "patch", "slot_start", "status"),
    Index("reservations_by_expiry", "status", "expires_at"),
)
