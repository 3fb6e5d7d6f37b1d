"""Use case: what can a tenant order at an address?"""

from __future__ import annotations

from collections.abc import Collection

from simulator.application.context import Context
from simulator.domain.availability import Availability, check_availability
from simulator.domain.inventory import AddressId
from simulator.storage import inventory as inventory_store
from simulator.storage.shared_state import INVENTORY


def availability_at(
    context: Context, address: AddressId, tenant: str, service_types: Collection[str] | None = None
) -> Availability:
    """Availability at ``address`` as ``tenant`` sees it.

    Computed once per (address, tenant, service types, inventory version): an order that
    changes the inventory moves the version on, in every process.
    """
    types = None if service_types is None else tuple(service_types)
    key = ("availability", address.type, address.id, tenant, types, context.shared.version(INVENTORY))
    answer: Availability | None = context.answers.get(key)
    if answer is not None:
        return answer
    site = context.directory.find(address)
    live = []
    if site is not None and site.covered:  # an uncovered site has no live services
        live = inventory_store.live_at(context.database, address)
    answer = check_availability(address, site, live, context.profile.catalogue, tenant, service_types)
    context.answers.put(key, answer)
    return answer
