"""Scripted KCI sequences for service tests and service problems (T2R).

An :class:`AssuranceScript` says how a test, a problem, or a problem's amendment or
cancellation is answered (201, 202 or 422) and which KCIs follow, each an
:class:`AssuranceStep` with a delay on the simulator clock. Scripts are YAML in
``scenarios/assurance`` (read by ``simulator.assurance_script_loader``); this module says
what they mean and refuses any script the shared state tables
(:mod:`contracts.model.service_test_states`, :mod:`contracts.model.service_problem_states`)
would not accept.

The tenant picks a script per request with ``X-Scenario`` (the gateway stub's
``SERVICE_TEST_GREEN`` … for tests), ``X-Problem-Code`` (the problem code of DELAY and
CANCELLED steps) and ``X-Kci-Delay`` (replaces every delay), as for orders.

Decisions:

* A problem's own script waits while the problem is PENDING (the tenant must amend) or
  while a request of the tenant is being answered; a script is checked as if the
  amendment that ends PENDING was applied (``AMENDED``) before its next step.
* An amendment or cancellation script must be valid for every problem it could meet: it
  is walked from each reachable status that accepts the request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from enum import StrEnum
from types import MappingProxyType

from contracts.model.order_states import ProblemCode
from contracts.model.service_problem_states import (
    PROBLEM_STATES,
    ProblemReasonCode,
    ProblemRequest,
    ProblemStatus,
    problem_amendment_refusal,
    problem_cancellation_refusal,
)
from contracts.model.service_test_states import (
    OUTCOMES_NEEDING_CODES,
    TEST_STATES,
    TestOutcome,
    TestReasonCode,
    TestStatus,
)
from contracts.model.state_table import StateTable, Transition, TransitionRefused
from simulator.domain.errors import BusinessRuleViolation, ConfigurationError
from simulator.domain.kci_scripts import (
    DEFAULT_KCI_DELAY,
    DEFAULT_PROBLEM_CODE,
    parse_kci_delay,
    parse_problem_code,
    triggers_for,
)

__all__ = [
    "DEFAULT_ASSURANCE_SCENARIOS",
    "AssuranceKind",
    "AssuranceResponse",
    "AssuranceScript",
    "AssuranceStep",
    "resolve_assurance_script",
    "response_triggers",
    "table_for",
    "validate_assurance_script",
]


class AssuranceKind(StrEnum):
    """Which create call a script answers."""

    TEST = "test"
    PROBLEM = "problem"
    PROBLEM_AMENDMENT = "problemAmendment"
    PROBLEM_CANCELLATION = "problemCancellation"


class AssuranceResponse(StrEnum):
    """How the create call is answered."""

    CREATED = "201"  # tests: accepted; requests: applied / cancelled now
    ACKNOWLEDGED = "201_ACKNOWLEDGED"  # problems: 201 with status ACKNOWLEDGED
    IN_PROGRESS = "201_IN_PROGRESS"  # problems: 201 with status IN_PROGRESS
    ACCEPTED = "202"  # the outcome follows as KCIs
    REJECTED = "422"  # refused synchronously; nothing follows


DEFAULT_ASSURANCE_SCENARIOS: Mapping[AssuranceKind, str] = MappingProxyType(
    {
        AssuranceKind.TEST: "SERVICE_TEST_GREEN",
        AssuranceKind.PROBLEM: "PROBLEM_RESOLVED",
        AssuranceKind.PROBLEM_AMENDMENT: "PROBLEM_AMENDMENT_ACCEPTED",
        AssuranceKind.PROBLEM_CANCELLATION: "PROBLEM_CANCELLATION_ACCEPTED",
    }
)
ESCALATION_SCENARIO = "PROBLEM_ESCALATION_ACCEPTED"
"""An amendment asking for escalation, with no X-Scenario, runs this instead of the default."""

_P = ProblemReasonCode
_Q = ProblemRequest
RESPONSE_TRIGGERS: Mapping[tuple[AssuranceKind, AssuranceResponse], tuple[str, ...]] = MappingProxyType(
    {
        (AssuranceKind.TEST, AssuranceResponse.CREATED): (),
        (AssuranceKind.PROBLEM, AssuranceResponse.ACKNOWLEDGED): (_P.ACKNOWLEDGED,),
        (AssuranceKind.PROBLEM, AssuranceResponse.IN_PROGRESS): (_P.ACKNOWLEDGED, _P.INVESTIGATING),
        (AssuranceKind.PROBLEM, AssuranceResponse.ACCEPTED): (),
        (AssuranceKind.PROBLEM, AssuranceResponse.REJECTED): (),
        (AssuranceKind.PROBLEM_AMENDMENT, AssuranceResponse.CREATED): (_Q.AMENDMENT, _P.AMENDED),
        (AssuranceKind.PROBLEM_AMENDMENT, AssuranceResponse.ACCEPTED): (_Q.AMENDMENT,),
        (AssuranceKind.PROBLEM_AMENDMENT, AssuranceResponse.REJECTED): (),
        (AssuranceKind.PROBLEM_CANCELLATION, AssuranceResponse.CREATED): (_Q.CANCELLATION, _P.CANCELLED),
        (AssuranceKind.PROBLEM_CANCELLATION, AssuranceResponse.ACCEPTED): (_Q.CANCELLATION,),
        (AssuranceKind.PROBLEM_CANCELLATION, AssuranceResponse.REJECTED): (),
    }
)
"""What each allowed answer does before the first step; absent pairs are not allowed."""

PROBLEM_CODE_HEADER_REASONS = frozenset({_P.DELAY, _P.CANCELLED})


@dataclass(frozen=True, slots=True)
class AssuranceStep:
    """One KCI of a script; the options fill the entity the KCI carries.

    ``outcome``/``outcome_codes``: a completed test's result. ``resolution_code``: a
    RESOLVED step's. ``appointment``: an APPOINTMENT_BOOKED step books an engineer visit.
    ``network_incident``: a NETWORK_INCIDENT step names the incident.
    """

    reason: str
    delay: timedelta = DEFAULT_KCI_DELAY
    status: str | None = None
    problem_code: ProblemCode | None = None
    text: str | None = None
    outcome: TestOutcome | None = None
    outcome_codes: tuple[str, ...] = ()
    resolution_code: str | None = None
    appointment: bool = False


@dataclass(frozen=True, slots=True)
class AssuranceScript:
    """A named way of answering a T2R request, and the KCIs that follow it."""

    name: str
    description: str
    applies_to: AssuranceKind
    response: AssuranceResponse
    steps: tuple[AssuranceStep, ...] = ()


def table_for(kind: AssuranceKind) -> StateTable[ProblemStatus] | StateTable[TestStatus]:
    """The state table a script of ``kind`` moves."""
    return TEST_STATES if kind is AssuranceKind.TEST else PROBLEM_STATES


def response_triggers(script: AssuranceScript) -> tuple[str, ...]:
    """What the script's answer does to the entity before its first step."""
    return triggers_for(RESPONSE_TRIGGERS, script.name, script.applies_to, script.response)


def _starts(kind: AssuranceKind) -> list[Transition[ProblemStatus]] | list[Transition[TestStatus]]:
    if kind is AssuranceKind.TEST:
        return [Transition(TEST_STATES.start)]
    if kind is AssuranceKind.PROBLEM:
        return [Transition(PROBLEM_STATES.start)]
    states = PROBLEM_STATES.reachable_states()
    if kind is AssuranceKind.PROBLEM_AMENDMENT:
        chosen = [s for s in states if problem_amendment_refusal(s.status) is None]
    else:
        chosen = [s for s in states if problem_cancellation_refusal(s.status) is None]
    return sorted(chosen, key=lambda s: (s.status, s.previous or ""))


def _content_problems(kind: AssuranceKind, step: AssuranceStep) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    needs_text = {
        TestReasonCode.TEST_REJECTED,
        _P.PROBLEM_REJECTED,
        _P.INFORMATION_REQUIRED,
        _P.ESCALATED,
        _P.REOPENED,
        _P.AMENDMENT_REJECTED,
        _P.CANCELLATION_REJECTED,
    }
    if step.reason in needs_text and not step.text:
        problems.append(("text", f"{step.reason} needs text saying why"))
    if kind is AssuranceKind.TEST:
        if (step.reason == TestReasonCode.TEST_COMPLETED) != (step.outcome is not None):
            problems.append(("outcome", "TEST_COMPLETED steps, and only they, carry an outcome"))
        if step.outcome in OUTCOMES_NEEDING_CODES and not step.outcome_codes:
            problems.append(("outcomeCodes", f"outcome {step.outcome} must say what was found"))
        if step.outcome in {TestOutcome.FAILED, TestOutcome.UNAVAILABLE} and not step.text:
            problems.append(("text", f"outcome {step.outcome} needs text saying why"))
    elif step.outcome is not None or step.outcome_codes:
        problems.append(("outcome", "only test scripts have outcomes"))
    if (step.reason == _P.RESOLVED) != (step.resolution_code is not None) and kind is not AssuranceKind.TEST:
        problems.append(("resolutionCode", "RESOLVED steps, and only they, carry a resolution code"))
    if step.appointment != (step.reason == _P.APPOINTMENT_BOOKED and kind is not AssuranceKind.TEST):
        problems.append(("appointment", "must be true on APPOINTMENT_BOOKED steps and only there"))
    if step.delay < timedelta():
        problems.append(("delay", "must not be negative"))
    return problems


def _walk(script: AssuranceScript, start: Transition[ProblemStatus] | Transition[TestStatus]) -> None:
    table = table_for(script.applies_to)
    state = start
    for trigger in response_triggers(script):
        state = table.advance(state, trigger)  # type: ignore[arg-type]
    request = script.applies_to in {AssuranceKind.PROBLEM_AMENDMENT, AssuranceKind.PROBLEM_CANCELLATION}
    context = f" (for a problem that was {start.status})" if request else ""
    for index, step in enumerate(script.steps):
        if state.status == ProblemStatus.PENDING and script.applies_to is AssuranceKind.PROBLEM:
            state = table.advance(state, _P.AMENDED)  # type: ignore[arg-type]  # the tenant's amendment
        try:
            status = None if step.status is None else table.statuses(step.status)
            state = table.advance(state, step.reason, status=status)  # type: ignore[arg-type]
        except (TransitionRefused, ValueError) as error:
            raise ConfigurationError(
                f"KCI script {script.name}: steps/{index}/reason: {error}{context}"
            ) from None


def validate_assurance_script(script: AssuranceScript) -> None:
    """Refuse a script the state tables would not accept, naming the script, step and field."""
    response_triggers(script)
    if script.response is AssuranceResponse.REJECTED and script.steps:
        raise ConfigurationError(f"KCI script {script.name}: steps: a request answered 422 has no KCIs")
    for index, step in enumerate(script.steps):
        problems = _content_problems(script.applies_to, step)
        if problems:
            raise ConfigurationError(
                "; ".join(
                    f"KCI script {script.name}: steps/{index}/{field}: {why}" for field, why in problems
                )
            )
    for start in _starts(script.applies_to):
        _walk(script, start)


def resolve_assurance_script(
    scripts: Mapping[str, AssuranceScript],
    name: str | None,
    kind: AssuranceKind,
    *,
    params: Mapping[str, str] | None = None,
    problem_code: str | None = None,
    kci_delay: str | None = None,
    default: str | None = None,
) -> AssuranceScript:
    """The script a request asked for (``name=None``: ``default``, else the kind's default).

    An unknown scenario, or one for another kind of request, is a 422 listing the known
    ones; a parameter (none are understood) is a 422; bad header values are 400.
    """
    chosen = (name or default or DEFAULT_ASSURANCE_SCENARIOS[kind]).upper()
    script = scripts.get(chosen)
    if script is None or script.applies_to is not kind:
        known = ", ".join(sorted(n for n, s in scripts.items() if s.applies_to is kind))
        raise BusinessRuleViolation(f"no {kind} scenario {chosen!r}; choose one of {known}")
    if params:
        raise BusinessRuleViolation(
            f"scenario {script.name} takes no parameters; got {', '.join(sorted(params))}"
        )
    code = parse_problem_code(problem_code)
    delay = parse_kci_delay(kci_delay)
    steps = []
    for step in script.steps:
        problem = step.problem_code
        if step.reason in PROBLEM_CODE_HEADER_REASONS and kind is not AssuranceKind.TEST:
            problem = code or step.problem_code or DEFAULT_PROBLEM_CODE
        steps.append(replace(step, problem_code=problem, delay=step.delay if delay is None else delay))
    return replace(script, steps=tuple(steps))
