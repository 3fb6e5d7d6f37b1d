"""The service test and service problem part of the KCI stream validator.

:func:`~contracts.certification.kci_stream.validate_kci_stream` groups the KCIs of each
test (``serviceTest``) and problem (``serviceProblem``) under a key of their own
(``test 77``, ``problem 88``), checks their sequence numbers like an order's (KCI-003),
and calls :func:`walk_t2r` for the rest:

* KCI-010: the status moves only along :data:`~contracts.model.service_test_states.TEST_STATES`
  or :data:`~contracts.model.service_problem_states.PROBLEM_STATES`;
* KCI-012: nothing follows a KCI whose entity reported a terminal status (REJECTED,
  COMPLETED, CANCELLED: terminal for every entity, §6.2), whatever the reason codes;
* KCI-011: each reason code carries what it requires (``missing_test_fields``,
  ``missing_problem_fields``).

Decisions: a problem answered ``201`` sends no ACKNOWLEDGED KCI, so a first KCI legal
only after a 201 answer (or a request answered 202, no KCI announcing either) is assumed
legal, as for orders. The reason codes are the project's choice (``x-fibresim-chosen``),
so the certification rules built on these findings for tests and problems are advisory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from contracts.model.service_problem_states import (
    PROBLEM_STATES,
    ProblemReasonCode,
    ProblemRequest,
    ProblemStatus,
    missing_problem_fields,
)
from contracts.model.service_test_states import TEST_STATES, TestReasonCode, TestStatus, missing_test_fields
from contracts.model.state_table import StateTable, Transition, TransitionRefused

__all__ = ["T2R_PREFIXES", "t2r_key", "walk_t2r"]

T2R_PREFIXES = ("test ", "problem ")
TERMINAL = frozenset({"REJECTED", "COMPLETED", "CANCELLED"})
"""Statuses after which an entity says nothing more (§6.2: CANCELLED, COMPLETED, the rejections)."""
Finding = tuple[str, str, Mapping[str, Any], int]

# What a 201 answer (first KCI only), then tenant requests answered 202, may have done without
# a KCI: every combination of an answer and the requests after it.
_ANSWERS: tuple[tuple[str, ...], ...] = (
    (),
    (ProblemReasonCode.ACKNOWLEDGED,),  # a 201 ACKNOWLEDGED answer
    (ProblemReasonCode.ACKNOWLEDGED, ProblemReasonCode.INVESTIGATING),  # a 201 IN_PROGRESS answer
)
_REQUESTS: tuple[tuple[str, ...], ...] = (
    (),
    (ProblemRequest.AMENDMENT,),
    (ProblemRequest.CANCELLATION,),
    (ProblemRequest.AMENDMENT, ProblemRequest.CANCELLATION),
)
_PROBLEM_ASSUMPTIONS: tuple[tuple[str, ...], ...] = tuple(
    answer + requests for answer in _ANSWERS for requests in _REQUESTS if answer + requests
)


def t2r_key(kci: Mapping[str, Any]) -> str | None:
    """``test 77`` / ``problem 88`` for a T2R KCI; ``""`` when it names no id or reference; else ``None``."""
    for entity_key, word, reference in (
        ("serviceTest", "test", "supplierReference"),
        ("serviceProblem", "problem", "supplierServiceProblemReference"),
    ):
        entity = kci.get(entity_key)
        if entity is None:
            continue
        if not isinstance(entity, Mapping):
            return ""
        if entity.get("id") is not None:
            return f"{word} {entity['id']}"
        return f"{word} ref {entity[reference]}" if entity.get(reference) else ""
    return None


def _advance(
    table: StateTable[Any], state: Transition[Any], reason: str, claimed: Any
) -> tuple[Transition[Any], str | None]:
    try:
        return table.advance(state, reason, status=claimed), None
    except TransitionRefused as error:
        return state, str(error)


def _missing(is_test: bool, reason: str, kci: Mapping[str, Any], entity: Mapping[str, Any]) -> list[str]:
    if is_test:
        return missing_test_fields(reason, kci, entity)
    requested = bool(
        entity.get("serviceProblemCancellationId") or entity.get("serviceProblemCancellationReference")
    )
    return missing_problem_fields(reason, kci, entity, tenant_requested=requested)


def _assumed(state: Transition[Any], reason: str, claimed: Any, first: bool) -> Transition[Any] | None:
    """Where a problem KCI illegal from ``state`` leads, had an answer or request moved it unannounced."""
    for triggers in _PROBLEM_ASSUMPTIONS:
        if triggers[0] == ProblemReasonCode.ACKNOWLEDGED and not first:
            continue
        assumed: Transition[Any] = state
        for trigger in triggers:
            assumed, refused = _advance(PROBLEM_STATES, assumed, trigger, None)
            if refused:
                break
        else:
            after, refused = _advance(PROBLEM_STATES, assumed, reason, claimed)
            if refused is None:
                return after
    return None


def walk_t2r(key: str, ordered: Sequence[tuple[int, Mapping[str, Any]]]) -> list[Finding]:
    """KCI-010 and KCI-011 along one test's or problem's KCIs (sorted by sequence number)."""
    is_test = key.startswith("test ")
    table: StateTable[Any] = TEST_STATES if is_test else PROBLEM_STATES
    statuses: Any = TestStatus if is_test else ProblemStatus
    reasons = set(TestReasonCode) if is_test else set(ProblemReasonCode)
    findings: list[Finding] = []
    state: Transition[Any] = Transition(table.start)
    guessed = False  # the status before the first KCI was assumed (a 201 answer), so may be wrong
    ended: str | None = None  # the terminal status a KCI reported
    for position, (index, kci) in enumerate(ordered):
        entity_status = (kci.get("serviceTest" if is_test else "serviceProblem") or {}).get("status")
        if ended is not None:
            message = (
                f"{kci.get('reasonCode')} arrived after the {key} was reported {ended}, which is terminal"
            )
            findings.append(("KCI-012", message, kci, index))
        elif entity_status in TERMINAL:
            ended = str(entity_status)
        if kci.get("reasonCode") not in reasons:
            continue  # KCI-001 names an unknown reason code
        reason = str(kci["reasonCode"])
        entity = kci.get("serviceTest" if is_test else "serviceProblem") or {}
        missing = _missing(is_test, reason, kci, entity)
        if missing:
            findings.append(("KCI-011", f"{reason} lacks {', '.join(missing)}", kci, index))
        raw = entity.get("status")
        claimed = statuses(raw) if raw in {s.value for s in statuses} - {"RECEIVED"} else None
        if raw is not None and claimed is None:
            findings.append(("KCI-010", f"status {raw!r} is not a status a supplier sets", kci, index))
        following, problem = _advance(table, state, reason, claimed)
        if problem is not None and not is_test:
            assumed = _assumed(state, reason, claimed, position == 0)
            if assumed is not None:
                following, problem, guessed = assumed, None, guessed or position == 0
        if problem is not None and guessed and claimed is not None and state.status in table.waiting:
            # The settled status was guessed from the answer: trust what the KCI says it returns to.
            after, refused = _advance(table, Transition(state.status, claimed), reason, claimed)
            following, problem = (after, None) if refused is None else (following, problem)
        if problem is not None:
            findings.append(("KCI-010", problem, kci, index))
            if claimed is not None:
                following = Transition(claimed, state.previous if claimed in table.waiting else None)
        state = following
    return findings
