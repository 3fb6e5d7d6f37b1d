"""A supplier profile: everything that makes one simulated supplier differ from another."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulator.domain.assurance import AssurancePolicy
from simulator.domain.catalogue import Catalogue, ServicesPerAddress
from simulator.domain.inventory import LiveService, Site
from simulator.domain.slots import AppointmentPolicy


@dataclass(frozen=True, slots=True)
class EstateSettings:
    """A generated estate: ``size`` UPRNs from ``first_uprn``, the same for the same seed."""

    size: int = 10_000
    seed: int = 1
    first_uprn: int = 200_000_000_000
    coverage: float = 0.85
    multi_service_share: float = 0.25
    live_share: float = 0.2
    specification_sets: tuple[tuple[str, ...], ...] = ()
    tenants: tuple[str, ...] = ("TENANT1", "TENANT2")


@dataclass(frozen=True, slots=True)
class ApiClient:
    """A caller of the Supplier API: its id, its secret, and the tenants it may act for.

    ``tenants`` is ``None`` for a client that may act for any tenant.
    """

    id: str
    secret: str = field(repr=False)
    tenants: frozenset[str] | None = None

    def may_act_for(self, tenant: str | None) -> bool:
        """Whether the client may make a call carrying the ``Tenant`` header ``tenant``."""
        return self.tenants is None or tenant is None or tenant in self.tenants


AUTH_MODES = ("none", "oauth2", "basic", "mtls")


@dataclass(frozen=True, slots=True)
class AuthPolicy:
    """How callers of the Supplier API prove who they are (``mode`` one of :data:`AUTH_MODES`)."""

    mode: str = "none"
    clients: tuple[ApiClient, ...] = ()
    token_lifetime_seconds: int = 3600
    client_ca: str | None = None
    """``mtls``: the PEM file of the CA that issues client certificates."""

    def client(self, client_id: str) -> ApiClient | None:
        """The declared client ``client_id``, if any."""
        return next((c for c in self.clients if c.id == client_id), None)


@dataclass(frozen=True)
class SupplierProfile:
    """One supplier's catalogue, addresses, appointment grid and order behaviour."""

    name: str
    code: str
    catalogue: Catalogue
    services_per_address: ServicesPerAddress
    ont_ports: int
    sites: tuple[Site, ...]
    live_services: tuple[LiveService, ...]
    estate: EstateSettings | None
    appointments: AppointmentPolicy
    orders: dict[str, Any] = field(default_factory=dict)
    assurance: AssurancePolicy = field(default_factory=AssurancePolicy)
    fingerprint: str = ""
    auth: AuthPolicy = AuthPolicy()
