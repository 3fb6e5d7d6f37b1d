"""Scripted KCI sequences: how a request is answered, and which KCIs follow, when.

A :class:`KciScript` says how the create call of an order, amendment or cancellation
is answered (201, 202 or 422) and lists the KCIs the supplier sends afterwards, each a
:class:`ScriptStep` with a delay on the simulator clock. Scripts are data, shipped as
YAML in ``scenarios/kci`` and read by ``simulator.kci_script_loader``; this module says
what they mean and refuses any script the order state machine would not accept.

The tenant picks a script per request with the gateway's test-stub headers (§8):
``X-Scenario: NAME?param=value``, ``X-Problem-Code`` and ``X-Kci-Delay``;
:func:`parse_scenario_header` and :func:`resolve_script` turn those into a script.

Decisions:

* A step's ``delay`` counts from the previous step (the first from the answer).
  ``X-Kci-Delay`` replaces every delay of the script; without it the script's own
  delays stand (30 seconds, the gateway's default, unless the script says otherwise).
* ``X-Problem-Code`` sets the problem code of the CANCELLED and DELAY steps; without
  it those steps keep their scripted code, or get UNKNOWN_FAULT.
* ``targetDateOffset=N`` sets the days by which each step that moves the target date
  (a REAPPOINTED step, or one with ``target_date_offset_days``) moves it; a script
  with no such step refuses the parameter rather than ignore it. ``N`` is a whole
  number from -3650 to 3650 (:data:`MAX_TARGET_DATE_OFFSET_DAYS`): a target date ten
  years out is already absurd, and an unbounded one overflowed date arithmetic later.
* ``parse_scenario_header`` refuses (400) only what the contract's X-Scenario pattern
  refuses; a header the contract allows but the simulator cannot honour (a parameter
  given twice, an unknown one, a value out of range) is a 422 naming why.
* Amendments and cancellations may also be answered ``201`` (applied or cancelled
  now, §7); that answer is applied to the order as if the AMENDED or CANCELLED KCI
  had been sent, which the gateway does on the supplier's behalf.
* An amendment or cancellation script must be valid for every order it could reach:
  it is walked from each reachable in-flight status that accepts the request.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import TypeVar
from urllib.parse import parse_qsl

from contracts.model.order_states import (
    REQUIRED_FIELDS,
    IllegalTransition,
    OrderState,
    OrderStatus,
    Part,
    ProblemCode,
    ReasonCode,
    RequestReceived,
    Trigger,
    advance,
    can_amend,
    can_cancel,
    reachable_states,
)
from simulator.domain.errors import BusinessRuleViolation, ConfigurationError, MalformedRequest, excerpt

__all__ = [
    "DEFAULT_KCI_DELAY",
    "DEFAULT_PROBLEM_CODE",
    "DEFAULT_SCENARIOS",
    "MAX_KCI_DELAY",
    "MAX_TARGET_DATE_OFFSET_DAYS",
    "PROBLEM_CODE_HEADER_REASONS",
    "RESPONSE_TRIGGERS",
    "SCENARIO_PARAMS",
    "AppliesTo",
    "DeliveryFault",
    "KciScript",
    "ScriptResponse",
    "ScriptStep",
    "parse_kci_delay",
    "parse_problem_code",
    "parse_scenario_header",
    "resolve_script",
    "response_triggers",
    "start_states",
    "triggers_for",
    "validate_script",
]


class ScriptResponse(StrEnum):
    """How the create call is answered."""

    ACKNOWLEDGED = "201_ACKNOWLEDGED"  # orders: 201 with status ACKNOWLEDGED
    IN_PROGRESS = "201_IN_PROGRESS"  # orders: 201 with status IN_PROGRESS (committed)
    APPLIED = "201"  # amendments and cancellations: applied / cancelled now
    ACCEPTED = "202"  # the outcome follows as KCIs
    REJECTED = "422"  # refused synchronously; nothing follows


class AppliesTo(StrEnum):
    """Which create call a script answers."""

    ORDER = "order"
    AMENDMENT = "amendment"
    CANCELLATION = "cancellation"


class DeliveryFault(StrEnum):
    """Deliberate delivery faults, so a gateway's buffering and de-duplication can be tested.

    ``duplicate`` delivers the KCI twice with the same id and sequence number;
    ``swap_with_next`` delivers it just after the next step's KCI; ``hold_back`` withholds
    it until the next KCI has gone (the dispatcher treats both alike: the gateway sees
    KCI n+1 before KCI n). Faults change delivery only: the order's status follows the
    steps in sequence-number order.
    """

    DUPLICATE = "duplicate"
    SWAP_WITH_NEXT = "swap_with_next"
    HOLD_BACK = "hold_back"


DEFAULT_KCI_DELAY = timedelta(seconds=30)
DEFAULT_PROBLEM_CODE = ProblemCode.UNKNOWN_FAULT
DEFAULT_SCENARIOS: Mapping[AppliesTo, str] = MappingProxyType(
    {
        AppliesTo.ORDER: "ORDER_SUCCESSFUL",
        AppliesTo.AMENDMENT: "AMENDMENT_ACCEPTED",
        AppliesTo.CANCELLATION: "CANCELLATION_ACCEPTED",
    }
)
PROBLEM_CODE_HEADER_REASONS = frozenset({ReasonCode.CANCELLED, ReasonCode.DELAY})
"""The steps whose problem code ``X-Problem-Code`` sets (§8: "cancel/delay KCIs")."""
SCENARIO_PARAMS = ("targetDateOffset",)
"""The ``X-Scenario`` parameters the simulator understands."""
MAX_TARGET_DATE_OFFSET_DAYS = 3650
"""``targetDateOffset`` bound (either way): keeps every date the scripts compute representable."""
MAX_KCI_DELAY = timedelta(seconds=999_999)
"""``X-Kci-Delay`` bound: the contract's six digits of seconds."""

RESPONSE_TRIGGERS: Mapping[tuple[AppliesTo, ScriptResponse], tuple[Trigger, ...]] = MappingProxyType(
    {
        (AppliesTo.ORDER, ScriptResponse.ACKNOWLEDGED): (ReasonCode.ACKNOWLEDGED,),
        (AppliesTo.ORDER, ScriptResponse.IN_PROGRESS): (ReasonCode.ACKNOWLEDGED, ReasonCode.COMMITTED),
        (AppliesTo.ORDER, ScriptResponse.ACCEPTED): (),
        (AppliesTo.ORDER, ScriptResponse.REJECTED): (),
        (AppliesTo.AMENDMENT, ScriptResponse.APPLIED): (RequestReceived.AMENDMENT, ReasonCode.AMENDED),
        (AppliesTo.AMENDMENT, ScriptResponse.ACCEPTED): (RequestReceived.AMENDMENT,),
        (AppliesTo.AMENDMENT, ScriptResponse.REJECTED): (),
        (AppliesTo.CANCELLATION, ScriptResponse.APPLIED): (
            RequestReceived.CANCELLATION,
            ReasonCode.CANCELLED,
        ),
        (AppliesTo.CANCELLATION, ScriptResponse.ACCEPTED): (RequestReceived.CANCELLATION,),
        (AppliesTo.CANCELLATION, ScriptResponse.REJECTED): (),
    }
)
"""What each allowed answer does to the order before the first step; absent pairs are not allowed."""

# Step options that only make sense with some reason codes (field name, reasons).
_COMMITTED_DATE_REASONS = frozenset({ReasonCode.COMMITTED, ReasonCode.CREATED})
_SERVICE_ID_REASONS = frozenset({ReasonCode.ADDITIONAL, ReasonCode.UPDATE, ReasonCode.COMPLETED})


@dataclass(frozen=True, slots=True)
class ScriptStep:
    """One KCI of a script.

    ``status`` is the status the KCI sets, when the state machine allows a choice
    (``None``: its default). ``target_date_offset_days`` moves targetDate by that many
    days; ``committed_date_offset_days`` places committedDate that many days after the
    requested date (COMMITTED and CREATED only). ``reappoint`` gives the order a new
    appointment (REAPPOINTED only); ``add_service_id`` adds the new service's
    ``SERVICE_ID`` characteristic.
    """

    reason: ReasonCode
    delay: timedelta = DEFAULT_KCI_DELAY
    status: OrderStatus | None = None
    problem_code: ProblemCode | None = None
    text: str | None = None
    target_date_offset_days: int | None = None
    committed_date_offset_days: int | None = None
    reappoint: bool = False
    add_service_id: bool = False
    fault: DeliveryFault | None = None

    @property
    def moves_target_date(self) -> bool:
        """Whether this step changes the order's targetDate."""
        return self.reason is ReasonCode.REAPPOINTED or self.target_date_offset_days is not None


@dataclass(frozen=True, slots=True)
class KciScript:
    """A named way of answering a request, and the KCIs that follow it."""

    name: str
    description: str
    response: ScriptResponse
    steps: tuple[ScriptStep, ...] = ()
    applies_to: AppliesTo = AppliesTo.ORDER


KindT = TypeVar("KindT", bound=str)
ResponseT = TypeVar("ResponseT", bound=str)
TriggerT = TypeVar("TriggerT")


def triggers_for(
    table: Mapping[tuple[KindT, ResponseT], tuple[TriggerT, ...]],
    name: str,
    applies_to: KindT,
    response: ResponseT,
) -> tuple[TriggerT, ...]:
    """What script ``name``'s answer does before its first step, by its triggers ``table``.

    An answer the table has no row for cannot answer that kind of request (a configuration error).
    """
    try:
        return table[(applies_to, response)]
    except KeyError:
        allowed = ", ".join(r for kind, r in table if kind is applies_to)
        article = "an" if applies_to[:1] in "aeiou" else "a"
        raise ConfigurationError(
            f"KCI script {name}: response: {response} cannot answer {article} "
            f"{applies_to}; use one of {allowed}"
        ) from None


def response_triggers(script: KciScript) -> tuple[Trigger, ...]:
    """What the script's answer does to the order before its first step (see RESPONSE_TRIGGERS)."""
    return triggers_for(RESPONSE_TRIGGERS, script.name, script.applies_to, script.response)


def start_states(applies_to: AppliesTo) -> tuple[OrderState, ...]:
    """The orders a script may find: RECEIVED for an order, else every in-flight one that accepts it."""
    if applies_to is AppliesTo.ORDER:
        return (OrderState(OrderStatus.RECEIVED),)
    if applies_to is AppliesTo.AMENDMENT:
        accepts = [state for state in reachable_states() if can_amend(state.status, False)]
    else:
        accepts = [state for state in reachable_states() if can_cancel(state.status, False)]
    return tuple(sorted(accepts, key=lambda state: (state.status, state.previous or "")))


def _at(script: KciScript, index: int, field: str) -> str:
    return f"KCI script {script.name}: steps/{index}/{field}"


def _describe(state: OrderState) -> str:
    after = f" (waiting, after {state.previous})" if state.previous else ""
    return f"{state.status}{after}"


def _content_problems(step: ScriptStep) -> list[tuple[str, str]]:
    """What the KCI itself must say (§6.2), as far as the script decides it."""
    problems: list[tuple[str, str]] = []
    for requirement in REQUIRED_FIELDS[step.reason]:
        if requirement.part is not Part.ENVELOPE:
            continue  # entity fields are filled in when the KCI is built
        if "problemCode" in requirement.any_of:
            if step.problem_code is None and step.reason not in PROBLEM_CODE_HEADER_REASONS:
                problems.append(("problemCode", f"{step.reason} needs a problem code"))
        elif "text" in requirement.any_of and not step.text:
            problems.append(("text", f"{step.reason} needs text saying why"))
    if step.problem_code is not None and step.problem_code not in set(ProblemCode):
        problems.append(("problemCode", f"{step.problem_code!r} is not a problem code"))
    return problems


def _option_problems(step: ScriptStep, last: bool) -> list[tuple[str, str]]:
    """Step options used where they mean nothing."""
    problems: list[tuple[str, str]] = []
    if step.delay < timedelta():
        problems.append(("delay", "must not be negative"))
    if (step.reason is ReasonCode.REAPPOINTED) != step.reappoint:
        problems.append(("reappoint", "must be true on REAPPOINTED steps and only there"))
    if step.committed_date_offset_days is not None and step.reason not in _COMMITTED_DATE_REASONS:
        problems.append(("committedDateOffsetDays", "committedDate is set only by COMMITTED or CREATED"))
    if step.target_date_offset_days is not None and step.reason is ReasonCode.RESUMED:
        problems.append(("targetDateOffsetDays", "RESUMED means no impact on the target date; use UPDATE"))
    if step.add_service_id and step.reason not in _SERVICE_ID_REASONS:
        problems.append(("addServiceId", "the service id comes with ADDITIONAL, UPDATE or COMPLETED"))
    if last and step.fault in {DeliveryFault.SWAP_WITH_NEXT, DeliveryFault.HOLD_BACK}:
        problems.append(("fault", f"{step.fault} needs a later step"))
    return problems


def _check_step_fields(script: KciScript, index: int, step: ScriptStep) -> None:
    """Rules a step must meet whatever state the order is in."""
    problems = _content_problems(step) + _option_problems(step, index == len(script.steps) - 1)
    if problems:
        raise ConfigurationError("; ".join(f"{_at(script, index, field)}: {why}" for field, why in problems))


def _walk(script: KciScript, start: OrderState) -> None:
    state = start
    for trigger in response_triggers(script):
        state = advance(state, trigger)
    context = "" if script.applies_to is AppliesTo.ORDER else f" (for an order that was {_describe(start)})"
    for index, step in enumerate(script.steps):
        try:
            following = advance(state, step.reason)
        except IllegalTransition as error:
            raise ConfigurationError(f"{_at(script, index, 'reason')}: {error}{context}") from None
        if step.status is not None:
            try:
                following = advance(state, step.reason, status=step.status)
            except IllegalTransition as error:
                raise ConfigurationError(f"{_at(script, index, 'status')}: {error}{context}") from None
        state = following


def validate_script(script: KciScript) -> None:
    """Refuse a script the state machine would not accept, naming the script, step and field.

    The script is walked from every order it could meet (see :func:`start_states`),
    after the transitions its answer implies (see :func:`response_triggers`).
    """
    response_triggers(script)  # an answer this kind of request cannot have
    if script.response is ScriptResponse.REJECTED and script.steps:
        raise ConfigurationError(f"KCI script {script.name}: steps: a request answered 422 has no KCIs")
    for index, step in enumerate(script.steps):
        _check_step_fields(script, index, step)
    for start in start_states(script.applies_to):
        _walk(script, start)


# --- choosing a script from the request headers -----------------------------------------

_SCENARIO = re.compile(r"(?P<name>[A-Za-z][A-Za-z0-9_]*)(?:\?(?P<query>.+))?")
_PARAM_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def parse_scenario_header(value: str) -> tuple[str, dict[str, str]]:
    """Split ``X-Scenario: ORDER_REAPPOINTED?targetDateOffset=5`` into name and parameters.

    The name is upper-cased; parameters follow query-string rules. A header the contract's
    pattern refuses is a 400 :class:`MalformedRequest`; a parameter given twice is a 422
    :class:`BusinessRuleViolation` (the contract allows it, the simulator cannot pick one).
    """
    shown = excerpt(value)
    match = _SCENARIO.fullmatch(value.strip())
    if match is None:
        raise MalformedRequest(
            f"X-Scenario {shown} is not a scenario name, optionally with parameters "
            "(ORDER_REAPPOINTED?targetDateOffset=5)"
        )
    params: dict[str, str] = {}
    if match["query"] is not None:
        try:
            pairs = parse_qsl(match["query"], keep_blank_values=True, strict_parsing=True)
        except ValueError:
            raise MalformedRequest(
                f"X-Scenario {shown}: parameters must read name=value&name=value"
            ) from None
        for key, item in pairs:
            if not _PARAM_NAME.fullmatch(key) or not item:
                raise MalformedRequest(
                    f"X-Scenario {shown}: parameter {excerpt(key)} needs a name and a value"
                )
            if key in params:
                raise BusinessRuleViolation(
                    f"X-Scenario {shown}: parameter {excerpt(key)} is given twice; give it once"
                )
            params[key] = item
    return match["name"].upper(), params


def _names(scripts: Iterable[KciScript]) -> str:
    return ", ".join(sorted(script.name for script in scripts)) or "(none)"


def _choose(scripts: Mapping[str, KciScript], name: str | None, applies_to: AppliesTo | None) -> KciScript:
    if name is None:
        name = DEFAULT_SCENARIOS[applies_to or AppliesTo.ORDER]
    candidates = [s for s in scripts.values() if applies_to is None or s.applies_to is applies_to]
    script = scripts.get(name)
    if script is None:
        kind = f"{applies_to} " if applies_to else ""
        raise BusinessRuleViolation(f"unknown scenario {name!r}; known {kind}scenarios: {_names(candidates)}")
    if applies_to is not None and script.applies_to is not applies_to:
        raise BusinessRuleViolation(
            f"scenario {name} answers an {script.applies_to}, not an {applies_to}; "
            f"choose one of {_names(candidates)}"
        )
    return script


def _target_offset(script: KciScript, params: Mapping[str, str]) -> int | None:
    unknown = sorted(set(params) - set(SCENARIO_PARAMS))
    if unknown:
        raise BusinessRuleViolation(
            f"scenario {script.name} does not understand {', '.join(unknown)}; "
            f"known parameters: {', '.join(SCENARIO_PARAMS)}"
        )
    raw = params.get("targetDateOffset")
    if raw is None:
        return None
    bound = MAX_TARGET_DATE_OFFSET_DAYS
    try:
        # Length first: int() of thousands of digits is slow, and no such number is in range.
        offset = int(raw) if len(raw) <= 12 else bound + 1
    except ValueError:
        raise BusinessRuleViolation(
            f"targetDateOffset {excerpt(raw)} is not a whole number of days"
        ) from None
    if not -bound <= offset <= bound:
        raise BusinessRuleViolation(
            f"targetDateOffset {excerpt(raw)} is out of range: give a number of days from {-bound} to {bound}"
        )
    if not any(step.moves_target_date for step in script.steps):
        raise BusinessRuleViolation(
            f"scenario {script.name} never moves the target date, so targetDateOffset does not apply"
        )
    return offset


def _problem_code(value: str | None) -> ProblemCode | None:
    if value is None:
        return None
    try:
        return ProblemCode(value.strip())
    except ValueError:
        raise MalformedRequest(
            f"X-Problem-Code {excerpt(value)} is not a problem code; use one of {', '.join(ProblemCode)}"
        ) from None


def _kci_delay(value: str | float | None) -> timedelta | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        raise MalformedRequest(f"X-Kci-Delay {excerpt(value)} is not a number of seconds") from None
    longest = MAX_KCI_DELAY.total_seconds()
    if not math.isfinite(seconds) or not 0 <= seconds <= longest:
        raise MalformedRequest(f"X-Kci-Delay {excerpt(value)} must be from 0 to {longest:.0f} seconds")
    return timedelta(seconds=seconds)


parse_problem_code = _problem_code
"""``X-Problem-Code`` as a problem code (400 when it is not one); shared with the T2R scripts."""
parse_kci_delay = _kci_delay
"""``X-Kci-Delay`` as a delay (400 when out of range); shared with the T2R scripts."""


def resolve_script(
    scripts: Mapping[str, KciScript],
    name: str | None,
    params: Mapping[str, str] | None = None,
    problem_code: str | None = None,
    kci_delay: str | float | None = None,
    *,
    applies_to: AppliesTo | None = None,
) -> KciScript:
    """The script a request asked for, with its header values applied.

    ``name`` and ``params`` come from :func:`parse_scenario_header` (``name=None``: the
    default for ``applies_to``); ``problem_code`` and ``kci_delay`` are the raw
    ``X-Problem-Code`` and ``X-Kci-Delay`` values. An unknown scenario, or one for
    another kind of request, is a 422 listing the known ones; bad header values are 400.
    """
    script = _choose(scripts, name, applies_to)
    target_offset = _target_offset(script, params or {})
    code = _problem_code(problem_code)
    delay = _kci_delay(kci_delay)
    steps = []
    for step in script.steps:
        problem = step.problem_code
        if step.reason in PROBLEM_CODE_HEADER_REASONS:
            problem = code or step.problem_code or DEFAULT_PROBLEM_CODE
        offset = step.target_date_offset_days
        if target_offset is not None and step.moves_target_date:
            offset = target_offset
        steps.append(
            replace(
                step,
                problem_code=problem,
                target_date_offset_days=offset,
                delay=step.delay if delay is None else delay,
            )
        )
    return replace(script, steps=tuple(steps))
