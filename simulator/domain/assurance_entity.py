"""What a service test and a service problem both are: a tenant's request about one live service.

Each names the service, its specification and a problem type, and plays a script of its
own on the simulator clock; :class:`AssuranceEntity` holds those fields once (storage
writes them as the columns the two tables share).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Self

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

    def snapshot(self) -> Self:
        """The entity as it is now (later changes do not reach the copy)."""
        return replace(self)
