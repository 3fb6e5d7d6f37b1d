"""The service test model: statuses, the KCI reason codes that move a test, and what each carries.

A test (reference §3.10) is accepted with ``201`` and its result arrives as KCIs about a
``serviceTest`` entity, numbered by their own sequence. The reference names the test
statuses (§5: IN_PROGRESS, REJECTED, COMPLETED) and outcomes (GREEN, AMBER, RED, FAILED,
UNAVAILABLE) but no reason codes for test KCIs; the codes below are this project's
choice (marked ``x-`` in ``supplier-updates-api.yaml``)::

    RECEIVED ──TEST_STARTED──▶ IN_PROGRESS ──TEST_COMPLETED──▶ COMPLETED (with an outcome)
        │  └─────────────TEST_COMPLETED────────────────────────▲
        └─TEST_REJECTED─▶ REJECTED

``RECEIVED`` is the pseudo-status of a test just accepted. COMPLETED and REJECTED are
terminal. A test that could not be run completes with outcome FAILED or UNAVAILABLE; a
test the supplier refuses after accepting it (the ``SERVICE_TEST_REJECTED`` stub) is
TEST_REJECTED with ``text``.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from contracts.model.kci_fields import FieldRequirement, common_fields, missing
from contracts.model.kci_fields import entity as _entity
from contracts.model.kci_fields import envelope as _envelope
from contracts.model.state_table import StateTable, Transition

__all__ = [
    "OUTCOMES_NEEDING_CODES",
    "REQUIRED_FIELDS",
    "TEST_STATES",
    "OutcomeCode",
    "TestOutcome",
    "TestReasonCode",
    "TestStatus",
    "missing_test_fields",
]


class TestStatus(StrEnum):
    """The status of a service test as the supplier reports it (plus RECEIVED)."""

    __test__ = False  # a name pytest would otherwise collect

    RECEIVED = "RECEIVED"
    IN_PROGRESS = "IN_PROGRESS"
    REJECTED = "REJECTED"
    COMPLETED = "COMPLETED"


class TestReasonCode(StrEnum):
    """Reason codes of test KCIs (the project's choice; the reference gives none)."""

    __test__ = False

    TEST_STARTED = "TEST_STARTED"
    TEST_COMPLETED = "TEST_COMPLETED"
    TEST_REJECTED = "TEST_REJECTED"


class TestOutcome(StrEnum):
    """The result of a completed test (reference §5)."""

    __test__ = False

    GREEN = "GREEN"
    AMBER = "AMBER"
    RED = "RED"
    FAILED = "FAILED"
    UNAVAILABLE = "UNAVAILABLE"


class OutcomeCode(StrEnum):
    """Outcome codes: the reference's (a partial list, §5) and the project's own (``x-``)."""

    POTENTIAL_BRAS_PROFILE_MISMATCH = "POTENTIAL_BRAS_PROFILE_MISMATCH"
    STALE_PPP_SESSION = "STALE_PPP_SESSION"
    PERFORMANCE_BOTTLENECK = "PERFORMANCE_BOTTLENECK"
    DAMAGED_CPE = "DAMAGED_CPE"
    MULTICAST_CONFIGURATION_ISSUE = "MULTICAST_CONFIGURATION_ISSUE"
    POTENTIAL_TV_CONNECT_ISSUE = "POTENTIAL_TV_CONNECT_ISSUE"
    KNOWN_INCIDENT = "KNOWN_INCIDENT"
    NO_LIGHT_AT_ONT = "NO_LIGHT_AT_ONT"  # x-
    TEST_TIMED_OUT = "TEST_TIMED_OUT"  # x-
    TEST_SYSTEM_UNAVAILABLE = "TEST_SYSTEM_UNAVAILABLE"  # x-


S = TestStatus
R = TestReasonCode

TEST_STATES: StateTable[TestStatus] = StateTable(
    "service test",
    TestStatus,
    [reason.value for reason in TestReasonCode],
    (
        (R.TEST_STARTED, frozenset({S.RECEIVED}), (S.IN_PROGRESS,)),
        (R.TEST_COMPLETED, frozenset({S.RECEIVED, S.IN_PROGRESS}), (S.COMPLETED,)),
        (R.TEST_REJECTED, frozenset({S.RECEIVED}), (S.REJECTED,)),
    ),
    start=S.RECEIVED,
    terminal=frozenset({S.REJECTED, S.COMPLETED}),
)
"""Every legal move of a service test."""

OUTCOMES_NEEDING_CODES = frozenset({TestOutcome.AMBER, TestOutcome.RED})
"""Outcomes that must say what was found (``outcomeCodes``); GREEN needs none, FAILED/UNAVAILABLE ``text``."""

COMMON_FIELDS: tuple[FieldRequirement, ...] = common_fields("supplierReference")

REQUIRED_FIELDS: Mapping[TestReasonCode, tuple[FieldRequirement, ...]] = MappingProxyType(
    {
        R.TEST_STARTED: (_entity("supplierReference"),),
        R.TEST_COMPLETED: (_entity("outcome"),),
        R.TEST_REJECTED: (_envelope("text"),),
    }
)
"""What each test reason code requires on top of the common fields."""


def missing_test_fields(reason: str, kci: Mapping[str, Any], entity: Mapping[str, Any]) -> list[str]:
    """Name every field ``kci`` or its ``serviceTest`` lacks for ``reason`` (ValueError: not a reason)."""
    requirements = COMMON_FIELDS + REQUIRED_FIELDS[TestReasonCode(reason)]
    lacking = missing(requirements, kci, entity)
    outcome = entity.get("outcome")
    if reason == R.TEST_COMPLETED and outcome in OUTCOMES_NEEDING_CODES and not entity.get("outcomeCodes"):
        lacking.append(f"outcomeCodes (outcome {outcome})")
    if (
        reason == R.TEST_COMPLETED
        and outcome in {TestOutcome.FAILED, TestOutcome.UNAVAILABLE}
        and not kci.get("text")
    ):
        lacking.append(f"text (outcome {outcome})")
    return lacking


def start() -> Transition[TestStatus]:
    """A test just accepted."""
    return Transition(TestStatus.RECEIVED)
