"""Appointment rules (APT-…): slots, reservations, capacity and expiry.

The rules reserve real slots on the target, so each takes a slot no other rule of the run
has used (``target.shared["used_slots"]``). Filling a slot prefers premium
(``standard: false``) slots, which usually hold fewer appointments.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

import httpx

from contracts.certification.addresses import TestAddress
from contracts.certification.behaviour.support import (
    body_of,
    characteristics,
    echo_problems,
    expect_error,
    expect_no_problems,
    offered_slots,
    reserve,
    slot_instants,
    specification_and_profile,
)
from contracts.certification.errors import NotDecidable, RuleSkipped, RuleViolation
from contracts.certification.evidence import Evidence
from contracts.certification.rules import Capability, rule
from contracts.certification.target import UK, Target

APPOINTMENTS = Capability.APPOINTMENTS
MAX_FILL = 12
"""Most reservations the suite makes to fill one slot before it gives up (skips)."""
NOT_OFFERED_SHIFT = timedelta(minutes=17)


def _lead_days(body: Mapping[str, Any], spec_id: str) -> int | None:
    """MINIMUM_LEAD_TIME of the specification, else of the new line (calendar days)."""
    for spec in body.get("serviceSpecifications") or []:
        if isinstance(spec, dict) and spec.get("id") == spec_id:
            values = characteristics(spec.get("serviceCharacteristics")).get("MINIMUM_LEAD_TIME")
            if isinstance(values, list) and values:
                return _days(values[0])
    site = body.get("siteInformation")
    line = site.get("line") if isinstance(site, dict) else None
    if isinstance(line, dict):
        return _days(characteristics(line.get("lineCharacteristics")).get("MINIMUM_LEAD_TIME"))
    return None


def _days(value: Any) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def _covered(target: Target) -> tuple[TestAddress, str, Mapping[str, Any]]:
    place = target.addresses.require("covered")
    spec_id, _profile, body = specification_and_profile(target, place)
    return place, spec_id, body


def _key(slot: Mapping[str, Any]) -> tuple[datetime, datetime] | None:
    return slot_instants(slot)


def _slots(target: Target, place: TestAddress, spec_id: str) -> list[dict[str, Any]]:
    slots = offered_slots(target, place.address, spec_id, from_date=target.today())
    if not slots:
        raise RuleSkipped(f"{place.label}: no appointment slots are offered for {spec_id}")
    return slots


def _pick(target: Target, slots: list[dict[str, Any]], *, premium_first: bool) -> dict[str, Any]:
    """An unused slot drawn with the run's generator; premium ones first when filling."""
    used: set[Any] = target.shared.setdefault("used_slots", set())
    fresh = [slot for slot in slots if _key(slot) is not None and _key(slot) not in used]
    if not fresh:
        raise RuleSkipped("every offered slot has already been used by another rule of this run")
    if premium_first and any(slot.get("standard") is False for slot in fresh):
        fresh = [slot for slot in fresh if slot.get("standard") is False]
    chosen = fresh[target.rng.randrange(len(fresh))]
    used.add(_key(chosen))
    return chosen


def _still_offered(slot: Mapping[str, Any], slots: list[dict[str, Any]]) -> bool:
    return _key(slot) in {_key(other) for other in slots}


def _offered(target: Target) -> tuple[TestAddress, str, list[dict[str, Any]]]:
    """The covered address, its specification and the slots offered there from today."""
    place, spec_id, _body = _covered(target)
    return place, spec_id, _slots(target, place, spec_id)


def _unused_slot(target: Target, *, premium_first: bool) -> tuple[TestAddress, str, dict[str, Any]]:
    """The covered address, its specification and an offered slot no other rule of the run has used."""
    place, spec_id, slots = _offered(target)
    return place, spec_id, _pick(target, slots, premium_first=premium_first)


@rule("APT-001")
def slots_respect_the_minimum_lead_time(target: Target) -> Evidence:
    """Slots asked for from today start on or after today plus the specification's lead time."""
    place, spec_id, body = _covered(target)
    lead = _lead_days(body, spec_id)
    if lead is None:
        raise RuleSkipped(f"{place.label}: availability states no MINIMUM_LEAD_TIME for {spec_id}")
    today = target.today()
    earliest = today + timedelta(days=lead)
    slots = _slots(target, place, spec_id)
    early = []
    for slot in slots:
        instants = slot_instants(slot)
        if instants is not None and instants[0].astimezone(UK).date() < earliest:
            early.append(slot["timeslotStartDateTime"])
    if early:
        raise RuleViolation(
            f"{len(early)} slot(s) start before {earliest} (today {today} + {lead} days), e.g. {early[0]}",
            target.evidence(),
        )
    return target.evidence(f"{len(slots)} slots from {today}, lead time {lead} days, none before {earliest}")


_DAY_CLASSES = {"WEEKDAY": range(5), "SATURDAY": range(5, 6), "SUNDAY": range(6, 7)}
DST_LOOKAHEAD_DAYS = 400
DST_MARGIN_DAYS = 3


def _uk_local(target: Target, field: str, text: str) -> datetime:
    """A slot boundary as an aware instant in UK local time; no offset or no date-time is a violation."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise RuleViolation(f"{field} {text!r} is not an ISO-8601 date-time", target.evidence()) from None
    if moment.utcoffset() is None:
        raise RuleViolation(f"{field} {text!r} has no offset, so no UK time follows", target.evidence())
    return moment.astimezone(UK)


def _classification_problem(slot: Mapping[str, Any], start: datetime) -> str | None:
    """A classification naming a day the slot is not on (in UK local time)."""
    classification = str(slot.get("classification") or "")
    day_class = classification.split("_", 1)[0]
    days = _DAY_CLASSES.get(day_class)
    if days is not None and start.weekday() not in days:
        return (
            f"slot {slot.get('timeslotStartDateTime')} is classified {classification} but falls on a "
            f"{start:%A} in UK local time ({start:%Y-%m-%d %H:%M %Z})"
        )
    return None


def _next_clock_change(after: date) -> date | None:
    """The next date on which UK clocks change, within DST_LOOKAHEAD_DAYS."""
    noon = datetime.combine(after, datetime.min.time(), tzinfo=UK) + timedelta(hours=12)
    offset = noon.utcoffset()
    for day in range(1, DST_LOOKAHEAD_DAYS):
        moment = noon + timedelta(days=day)
        if moment.astimezone(UK).utcoffset() != offset:
            return moment.date()
    return None


def _wall_clock_grid(slots: list[tuple[datetime, datetime]]) -> set[tuple[str, str]]:
    return {(f"{start:%H:%M}", f"{end:%H:%M}") for start, end in slots if start.weekday() < 5}


def _local_slots(target: Target, slots: list[dict[str, Any]]) -> list[tuple[datetime, datetime]]:
    found = []
    for slot in slots:
        start = _uk_local(target, "timeslotStartDateTime", str(slot.get("timeslotStartDateTime")))
        end = _uk_local(target, "timeslotEndDateTime", str(slot.get("timeslotEndDateTime")))
        if end <= start:
            raise RuleViolation(
                f"slot {slot.get('timeslotStartDateTime')} ends at or before it starts", target.evidence()
            )
        problem = _classification_problem(slot, start)
        if problem:
            raise RuleViolation(problem, target.evidence())
        found.append((start, end))
    return found


@rule("APT-002")
def slot_times_give_uk_local_time(target: Target) -> Evidence:
    """Boundaries carry an offset; judged as instants in Europe/London, never by their spelling.

    The classification's day must be the slot's UK local day, and the supplier's wall-clock
    grid must not move by an hour across a UK clock change (UK time written with the wrong
    offset does): slots are asked for from just before the next clock change to see it.
    """
    place, spec_id, slots = _offered(target)
    local = _local_slots(target, slots)
    notes = [f"{len(slots)} slots from {target.today()}"]
    change = _next_clock_change(target.today())
    if change is not None:
        near = offered_slots(
            target, place.address, spec_id, from_date=change - timedelta(days=DST_MARGIN_DAYS)
        )
        around = _local_slots(target, near)
        before = _wall_clock_grid([s for s in around if s[0].date() < change])
        after = _wall_clock_grid([s for s in around if s[0].date() >= change])
        if before and after and not before & after:
            raise RuleViolation(
                f"the slots' UK local times move across the clock change of {change}: "
                f"{sorted(before)} before, {sorted(after)} after, so the offsets do not give UK time",
                target.evidence(),
            )
        if before and after:
            notes.append(f"UK local grid unchanged across the clock change of {change}: {sorted(after)}")
        else:
            notes.append(f"no slots offered on both sides of the clock change of {change}")
    grid = sorted(_wall_clock_grid(local))
    return target.evidence(*notes, f"UK local weekday grid: {grid}")


@rule("APT-003")
def an_offered_slot_can_be_reserved(target: Target) -> Evidence:
    """Reserve an offered slot: 201, the gateway id echoed, a supplier reference, any expiry in the future."""
    place, spec_id, slot = _unused_slot(target, premium_first=False)
    reservation_id, response = reserve(target, place.address, spec_id, slot)
    if response.status_code != 201:
        raise RuleViolation(
            f"reserving an offered slot: {response.status_code} instead of 201", target.evidence()
        )
    body = body_of(target, response, "reservation")
    if not isinstance(body, dict):
        raise RuleViolation("the reservation body is not a JSON object", target.evidence())
    problems = echo_problems(body, reservation_id, "supplierReference")
    note = "no expiryDateTime: the hold's time-to-live is not stated (APT-005 observes it, or cannot)"
    if "expiryDateTime" in body:
        expiry = _expiry(body)
        if expiry is None:
            problems.append(f"expiryDateTime {body.get('expiryDateTime')!r} is not a date-time with offset")
        elif expiry <= target.now():
            problems.append(f"expiryDateTime {body['expiryDateTime']} is not in the future")
        note = f"expires {body['expiryDateTime']}"
    expect_no_problems(target, f"reservation {reservation_id}", problems)
    return target.evidence(f"reserved {slot['timeslotStartDateTime']} as {body['supplierReference']}", note)


def _expiry(body: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(body["expiryDateTime"]))
    except (KeyError, TypeError, ValueError):
        return None
    return moment if moment.tzinfo is not None else None


def _fill(
    target: Target, place: TestAddress, spec_id: str, slot: Mapping[str, Any]
) -> tuple[list[datetime | None], httpx.Response | None]:
    """Reserve ``slot`` until the target refuses; the expiries of the holds and the refusal."""
    expiries: list[datetime | None] = []
    for _attempt in range(MAX_FILL):
        _reservation, response = reserve(target, place.address, spec_id, slot)
        if response.status_code != 201:
            return expiries, response
        expiries.append(_expiry(body_of(target, response, "reservation")))
    return expiries, None


def _full_slot(target: Target) -> tuple[TestAddress, str, dict[str, Any], list[datetime | None]]:
    """A slot filled to capacity and refused with 422; skips when it cannot be filled."""
    place, spec_id, slot = _unused_slot(target, premium_first=True)
    expiries, refusal = _fill(target, place, spec_id, slot)
    if refusal is None:
        raise RuleSkipped(
            f"slot {slot['timeslotStartDateTime']} took {MAX_FILL} reservations without filling up"
        )
    expect_error(target, refusal, {422}, f"reservation {len(expiries) + 1} of a full slot")
    return place, spec_id, slot, expiries


@rule("APT-004")
def a_full_slot_is_refused(target: Target) -> Evidence:
    """Reserve one slot again and again: past its capacity the answer is 422, and it leaves the offer."""
    place, spec_id, slot, expiries = _full_slot(target)
    if _still_offered(slot, offered_slots(target, place.address, spec_id, from_date=target.today())):
        raise RuleViolation(
            f"slot {slot['timeslotStartDateTime']} is refused as full but still offered", target.evidence()
        )
    return target.evidence(f"slot {slot['timeslotStartDateTime']} held {len(expiries)} reservation(s)")


@rule("APT-005")
def an_expired_reservation_gives_its_capacity_back(target: Target) -> Evidence:
    """Fill a slot, let the holds expire (clock API, or a bounded wait), and reserve it again."""
    place, spec_id, slot, expiries = _full_slot(target)
    if not expiries or any(expiry is None for expiry in expiries):
        return _observed_expiry(target, place, spec_id, slot)
    latest = max(expiry for expiry in expiries if expiry is not None)
    wait = latest - target.now()
    if target.offers(Capability.CLOCK):
        target.advance_clock(wait + timedelta(minutes=1))
        how = f"moved the target's clock on by {wait + timedelta(minutes=1)}"
    elif wait.total_seconds() + 5 <= target.settings.max_wait:
        time.sleep(max(0.0, wait.total_seconds()) + 5)  # bounded by --max-wait
        how = f"waited {wait} for the holds to expire"
    else:
        raise RuleSkipped(
            f"the holds expire in {wait}; the target has no clock API and --max-wait is "
            f"{target.settings.max_wait:g}s"
        )
    if not _still_offered(slot, offered_slots(target, place.address, spec_id, from_date=target.today())):
        raise RuleViolation(
            f"after expiry ({how}) slot {slot['timeslotStartDateTime']} is not offered again",
            target.evidence(),
        )
    _reservation, response = reserve(target, place.address, spec_id, slot)
    if response.status_code != 201:
        raise RuleViolation(
            f"after expiry the slot cannot be reserved again: {response.status_code}", target.evidence()
        )
    return target.evidence(how)


EXPIRY_POLL_SECONDS = 5.0


def _observed_expiry(target: Target, place: TestAddress, spec_id: str, slot: Mapping[str, Any]) -> Evidence:
    """No expiryDateTime: watch (up to --max-wait) for the full slot to be offered again."""
    wait = target.remaining(target.settings.max_wait)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:  # bounded by --max-wait and --deadline
        time.sleep(min(EXPIRY_POLL_SECONDS, max(0.0, deadline - time.monotonic())))
        slots = offered_slots(target, place.address, spec_id, from_date=target.today())
        if _still_offered(slot, slots):
            return target.evidence(f"no expiryDateTime; the slot was offered again within {wait:g}s")
    raise NotDecidable(
        "the reservations state no expiryDateTime, so their time-to-live is unknown, and the slot "
        f"was not seen offered again within --max-wait ({target.settings.max_wait:g}s)",
        target.evidence(),
    )


def _shifted(slot: Mapping[str, Any]) -> dict[str, str]:
    instants = slot_instants(slot)
    if instants is None:
        raise RuleSkipped("the offered slot's times do not parse, so a slot off the grid cannot be made")
    start, end = (moment + NOT_OFFERED_SHIFT for moment in instants)
    return {"timeslotStartDateTime": start.isoformat(), "timeslotEndDateTime": end.isoformat()}


@rule("APT-006")
def a_slot_not_offered_is_refused(target: Target) -> Evidence:
    """An offered slot moved by 17 minutes is off the supplier's grid and must be refused."""
    place, spec_id, slots = _offered(target)
    off_grid = _shifted(slots[target.rng.randrange(len(slots))])
    if _still_offered(off_grid, slots):
        raise RuleSkipped("the shifted slot happens to be offered; no slot off the grid was found")
    _reservation, response = reserve(target, place.address, spec_id, off_grid)
    expect_error(
        target, response, {422}, f"reserving {off_grid['timeslotStartDateTime']}, which was not offered"
    )
    return target.evidence(f"asked for {off_grid['timeslotStartDateTime']}")
