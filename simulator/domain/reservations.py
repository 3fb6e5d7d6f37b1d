"""Appointment reservations: holding a slot for a while, then using it for an order.

A reservation is ``HELD`` from the moment it is made until ``expires_at`` (now + the
policy's ``reservation_ttl``). Sending its id in an order confirms it (``CONFIRMED``),
after which it never expires. A held reservation that reaches its expiry becomes
``EXPIRED`` when :func:`expire_due` sweeps it; it is not holding from its expiry
instant on, sweep or no sweep. ``RELEASED`` is for held reservations let go early.

::

    HELD ──confirm──▶ CONFIRMED
      │ ├──expire_due──▶ EXPIRED
      │ └──release─────▶ RELEASED

Every command returns the new value and the event that records what happened (or
``None`` when a repeat changes nothing); storage persists the value, the outbox acts
on the event. Capacity is shared by every holding reservation in the same *patch*
(the caller picks the pool: a postcode outward code, or the address key).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum

from simulator.domain.errors import BusinessRuleViolation
from simulator.domain.slots import AppointmentPolicy, Slot, check_slot_offered


class ReservationStatus(StrEnum):
    """Where a reservation is in its life."""

    HELD = "HELD"
    CONFIRMED = "CONFIRMED"
    EXPIRED = "EXPIRED"
    RELEASED = "RELEASED"


@dataclass(frozen=True)
class Reservation:
    """A slot held for a tenant at an address, under the gateway's reservation ``id``.

    Its identity is (``tenant``, ``id``): gateway ids are unique per tenant only (§2.4).
    """

    id: int
    supplier_reference: str
    tenant: str
    address_key: str
    specification_id: str
    patch: str
    purpose: str
    slot: Slot
    created_at: datetime
    expires_at: datetime
    status: ReservationStatus = ReservationStatus.HELD
    order_id: int | None = None


@dataclass(frozen=True, slots=True)
class ReservationMade:
    """A slot was reserved."""

    reservation: Reservation


@dataclass(frozen=True, slots=True)
class ReservationConfirmed:
    """An order used the reservation; the slot is now the order's appointment."""

    reservation_id: int
    order_id: int
    confirmed_at: datetime


@dataclass(frozen=True, slots=True)
class ReservationExpired:
    """A held reservation reached its expiry unused; its slot is free again."""

    reservation_id: int
    expired_at: datetime


@dataclass(frozen=True, slots=True)
class ReservationReleased:
    """A held reservation was let go before its expiry; its slot is free again."""

    reservation_id: int
    released_at: datetime


def supplier_reference_for(reservation_id: int) -> str:
    """The supplier's reference for a gateway reservation id: ``234`` -> ``"A234"``."""
    return f"A{reservation_id}"


@dataclass(frozen=True, slots=True)
class SlotRequest:
    """What a tenant asks to hold (``POST /appointments``): the slot ``start``-``end``, under its
    ``reservation_id``, for ``purpose`` at an address (in ``patch``, the pool its capacity is
    shared in)."""

    reservation_id: int
    tenant: str
    address_key: str
    specification_id: str
    patch: str
    purpose: str
    start: datetime
    end: datetime


def make_reservation(
    policy: AppointmentPolicy, request: SlotRequest, slot: Slot, now: datetime
) -> tuple[Reservation, ReservationMade]:
    """A new held reservation of ``slot`` for ``request``, expiring ``policy.reservation_ttl`` from ``now``.

    It does not check the slot: pass the one ``check_slot_offered`` returned for the
    request's times (or use :func:`reserve_slot`, which does both).
    """
    now_utc = now.astimezone(UTC)
    reservation = Reservation(
        id=request.reservation_id,
        supplier_reference=supplier_reference_for(request.reservation_id),
        tenant=request.tenant,
        address_key=request.address_key,
        specification_id=request.specification_id,
        patch=request.patch,
        purpose=request.purpose,
        slot=slot,
        created_at=now_utc,
        expires_at=now_utc + policy.reservation_ttl,
    )
    return reservation, ReservationMade(reservation)


def same_request(existing: Reservation, request: SlotRequest) -> bool:
    """Whether ``request`` repeats ``existing`` (times compared as instants).

    The idempotency rule for ``POST /appointments``: the gateway's reservation ``id``
    identifies the request. When a reservation with that id is still holding and the
    request is the same (tenant, address, specification, purpose and timeslot), the
    answer is the existing reservation, unchanged, with no new expiry and no event.
    Any other request reusing the id is refused (see :func:`reserve_slot`).
    """
    return (
        existing.tenant == request.tenant
        and existing.address_key == request.address_key
        and existing.specification_id == request.specification_id
        and existing.purpose == request.purpose
        and existing.slot.start == request.start
        and existing.slot.end == request.end
    )


def reserve_slot(
    policy: AppointmentPolicy,
    request: SlotRequest,
    *,
    now: datetime,
    lead_time_days: int,
    existing: Reservation | None,
    others: Iterable[Reservation],
) -> tuple[Reservation, ReservationMade | None]:
    """Hold the slot ``request`` names, under its ``reservation_id``.

    ``existing`` is the reservation already stored under that id, if any; ``others``
    are reservations that may share the patch (any superset will do: only holding ones
    in the request's patch count). A holding repeat of the same request returns
    ``existing`` with no event; any other reuse of the id is a 422. Otherwise the slot
    is checked with :func:`~simulator.domain.slots.check_slot_offered` and a new
    reservation made. The caller must count and insert under one lock or transaction
    per patch.
    """
    if existing is not None:
        if is_holding(existing, now) and same_request(existing, request):
            return existing, None
        raise BusinessRuleViolation(
            f"reservation id {request.reservation_id} is already used for a different or finished "
            "reservation; reserve with a new id"
        )
    slot = check_slot_offered(
        policy,
        now=now,
        lead_time_days=lead_time_days,
        start=request.start,
        end=request.end,
        purpose=request.purpose,
        booked=booked_counts(others, now, request.patch),
    )
    return make_reservation(policy, request, slot, now)


def is_holding(reservation: Reservation, now: datetime) -> bool:
    """Whether the reservation takes up its slot: confirmed, or held and not yet expired."""
    status = reservation.status
    return status == ReservationStatus.CONFIRMED or (
        status == ReservationStatus.HELD and now < reservation.expires_at
    )


def confirm(
    reservation: Reservation, now: datetime, order_id: int
) -> tuple[Reservation, ReservationConfirmed | None]:
    """Use the reservation for order ``order_id``; confirmed reservations never expire.

    Confirming again for the same order is a no-op (the event is ``None``). An expired,
    released or already used reservation is a 422 naming why.
    """
    status = reservation.status
    if status == ReservationStatus.CONFIRMED:
        if reservation.order_id == order_id:
            return reservation, None
        raise BusinessRuleViolation(
            f"reservation {reservation.id} is already used by order {reservation.order_id}"
        )
    if status == ReservationStatus.RELEASED:
        raise BusinessRuleViolation(f"reservation {reservation.id} was released; reserve a new slot")
    if status == ReservationStatus.EXPIRED or now >= reservation.expires_at:
        raise BusinessRuleViolation(
            f"reservation {reservation.id} expired at {reservation.expires_at.isoformat()}; "
            "reserve a new slot"
        )
    confirmed = replace(reservation, status=ReservationStatus.CONFIRMED, order_id=order_id)
    return confirmed, ReservationConfirmed(reservation.id, order_id, now.astimezone(UTC))


def release(reservation: Reservation, now: datetime) -> tuple[Reservation, ReservationReleased | None]:
    """Let a held reservation go early. Already finished ones are left as they are.

    A confirmed reservation belongs to its order and cannot be released (422).
    """
    status = reservation.status
    if status == ReservationStatus.CONFIRMED:
        raise BusinessRuleViolation(
            f"reservation {reservation.id} is used by order {reservation.order_id} and cannot be released"
        )
    if status != ReservationStatus.HELD:
        return reservation, None
    released = replace(reservation, status=ReservationStatus.RELEASED)
    return released, ReservationReleased(reservation.id, now.astimezone(UTC))


def expire_due(
    reservations: Iterable[Reservation], now: datetime
) -> list[tuple[Reservation, ReservationExpired]]:
    """Expire every held reservation whose expiry is at or before ``now``; never confirmed ones."""
    return [
        (
            replace(reservation, status=ReservationStatus.EXPIRED),
            ReservationExpired(reservation.id, reservation.expires_at),
        )
        for reservation in reservations
        if reservation.status == ReservationStatus.HELD and reservation.expires_at <= now
    ]


def booked_counts(reservations: Iterable[Reservation], now: datetime, patch: str) -> dict[datetime, int]:
    """How many holding reservations in ``patch`` each slot has, keyed by slot start in UTC."""
    counts: dict[datetime, int] = {}
    for reservation in reservations:
        if reservation.patch == patch and is_holding(reservation, now):
            key = reservation.slot.key
            counts[key] = counts.get(key, 0) + 1
    return counts
