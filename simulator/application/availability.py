"""Use case: what can a tenant order at an address?"""

from __future__ import annotations

from collections.abc import Collection

from simulator.application.context import Context
from simulator.domain.availability import Availability, check_availability
from simulator.domain.inventory import AddressId
from simulator.storage import inventory as inventory_store


def availability_at(
    context: Context, address: AddressId, tenant: str, service_types: Collection[str] | None = None
) -> Availability:
    """Availability at ``address`` as ``tenant`` sees it."""
    site = context.directory.find(address)
    live = []
    if site is not None and site.covered:  # an uncovered site has no live services
        with context.database.reading() as connection:
            live = inventory_store.at_address(connection, address)
    return check_availability(address, site, live, context.profile.catalogue, tenant, service_types)
