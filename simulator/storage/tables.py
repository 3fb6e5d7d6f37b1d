"""The database schema, as SQLAlchemy Core tables (SQLite and PostgreSQL alike)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)

metadata = MetaData()


def _history_table(name: str, key: Column[str]) -> Table:
    """What happened to one kind of entity, in order, keyed by (tenant, ``key``)."""
    return Table(
        name,
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("tenant", String(50), nullable=False),
        key,
        Column("at", DateTime(timezone=True), nullable=False),
        Column("event", String(40), nullable=False),
        Column("from_status", String(30), nullable=True),
        Column("to_status", String(30), nullable=True),
        Column("detail", JSON, nullable=False),
        Index(f"{name}_by_{key.name.removesuffix('_key')}", "tenant", key.name),
    )


def _assurance_identity(id_name: str) -> list[Column[object]]:
    """The columns a service test and a service problem both start with: whose, and about what."""
    return [
        Column("tenant", String(50), primary_key=True),
        Column(id_name, BigInteger, primary_key=True, autoincrement=False),
        Column("supplier_reference", String(40), nullable=False),
        Column("service_id", String(50), nullable=False),
        Column("specification_id", String(50), nullable=False),
        Column("problem_type", String(30), nullable=False),
    ]


def _script_progress() -> list[Column[object]]:
    """Where a test or problem is in its KCI script (the scenario that chose it included)."""
    return [
        Column("scenario", JSON, nullable=False),  # {name, params, problemCode, kciDelay}
        Column("next_step", Integer, nullable=False),
        Column("next_step_due", DateTime(timezone=True), nullable=True, index=True),
        Column("last_sequence", Integer, nullable=False),
    ]


def _scenario_choice() -> list[Column[object]]:
    """How the script of an order or of a request on it was chosen (the test-stub headers)."""
    return [
        Column("scenario_name", String(60), nullable=True),
        Column("scenario_params", JSON, nullable=False),  # {name: value}
        Column("problem_code", String(40), nullable=True),
        Column("kci_delay", String(20), nullable=True),
    ]


def _timestamps() -> list[Column[object]]:
    """When an order, test or problem was received and last changed."""
    return [
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
    ]


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

# Gateway ids are unique per tenant (reference §2.4): every tenant-facing table is keyed by both.
reservations = Table(
    "reservations",
    metadata,
    Column("tenant", String(50), primary_key=True),
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("supplier_reference", String(50), nullable=False),
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
    Index("reservations_by_address", "address_key"),  # the dashboard's reservations of an address
)

orders = Table(
    "orders",
    metadata,
    Column("tenant", String(50), primary_key=True),
    # The gateway's order id as text, or "UC-<n>" for an unsolicited cease the supplier raised.
    Column("order_key", String(40), primary_key=True),
    Column("gateway_id", BigInteger, nullable=True),
    Column("supplier_reference", String(40), nullable=False),
    Column("order_type", String(20), nullable=False),  # NEW ... CEASE, UNSOLICITED_CEASE
    Column("status", String(30), nullable=False),
    Column("previous_status", String(30), nullable=True),
    # What was ordered.
    Column("address_id", String(64), nullable=True),
    Column("address_type", String(20), nullable=True),
    Column("service_id", String(50), nullable=True),
    Column("specification_id", String(50), nullable=True),
    Column("characteristics", JSON, nullable=False),  # [[name, value], ...]
    Column("primary_contact", JSON, nullable=True),  # {name, email, phoneNumber}
    Column("secondary_contact", JSON, nullable=True),
    Column("engineer_tasks", JSON, nullable=False),  # [task, ...]
    Column("hazards", String(1000), nullable=True),
    Column("on_site_restrictions", String(1000), nullable=True),
    Column("notes", String(1000), nullable=True),
    Column("requested_date", Date, nullable=True),
    Column("reservation_id", BigInteger, nullable=True),
    Column("reservation_reference", String(64), nullable=True),
    Column("unsolicited_reason", String(30), nullable=True),
    # What completing it does (all NULL: nothing, an unsolicited cease).
    Column("change_remove", String(50), nullable=True),
    Column("add_service_id", String(50), nullable=True),
    Column("add_tenant", String(50), nullable=True),
    Column("add_address_id", String(64), nullable=True),
    Column("add_address_type", String(20), nullable=True),
    Column("add_specification_id", String(50), nullable=True),
    Column("add_line_profile_id", String(50), nullable=True),
    Column("add_ont_port", Integer, nullable=True),
    # Dates.
    Column("target_at", DateTime(timezone=True), nullable=True),
    Column("committed_at", DateTime(timezone=True), nullable=True),
    Column("target_date_at", DateTime(timezone=True), nullable=True),
    Column("completed_at", DateTime(timezone=True), nullable=True),
    Column("appointment_start", String(40), nullable=True),  # local time with its offset
    Column("appointment_end", String(40), nullable=True),
    Column("appointment_reference", String(64), nullable=True),
    # The linked takeover / unsolicited cease.
    Column("linked_tenant", String(50), nullable=True),
    Column("linked_key", String(40), nullable=True),
    Column("paused", Boolean, nullable=False),
    # The script and how it was chosen.
    *_scenario_choice(),
    Column("script", String(60), nullable=False),
    Column("next_step", Integer, nullable=False),
    Column("next_step_due", DateTime(timezone=True), nullable=True, index=True),
    Column("tail", JSON, nullable=False),  # [reason code, ...]
    Column("last_sequence", Integer, nullable=False),
    Column("conversation_id", String(100), nullable=True),
    # The first answer, given again to a repeat of the same order.
    Column("reply", String(10), nullable=False),
    Column("reply_body", JSON, nullable=True),
    *_timestamps(),
    UniqueConstraint("tenant", "supplier_reference", name="one_order_per_reference"),
    # The dashboard pages orders newest first: an index walk, not a sort of every order.
    Index("orders_newest", "created_at"),
)

order_requests = Table(
    "order_requests",
    metadata,
    Column("tenant", String(50), primary_key=True),
    Column("kind", String(20), primary_key=True),  # amendment, cancellation
    Column("request_id", BigInteger, primary_key=True, autoincrement=False),
    Column("order_key", String(40), nullable=False),
    Column("position", Integer, nullable=False),  # the order's requests in arrival order
    Column("reference", String(40), nullable=False),
    Column("order_id_sent", BigInteger, nullable=False),
    *_scenario_choice(),
    Column("reply", String(10), nullable=False),
    Column("queued", Boolean, nullable=False),
    Column("step", Integer, nullable=False),
    Column("changes", JSON, nullable=True),  # an amendment's changes, field by field
    Column("new_target", DateTime(timezone=True), nullable=True),
    Column("reason_code", String(30), nullable=True),
    Index("order_requests_by_order", "tenant", "order_key"),
)

order_history = _history_table("order_history", Column("order_key", String(40), nullable=False))

kci_outbox = Table(
    "kci_outbox",
    metadata,
    Column("kci_id", String(36), primary_key=True),
    Column("tenant", String(50), nullable=False),
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
    UniqueConstraint("tenant", "order_key", "sequence_number", name="one_kci_per_sequence"),
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
    Column("latency_ms", Integer, nullable=True),  # from sending to the answer (or the failure)
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
    Column("latency_ms", Integer, nullable=True),  # from arrival to the answer
)

# Service tests and service problems (T2R), keyed like orders by (tenant, gateway id). Their
# KCIs share the outbox, under the keys "ST-<id>" and "SP-<id>" (sequences of their own).
service_tests = Table(
    "service_tests",
    metadata,
    *_assurance_identity("test_id"),
    Column("characteristics", JSON, nullable=False),  # [[name, value], ...]
    Column("status", String(30), nullable=False),
    Column("outcome", String(20), nullable=True),
    Column("outcome_codes", JSON, nullable=False),  # [code, ...]
    Column("completed_at", DateTime(timezone=True), nullable=True),
    *_script_progress(),
    Column("conversation_id", String(100), nullable=True),
    Column("reply_body", JSON, nullable=True),
    *_timestamps(),
)

service_problems = Table(
    "service_problems",
    metadata,
    *_assurance_identity("problem_id"),
    Column("problem_text", String(200), nullable=False),
    Column("status", String(30), nullable=False),
    Column("previous_status", String(30), nullable=True),
    # What was reported and amended since: address, test, characteristics, contacts, notes.
    Column("report", JSON, nullable=False),
    # How it is going: escalation, appointment, incident, resolution.
    Column("progress", JSON, nullable=False),
    Column("completed_at", DateTime(timezone=True), nullable=True),
    *_script_progress(),
    Column("requests", JSON, nullable=False),  # amendments and cancellations, in arrival order
    Column("conversation_id", String(100), nullable=True),
    Column("reply", String(10), nullable=False),
    Column("reply_body", JSON, nullable=True),
    *_timestamps(),
)

problem_request_ids = Table(
    "problem_request_ids",
    metadata,
    # A tenant's amendment or cancellation id names one request of one problem.
    Column("tenant", String(50), primary_key=True),
    Column("kind", String(30), primary_key=True),
    Column("request_id", BigInteger, primary_key=True, autoincrement=False),
    Column("problem_id", BigInteger, nullable=False),
)

assurance_history = _history_table(
    "assurance_history",
    Column("entity_key", String(40), nullable=False),  # ST-<id> or SP-<id>
)

# State every worker and replica shares, one row per name: the simulator clock ("clock", its
# state in ``value``) and the versions the answer caches are keyed by ("inventory",
# "capacity", "faults"), each bumped in the transaction that changes what it stands for.
shared_state = Table(
    "shared_state",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("version", BigInteger, nullable=False),
    Column("value", JSON, nullable=True),
)

# Who runs the background work (due steps, reservation expiry, KCI delivery) until when.
leases = Table(
    "leases",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("holder", String(100), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

# Fault-injection rules (admin API), with their budgets and probability draws.
fault_rules = Table(
    "fault_rules",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("spec", JSON, nullable=False),
    Column("remaining", Integer, nullable=True),
    Column("hits", Integer, nullable=False),
    Column("draws", Integer, nullable=False),
)
