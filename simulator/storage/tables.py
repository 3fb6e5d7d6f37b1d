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

orders = Table(
    "orders",
    metadata,
    # The gateway's order id as text, or "UC-<n>" for an unsolicited cease the supplier raised.
    Column("order_key", String(40), primary_key=True),
    Column("gateway_id", BigInteger, nullable=True, unique=True),
    Column("supplier_reference", String(40), nullable=False, unique=True),
    Column("tenant", String(50), nullable=False, index=True),
    Column("kind", String(20), nullable=False),  # PROVIDE, MODIFY, CEASE, UNSOLICITED_CEASE
    Column("order_type", String(20), nullable=False),
    Column("status", String(30), nullable=False),
    Column("previous_status", String(30), nullable=True),
    Column("script", String(60), nullable=False),
    Column("next_step", Integer, nullable=False),
    Column("next_step_due", DateTime(timezone=True), nullable=True, index=True),
    Column("last_sequence", Integer, nullable=False),
    Column("body", JSON, nullable=False),  # the latest full order, as KCIs carry it
    Column("context", JSON, nullable=False),  # scenario parameters, linked orders, pending requests
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

order_history = Table(
    "order_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("order_key", String(40), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("event", String(40), nullable=False),
    Column("from_status", String(30), nullable=True),
    Column("to_status", String(30), nullable=True),
    Column("detail", JSON, nullable=False),
)

kci_outbox = Table(
    "kci_outbox",
    metadata,
    Column("kci_id", String(36), primary_key=True),
    Column("order_key", String(40), nullable=False),
    Column("sequence_number", Integer, nullable=False),
    Column("payload", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("state", String(20), nullable=False),  # PENDING, DELIVERED, REJECTED
    Column("attempts", Integer, nullable=False, default=0),
    # On the delivery clock (wall time), not the simulator's; NULL = at once.
    Column("next_attempt_at", DateTime(timezone=True), nullable=True),
    Column("last_status_code", Integer, nullable=True),
    Column("last_error", String(2000), nullable=True),
    Column("delivered_at", DateTime(timezone=True), nullable=True),
    Column("fault", String(30), nullable=True),  # duplicate, swap_with_next, hold_back
    UniqueConstraint("order_key", "sequence_number", name="one_kci_per_sequence"),
    Index("outbox_pending", "state", "next_attempt_at"),
)

kci_attempts = Table(
    "kci_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kci_id", String(36), nullable=False, index=True),
    Column("attempt", Integer, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("outcome", String(20), nullable=False),  # DELIVERED, REJECTED, RETRY
    Column("status_code", Integer, nullable=True),
    Column("error", String(2000), nullable=True),
    Column("next_attempt_at", DateTime(timezone=True), nullable=True),
)

journal = Table(
    "journal",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("method", String(10), nullable=False),
    Column("path", String(200), nullable=False),
    Column("query", String(2000), nullable=False),
    Column("tenant", String(50), nullable=True),
    Column("request_id", String(100), nullable=True),
    Column("conversation_id", String(100), nullable=True),
    Column("body", JSON, nullable=True),
    Column("status", Integer, nullable=False),
    Column("response", JSON, nullable=True),
)
