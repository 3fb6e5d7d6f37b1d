"""Addresses, what each can be served with, and the live services installed there."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from simulator.domain.catalogue import ServicesPerAddress


@dataclass(frozen=True, slots=True)
class AddressId:
    """An address key as the gateway sends it: ``{"id": ..., "type": "UPRN"}``."""

    id: str
    type: str = "UPRN"

    @property
    def key(self) -> str:
        """A single string naming the address, used as a storage key."""
        return f"{self.type}:{self.id}"

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> AddressId:
        """The address of a request, a profile or a KCI script: ``{"id": ..., "type": "UPRN"}``."""
        return cls(str(raw["id"]), str(raw.get("type", "UPRN")))


@dataclass(frozen=True, slots=True)
class PostalAddress:
    """The human-readable parts of an address."""

    name: str | None = None
    street_number: str | None = None
    street_name: str | None = None
    locality: str | None = None
    city: str | None = None
    postcode: str | None = None
    country: str = "UK"


@dataclass(frozen=True, slots=True)
class Site:
    """One address the supplier knows, and what it could install there.

    ``specifications`` lists the service specifications with coverage here; empty means
    no coverage, and ``unavailable_reason`` then says why.
    """

    address: AddressId
    postal: PostalAddress
    specifications: tuple[str, ...]
    services_per_address: ServicesPerAddress
    ont_ports: int
    unavailable_reason: str = "NO_COVERAGE"

    @property
    def ont_reference(self) -> str:
        """The reference of the (single) ONT at this site."""
        return f"ONT{self.address.id}"

    @property
    def covered(self) -> bool:
        """Whether any specification can be supplied here."""
        return bool(self.specifications)


@dataclass(frozen=True, slots=True)
class LiveService:
    """A working service: who owns it, what it is, and which ONT port it uses."""

    service_id: str
    tenant: str
    address: AddressId
    specification_id: str
    line_profile_id: str
    ont_port: int

    @property
    def line_id(self) -> str:
        """The line identifier reported in ``existingLines``."""
        return f"L{self.address.id}-{self.ont_port}"


class SiteDirectory(Protocol):
    """Finds the site for an address, or ``None`` when the supplier does not know it."""

    def find(self, address: AddressId) -> Site | None:
        """The site at ``address``, if any."""
        ...
