"""What every use case needs: the profile, the address directory, the database, the clock."""

from __future__ import annotations

from dataclasses import dataclass

from simulator.domain.clock import Clock
from simulator.domain.profile import SupplierProfile
from simulator.estate import AddressDirectory
from simulator.storage import Database
from simulator.storage import inventory as inventory_store


@dataclass
class Context:
    """The wiring shared by the use cases of one running simulator."""

    profile: SupplierProfile
    database: Database
    clock: Clock
    directory: AddressDirectory

    @classmethod
    def open(cls, profile: SupplierProfile, database: Database, clock: Clock) -> Context:
        """Create missing tables and seed the profile's inventory once; return the context."""
        database.create_schema()
        directory = AddressDirectory(profile)
        with database.transaction() as connection:
            inventory_store.seed(
                connection, profile.fingerprint, directory.initial_live_services(), clock.now()
            )
        return cls(profile, database, clock, directory)
