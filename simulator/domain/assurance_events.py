"""What happened to a service test or problem: the events their aggregates return.

The application acts on them in the transaction that saves the aggregate: it writes the
history and puts KCIs into the outbox (keyed by the entity's key, so each test and each
problem has a sequence of its own).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simulator.domain.service_problem import ProblemRequestRecord, ServiceProblem
    from simulator.domain.service_test import ServiceTest


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


@dataclass(frozen=True, slots=True)
class TestKciDue:
    """A step moved a test: its KCI must reach the gateway."""

    __test__ = False  # not a pytest class

    test: ServiceTest  # a copy, as the KCI carries it
    at: datetime
    reason: str
    sequence_number: int
    before: str
    text: str | None = None


@dataclass(frozen=True, slots=True)
class ProblemKciDue:
    """A step moved a problem: its KCI must reach the gateway."""

    problem: ServiceProblem  # a copy, as the KCI carries it
    request: ProblemRequestRecord | None  # the amendment or cancellation the KCI answers
    at: datetime
    reason: str
    sequence_number: int
    before: str
    problem_code: str | None = None
    text: str | None = None


AssuranceEvent = AssuranceNoted | TestKciDue | ProblemKciDue
