"""Use cases: offer appointment slots, reserve one, and expire reservations that ran out."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from simulator.application.context import Context
from simulator.domain.catalogue import ServiceSpecification
from simulator.domain.errors import BusinessRuleViolation
from simulator.domain.inventory import AddressId, Site
from simulator.domain.reservations import Reservation, SlotRequest, expire_due, reserve_slot
from simulator.domain.slots import Slot, offered_slots
from simulator.storage.shared_state import CAPACITY

# Only a provide waits for the specification's installation lead time; an engineer visit
# for a repair or a modify can be booked from tomorrow.
_SHORT_LEAD_TIME_DAYS = 1


@dataclass(frozen=True, slots=True)
class Offer:
    """The slots offered for one address and specification."""

    address: AddressId
    specification: ServiceSpecification
    slots: list[Slot]


def patch_of(site: Site) -> str:
    """The capacity pool an address draws engineers from: its postcode district, else itself."""
    postcode = site.postal.postcode
    return postcode.split()[0].upper() if postcode else site.address.key


def lead_time_days(specification: ServiceSpecification, purpose: str) -> int:
    """Days between today and the first bookable day for ``purpose``."""
    return specification.minimum_lead_time_days if purpose == "PROVIDE" else _SHORT_LEAD_TIME_DAYS


def _covered(context: Context, address: AddressId, spec_id: str) -> tuple[Site, ServiceSpecification]:
    specification = context.profile.catalogue.specification(spec_id)
    site = context.directory.find(address)
    if site is None:
        raise BusinessRuleViolation(f"{address.type} {address.id} is not within our coverage area")
    if spec_id not in site.specifications:
        offered = ", ".join(site.specifications) or "nothing"
        raise BusinessRuleViolation(
            f"{spec_id} is not available at {address.type} {address.id} (offered: {offered})"
        )
    return site, specification


def available_appointments(
    context: Context,
    address: AddressId,
    spec_id: str,
    purpose: str,
    from_date: date | None = None,
    classifications: Collection[str] | None = None,
) -> Offer:
    """Slots the supplier would book now for ``spec_id`` at ``address``.

    Computed once per (address, specification, purpose, dates, classifications, capacity
    version) and reused until the clock reaches the first slot offered or the next local
    day: a reservation, a confirmation or an expiry moves the version on, in every process.
    (A hold that runs out frees its slot when the ticker expires it, within a tick.)
    """
    now = context.clock.now()
    key = (
        "slots",
        address.type,
        address.id,
        spec_id,
        purpose,
        from_date,
        None if classifications is None else tuple(classifications),
        context.shared.version(CAPACITY),
    )
    cached: tuple[datetime, Offer] | None = context.answers.get(key)
    if cached is not None and now < cached[0]:
        return cached[1]
    site, specification = _covered(context, address, spec_id)
    booked = context.store.booked_counts(patch_of(site), now)
    slots = offered_slots(
        context.profile.appointments,
        now=now,
        lead_time_days=lead_time_days(specification, purpose),
        from_date=from_date,
        classifications=classifications,
        purpose=purpose,
        booked=booked,
    )
    offer = Offer(address, specification, slots)
    context.answers.put(key, (_valid_until(context, now, slots), offer))
    return offer


def _valid_until(context: Context, now: datetime, slots: list[Slot]) -> datetime:
    """When an offer made at ``now`` may change without a write: its first slot starts (it is
    no longer offered) or the local day ends (the first bookable day moves)."""
    local = now.astimezone(context.zone)
    midnight = datetime.combine(local.date() + timedelta(days=1), time(), context.zone)
    return min([midnight.astimezone(UTC), *(slot.key for slot in slots[:1])])


def reserve_appointment(
    context: Context,
    *,
    reservation_id: int,
    tenant: str,
    address: AddressId,
    spec_id: str,
    purpose: str,
    start: datetime,
    end: datetime,
) -> tuple[Reservation, ServiceSpecification]:
    """Hold the slot ``start``-``end``; a repeat of the same request returns the same hold.

    Reservation ids are the tenant's own. The capacity check and the insert run in one
    transaction that holds the patch's lock, so concurrent requests for the last unit of
    a slot cannot both win.
    """
    site, specification = _covered(context, address, spec_id)
    patch = patch_of(site)
    with context.store.transaction() as unit:
        unit.lock(f"patch:{patch}")
        now = context.clock.now()
        reservation, made = reserve_slot(
            context.profile.appointments,
            SlotRequest(reservation_id, tenant, address.key, spec_id, patch, purpose, start, end),
            now=now,
            lead_time_days=lead_time_days(specification, purpose),
            existing=unit.reservations.get(tenant, reservation_id),
            others=unit.reservations.holding_in_patch(patch, now),
        )
        if made is not None:
            unit.reservations.save(made.reservation)
    return reservation, specification


def expire_reservations(context: Context) -> int:
    """Mark every held reservation past its expiry as expired; returns how many."""
    now = context.clock.now()
    # The ticker asks every half second: look first, so an idle simulator takes no write lock.
    with context.store.reading() as unit:
        if not unit.reservations.due_for_expiry(now):
            return 0
    with context.store.transaction() as unit:
        expired = expire_due(unit.reservations.due_for_expiry(now), now)
        for reservation, _event in expired:
            unit.reservations.save(reservation)
    return len(expired)


def recent_reservations(context: Context) -> list[Reservation]:
    """The most recent reservations, newest first (the admin API's view)."""
    with context.store.reading() as unit:
        return unit.reservations.listing()
