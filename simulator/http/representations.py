"""Domain objects to the Supplier API's JSON, field by field as the contract names them."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from simulator.application.order_views import order_entity
from simulator.domain.availability import Availability, ExistingLine
from simulator.domain.catalogue import ServiceSpecification
from simulator.domain.clock import format_instant
from simulator.domain.inventory import AddressId, PostalAddress
from simulator.domain.reservations import Reservation
from simulator.domain.slots import Slot

if TYPE_CHECKING:
    from simulator.application.appointments import Offer

__all__ = ["instant", "order_entity"]

instant = format_instant


def address_identifier(address: AddressId) -> dict[str, str]:
    """``{"id": ..., "type": ...}``."""
    return {"id": address.id, "type": address.type}


def _address(address: AddressId, postal: PostalAddress | None) -> dict[str, Any]:
    body: dict[str, Any] = {"identifier": address_identifier(address)}
    if postal is not None:
        parts = {
            "name": postal.name,
            "streetNumber": postal.street_number,
            "streetName": postal.street_name,
            "locality": postal.locality,
            "city": postal.city,
            "postcode": postal.postcode,
            "country": postal.country,
        }
        body.update({key: value for key, value in parts.items() if value is not None})
    return body


def _existing_line(line: ExistingLine) -> dict[str, Any]:
    service = line.service
    profile = line.specification.line_profile(service.line_profile_id)
    characteristics = [
        {"name": "MAX_DOWNSTREAM_MBPS", "value": str(profile.downstream_mbps)},
        {"name": "MAX_UPSTREAM_MBPS", "value": str(profile.upstream_mbps)},
    ]
    if line.shown_to_owner:
        # Only the owner learns its service id; other tenants order by ONT reference and port.
        characteristics += [
            {"name": "SERVICE_ID", "value": service.service_id},
            {"name": "SERVICE_SPECIFICATION", "value": service.specification_id},
            {"name": "LINE_PROFILE", "value": service.line_profile_id},
        ]
    return {
        "lineId": service.line_id,
        "ont": {
            "ontReference": line.ont_reference,
            "ports": [
                {"portNumber": port.number, "status": "ACTIVE" if port.active else "FREE"}
                | ({"tenantActive": True} if port.number == service.ont_port else {})
                for port in line.ports
            ],
        },
        "lineCharacteristics": characteristics,
    }


def availability(answer: Availability) -> dict[str, Any]:
    """The 200 body of ``GET /service-availability``."""
    site: dict[str, Any] = {}
    if answer.new_line is not None:
        line: dict[str, Any] = {"type": "NEW", "lineType": answer.new_line.line_type}
        if answer.new_line.installation_type:
            line["installationType"] = answer.new_line.installation_type
        line["lineCharacteristics"] = [
            {"name": "MINIMUM_LEAD_TIME", "value": str(answer.new_line.minimum_lead_time_days)}
        ]
        site["line"] = line
    if answer.existing_lines:
        site["existingLines"] = [_existing_line(line) for line in answer.existing_lines]
    body: dict[str, Any] = {
        "address": _address(answer.address, answer.postal),
        "serviceSpecifications": [
            {
                "id": spec.id,
                "name": spec.name,
                "serviceCharacteristics": [
                    {"name": "LINE_PROFILE", "values": list(spec.line_profile_ids)},
                    {"name": "MINIMUM_LEAD_TIME", "values": [str(spec.minimum_lead_time_days)]},
                ],
            }
            for spec in answer.specifications
        ],
        "siteInformation": site,
    }
    if answer.unavailability_reasons:
        body["unavailabilityReasons"] = [
            {"code": reason.code, "text": reason.text} for reason in answer.unavailability_reasons
        ]
    return body


@lru_cache(maxsize=8192)
def _timeslot(slot: Slot) -> dict[str, Any]:
    # Slots come from a cached grid, so each one is turned into JSON once.
    return {
        "timeslotStartDateTime": slot.start.isoformat(),
        "timeslotEndDateTime": slot.end.isoformat(),
        "classification": slot.classification,
        "standard": slot.standard,
    }


def appointment_offer(offer: Offer) -> dict[str, Any]:
    """The 200 body of ``GET /available-appointments``."""
    return {
        "address": address_identifier(offer.address),
        "serviceSpecification": {"id": offer.specification.id, "name": offer.specification.name},
        "availableTimeslots": [_timeslot(slot) for slot in offer.slots],
    }


def reservation(
    held: Reservation, specification: ServiceSpecification, request: dict[str, Any]
) -> dict[str, Any]:
    """The 201 body of ``POST /appointments``: the request echoed with the supplier's terms."""
    return {
        **request,
        "supplierReference": held.supplier_reference,
        "expiryDateTime": instant(held.expires_at),
        "serviceSpecification": {"id": specification.id, "name": specification.name},
        "timeslot": _timeslot(held.slot),
    }
