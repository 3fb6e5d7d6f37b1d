"""Appointment reservations: stored by tenant and gateway id, counted per patch and slot."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, or_, select, update

from simulator.domain.reservations import Reservation, ReservationStatus
from simulator.domain.slots import Slot
from simulator.storage.database import Database, utc
from simulator.storage.shared_state import CAPACITY, bump
from simulator.storage.tables import reservations

_HOLDING = or_(
    reservations.c.status == ReservationStatus.CONFIRMED.value,
    reservations.c.status == ReservationStatus.HELD.value,
)


# The fields kept as they are, each in the column of its name (the key's tenant and id aside).
_VERBATIM = ("supplier_reference", "address_key", "specification_id", "patch", "purpose", "order_id")


def _reservation(row: Any) -> Reservation:
    return Reservation(
        id=row.id,
        tenant=row.tenant,
        **{name: getattr(row, name) for name in _VERBATIM},
        slot=Slot(
            start=datetime.fromisoformat(row.local_times["slotStart"]),
            end=datetime.fromisoformat(row.local_times["slotEnd"]),
            classification=row.classification,
            standard=bool(row.standard),
            capacity=row.capacity,
        ),
        created_at=utc(row.created_at),
        expires_at=utc(row.expires_at),
        status=ReservationStatus(row.status),
    )


def _key(reservation: Reservation) -> Any:
    return (reservations.c.tenant == reservation.tenant) & (reservations.c.id == reservation.id)


# Built once: every reservation runs them (bind parameters are prefixed where a column
# of the same name is also set).
_GET = select(reservations).where(
    reservations.c.tenant == bindparam("tenant"), reservations.c.id == bindparam("id")
)
_HOLDING_IN_PATCH = select(reservations).where(
    reservations.c.patch == bindparam("patch"), reservations.c.slot_start > bindparam("now"), _HOLDING
)
_UPDATE = update(reservations).where(
    reservations.c.tenant == bindparam("key_tenant"), reservations.c.id == bindparam("key_id")
)
_INSERT = insert(reservations)


def get(connection: Connection, tenant: str, reservation_id: int) -> Reservation | None:
    """The tenant's reservation under the gateway's id, if any (ids are unique per tenant)."""
    row = connection.execute(_GET, {"tenant": tenant, "id": reservation_id}).first()
    return None if row is None else _reservation(row)


def holding_in_patch(connection: Connection, patch: str, now: datetime) -> list[Reservation]:
    """Reservations in ``patch`` that may still hold a future slot (the domain decides exactly)."""
    rows = connection.execute(_HOLDING_IN_PATCH, {"patch": patch, "now": now})
    return [_reservation(row) for row in rows]


# Built once: every GET /available-appointments asks it.
_BOOKED = (
    select(reservations.c.slot_start, func.count())
    .where(
        reservations.c.patch == bindparam("patch"),
        reservations.c.slot_start > bindparam("now"),
        or_(
            reservations.c.status == ReservationStatus.CONFIRMED.value,
            (reservations.c.status == ReservationStatus.HELD.value)
            & (reservations.c.expires_at > bindparam("now")),
        ),
    )
    .group_by(reservations.c.slot_start)
)


def booked_counts(database: Database, patch: str, now: datetime) -> dict[datetime, int]:
    """Capacity in use per future slot start (UTC) in ``patch``, counted by the database.

    Read on its own, straight on a driver connection (:meth:`Database.read_directly`): every
    slot offer computed afresh asks it.
    """
    rows = database.read_directly(_BOOKED, {"patch": patch, "now": now})
    return {utc(start): count for start, count in rows}


def save(connection: Connection, reservation: Reservation) -> None:
    """Insert a new reservation or update the stored one (same gateway id)."""
    values = {
        **{name: getattr(reservation, name) for name in _VERBATIM},
        "slot_start": reservation.slot.key,
        "slot_end": utc(reservation.slot.end),
        "classification": reservation.slot.classification,
        "standard": int(reservation.slot.standard),
        "capacity": reservation.slot.capacity,
        "created_at": reservation.created_at,
        "expires_at": reservation.expires_at,
        "status": reservation.status.value,
        # Local times with their offsets, as the gateway saw them.
        "local_times": {
            "slotStart": reservation.slot.start.isoformat(),
            "slotEnd": reservation.slot.end.isoformat(),
        },
    }
    key = {"key_tenant": reservation.tenant, "key_id": reservation.id}
    updated = connection.execute(_UPDATE, {**values, **key})
    if updated.rowcount == 0:
        connection.execute(_INSERT, {"tenant": reservation.tenant, "id": reservation.id, **values})
    bump(connection, CAPACITY)


def due_for_expiry(connection: Connection, now: datetime) -> list[Reservation]:
    """Held reservations whose expiry has passed."""
    rows = connection.execute(
        select(reservations).where(
            reservations.c.status == ReservationStatus.HELD.value, reservations.c.expires_at <= now
        )
    )
    return [_reservation(row) for row in rows]


def set_status(connection: Connection, reservation: Reservation) -> None:
    """Store a reservation's new status (and order, once confirmed)."""
    connection.execute(
        update(reservations)
        .where(_key(reservation))
        .values(status=reservation.status.value, order_id=reservation.order_id)
    )
    bump(connection, CAPACITY)


def listing(connection: Connection, limit: int = 500) -> list[Reservation]:
    """The most recent reservations, newest first (for the admin API)."""
    rows = connection.execute(select(reservations).order_by(reservations.c.created_at.desc()).limit(limit))
    return [_reservation(row) for row in rows]


def earliest_expiry(connection: Connection) -> Reservation | None:
    """The held reservation that expires first, if any (the ``reservations_by_expiry`` index)."""
    row = connection.execute(
        select(reservations)
        .where(reservations.c.status == ReservationStatus.HELD.value)
        .order_by(reservations.c.expires_at, reservations.c.tenant, reservations.c.id)
        .limit(1)
    ).first()
    return None if row is None else _reservation(row)


def at_address(connection: Connection, address_key: str, *, limit: int, offset: int = 0) -> list[Reservation]:
    """The reservations made for one address, newest first, one page of them."""
    rows = connection.execute(
        select(reservations)
        .where(reservations.c.address_key == address_key)
        .order_by(reservations.c.created_at.desc(), reservations.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [_reservation(row) for row in rows]
