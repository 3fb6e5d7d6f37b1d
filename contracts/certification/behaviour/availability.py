"""Service availability rules (AVL-…): the worked examples of the Service Availability guide."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contracts.certification.addresses import TestAddress
from contracts.certification.behaviour.support import (
    address_query,
    availability,
    body_of,
    characteristics,
    expect_error_code,
    expect_no_problems,
    line_profiles,
)
from contracts.certification.errors import NotDecidable, RuleSkipped, RuleViolation
from contracts.certification.evidence import Evidence
from contracts.certification.rules import Capability, rule
from contracts.certification.target import Target

GUIDE = "Service Availability guide"
AVAILABILITY = Capability.AVAILABILITY
GATEWAY_HEADERS = ("X-Request-ID", "X-Conversation-ID", "Tenant")


def _site(body: Mapping[str, Any]) -> Mapping[str, Any]:
    site = body.get("siteInformation")
    return site if isinstance(site, dict) else {}


def _tenants(target: Target, place: TestAddress) -> list[str]:
    """The line's owner and another tenant, when the file names both (owner first)."""
    owner = place.tenant or target.tenant or "TENANT1"
    others = [t for t in (target.addresses.other_tenant, target.tenant) if t and t != owner]
    return [owner, *others[:1]]


@rule("AVL-001")
def no_coverage_returns_unavailability_reasons(target: Target) -> Evidence:
    """An address without coverage: nothing offered, reasons given, no new line."""
    place = target.addresses.require("no_coverage")
    body = availability(target, place.address)
    problems = []
    if body.get("serviceSpecifications"):
        problems.append("serviceSpecifications is not empty")
    reasons = body.get("unavailabilityReasons")
    if not isinstance(reasons, list) or not reasons:
        problems.append("unavailabilityReasons is missing or empty")
        reasons = []
    if "line" in _site(body):
        problems.append("siteInformation.line offers a new line")
    expect_no_problems(target, place.label, problems)
    return target.evidence(
        f"reasons: {', '.join(str(r.get('code')) for r in reasons if isinstance(r, dict))}"
    )


def _offered(body: Mapping[str, Any]) -> dict[str, list[str] | None]:
    specs = body.get("serviceSpecifications")
    return {
        str(spec.get("id")): line_profiles(spec)
        for spec in (specs if isinstance(specs, list) else [])
        if isinstance(spec, dict)
    }


@rule("AVL-002")
def coverage_offers_specifications_and_a_new_line(target: Target) -> Evidence:
    """Covered addresses (``covered``, ``multi_spec``): each specification with its profiles, and a line."""
    places = [p for p in (target.addresses.get("covered"), target.addresses.get("multi_spec")) if p]
    if not places:
        target.addresses.require("covered")
    notes = []
    for place in places:
        body = availability(target, place.address)
        offered = _offered(body)
        problems = [f"{spec} states no LINE_PROFILE values" for spec, values in offered.items() if not values]
        if not offered:
            problems.append("serviceSpecifications is empty")
        expected = {spec: list(values) for spec, values in place.specifications.items()}
        if expected and offered != expected:
            problems.append(f"expected {expected}, got {offered}")
        if "line" not in _site(body):
            problems.append("siteInformation.line is absent, so no new line can be ordered")
        if body.get("unavailabilityReasons"):
            problems.append("unavailabilityReasons is present although services are offered")
        expect_no_problems(target, place.label, problems)
        notes.append(f"{place.label}: {offered}")
    return target.evidence(*notes)


@rule("AVL-003")
def single_service_address_with_a_live_line_offers_no_new_line(target: Target) -> Evidence:
    """Asked by the line's owner and by another tenant, no new line is offered; the live one is listed."""
    place = target.addresses.require("single_service_live")
    for tenant in _tenants(target, place):
        body = availability(target, place.address, tenant=tenant)
        site = _site(body)
        problems = []
        if "line" in site:
            problems.append("siteInformation.line offers a new line")
        if not site.get("existingLines"):
            problems.append("siteInformation.existingLines does not list the live line")
        if not body.get("serviceSpecifications"):
            problems.append("serviceSpecifications is empty (the guide still lists them)")
        expect_no_problems(target, f"{place.label} asked as {tenant}", problems)
    return target.evidence(f"asked as {', '.join(_tenants(target, place))}")


@rule("AVL-004")
def multi_service_address_offers_a_new_line_beside_the_live_one(target: Target) -> Evidence:
    """Asked by the owner and by another tenant: ``line`` present and the live line listed."""
    place = target.addresses.require("multi_service_live")
    owner = _tenants(target, place)[0]
    identified = None
    for tenant in _tenants(target, place):
        site = _site(availability(target, place.address, tenant=tenant))
        problems = []
        if "line" not in site:
            problems.append("siteInformation.line is absent")
        lines = site.get("existingLines")
        if not lines:
            problems.append("siteInformation.existingLines does not list the live line")
        elif tenant == owner:
            identified, problem = _named_line(place, lines)
            problems += [problem] if problem else []
        expect_no_problems(target, f"{place.label} asked as {tenant}", problems)
    if identified is None:
        raise NotDecidable(
            f"{place.label}: the address file names no lineId, ontReference or serviceId the existing "
            "lines report, so whether the line reported is the live one cannot be told",
            target.evidence(),
        )
    return target.evidence(f"asked as {', '.join(_tenants(target, place))}; {identified}")


def _line_identifiers(line: Any) -> dict[str, Any]:
    if not isinstance(line, dict):
        return {}
    ont = line.get("ont")
    return {
        "lineId": line.get("lineId"),
        "ontReference": ont.get("ontReference") if isinstance(ont, dict) else None,
        "serviceId": characteristics(line.get("lineCharacteristics")).get("SERVICE_ID"),
    }


def _named_line(place: TestAddress, lines: Any) -> tuple[str | None, str | None]:
    """Whether ``existingLines`` reports the line the address file names: (how, problem).

    ``(None, None)`` when nothing can be compared: the file names no identifier, or the
    lines carry none of those the file names.
    """
    named = {
        k: v
        for k, v in {
            "lineId": place.line_id,
            "ontReference": place.ont_reference,
            "serviceId": place.service_id,
        }.items()
        if v
    }
    reported = [_line_identifiers(line) for line in (lines if isinstance(lines, list) else [])]
    comparable = {k: v for k, v in named.items() if any(ids.get(k) is not None for ids in reported)}
    if not comparable:
        return None, None
    for ids in reported:
        if all(ids.get(k) in {None, v} for k, v in comparable.items()) and any(
            ids.get(k) == v for k, v in comparable.items()
        ):
            return f"the live line {comparable} is reported", None
    seen = [{k: v for k, v in ids.items() if v is not None} for ids in reported]
    return None, f"existingLines reports {seen}, not the live line the address file names {comparable}"


def _line_problems(line: Any) -> list[str]:
    if not isinstance(line, dict):
        return ["an existingLines entry is not an object"]
    problems = []
    ont = line.get("ont")
    if not isinstance(ont, dict) or not ont.get("ontReference"):
        problems.append("no ont with an ontReference")
    elif not isinstance(ont.get("ports"), list) or not ont["ports"]:
        problems.append(f"ont {ont.get('ontReference')} lists no ports")
    elif any(not isinstance(port, dict) or "portNumber" not in port for port in ont["ports"]):
        problems.append(f"ont {ont.get('ontReference')} has a port without a portNumber")
    if not characteristics(line.get("lineCharacteristics")):
        problems.append("no lineCharacteristics")
    return problems


@rule("AVL-005")
def live_lines_are_described_with_ont_ports_and_characteristics(target: Target) -> Evidence:
    """Every existing line at a live address names its ONT, the ONT's ports and its characteristics."""
    places = [
        p
        for p in (target.addresses.get("single_service_live"), target.addresses.get("multi_service_live"))
        if p
    ]
    if not places:
        raise RuleSkipped("needs a 'single_service_live' or 'multi_service_live' address in the address file")
    for place in places:
        for tenant in _tenants(target, place):
            lines = _site(availability(target, place.address, tenant=tenant)).get("existingLines")
            if not isinstance(lines, list) or not lines:
                raise RuleViolation(f"{place.label} asked as {tenant}: no existingLines", target.evidence())
            for index, line in enumerate(lines):
                subject = f"{place.label} asked as {tenant}: existingLines/{index}"
                expect_no_problems(target, subject, _line_problems(line))
    return target.evidence()


@rule("AVL-006")
def missing_gateway_headers_are_a_malformed_request(target: Target) -> Evidence:
    """Each required header left out in turn: 400, ``code`` MALFORMED_REQUEST, messages."""
    place = target.addresses.get("covered") or target.addresses.get("no_coverage")
    address = place.address if place else {"id": "100000000002", "type": "UPRN"}
    for header in GATEWAY_HEADERS:
        headers = {k: v for k, v in target.headers().items() if k != header}
        response = target.get("/service-availability", params=address_query(address), headers=headers)
        expect_error_code(target, response, {400}, f"availability without {header}")
    return target.evidence()


@rule("AVL-007")
def unknown_address_gets_no_availability(target: Target) -> Evidence:
    """An address the supplier never heard of: 200, empty serviceSpecifications, reasons given."""
    place = target.addresses.get("unknown")
    address = place.address if place else {"id": f"99{target.rng.randrange(10**10):010d}", "type": "UPRN"}
    response = target.get("/service-availability", params=address_query(address), headers=target.headers())
    if response.status_code != 200:
        kind = "a server error" if response.status_code >= 500 else "not 200 with no availability"
        raise RuleViolation(f"UPRN {address['id']}: {response.status_code} is {kind}", target.evidence())
    body = body_of(target, response, f"availability at UPRN {address['id']}")
    if (
        not isinstance(body, dict)
        or body.get("serviceSpecifications")
        or not body.get("unavailabilityReasons")
    ):
        raise RuleViolation(
            f"UPRN {address['id']}: expected no serviceSpecifications and unavailabilityReasons",
            target.evidence(),
        )
    return target.evidence(f"asked about UPRN {address['id']}")
