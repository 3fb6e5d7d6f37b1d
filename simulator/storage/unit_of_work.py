"""The application's storage ports (``simulator.application.ports``) over SQLAlchemy Core."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from simulator.domain.assurance_scripts import AssuranceKind
from simulator.domain.inventory import AddressId, LiveService
from simulator.domain.kci_scripts import AppliesTo
from simulator.domain.order import Order
from simulator.domain.order_events import OrderId
from simulator.domain.reservations import Reservation
from simulator.domain.service_problem import ServiceProblem
from simulator.domain.service_test import ServiceTest
from simulator.storage import assurance as assurance_store
from simulator.storage import inventory as inventory_store
from simulator.storage import orders as order_store
from simulator.storage import outbox as outbox_store
from simulator.storage import reservations as reservation_store
from simulator.storage.database import Database
from simulator.storage.orders import HistoryEntry
from simulator.storage.outbox import Attempt, OutboxEntry


class SqlOrders:
    """Orders over one connection."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def get(self, order: OrderId) -> Order | None:
        """The order, if any."""
        return order_store.get(self._connection, order.tenant, order.key)

    def by_supplier_reference(self, tenant: str, reference: str) -> Order | None:
        """The tenant's order the supplier knows as ``reference``, if any."""
        return order_store.by_supplier_reference(self._connection, tenant, reference)

    def with_key(self, key: str) -> list[Order]:
        """Every tenant's order under ``key``."""
        return order_store.with_key(self._connection, key)

    def request_owner(self, tenant: str, kind: AppliesTo, request_id: int) -> str | None:
        """The key of the tenant's order that received the request, if any."""
        return order_store.request_owner(self._connection, tenant, kind, request_id)

    def reply_body(self, order: OrderId) -> dict[str, Any] | None:
        """The body of the order's first answer."""
        return order_store.reply_body(self._connection, order.tenant, order.key)

    def add(self, order: Order, reply_body: dict[str, Any] | None) -> None:
        """Store a new order."""
        order_store.insert_order(self._connection, order, reply_body)

    def save(self, order: Order) -> None:
        """Store an order's new state."""
        order_store.save(self._connection, order)

    def due(self, now: datetime, limit: int) -> list[OrderId]:
        """Orders whose next step is due."""
        return order_store.due(self._connection, now, limit)

    def listing(self, tenant: str | None) -> list[Order]:
        """The most recent orders."""
        return order_store.listing(self._connection, tenant)

    def next_unsolicited_number(self) -> int:
        """A fresh number for a supplier-raised order."""
        return order_store.next_unsolicited_number(self._connection)

    def add_history(self, order: OrderId, entry: HistoryEntry) -> None:
        """Record an event of an order."""
        order_store.add_history(self._connection, order, entry)

    def history(self, order: OrderId) -> list[HistoryEntry]:
        """Everything that happened to an order."""
        return order_store.history(self._connection, order.key, order.tenant)


class SqlOutbox:
    """The KCI outbox over one connection."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def enqueue(
        self,
        order: OrderId,
        *,
        kci_id: str,
        sequence_number: int,
        payload: dict[str, Any],
        now: datetime,
        fault: str | None,
    ) -> None:
        """Queue a KCI of ``order``."""
        outbox_store.enqueue(
            self._connection,
            kci_id=kci_id,
            order_key=order.key,
            sequence_number=sequence_number,
            payload=payload,
            now=now,
            fault=fault,
            tenant=order.tenant,
        )

    def for_order(self, order: OrderId) -> list[OutboxEntry]:
        """Every KCI of an order."""
        return outbox_store.for_order(self._connection, order.key, order.tenant)

    def recent(self) -> list[OutboxEntry]:
        """The newest KCIs first."""
        return outbox_store.recent(self._connection)

    def attempts_for(self, kci_id: str) -> list[Attempt]:
        """Every delivery attempt of one KCI."""
        return outbox_store.attempts_for(self._connection, kci_id)

    def set_fault(self, kci_id: str, fault: str | None) -> None:
        """Ask for a delivery fault on a pending KCI."""
        outbox_store.set_fault(self._connection, kci_id, fault)


class SqlInventory:
    """Live services over one connection."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def get(self, service_id: str) -> LiveService | None:
        """The live service, if it is live."""
        return inventory_store.get(self._connection, service_id)

    def at_address(self, address: AddressId) -> list[LiveService]:
        """The live services at ``address``."""
        return list(inventory_store.at_address(self._connection, address))

    def add(self, service: LiveService) -> None:
        """Make ``service`` live."""
        inventory_store.add(self._connection, service)

    def remove(self, service_id: str) -> None:
        """End the live service."""
        inventory_store.remove(self._connection, service_id)


class SqlReservations:
    """Reservations over one connection."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def get(self, tenant: str, reservation_id: int) -> Reservation | None:
        """The tenant's reservation under that id, if any."""
        return reservation_store.get(self._connection, tenant, reservation_id)

    def save(self, reservation: Reservation) -> None:
        """Insert or update a reservation."""
        reservation_store.save(self._connection, reservation)

    def holding_in_patch(self, patch: str, now: datetime) -> list[Reservation]:
        """Reservations that may still hold a future slot in ``patch``."""
        return reservation_store.holding_in_patch(self._connection, patch, now)

    def due_for_expiry(self, now: datetime) -> list[Reservation]:
        """Held reservations whose expiry has passed."""
        return reservation_store.due_for_expiry(self._connection, now)

    def listing(self) -> list[Reservation]:
        """The most recent reservations."""
        return reservation_store.listing(self._connection)


class SqlAssurance:
    """Service tests and problems over one connection."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def get_test(self, tenant: str, test_id: int) -> tuple[ServiceTest, dict[str, Any]] | None:
        """The tenant's test and its first answer, if any."""
        return assurance_store.get_test(self._connection, tenant, test_id)

    def add_test(self, test: ServiceTest, reply_body: dict[str, Any]) -> None:
        """Store a new test."""
        assurance_store.insert_test(self._connection, test, reply_body)

    def save_test(self, test: ServiceTest) -> None:
        """Store a test's new state."""
        assurance_store.save_test(self._connection, test)

    def due_tests(self, now: datetime, limit: int) -> list[tuple[str, int]]:
        """Tests whose next step is due."""
        return assurance_store.due_tests(self._connection, now, limit)

    def get_problem(
        self, tenant: str, problem_id: int
    ) -> tuple[ServiceProblem, dict[str, Any] | None] | None:
        """The tenant's problem and its first answer, if any."""
        return assurance_store.get_problem(self._connection, tenant, problem_id)

    def add_problem(self, problem: ServiceProblem, reply_body: dict[str, Any] | None) -> None:
        """Store a new problem."""
        assurance_store.insert_problem(self._connection, problem, reply_body)

    def save_problem(self, problem: ServiceProblem) -> None:
        """Store a problem's new state."""
        assurance_store.save_problem(self._connection, problem)

    def request_owner(self, tenant: str, kind: AssuranceKind, request_id: int) -> int | None:
        """The id of the tenant's problem that received the request, if any."""
        return assurance_store.request_owner(self._connection, tenant, kind, request_id)

    def due_problems(self, now: datetime, limit: int) -> list[tuple[str, int]]:
        """Problems whose next step is due."""
        return assurance_store.due_problems(self._connection, now, limit)

    def recent_tests(self, tenant: str | None) -> list[ServiceTest]:
        """The most recent tests."""
        return assurance_store.recent_tests(self._connection, tenant)

    def recent_problems(self, tenant: str | None) -> list[ServiceProblem]:
        """The most recent problems."""
        return assurance_store.recent_problems(self._connection, tenant)

    def add_history(self, tenant: str, key: str, entry: HistoryEntry) -> None:
        """Record an event of a test or problem."""
        assurance_store.add_history(self._connection, tenant, key, entry)

    def history(self, tenant: str, key: str) -> list[HistoryEntry]:
        """Everything that happened to a test or problem."""
        return assurance_store.history(self._connection, tenant, key)


class SqlUnitOfWork:
    """Every repository over one connection (one transaction, or one read)."""

    def __init__(self, database: Database, connection: Connection) -> None:
        self._database = database
        self._connection = connection
        self.orders = SqlOrders(connection)
        self.outbox = SqlOutbox(connection)
        self.inventory = SqlInventory(connection)
        self.reservations = SqlReservations(connection)
        self.assurance = SqlAssurance(connection)

    def lock(self, name: str) -> None:
        """Hold the named lock until the transaction ends."""
        self._database.lock(self._connection, name)


class SqlStore:
    """Units of work over a :class:`Database`."""

    def __init__(self, database: Database) -> None:
        self._database = database

    @contextmanager
    def transaction(self) -> Iterator[SqlUnitOfWork]:
        """A unit that commits when the block ends without an error."""
        with self._database.transaction() as connection:
            yield SqlUnitOfWork(self._database, connection)

    @contextmanager
    def reading(self) -> Iterator[SqlUnitOfWork]:
        """A unit for reading only."""
        with self._database.reading() as connection:
            yield SqlUnitOfWork(self._database, connection)

    def booked_counts(self, patch: str, now: datetime) -> dict[datetime, int]:
        """Capacity in use per future slot start in ``patch``, read on its own (the hot path)."""
        return reservation_store.booked_counts(self._database, patch, now)
