"""Load a supplier profile from YAML, validate it, and build the domain's ``SupplierProfile``.

Validation happens in two passes: the bundled JSON Schema checks shape, then
cross-references (a live service's specification is covered at its address, its line
profile exists, ports fit the ONT) are checked here. Every message names the field.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from datetime import date, time, timedelta
from types import MappingProxyType
from typing import Any

from contracts.inputs import InputError, load_yaml
from scenarios import bundled_profiles, profile_path
from simulator.assurance_script_loader import load_assurance_scripts
from simulator.domain.assurance import AssurancePolicy
from simulator.domain.assurance_scripts import AssuranceKind
from simulator.domain.catalogue import Catalogue, LineProfile, ServiceSpecification, ServicesPerAddress
from simulator.domain.errors import ConfigurationError
from simulator.domain.inventory import AddressId, LiveService, PostalAddress, Site
from simulator.domain.profile import ApiClient, AuthPolicy, EstateSettings, SupplierProfile
from simulator.domain.slots import WEEKDAYS, AppointmentPolicy, SlotWindow
from simulator.kci_script_loader import load_scripts
from simulator.script_files import check_document

PROFILE_SCHEMA = "supplier-profile.schema.json"

_DEFAULT_WINDOWS = (
    SlotWindow(frozenset(range(5)), time(8), time(13), "WEEKDAY_AM"),
    SlotWindow(frozenset(range(5)), time(13), time(18), "WEEKDAY_PM"),
)


def load_profile(name_or_path: str) -> SupplierProfile:
    """Load a bundled profile by name (``demo``) or a YAML file by path.

    The file must be a regular file of at most ``contracts.inputs.MAX_FILE_BYTES``; a YAML error
    names its line and column.
    """
    path = profile_path(name_or_path)
    if path.name != name_or_path and not path.exists() and "/" not in name_or_path:
        known = ", ".join(bundled_profiles())
        raise ConfigurationError(f"no bundled profile {name_or_path!r} and no such file (bundled: {known})")
    try:
        document = load_yaml(path, what="profile")
    except InputError as error:
        raise ConfigurationError(str(error)) from None
    return build_profile(document, source=str(path))


def validate_document(document: Any, source: str = "profile") -> None:
    """Check ``document`` against the profile schema; raise with every problem, each named."""
    check_document(document, PROFILE_SCHEMA, source, what="supplier profile")


def build_profile(
    document: Any, source: str = "profile", environ: Mapping[str, str] | None = None
) -> SupplierProfile:
    """Validate a parsed profile document and turn it into a ``SupplierProfile``.

    A client's ``secretEnv`` is read from ``environ`` (default: the process environment).
    """
    validate_document(document, source)
    errors: list[str] = []
    catalogue = _catalogue(document, errors)
    default_policy = ServicesPerAddress(document.get("servicesPerAddress", "single"))
    ont_ports = int(document.get("ontPorts", 4))
    sites, live = _sites(document.get("addresses", []), catalogue, default_policy, ont_ports, errors)
    estate = _estate(document.get("estate"), catalogue, errors)
    _check_order_scenarios(document.get("orders", {}), errors)
    assurance = _assurance(document.get("assurance", {}), catalogue, errors)
    auth = _auth(document.get("auth", {}), os.environ if environ is None else environ, errors)
    if errors:
        raise ConfigurationError(f"{source} is not a valid supplier profile:\n  " + "\n  ".join(errors))
    # Secrets stay out of the fingerprint, which the admin API shows.
    fingerprinted = {key: value for key, value in document.items() if key != "auth"}
    fingerprint = hashlib.sha256(json.dumps(fingerprinted, sort_keys=True, default=str).encode()).hexdigest()
    return SupplierProfile(
        name=document["supplier"]["name"],
        code=document["supplier"]["code"],
        catalogue=catalogue,
        services_per_address=default_policy,
        ont_ports=ont_ports,
        sites=tuple(sites),
        live_services=tuple(live),
        estate=estate,
        appointments=_appointments(document.get("appointments", {})),
        orders=dict(document.get("orders", {})),
        assurance=assurance,
        fingerprint=fingerprint[:16],
        auth=auth,
    )


def _auth(raw: dict[str, Any], environ: Mapping[str, str], errors: list[str]) -> AuthPolicy:
    clients = []
    seen: set[str] = set()
    for index, client in enumerate(raw.get("clients", [])):
        if client["id"] in seen:
            errors.append(f"auth/clients/{index}/id: {client['id']!r} is declared twice")
        seen.add(client["id"])
        secret = client.get("secret")
        if secret is None:
            secret = environ.get(client["secretEnv"]) or ""
            if not secret:
                # The variable is named, never its value.
                errors.append(f"auth/clients/{index}/secretEnv: ${client['secretEnv']} is not set")
        tenants = client.get("tenants")
        clients.append(ApiClient(client["id"], secret, frozenset(tenants) if tenants else None))
    return AuthPolicy(
        mode=raw.get("mode", "none"),
        clients=tuple(clients),
        token_lifetime_seconds=raw.get("tokenLifetimeSeconds", 3600),
        client_ca=raw.get("clientCa"),
    )


def _catalogue(document: dict[str, Any], errors: list[str]) -> Catalogue:
    specs = []
    seen: set[str] = set()
    for index, raw in enumerate(document["serviceSpecifications"]):
        if raw["id"] in seen:
            errors.append(f"serviceSpecifications/{index}/id: {raw['id']!r} is defined twice")
        seen.add(raw["id"])
        profiles = tuple(
            LineProfile(p["id"], p["downstreamMbps"], p["upstreamMbps"]) for p in raw["lineProfiles"]
        )
        specs.append(
            ServiceSpecification(
                id=raw["id"],
                name=raw.get("name", raw["id"]),
                line_profiles=profiles,
                minimum_lead_time_days=raw.get("minimumLeadTimeDays", 10),
                line_type=raw.get("lineType", "FIBRE"),
                installation_type=raw.get("installationType", "STANDARD"),
                service_type=raw.get("serviceType", "BROADBAND"),
            )
        )
    uplifts = []
    for index, raw in enumerate(document.get("uplifts", [])):
        for end in ("from", "to"):
            if raw[end] not in seen:
                errors.append(f"uplifts/{index}/{end}: no service specification {raw[end]!r}")
        uplifts.append((raw["from"], raw["to"]))
    return Catalogue.of(specs, uplifts)


def _sites(
    raw_sites: list[dict[str, Any]],
    catalogue: Catalogue,
    default_policy: ServicesPerAddress,
    default_ports: int,
    errors: list[str],
) -> tuple[list[Site], list[LiveService]]:
    sites: list[Site] = []
    live: list[LiveService] = []
    seen_addresses: set[str] = set()
    seen_services: set[str] = set()
    for index, raw in enumerate(raw_sites):
        where = f"addresses/{index}"
        address = AddressId.from_json(raw["address"])
        if address.key in seen_addresses:
            errors.append(f"{where}/address: {address.key} is listed twice")
        seen_addresses.add(address.key)
        for spec_id in raw["coverage"]:
            if spec_id not in catalogue.specifications:
                errors.append(f"{where}/coverage: no service specification {spec_id!r}")
        policy = ServicesPerAddress(raw.get("servicesPerAddress", default_policy))
        ports = raw.get("ontPorts", default_ports if policy is ServicesPerAddress.MULTIPLE else 1)
        site = Site(
            address=address,
            postal=_postal(raw.get("postal", {})),
            specifications=tuple(raw["coverage"]),
            services_per_address=policy,
            ont_ports=ports,
            unavailable_reason=raw.get("unavailableReason", "NO_COVERAGE"),
        )
        sites.append(site)
        services = raw.get("liveServices", [])
        if policy is ServicesPerAddress.SINGLE and len(services) > 1:
            errors.append(f"{where}/liveServices: a single-service address holds one live service")
        used: set[int] = set()
        for number, service in enumerate(services):
            there = f"{where}/liveServices/{number}"
            spec_id = service["specification"]
            if spec_id not in raw["coverage"]:
                errors.append(f"{there}/specification: {spec_id!r} is not covered at this address")
            elif service["lineProfile"] not in catalogue.specifications[spec_id].line_profile_ids:
                errors.append(
                    f"{there}/lineProfile: {spec_id} has no line profile {service['lineProfile']!r}"
                )
            port = service.get("ontPort") or next(
                p for p in range(1, ports + len(services) + 1) if p not in used
            )
            if port > ports or port in used:
                errors.append(f"{there}/ontPort: port {port} is taken or beyond the ONT's {ports} ports")
            used.add(port)
            if service["serviceId"] in seen_services:
                errors.append(f"{there}/serviceId: {service['serviceId']!r} is used twice")
            seen_services.add(service["serviceId"])
            live.append(
                LiveService(
                    service["serviceId"], service["tenant"], address, spec_id, service["lineProfile"], port
                )
            )
    return sites, live


def _check_order_scenarios(raw: dict[str, Any], errors: list[str]) -> None:
    scripts = load_scripts()
    for key, kind in (
        ("orderScenario", "order"),
        ("amendmentScenario", "amendment"),
        ("cancellationScenario", "cancellation"),
    ):
        name = raw.get(key)
        if name is None:
            continue
        script = scripts.get(str(name).upper())
        if script is None or script.applies_to.value != kind:
            known = ", ".join(sorted(n for n, s in scripts.items() if s.applies_to.value == kind))
            errors.append(f"orders/{key}: no {kind} scenario {name!r}; choose one of {known}")


_ASSURANCE_SCENARIOS = (
    ("testScenario", AssuranceKind.TEST),
    ("problemScenario", AssuranceKind.PROBLEM),
    ("problemAmendmentScenario", AssuranceKind.PROBLEM_AMENDMENT),
    ("problemCancellationScenario", AssuranceKind.PROBLEM_CANCELLATION),
)


def _assurance(raw: dict[str, Any], catalogue: Catalogue, errors: list[str]) -> AssurancePolicy:
    scripts = load_assurance_scripts()
    scenarios: dict[str, str] = {}
    for key, kind in _ASSURANCE_SCENARIOS:
        name = raw.get(key)
        if name is None:
            continue
        script = scripts.get(str(name).upper())
        if script is None or script.applies_to is not kind:
            known = ", ".join(sorted(n for n, s in scripts.items() if s.applies_to is kind))
            errors.append(f"assurance/{key}: no {kind} scenario {name!r}; choose one of {known}")
            continue
        scenarios[kind.value] = script.name
    types: dict[str, frozenset[str]] = {}
    for spec_id, handled in raw.get("problemTypes", {}).items():
        if spec_id not in catalogue.specifications:
            errors.append(f"assurance/problemTypes/{spec_id}: no such service specification")
        types[spec_id] = frozenset(handled)
    return AssurancePolicy(
        check_test_characteristics=bool(raw.get("checkTestCharacteristics", False)),
        problem_types=MappingProxyType(types),
        scenarios=MappingProxyType(scenarios),
        refuse_second_amendment=bool(raw.get("refuseSecondAmendment", True)),
    )


def _postal(raw: dict[str, str]) -> PostalAddress:
    return PostalAddress(
        name=raw.get("name"),
        street_number=raw.get("streetNumber"),
        street_name=raw.get("streetName"),
        locality=raw.get("locality"),
        city=raw.get("city"),
        postcode=raw.get("postcode"),
        country=raw.get("country", "UK"),
    )


def _estate(raw: dict[str, Any] | None, catalogue: Catalogue, errors: list[str]) -> EstateSettings | None:
    if raw is None:
        return None
    sets = tuple(tuple(group) for group in raw.get("specificationSets", [list(catalogue.specifications)[:1]]))
    for index, group in enumerate(sets):
        for spec_id in group:
            if spec_id not in catalogue.specifications:
                errors.append(f"estate/specificationSets/{index}: no service specification {spec_id!r}")
    return EstateSettings(
        size=raw.get("size", 10_000),
        seed=raw.get("seed", 1),
        first_uprn=raw.get("firstUprn", 200_000_000_000),
        coverage=raw.get("coverage", 0.85),
        multi_service_share=raw.get("multiServiceShare", 0.25),
        live_share=raw.get("liveShare", 0.2),
        specification_sets=sets,
        tenants=tuple(raw.get("tenants", ["TENANT1", "TENANT2"])),
    )


def _appointments(raw: dict[str, Any]) -> AppointmentPolicy:
    windows = tuple(
        SlotWindow(
            days=frozenset(WEEKDAYS.index(day) for day in window["days"]),
            start=time.fromisoformat(window["start"]),
            end=time.fromisoformat(window["end"]),
            classification=window["classification"],
            standard=window.get("standard", True),
            capacity=window.get("capacity", 2),
            purposes=frozenset(window.get("purposes", ["PROVIDE", "REPAIR", "MODIFY"])),
        )
        for window in raw.get("windows", [])
    )
    return AppointmentPolicy(
        windows=windows or _DEFAULT_WINDOWS,
        timezone=raw.get("timezone", "Europe/London"),
        reservation_ttl=timedelta(minutes=raw.get("reservationTtlMinutes", 30)),
        horizon_days=raw.get("horizonDays", 28),
        closed_dates=frozenset(date.fromisoformat(d) for d in raw.get("closedDates", [])),
    )
