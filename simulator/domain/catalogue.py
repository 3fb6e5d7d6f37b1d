"""What the supplier sells: service specifications, their line profiles and uplift paths."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from simulator.domain.errors import BusinessRuleViolation


class ServicesPerAddress(StrEnum):
    """How many live services an address may hold."""

    SINGLE = "single"
    MULTIPLE = "multiple"


@dataclass(frozen=True, slots=True)
class LineProfile:
    """One product speed of a specification, e.g. ``"1"`` = 100/20 Mbps."""

    id: str
    downstream_mbps: int
    upstream_mbps: int


@dataclass(frozen=True, slots=True)
class ServiceSpecification:
    """A product type (``FTTP``, ``FTTP-PRO``) and the line profiles it supports."""

    id: str
    name: str
    line_profiles: tuple[LineProfile, ...]
    minimum_lead_time_days: int = 10
    line_type: str = "FIBRE"
    installation_type: str | None = "STANDARD"
    service_type: str = "BROADBAND"

    @property
    def line_profile_ids(self) -> tuple[str, ...]:
        """The ids of the supported line profiles, in catalogue order."""
        return tuple(profile.id for profile in self.line_profiles)

    def line_profile(self, profile_id: str) -> LineProfile:
        """The named line profile, or a 422 naming the ones this specification supports."""
        for profile in self.line_profiles:
            if profile.id == profile_id:
                return profile
        raise BusinessRuleViolation(
            f"line profile {profile_id!r} is not offered on {self.id}; "
            f"choose one of {', '.join(self.line_profile_ids)}"
        )


@dataclass(frozen=True)
class Catalogue:
    """Every specification the supplier offers, with the uplift (swap) paths between them."""

    specifications: Mapping[str, ServiceSpecification]
    uplifts: frozenset[tuple[str, str]] = field(default_factory=frozenset)

    @classmethod
    def of(cls, specs: Iterable[ServiceSpecification], uplifts: Iterable[tuple[str, str]] = ()) -> Catalogue:
        """Build a catalogue from specifications and ``(from, to)`` uplift pairs."""
        return cls({spec.id: spec for spec in specs}, frozenset(uplifts))

    def specification(self, spec_id: str) -> ServiceSpecification:
        """The named specification, or a 422 listing what exists."""
        try:
            return self.specifications[spec_id]
        except KeyError:
            raise BusinessRuleViolation(
                f"service specification {spec_id!r} is not offered; "
                f"choose one of {', '.join(self.specifications)}"
            ) from None

    def can_swap(self, from_spec: str, to_spec: str) -> bool:
        """Whether a live ``from_spec`` service may be swapped (uplifted) to ``to_spec``."""
        return from_spec == to_spec or (from_spec, to_spec) in self.uplifts
