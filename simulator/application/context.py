"""What every use case needs: the profile, the address directory, storage, the clock."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from simulator.application.ports import Store
from simulator.domain.clock import Clock
from simulator.domain.profile import SupplierProfile
from simulator.estate import AddressDirectory
from simulator.storage import Database
from simulator.storage import inventory as inventory_store
from simulator.storage.unit_of_work import SqlStore


@dataclass
class Context:
    """The wiring shared by the use cases of one running simulator.

    ``store`` is what the order and appointment use cases work through; ``database``
    stays for the parts that still take a connection (availability, journal, delivery).
    """

    profile: SupplierProfile
    database: Database
    clock: Clock
    directory: AddressDirectory
    store: Store

    @classmethod
    def open(cls, profile: SupplierProfile, database: Database, clock: Clock) -> Context:
        """Create missing tables and seed the profile's inventory once; return the context."""
        database.create_schema()
        directory = AddressDirectory(profile)
        with database.transaction() as connection:
            inventory_store.seed(
                connection, profile.fingerprint, directory.initial_live_services(), clock.now()
            )
        return cls(profile, database, clock, directory, SqlStore(database))

    @property
    def zone(self) -> ZoneInfo:
        """The supplier's local time zone (appointments and requested dates are local)."""
        return ZoneInfo(self.profile.appointments.timezone)
