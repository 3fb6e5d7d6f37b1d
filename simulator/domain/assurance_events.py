"""What happened to a service test or problem: the events their aggregates return.

The application acts on them in the transaction that saves the aggregate: it writes the
history and puts KCIs into the outbox (keyed by the entity's key, so each test and each
problem has a sequence of its own).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeAlias

from contracts.model.service_problem_states import ProblemStatus
from contracts.model.service_test_states import TestStatus
from simulator.domain.scripted import KciDue

if TYPE_CHECKING:
    from simulator.domain.service_problem import ProblemRequestRecord, ServiceProblem
    from simulator.domain.service_test import ServiceTest


__all__ = ["AssuranceEvent", "AssuranceNoted", "KciDue", "ProblemKciDue", "TestKciDue"]


@dataclass(frozen=True, slots=True)
class AssuranceNoted:
    """An event of a test's or problem's history (ACCEPTED, AMENDMENT_RECEIVED, STEP_SKIPPED …)."""

    tenant: str
    key: str
    at: datetime
    event: str
    before: str | None
    after: str
    detail: Mapping[str, Any] = field(default_factory=dict)


# The KCIs of a test and of a problem (quoted: their modules import this one).
TestKciDue: TypeAlias = "KciDue[ServiceTest, None, str, TestStatus]"
ProblemKciDue: TypeAlias = "KciDue[ServiceProblem, ProblemRequestRecord | None, str, ProblemStatus]"
AssuranceEvent: TypeAlias = "AssuranceNoted | TestKciDue | ProblemKciDue"
