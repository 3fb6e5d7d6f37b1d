"""Helpers the behaviour rules share: calling the Supplier API and judging its answers.

Every helper raises :class:`RuleViolation` with the rule's evidence so far when the
target's answer is not what the contract allows, so a rule reads as its scenario.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import httpx

from contracts.certification.addresses import TestAddress
from contracts.certification.errors import NotDecidable, RuleSkipped, RuleViolation
from contracts.certification.schemas import SUPPLIER_API, problems
from contracts.certification.target import Target

__all__ = [
    "ACKNOWLEDGED_STATUSES",
    "ERROR_CODES",
    "UNKNOWN_ID_STATUSES",
    "acknowledgement_problems",
    "appointment_query",
    "availability",
    "body_of",
    "characteristics",
    "echo_problems",
    "expect_error",
    "expect_error_code",
    "expect_no_problems",
    "expect_refusal",
    "expect_status",
    "expect_unknown_id_refused",
    "line_profiles",
    "offered_slots",
    "other_tenant",
    "reserve",
    "slot_instants",
    "specification_and_profile",
]


def body_of(target: Target, response: httpx.Response, what: str) -> Any:
    """The response's JSON body; a body that is not JSON is a violation."""
    try:
        return response.json()
    except ValueError:
        raise RuleViolation(
            f"{what}: the {response.status_code} body is not JSON", target.evidence()
        ) from None


def expect_status(target: Target, response: httpx.Response, allowed: Collection[int], what: str) -> None:
    """Raise a violation unless the status is one of ``allowed``."""
    if response.status_code not in allowed:
        wanted = " or ".join(str(status) for status in sorted(allowed))
        raise RuleViolation(
            f"{what}: expected {wanted}, got {response.status_code}: {response.text[:300]}", target.evidence()
        )


def expect_no_problems(target: Target, subject: str, problems: Sequence[str]) -> None:
    """Raise a violation about ``subject`` listing ``problems``, when there are any."""
    if problems:
        raise RuleViolation(f"{subject}: {'; '.join(problems)}", target.evidence())


def expect_error(
    target: Target,
    response: httpx.Response,
    allowed: Collection[int],
    what: str,
    *,
    document: str = SUPPLIER_API,
) -> Mapping[str, Any]:
    """The status must be one of ``allowed`` and the body the API's error body (uuid, code, messages)."""
    expect_status(target, response, allowed, what)
    body = body_of(target, response, what)
    found = problems(document, "Error", body)
    if found:
        raise RuleViolation(
            f"{what}: the error body is not the API's Error: {'; '.join(found)}", target.evidence()
        )
    result: Mapping[str, Any] = body
    return result


ERROR_CODES = {400: "MALFORMED_REQUEST", 401: "NOT_AUTHORISED", 404: "NOT_FOUND", 422: "INVALID_REQUEST"}
"""The error ``code`` that goes with each status (reference §2.3)."""

UNKNOWN_ID_STATUSES = frozenset({404, 422})
"""How an id the target cannot know may be refused: 404 NOT_FOUND, or 422 INVALID_REQUEST (§2.3)."""


def expect_error_code(
    target: Target,
    response: httpx.Response,
    allowed: Collection[int],
    what: str,
    *,
    code: str | None = None,
    document: str = SUPPLIER_API,
) -> Mapping[str, Any]:
    """:func:`expect_error`, and the body's ``code`` must be ``code`` (by default the status's, §2.3)."""
    error = expect_error(target, response, allowed, what, document=document)
    expected = code or ERROR_CODES[response.status_code]
    if error.get("code") != expected:
        raise RuleViolation(
            f"{what}: {response.status_code} with code {error.get('code')!r}, expected {expected} (§2.3)",
            target.evidence(),
        )
    return error


def expect_unknown_id_refused(target: Target, response: httpx.Response, what: str) -> None:
    """A request naming an id the target cannot know: 404 or 422 with the matching code.

    A 202 leaves the refusal to a later KCI, so the rule cannot be decided here.
    """
    if response.status_code == 202:
        raise NotDecidable(f"{what}: answered 202, so the refusal can only come by KCI", target.evidence())
    expect_error_code(target, response, UNKNOWN_ID_STATUSES, what)


def expect_refusal(
    target: Target, response: httpx.Response, what: str, *, later: str, skip_deferred: bool = False
) -> None:
    """A request that must be refused: 422 with the error body.

    A 202 defers the answer to ``later`` (a rejection KCI): the rule is not decidable here,
    or skipped with ``skip_deferred``. A 200 or 201 accepted what had to be refused.
    """
    if response.status_code == 202:
        reason = f"{what}: answered 202, so a refusal can only come later as {later}"
        if skip_deferred:
            raise RuleSkipped(reason)
        raise NotDecidable(reason, target.evidence())
    if response.status_code in {200, 201}:
        raise RuleViolation(f"{what}: accepted with {response.status_code}", target.evidence())
    expect_error(target, response, {422}, what)


ACKNOWLEDGED_STATUSES = frozenset({"ACKNOWLEDGED", "IN_PROGRESS"})
"""The statuses a 201 may give a new order or problem (reference §3.6.5, §3.11)."""


def echo_problems(answer: Mapping[str, Any], gateway_id: Any, reference_field: str) -> list[str]:
    """What a 201 answer gets wrong about the request it accepted, if anything.

    It must echo the request's ``gateway_id`` and carry the supplier's reference in
    ``reference_field``.
    """
    problems = []
    if answer.get("id") != gateway_id:
        problems.append(f"id {answer.get('id')!r} does not echo {gateway_id}")
    if not answer.get(reference_field):
        problems.append(f"no {reference_field}")
    return problems


def acknowledgement_problems(answer: Mapping[str, Any], gateway_id: Any, reference_field: str) -> list[str]:
    """:func:`echo_problems` of a new order or problem, which must also be ACKNOWLEDGED or IN_PROGRESS."""
    problems = echo_problems(answer, gateway_id, reference_field)
    if answer.get("status") not in ACKNOWLEDGED_STATUSES:
        problems.append(f"status {answer.get('status')!r} is neither ACKNOWLEDGED nor IN_PROGRESS")
    return problems


def other_tenant(target: Target, owner: str | None) -> str:
    """A tenant that is not ``owner``: the address file's otherTenant, else the run's tenant.

    The rule is skipped when there is no such tenant.
    """
    for tenant in (target.addresses.other_tenant, target.tenant):
        if tenant and tenant != owner:
            return tenant
    raise RuleSkipped("needs a second tenant: otherTenant in the address file")


def address_query(address: Mapping[str, str], **extra: str) -> dict[str, str]:
    """Query string of an availability check: the address JSON-encoded, as the gateway sends it."""
    return {"address": json.dumps(dict(address)), **extra}


def availability(target: Target, address: Mapping[str, str], tenant: str | None = None) -> Mapping[str, Any]:
    """``GET /service-availability`` for ``address``; anything but 200 with a JSON object is a violation."""
    response = target.get(
        "/service-availability", params=address_query(address), headers=target.headers(tenant=tenant)
    )
    what = f"availability at {address['type']} {address['id']}"
    expect_status(target, response, {200}, what)
    body = body_of(target, response, what)
    if not isinstance(body, dict):
        raise RuleViolation(f"{what}: the body is not a JSON object", target.evidence())
    return body


def characteristics(items: Any) -> dict[str, Any]:
    """``[{name, value}]`` (or ``values``) as a dict; anything malformed is left out."""
    found: dict[str, Any] = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and "name" in item:
            found[str(item["name"])] = item.get("value", item.get("values"))
    return found


def line_profiles(specification: Mapping[str, Any]) -> list[str] | None:
    """The LINE_PROFILE values a specification offers (``None`` when it states none)."""
    values = characteristics(specification.get("serviceCharacteristics")).get("LINE_PROFILE")
    if not isinstance(values, list):
        return None
    return [str(value) for value in values]


def specification_and_profile(target: Target, place: TestAddress) -> tuple[str, str, Mapping[str, Any]]:
    """The first specification offered at ``place``, its first line profile, and the availability."""
    body = availability(target, place.address, tenant=place.tenant)
    specs = [s for s in body.get("serviceSpecifications") or [] if isinstance(s, dict) and s.get("id")]
    if place.specification:
        specs = [s for s in specs if s["id"] == place.specification] or specs
    if not specs:
        raise RuleViolation(f"{place.label} offers no service specification", target.evidence())
    profiles = line_profiles(specs[0]) or []
    if not profiles:
        raise RuleSkipped(f"{place.label}: {specs[0]['id']} states no LINE_PROFILE values to order")
    return str(specs[0]["id"]), profiles[0], body


def appointment_query(
    address: Mapping[str, str], spec_id: str, purpose: str, from_date: date | None, **extra: str
) -> dict[str, str]:
    """Query string of ``GET /available-appointments``."""
    query = {
        "address": json.dumps(dict(address)),
        "serviceSpecification": json.dumps({"id": spec_id}),
        "appointmentPurpose": purpose,
        **extra,
    }
    if from_date is not None:
        query["appointmentFromDate"] = from_date.isoformat()
    return query


def offered_slots(
    target: Target,
    address: Mapping[str, str],
    spec_id: str,
    *,
    purpose: str = "PROVIDE",
    from_date: date | None = None,
    tenant: str | None = None,
) -> list[dict[str, Any]]:
    """The slots the target offers (200 with ``availableTimeslots`` or it is a violation)."""
    response = target.get(
        "/available-appointments",
        params=appointment_query(address, spec_id, purpose, from_date),
        headers=target.headers(tenant=tenant),
    )
    what = f"available appointments for {spec_id} at {address['id']}"
    expect_status(target, response, {200}, what)
    body = body_of(target, response, what)
    slots = body.get("availableTimeslots") if isinstance(body, dict) else None
    if not isinstance(slots, list):
        raise RuleViolation(f"{what}: no availableTimeslots array", target.evidence())
    return [slot for slot in slots if isinstance(slot, dict)]


def slot_instants(slot: Mapping[str, Any]) -> tuple[datetime, datetime] | None:
    """A slot's start and end as aware datetimes (``None`` when they do not parse)."""
    try:
        start = datetime.fromisoformat(str(slot["timeslotStartDateTime"]))
        end = datetime.fromisoformat(str(slot["timeslotEndDateTime"]))
    except (KeyError, ValueError):
        return None
    if start.tzinfo is None or end.tzinfo is None:
        return None
    return start, end


def reserve(
    target: Target,
    address: Mapping[str, str],
    spec_id: str,
    slot: Mapping[str, Any],
    *,
    reservation_id: int | None = None,
    tenant: str | None = None,
) -> tuple[int, httpx.Response]:
    """``POST /appointments`` for ``slot`` with a fresh gateway reservation id."""
    reservation = reservation_id if reservation_id is not None else target.new_id()
    body = {
        "id": reservation,
        "address": dict(address),
        "serviceSpecification": {"id": spec_id},
        "purpose": "PROVIDE",
        "timeslot": {
            "timeslotStartDateTime": slot["timeslotStartDateTime"],
            "timeslotEndDateTime": slot["timeslotEndDateTime"],
        },
    }
    return reservation, target.post("/appointments", json_body=body, headers=target.headers(tenant=tenant))
