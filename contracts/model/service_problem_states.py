"""The service problem model: statuses, the KCI reason codes that move a problem, what each carries.

A problem (reference §3.11) is answered ``201`` (ACKNOWLEDGED or IN_PROGRESS) or ``202``
and then reported on by KCIs about a ``serviceProblem`` entity, with sequence numbers of
its own. The reference lists the statuses (§5) but gives reason codes for order KCIs only
(§6.2); problem KCIs reuse the order codes where the meaning is the same and add a few
(``INVESTIGATING``, ``APPOINTMENT_BOOKED``, ``NETWORK_INCIDENT``, ``ESCALATED``,
``RESOLVED``, ``REOPENED``, ``PROBLEM_REJECTED``), all marked ``x-`` in the contract::

    RECEIVED ──ACKNOWLEDGED──▶ ACKNOWLEDGED ──INVESTIGATING──▶ IN_PROGRESS ──RESOLVED──▶ RESOLVED
        └─PROBLEM_REJECTED─▶ REJECTED      │              DELAY ▼ ▲ RESUMED
                                           │                   HELD
                                           └─NETWORK_INCIDENT─▶ NETWORK_INCIDENT ──RESUMED, RESOLVED
    RESOLVED ──COMPLETED──▶ COMPLETED (resolution accepted); RESOLVED ──REOPENED──▶ IN_PROGRESS
    ACKNOWLEDGED | IN_PROGRESS | HELD | NETWORK_INCIDENT ──INFORMATION_REQUIRED──▶ PENDING
    PENDING ──AMENDED──▶ previous
    amendment answered 202 ─▶ PENDING_AMENDMENT ──AMENDED, AMENDMENT_REJECTED──▶ previous
    cancellation answered 202 ─▶ PENDING_CANCELLATION ──CANCELLATION_REJECTED──▶ previous
    any in-flight status ──CANCELLED──▶ CANCELLED
    UPDATE, ESCALATED, APPOINTMENT_BOOKED keep the status

Decisions (the reference is silent): a resolution awaits the tenant's acceptance in
RESOLVED (resolutionStatus PENDING); COMPLETED closes it (ACCEPTED) and REOPENED brings it
back to IN_PROGRESS (REJECTED). Amendments are accepted once the problem is acknowledged
and until it is closed (escalation requests included); cancellations on any open problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from contracts.model.kci_fields import FieldRequirement, common_fields, missing
from contracts.model.kci_fields import entity as _entity
from contracts.model.kci_fields import envelope as _envelope
from contracts.model.state_table import Keep, StateTable, amendment_refusal

__all__ = [
    "AMENDABLE_STATUSES",
    "IN_FLIGHT_STATUSES",
    "PROBLEM_STATES",
    "REQUIRED_FIELDS",
    "TERMINAL_STATUSES",
    "ProblemCancellationReason",
    "ProblemReasonCode",
    "ProblemRequest",
    "ProblemStatus",
    "ResolutionCode",
    "ServiceProblemType",
    "missing_problem_fields",
    "problem_amendment_refusal",
    "problem_cancellation_refusal",
]


class ProblemStatus(StrEnum):
    """The status of a service problem as the supplier reports it (plus RECEIVED)."""

    RECEIVED = "RECEIVED"
    ACKNOWLEDGED = "ACKNOWLEDGED"
    REJECTED = "REJECTED"
    IN_PROGRESS = "IN_PROGRESS"
    PENDING = "PENDING"
    HELD = "HELD"
    NETWORK_INCIDENT = "NETWORK_INCIDENT"
    PENDING_AMENDMENT = "PENDING_AMENDMENT"
    PENDING_CANCELLATION = "PENDING_CANCELLATION"
    RESOLVED = "RESOLVED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class ProblemReasonCode(StrEnum):
    """Reason codes of problem KCIs (order codes reused where they fit, the rest ``x-``)."""

    ACKNOWLEDGED = "ACKNOWLEDGED"
    PROBLEM_REJECTED = "PROBLEM_REJECTED"
    INVESTIGATING = "INVESTIGATING"
    UPDATE = "UPDATE"
    ESCALATED = "ESCALATED"
    APPOINTMENT_BOOKED = "APPOINTMENT_BOOKED"
    DELAY = "DELAY"
    RESUMED = "RESUMED"
    NETWORK_INCIDENT = "NETWORK_INCIDENT"
    INFORMATION_REQUIRED = "INFORMATION_REQUIRED"
    AMENDED = "AMENDED"
    AMENDMENT_REJECTED = "AMENDMENT_REJECTED"
    RESOLVED = "RESOLVED"
    REOPENED = "REOPENED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    CANCELLATION_REJECTED = "CANCELLATION_REJECTED"


class ProblemRequest(StrEnum):
    """Tenant requests that move a problem when answered 202; no KCI announces them."""

    AMENDMENT = "AMENDMENT_RECEIVED"
    CANCELLATION = "CANCELLATION_RECEIVED"


class ServiceProblemType(StrEnum):
    """What kind of problem a test or problem is about (reference §5)."""

    OUTAGE = "OUTAGE"
    PERFORMANCE = "PERFORMANCE"
    STABILITY = "STABILITY"
    SYNCHRONISATION = "SYNCHRONISATION"
    CUSTOMER = "CUSTOMER"
    CPE = "CPE"


class ProblemCancellationReason(StrEnum):
    """Why the tenant cancels a problem (reference §3.11)."""

    ISSUE_RESOLVED = "ISSUE_RESOLVED"
    CUSTOMER_NETWORK_ISSUE = "CUSTOMER_NETWORK_ISSUE"
    NO_LONGER_REQUIRED = "NO_LONGER_REQUIRED"
    OTHER = "OTHER"


class ResolutionCode(StrEnum):
    """How a problem was resolved: the reference's partial list (§5) and the project's own (``x-``)."""

    ACCESS_ISSUE = "ACCESS_ISSUE"
    BACKHAUL_CORE_NETWORK = "BACKHAUL_CORE_NETWORK"
    CUSTOMER_FAULT = "CUSTOMER_FAULT"
    CUSTOMER_FAULT_B_END = "CUSTOMER_FAULT_B_END"
    CUSTOMER_FAULT_EQUIPMENT = "CUSTOMER_FAULT_EQUIPMENT"
    CUSTOMER_FAULT_MODEM = "CUSTOMER_FAULT_MODEM"
    CUSTOMER_FAULT_WIRING = "CUSTOMER_FAULT_WIRING"
    EXTERNAL_REIN = "EXTERNAL_REIN"
    INTERNAL_REIN = "INTERNAL_REIN"
    LINE_TEST_NORMAL = "LINE_TEST_NORMAL"
    FIBRE_REPAIRED = "FIBRE_REPAIRED"  # x-
    ONT_REPLACED = "ONT_REPLACED"  # x-
    NETWORK_INCIDENT_CLEARED = "NETWORK_INCIDENT_CLEARED"  # x-


S = ProblemStatus
R = ProblemReasonCode
Q = ProblemRequest

TERMINAL_STATUSES = frozenset({S.REJECTED, S.COMPLETED, S.CANCELLED})
WAITING_STATUSES = frozenset({S.PENDING, S.PENDING_AMENDMENT, S.PENDING_CANCELLATION})
IN_FLIGHT_STATUSES = frozenset(ProblemStatus) - TERMINAL_STATUSES
AMENDABLE_STATUSES = frozenset(
    {S.ACKNOWLEDGED, S.IN_PROGRESS, S.PENDING, S.HELD, S.NETWORK_INCIDENT, S.PENDING_AMENDMENT, S.RESOLVED}
)
_ACTIVE = frozenset({S.ACKNOWLEDGED, S.IN_PROGRESS, S.HELD, S.NETWORK_INCIDENT})
_SPOKEN = IN_FLIGHT_STATUSES - {S.RECEIVED}
_UNCHANGED: tuple[ProblemStatus | Keep, ...] = (Keep.UNCHANGED,)
_PREVIOUS: tuple[ProblemStatus | Keep, ...] = (Keep.PREVIOUS,)

PROBLEM_STATES: StateTable[ProblemStatus] = StateTable(
    "service problem",
    ProblemStatus,
    [reason.value for reason in ProblemReasonCode] + [request.value for request in ProblemRequest],
    (
        (R.ACKNOWLEDGED, frozenset({S.RECEIVED}), (S.ACKNOWLEDGED,)),
        (R.PROBLEM_REJECTED, frozenset({S.RECEIVED}), (S.REJECTED,)),
        (R.INVESTIGATING, frozenset({S.ACKNOWLEDGED}), (S.IN_PROGRESS,)),
        (R.UPDATE, _SPOKEN, _UNCHANGED),
        (R.ESCALATED, _SPOKEN, _UNCHANGED),
        (R.APPOINTMENT_BOOKED, frozenset({S.ACKNOWLEDGED, S.IN_PROGRESS, S.HELD}), _UNCHANGED),
        (R.DELAY, frozenset({S.IN_PROGRESS}), (S.HELD,)),
        (R.DELAY, frozenset({S.HELD}), _UNCHANGED),
        (R.RESUMED, frozenset({S.HELD, S.NETWORK_INCIDENT}), (S.IN_PROGRESS,)),
        (R.NETWORK_INCIDENT, frozenset({S.ACKNOWLEDGED, S.IN_PROGRESS, S.HELD}), (S.NETWORK_INCIDENT,)),
        (R.INFORMATION_REQUIRED, _ACTIVE, (S.PENDING,)),
        (R.INFORMATION_REQUIRED, frozenset({S.PENDING}), _UNCHANGED),
        (R.AMENDED, frozenset({S.PENDING, S.PENDING_AMENDMENT}), _PREVIOUS),
        (R.AMENDMENT_REJECTED, frozenset({S.PENDING_AMENDMENT}), _PREVIOUS),
        # An amendment answered after a cancellation arrived: the cancellation still decides.
        (R.AMENDED, frozenset({S.PENDING_CANCELLATION}), _UNCHANGED),
        (R.AMENDMENT_REJECTED, frozenset({S.PENDING_CANCELLATION}), _UNCHANGED),
        (R.RESOLVED, frozenset({S.ACKNOWLEDGED, S.IN_PROGRESS, S.NETWORK_INCIDENT}), (S.RESOLVED,)),
        (R.REOPENED, frozenset({S.RESOLVED}), (S.IN_PROGRESS,)),
        (R.COMPLETED, frozenset({S.RESOLVED}), (S.COMPLETED,)),
        (R.CANCELLED, IN_FLIGHT_STATUSES, (S.CANCELLED,)),
        (R.CANCELLATION_REJECTED, frozenset({S.PENDING_CANCELLATION}), _PREVIOUS),
        (Q.AMENDMENT, AMENDABLE_STATUSES - {S.PENDING_AMENDMENT}, (S.PENDING_AMENDMENT,)),
        (Q.AMENDMENT, frozenset({S.PENDING_AMENDMENT}), _UNCHANGED),
        (Q.CANCELLATION, IN_FLIGHT_STATUSES - {S.PENDING_CANCELLATION}, (S.PENDING_CANCELLATION,)),
        (Q.CANCELLATION, frozenset({S.PENDING_CANCELLATION}), _UNCHANGED),
    ),
    start=S.RECEIVED,
    terminal=TERMINAL_STATUSES,
    waiting=WAITING_STATUSES,
)
"""Every legal move of a service problem."""


def problem_amendment_refusal(status: ProblemStatus, *, refuse_while_pending: bool = False) -> str | None:
    """Why an amendment of a problem in ``status`` must be refused, or ``None``."""
    return amendment_refusal(
        "problem",
        status,
        terminal=TERMINAL_STATUSES,
        amendable=AMENDABLE_STATUSES,
        pending=S.PENDING_AMENDMENT,
        refuse_while_pending=refuse_while_pending,
    )


def problem_cancellation_refusal(status: ProblemStatus) -> str | None:
    """Why a cancellation of a problem in ``status`` must be refused, or ``None``."""
    if status in TERMINAL_STATUSES:
        return f"the problem is {status}, which is terminal"
    return None


_AMENDMENT = _entity("serviceProblemAmendmentId", "serviceProblemAmendmentReference")
_CANCELLATION = _entity("serviceProblemCancellationId", "serviceProblemCancellationReference")
_TEXT = _envelope("text")

COMMON_FIELDS: tuple[FieldRequirement, ...] = common_fields("supplierServiceProblemReference")

REQUIRED_FIELDS: Mapping[ProblemReasonCode, tuple[FieldRequirement, ...]] = MappingProxyType(
    {
        R.ACKNOWLEDGED: (_entity("supplierServiceProblemReference"),),
        R.PROBLEM_REJECTED: (_TEXT,),
        R.INVESTIGATING: (),
        R.UPDATE: (),
        R.ESCALATED: (_TEXT,),
        R.APPOINTMENT_BOOKED: (_entity("appointmentTimeslot"),),
        R.DELAY: (_envelope("problemCode"),),
        R.RESUMED: (),
        R.NETWORK_INCIDENT: (_entity("networkIncidentReference"),),
        R.INFORMATION_REQUIRED: (_TEXT,),
        R.AMENDED: (_AMENDMENT,),
        R.AMENDMENT_REJECTED: (_AMENDMENT, _TEXT),
        R.RESOLVED: (_entity("resolutionCode"), _entity("resolutionStatus")),
        R.REOPENED: (_TEXT,),
        R.COMPLETED: (_entity("resolutionCode"), _entity("completedDate")),
        R.CANCELLED: (_entity(*_CANCELLATION.any_of, only_when_tenant_requested=True),),
        R.CANCELLATION_REJECTED: (_CANCELLATION, _TEXT),
    }
)
"""What each problem reason code requires on top of the common fields (the project's choice)."""


def missing_problem_fields(
    reason: str, kci: Mapping[str, Any], entity: Mapping[str, Any], *, tenant_requested: bool = False
) -> list[str]:
    """Name every field ``kci`` or its ``serviceProblem`` lacks for ``reason`` (ValueError: not a reason)."""
    requirements = COMMON_FIELDS + REQUIRED_FIELDS[ProblemReasonCode(reason)]
    return missing(requirements, kci, entity, tenant_requested=tenant_requested)
