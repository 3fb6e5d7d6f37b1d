"""Service availability: what an address can have, following the supplier's rules.

A site with coverage offers every specification it is covered for, each with all its
line profiles. ``new_line`` is offered while the address can take another service:
a single-service address stops offering it once a service is live there; a
multi-service address keeps offering it until every ONT port is in use.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from simulator.domain.catalogue import Catalogue, ServiceSpecification, ServicesPerAddress
from simulator.domain.inventory import AddressId, LiveService, PostalAddress, Site


@dataclass(frozen=True, slots=True)
class UnavailabilityReason:
    """Why nothing is available: a code and a sentence."""

    code: str
    text: str


@dataclass(frozen=True, slots=True)
class OntPortState:
    """One ONT port and whether a service uses it."""

    number: int
    active: bool


@dataclass(frozen=True, slots=True)
class ExistingLine:
    """A live service as availability reports it; owner-only fields are ``None`` for others."""

    service: LiveService
    specification: ServiceSpecification
    ont_reference: str
    ports: tuple[OntPortState, ...]
    shown_to_owner: bool


@dataclass(frozen=True, slots=True)
class NewLine:
    """A new line can be installed; the lead time is the shortest of the offered specs."""

    line_type: str
    installation_type: str | None
    minimum_lead_time_days: int


@dataclass(frozen=True, slots=True)
class Availability:
    """The answer to a service-availability check."""

    address: AddressId
    postal: PostalAddress | None
    specifications: tuple[ServiceSpecification, ...]
    new_line: NewLine | None
    existing_lines: tuple[ExistingLine, ...]
    unavailability_reasons: tuple[UnavailabilityReason, ...]


def used_ports(live: Sequence[LiveService]) -> set[int]:
    """ONT ports taken by live services."""
    return {service.ont_port for service in live}


def can_install_new_line(site: Site, live: Sequence[LiveService]) -> bool:
    """Whether the address can take one more service under its policy."""
    if not site.covered:
        return False
    if site.services_per_address is ServicesPerAddress.SINGLE:
        return not live
    return len(used_ports(live)) < site.ont_ports


def first_free_port(site: Site, live: Sequence[LiveService]) -> int | None:
    """The lowest unused ONT port, or ``None`` when the address cannot take another service."""
    if not can_install_new_line(site, live):
        return None
    taken = used_ports(live)
    return next(port for port in range(1, site.ont_ports + 1) if port not in taken)


def _unknown(address: AddressId) -> Availability:
    reason = UnavailabilityReason(
        "ADDRESS_NOT_FOUND", f"{address.type} {address.id} is not within our coverage area"
    )
    return Availability(address, None, (), None, (), (reason,))


def check_availability(
    address: AddressId,
    site: Site | None,
    live: Sequence[LiveService],
    catalogue: Catalogue,
    tenant: str,
    service_types: Collection[str] | None = None,
) -> Availability:
    """Work out what ``tenant`` may order at ``address``.

    ``live`` are the live services at the address; ``service_types`` filters
    specifications by type (``BROADBAND``, ``ETHERNET``) when given.
    """
    if site is None:
        return _unknown(address)
    specs = tuple(
        catalogue.specifications[spec_id]
        for spec_id in site.specifications
        if service_types is None or catalogue.specifications[spec_id].service_type in service_types
    )
    taken = used_ports(live)
    ports = tuple(OntPortState(number, number in taken) for number in range(1, site.ont_ports + 1))
    existing = tuple(
        ExistingLine(
            service=service,
            specification=catalogue.specifications[service.specification_id],
            ont_reference=site.ont_reference,
            ports=ports,
            shown_to_owner=service.tenant == tenant,
        )
        for service in live
    )
    reasons: tuple[UnavailabilityReason, ...] = ()
    if not site.covered:
        code = site.unavailable_reason
        reasons = (UnavailabilityReason(code, _REASON_TEXT[code]),)
    elif not specs:
        wanted = ", ".join(sorted(service_types or ()))
        reasons = (UnavailabilityReason("NOT_SERVICEABLE", f"no {wanted} services at this address"),)
    new_line = None
    if specs and can_install_new_line(site, live):
        new_line = NewLine(
            line_type=specs[0].line_type,
            installation_type=specs[0].installation_type,
            minimum_lead_time_days=min(spec.minimum_lead_time_days for spec in specs),
        )
    return Availability(address, site.postal, specs, new_line, existing, reasons)


_REASON_TEXT = {
    "NO_COVERAGE": "the address is not within our coverage area",
    "NOT_SERVICEABLE": "the address is covered but cannot be served yet",
    "NO_CAPACITY": "there is no capacity left at the serving node",
    "ADDRESS_NOT_FOUND": "the address is not known to the supplier",
}
UNAVAILABILITY_CODES = tuple(_REASON_TEXT)
