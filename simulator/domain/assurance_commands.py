"""What a tenant asks about a live service: test it, raise a problem, amend or cancel one (§3.10, §3.11).

The HTTP layer builds these from a validated request; like the order commands they hold
parsed values only, so no request JSON reaches the domain.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, field

from simulator.domain.inventory import AddressId
from simulator.domain.order_commands import (
    Characteristics,
    FollowUp,
    Scenario,
    VisitChanges,
    VisitDetails,
)


@dataclass(frozen=True, slots=True)
class AssuranceRequest:
    """What a test and a problem both name: the tenant's live service, its specification, a problem type."""

    tenant: str
    service_id: str
    specification_id: str
    problem_type: str
    _: KW_ONLY
    characteristics: Characteristics = ()
    scenario: Scenario = field(default_factory=Scenario)
    conversation_id: str | None = None


@dataclass(frozen=True, slots=True)
class RunServiceTest(AssuranceRequest):
    """``POST /service-tests``."""

    test_id: int


@dataclass(frozen=True, slots=True)
class ProblemDetails(VisitDetails):
    """Contacts, site notes and the appointment a problem was raised with (amendable)."""

    reservation_id: int | None = None
    reservation_reference: str | None = None


@dataclass(frozen=True, slots=True)
class RaiseProblem(AssuranceRequest):
    """``POST /service-problems``."""

    problem_id: int
    problem_text: str
    address: AddressId | None = None
    service_test_id: int | None = None
    service_test_reference: str | None = None
    details: ProblemDetails = ProblemDetails()


@dataclass(frozen=True, slots=True)
class ProblemChanges(VisitChanges):
    """What a problem amendment changes: ``None`` leaves a field, ``REMOVE`` empties it (§3.8 semantics)."""

    problem_text: str | None = None
    escalation: bool = False
    characteristics: Characteristics | None = None


@dataclass(frozen=True, slots=True)
class AmendProblem(FollowUp):
    """``POST /service-problem-amendments``."""

    changes: ProblemChanges


@dataclass(frozen=True, slots=True)
class CancelProblem(FollowUp):
    """``POST /service-problem-cancellations`` (the contract requires the supplier's reference)."""

    reason_code: str
    text: str | None = None
