"""What a service test and a service problem both are: a tenant's request about one live service.

Each names the service, its specification and a problem type, and plays a script of its
own on the simulator clock; :class:`AssuranceEntity` holds those fields once (storage
writes them as the columns the two tables share).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Self

from simulator.domain.assurance_commands import AssuranceRequest
from simulator.domain.order_commands import Characteristics, Scenario

__all__ = ["AssuranceEntity"]


@dataclass(kw_only=True)
class AssuranceEntity:
    """The service a test or problem is about, and where its script is."""

    tenant: str
    supplier_reference: str
    service_id: str
    specification_id: str
    problem_type: str
    characteristics: Characteristics
    completed_date: datetime | None = None
    scenario: Scenario  # its name is the script's
    next_step: int = 0
    next_step_due: datetime | None
    last_sequence: int = 0
    conversation_id: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def requested(cls, command: AssuranceRequest, script: str, now: datetime, **own: Any) -> Self:
        """A new entity about what ``command`` names, playing ``script`` from ``now``, plus its ``own``."""
        return cls(
            tenant=command.tenant,
            service_id=command.service_id,
            specification_id=command.specification_id,
            problem_type=command.problem_type,
            characteristics=command.characteristics,
            scenario=replace(command.scenario, name=script),
            conversation_id=command.conversation_id,
            created_at=now,
            updated_at=now,
            **own,
        )

    def snapshot(self) -> Self:
        """The entity as it is now (later changes do not reach the copy)."""
        return replace(self)
