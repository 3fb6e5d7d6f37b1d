"""What the use cases need from storage, as ports; ``simulator.storage.unit_of_work`` implements them.

A use case opens a :class:`UnitOfWork` from the :class:`Store` (a transaction, or a
read), takes the locks it needs, loads aggregates from its repositories, asks the
domain what happens, and saves what changed, KCIs included, before the unit commits.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol

from simulator.domain.assurance_scripts import AssuranceKind
from simulator.domain.clock import ClockState
from simulator.domain.faults import FaultRule, FaultSpec
from simulator.domain.inventory import AddressId, LiveService
from simulator.domain.kci_scripts import AppliesTo
from simulator.domain.order import Order
from simulator.domain.order_events import OrderId
from simulator.domain.reservations import Reservation
from simulator.domain.service_problem import ServiceProblem
from simulator.domain.service_test import ServiceTest
from simulator.storage.orders import HistoryEntry
from simulator.storage.outbox import Attempt, OutboxEntry
from simulator.storage.shared_state import SharedSnapshot


class OrderRepository(Protocol):
    """Orders by (tenant, key), with their history."""

    def get(self, order: OrderId) -> Order | None:
        """The order, if any."""
        ...

    def by_supplier_reference(self, tenant: str, reference: str) -> Order | None:
        """The tenant's order the supplier knows as ``reference``, if any."""
        ...

    def with_key(self, key: str) -> list[Order]:
        """Every tenant's order under ``key`` (the admin API sees all tenants)."""
        ...

    def request_owner(self, tenant: str, kind: AppliesTo, request_id: int) -> str | None:
        """The key of the tenant's order that received the amendment or cancellation, if any."""
        ...

    def reply_body(self, order: OrderId) -> dict[str, Any] | None:
        """The body of the order's first answer."""
        ...

    def add(self, order: Order, reply_body: dict[str, Any] | None) -> None:
        """Store a new order with the body of its first answer."""
        ...

    def save(self, order: Order) -> None:
        """Store an order's new state."""
        ...

    def due(self, now: datetime, limit: int) -> list[OrderId]:
        """Orders whose next scripted step is due, earliest first."""
        ...

    def listing(self, tenant: str | None) -> list[Order]:
        """The most recent orders, newest first."""
        ...

    def next_unsolicited_number(self) -> int:
        """A fresh number for a supplier-raised order."""
        ...

    def add_history(self, order: OrderId, entry: HistoryEntry) -> None:
        """Record an event of an order."""
        ...

    def history(self, order: OrderId) -> list[HistoryEntry]:
        """Everything that happened to an order, in order."""
        ...


class KciOutbox(Protocol):
    """KCIs written with the state change that caused them, delivered later."""

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
        """Queue a KCI of ``order`` for delivery."""
        ...

    def for_order(self, order: OrderId) -> list[OutboxEntry]:
        """Every KCI of an order, by sequence number."""
        ...

    def recent(self) -> list[OutboxEntry]:
        """The newest KCIs first."""
        ...

    def attempts_for(self, kci_id: str) -> list[Attempt]:
        """Every delivery attempt of one KCI."""
        ...

    def set_fault(self, kci_id: str, fault: str | None) -> None:
        """Ask for a delivery fault on a pending KCI."""
        ...


class LiveInventory(Protocol):
    """The live services, as availability reports them."""

    def get(self, service_id: str) -> LiveService | None:
        """The live service, if it is live."""
        ...

    def at_address(self, address: AddressId) -> list[LiveService]:
        """The live services at ``address``."""
        ...

    def add(self, service: LiveService) -> None:
        """Make ``service`` live."""
        ...

    def remove(self, service_id: str) -> None:
        """End the live service."""
        ...


class ReservationRepository(Protocol):
    """Appointment reservations by (tenant, gateway id)."""

    def get(self, tenant: str, reservation_id: int) -> Reservation | None:
        """The tenant's reservation under that id, if any."""
        ...

    def save(self, reservation: Reservation) -> None:
        """Insert or update a reservation."""
        ...

    def holding_in_patch(self, patch: str, now: datetime) -> list[Reservation]:
        """Reservations that may still hold a future slot in ``patch``."""
        ...

    def due_for_expiry(self, now: datetime) -> list[Reservation]:
        """Held reservations whose expiry has passed."""
        ...

    def listing(self) -> list[Reservation]:
        """The most recent reservations, newest first."""
        ...


class AssuranceRepository(Protocol):
    """Service tests and service problems by (tenant, gateway id), with their history."""

    def get_test(self, tenant: str, test_id: int) -> tuple[ServiceTest, dict[str, Any]] | None:
        """The tenant's test and the body of its 201 answer, if any."""
        ...

    def add_test(self, test: ServiceTest, reply_body: dict[str, Any]) -> None:
        """Store a new test."""
        ...

    def save_test(self, test: ServiceTest) -> None:
        """Store a test's new state."""
        ...

    def due_tests(self, now: datetime, limit: int) -> list[tuple[str, int]]:
        """Tests whose next step is due."""
        ...

    def get_problem(
        self, tenant: str, problem_id: int
    ) -> tuple[ServiceProblem, dict[str, Any] | None] | None:
        """The tenant's problem and the body of its first answer, if any."""
        ...

    def add_problem(self, problem: ServiceProblem, reply_body: dict[str, Any] | None) -> None:
        """Store a new problem."""
        ...

    def save_problem(self, problem: ServiceProblem) -> None:
        """Store a problem's new state."""
        ...

    def request_owner(self, tenant: str, kind: AssuranceKind, request_id: int) -> int | None:
        """The id of the tenant's problem that received the request, if any."""
        ...

    def due_problems(self, now: datetime, limit: int) -> list[tuple[str, int]]:
        """Problems whose next step is due."""
        ...

    def recent_tests(self, tenant: str | None) -> list[ServiceTest]:
        """The most recent tests, newest first."""
        ...

    def recent_problems(self, tenant: str | None) -> list[ServiceProblem]:
        """The most recent problems, newest first."""
        ...

    def add_history(self, tenant: str, key: str, entry: HistoryEntry) -> None:
        """Record an event of a test or problem."""
        ...

    def history(self, tenant: str, key: str) -> list[HistoryEntry]:
        """Everything that happened to a test or problem."""
        ...


class UnitOfWork(Protocol):
    """One transaction (or read) over every repository."""

    @property
    def orders(self) -> OrderRepository:
        """Orders and their history."""
        ...

    @property
    def outbox(self) -> KciOutbox:
        """The KCI outbox."""
        ...

    @property
    def inventory(self) -> LiveInventory:
        """The live services."""
        ...

    @property
    def reservations(self) -> ReservationRepository:
        """Appointment reservations."""
        ...

    @property
    def assurance(self) -> AssuranceRepository:
        """Service tests and service problems."""
        ...

    def lock(self, name: str) -> None:
        """Hold the named lock until the unit ends (serialises work on one order or patch)."""
        ...


class Store(Protocol):
    """Opens units of work."""

    def transaction(self) -> AbstractContextManager[UnitOfWork]:
        """A unit that commits when the block ends without an error."""
        ...

    def reading(self) -> AbstractContextManager[UnitOfWork]:
        """A unit for reading only."""
        ...

    def booked_counts(self, patch: str, now: datetime) -> dict[datetime, int]:
        """Capacity in use per future slot start in ``patch``, read on its own (no unit: the hot path)."""
        ...


class SharedStateStore(Protocol):
    """The clock and the cache versions every worker and replica shares."""

    def snapshot(self) -> SharedSnapshot:
        """Every version and the clock, as stored now (one read)."""
        ...

    def move_clock(self, change: Callable[[ClockState], ClockState]) -> ClockState:
        """Apply ``change`` to the stored clock under a lock; returns the new state."""
        ...

    def join_clock(self, wanted: ClockState) -> ClockState:
        """The stored clock when it is the one ``wanted`` describes, else ``wanted``, stored."""
        ...

    def bump(self, *names: str) -> None:
        """Move versions on, in a transaction of their own."""
        ...


class FaultRuleUpdate(Protocol):
    """Fault rules under the store's lock (one transaction)."""

    def get(self, ids: list[int]) -> list[FaultRule]:
        """The rules with these ids, oldest first, their counters as stored now."""
        ...

    def save(self, rule: FaultRule) -> None:
        """Store a rule's counters (one that ran out moves the store's version on)."""
        ...


class FaultRuleStore(Protocol):
    """The fault-injection rules of the admin API."""

    def listing(self) -> list[FaultRule]:
        """Every rule, oldest first."""
        ...

    def add(self, spec: FaultSpec) -> FaultRule:
        """Store a new rule after the others (its seed defaults to its id)."""
        ...

    def remove(self, rule_id: int) -> bool:
        """Remove one rule; whether it was there."""
        ...

    def clear(self) -> int:
        """Remove every rule; how many there were."""
        ...

    def updating(self) -> AbstractContextManager[FaultRuleUpdate]:
        """The rules under a lock, to consume a budget."""
        ...
