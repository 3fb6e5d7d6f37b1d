"""What every use case needs: the profile, the address directory, storage, the clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from simulator.application.answer_cache import AnswerCache
from simulator.application.fault_rules import FaultRuleSet
from simulator.application.ports import Store
from simulator.application.shared_state import SharedClock, SharedState
from simulator.domain.clock import Clock
from simulator.domain.profile import SupplierProfile
from simulator.estate import AddressDirectory
from simulator.storage import Database
from simulator.storage import inventory as inventory_store
from simulator.storage.fault_rules import SqlFaultRules
from simulator.storage.journal import journal_database
from simulator.storage.shared_state import FAULTS, SqlSharedState
from simulator.storage.unit_of_work import SqlStore


@dataclass
class Context:
    """The wiring shared by the use cases of one running simulator.

    ``store`` is what the order and appointment use cases work through; ``database``
    stays for the parts that still take a connection (availability, journal, delivery).
    ``shared`` is the state all workers and replicas share, the clock among it.
    ``journal_database`` keeps the request journal: a file of its own beside an SQLite file,
    else ``database`` itself.
    """

    profile: SupplierProfile
    database: Database
    clock: Clock
    directory: AddressDirectory
    store: Store
    shared: SharedState
    fault_rules: FaultRuleSet
    journal_database: Database
    answers: AnswerCache = field(default_factory=AnswerCache)

    @classmethod
    def open(cls, profile: SupplierProfile, database: Database, clock: Clock) -> Context:
        """Create missing tables and seed the profile's inventory once; return the context.

        ``clock`` says which clock to run: the one already stored in the database when it was
        made from the same spec (another worker or replica started it), else this one, stored.
        """
        database.create_schema()
        shared = SharedState(SqlSharedState(database))
        shared_clock = SharedClock(shared, shared.store.join_clock(clock.state))
        directory = AddressDirectory(profile)
        with database.transaction() as connection:
            inventory_store.seed(
                connection, profile.fingerprint, directory.initial_live_services(), shared_clock.now()
            )
        faults = FaultRuleSet(SqlFaultRules(database), lambda: shared.version(FAULTS))
        return cls(
            profile,
            database,
            shared_clock,
            directory,
            SqlStore(database),
            shared,
            faults,
            journal_database(database),
        )

    @property
    def zone(self) -> ZoneInfo:
        """The supplier's local time zone (appointments and requested dates are local)."""
        return ZoneInfo(self.profile.appointments.timezone)
