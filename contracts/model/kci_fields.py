"""What a KCI must carry: field requirements, and the one check the order, test and problem models run.

Each model declares what every one of its KCIs carries (:func:`common_fields`) and what
each reason code adds; :func:`missing` names what a KCI lacks of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = ["FieldRequirement", "Part", "common_fields", "entity", "envelope", "missing"]


class Part(StrEnum):
    """Where in a KCI a field lives: the envelope or the entity (order, test, problem) inside it."""

    ENVELOPE = "envelope"
    ENTITY = "entity"


@dataclass(frozen=True, slots=True)
class FieldRequirement:
    """One field a KCI must carry; with several names, any one of them will do."""

    part: Part
    any_of: tuple[str, ...]
    only_when_tenant_requested: bool = False

    @property
    def label(self) -> str:
        """How a report names the requirement: ``targetDate``, ``a or b``."""
        return " or ".join(self.any_of)

    def satisfied_by(self, kci: Mapping[str, Any], entity: Mapping[str, Any]) -> bool:
        """Whether one of the names is present with a non-empty value."""
        source = kci if self.part is Part.ENVELOPE else entity
        return any(source.get(name) not in (None, "", [], {}) for name in self.any_of)


def envelope(*names: str) -> FieldRequirement:
    """A field of the KCI envelope (any one of ``names``)."""
    return FieldRequirement(Part.ENVELOPE, names)


def entity(*names: str, only_when_tenant_requested: bool = False) -> FieldRequirement:
    """A field of the entity the KCI is about (any one of ``names``)."""
    return FieldRequirement(Part.ENTITY, names, only_when_tenant_requested)


def common_fields(supplier_reference: str) -> tuple[FieldRequirement, ...]:
    """What every KCI carries, whatever its reason code.

    The envelope's id, sequence number, issue instant and reason code; the entity's
    status (it is "the latest full version") and something that identifies it: its
    gateway id or the supplier's reference, named ``supplier_reference`` (§2.4).
    """
    return (
        envelope("id"),
        envelope("sequenceNumber"),
        envelope("issuedOn"),
        envelope("reasonCode"),
        entity("id", supplier_reference),
        entity("status"),
    )


def missing(
    requirements: Iterable[FieldRequirement],
    kci: Mapping[str, Any],
    entity: Mapping[str, Any],
    *,
    tenant_requested: bool = False,
) -> list[str]:
    """Label every requirement ``kci`` (envelope) or ``entity`` fails, in order.

    ``tenant_requested`` says the KCI answers a tenant's request; requirements that hold
    only then are skipped otherwise.
    """
    return [
        requirement.label
        for requirement in requirements
        if not requirement.satisfied_by(kci, entity)
        and (tenant_requested or not requirement.only_when_tenant_requested)
    ]
