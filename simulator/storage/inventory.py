"""Live services: the inventory that availability reads and order completion changes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from simulator.domain.inventory import AddressId, LiveService
from simulator.storage.database import Database
from simulator.storage.shared_state import INVENTORY, bump
from simulator.storage.tables import inventory_seeds, live_services


def _row(service: LiveService) -> dict[str, Any]:
    return {
        "service_id": service.service_id,
        "tenant": service.tenant,
        "address_key": service.address.key,
        "address_id": service.address.id,
        "address_type": service.address.type,
        "specification_id": service.specification_id,
        "line_profile_id": service.line_profile_id,
        "ont_port": service.ont_port,
    }


def _service(row: Any) -> LiveService:
    return LiveService(
        service_id=row.service_id,
        tenant=row.tenant,
        address=AddressId(row.address_id, row.address_type),
        specification_id=row.specification_id,
        line_profile_id=row.line_profile_id,
        ont_port=row.ont_port,
    )


_SEED_CHUNK = 5_000


def seed(connection: Connection, fingerprint: str, services: Iterable[LiveService], now: datetime) -> bool:
    """Insert a profile's initial live services once per profile version; returns whether it ran.

    Seeding is recorded, so a service later ceased by an order is not brought back on the
    next start. The services are taken in chunks, so an estate of any size seeds in bounded
    memory.
    """
    done = connection.execute(
        select(inventory_seeds.c.fingerprint).where(inventory_seeds.c.fingerprint == fingerprint)
    ).first()
    if done is not None:
        return False
    for chunk in _chunks(services, _SEED_CHUNK):
        _seed_chunk(connection, chunk)
    connection.execute(insert(inventory_seeds), {"fingerprint": fingerprint, "seeded_at": now})
    bump(connection, INVENTORY)
    return True


def _chunks(services: Iterable[LiveService], size: int) -> Iterator[tuple[LiveService, ...]]:
    iterator = iter(services)
    while chunk := tuple(islice(iterator, size)):
        yield chunk


def _seed_chunk(connection: Connection, chunk: tuple[LiveService, ...]) -> None:
    """Insert the services of ``chunk`` whose id and (address, ONT port) are both still free."""
    ids = [s.service_id for s in chunk]
    keys = list({s.address.key for s in chunk})
    existing = set(
        connection.execute(
            select(live_services.c.service_id).where(live_services.c.service_id.in_(ids))
        ).scalars()
    )
    occupied = {
        (row.address_key, row.ont_port)
        for row in connection.execute(
            select(live_services.c.address_key, live_services.c.ont_port).where(
                live_services.c.address_key.in_(keys)
            )
        )
    }
    rows = [
        _row(s) for s in chunk if s.service_id not in existing and (s.address.key, s.ont_port) not in occupied
    ]
    if rows:
        connection.execute(insert(live_services), rows)


# Built once: availability asks this on every request.
_AT_ADDRESS = (
    select(live_services)
    .where(live_services.c.address_key == bindparam("key"))
    .order_by(live_services.c.ont_port)
)


def at_address(connection: Connection, address: AddressId) -> list[LiveService]:
    """Live services at ``address``, ordered by ONT port."""
    return [_service(row) for row in connection.execute(_AT_ADDRESS, {"key": address.key})]


# The columns in LiveService's order, so that a row read directly is the service's fields.
_LIVE_AT = (
    select(
        live_services.c.service_id,
        live_services.c.tenant,
        live_services.c.address_id,
        live_services.c.address_type,
        live_services.c.specification_id,
        live_services.c.line_profile_id,
        live_services.c.ont_port,
    )
    .where(live_services.c.address_key == bindparam("key"))
    .order_by(live_services.c.ont_port)
)


def live_at(database: Database, address: AddressId) -> list[LiveService]:
    """Live services at ``address``, ordered by ONT port, read outside any transaction.

    The read of an availability answer computed afresh, straight on a driver connection
    (:meth:`Database.read_directly`).
    """
    return [
        LiveService(
            service_id, tenant, AddressId(address_id, address_type), specification, line_profile, port
        )
        for service_id, tenant, address_id, address_type, specification, line_profile, port in (
            database.read_directly(_LIVE_AT, {"key": address.key})
        )
    ]


def get(connection: Connection, service_id: str) -> LiveService | None:
    """The live service with this id, if any."""
    row = connection.execute(select(live_services).where(live_services.c.service_id == service_id)).first()
    return None if row is None else _service(row)


def add(connection: Connection, service: LiveService) -> None:
    """Record a new live service."""
    connection.execute(insert(live_services), _row(service))
    bump(connection, INVENTORY)


def replace(connection: Connection, service: LiveService) -> None:
    """Change a live service (new line profile, specification or owner)."""
    connection.execute(
        update(live_services).where(live_services.c.service_id == service.service_id).values(_row(service))
    )
    bump(connection, INVENTORY)


def remove(connection: Connection, service_id: str) -> None:
    """Delete a ceased service."""
    connection.execute(delete(live_services).where(live_services.c.service_id == service_id))
    bump(connection, INVENTORY)
