"""KCI scripts: the shipped ones, their checks, and choosing one from the test-stub headers."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts import load_schema
from contracts.model.order_states import (
    TRANSITIONS,
    OrderState,
    OrderStatus,
    ProblemCode,
    ReasonCode,
    advance,
    is_terminal,
)
from simulator.domain.errors import BusinessRuleViolation, ConfigurationError, MalformedRequest
from simulator.domain.kci_scripts import (
    DEFAULT_SCENARIOS,
    AppliesTo,
    DeliveryFault,
    KciScript,
    ScriptResponse,
    ScriptStep,
    parse_scenario_header,
    resolve_script,
    response_triggers,
    start_states,
    validate_script,
)
from simulator.kci_script_loader import FORMAT, build_script, load_script_file, load_scripts

R = ReasonCode
S = OrderStatus

SECTION_8 = {
    "ORDER_SUCCESSFUL": AppliesTo.ORDER,
    "ORDER_ACKNOWLEDGED": AppliesTo.ORDER,
    "ORDER_CANCELLED": AppliesTo.ORDER,
    "ORDER_DELAYED": AppliesTo.ORDER,
    "ORDER_IN_PROGRESS": AppliesTo.ORDER,
    "ORDER_PENDING": AppliesTo.ORDER,
    "ORDER_REAPPOINT": AppliesTo.ORDER,
    "ORDER_REAPPOINTED": AppliesTo.ORDER,
    "ORDER_REJECTED": AppliesTo.ORDER,
    "AMENDMENT_ACCEPTED": AppliesTo.AMENDMENT,
    "AMENDMENT_REJECTED": AppliesTo.AMENDMENT,
    "AMENDMENT_PENDING": AppliesTo.AMENDMENT,
    "CANCELLATION_ACCEPTED": AppliesTo.CANCELLATION,
    "CANCELLATION_REJECTED": AppliesTo.CANCELLATION,
    "CANCELLATION_PENDING": AppliesTo.CANCELLATION,
}
OURS = {
    "ORDER_ASYNC_SUCCESSFUL": AppliesTo.ORDER,
    "ORDER_WARNING_ADDITIONAL": AppliesTo.ORDER,
    "ORDER_RESUBMIT": AppliesTo.ORDER,
    "UNSOLICITED_CEASE": AppliesTo.ORDER,
    "ORDER_DELIVERY_FAULTS": AppliesTo.ORDER,
}


def _step(reason: ReasonCode, **options: object) -> ScriptStep:
    """A step carrying whatever its reason code needs, so a test varies only what it names."""
    defaults: dict[str, object] = {}
    if reason in {R.WARNING, R.REAPPOINT}:
        defaults["problem_code"] = ProblemCode.ACCESS_ISSUE
    if reason in {R.INFORMATION_REQUIRED, R.RESUBMIT, R.AMENDMENT_REJECTED, R.CANCELLATION_REJECTED}:
        defaults["text"] = "because"
    if reason is R.ORDER_REJECTED:
        defaults["text"] = "because"
    if reason is R.REAPPOINTED:
        defaults["reappoint"] = True
    return ScriptStep(reason, **{**defaults, **options})  # type: ignore[arg-type]


def _script(
    *steps: ScriptStep,
    response: ScriptResponse = ScriptResponse.ACKNOWLEDGED,
    applies_to: AppliesTo = AppliesTo.ORDER,
) -> KciScript:
    return KciScript("TEST_SCRIPT", "a script under test", response, steps, applies_to)


@pytest.fixture(scope="module")
def scripts() -> dict[str, KciScript]:
    return load_scripts()


# --- the shipped scripts ----------------------------------------------------------------


def test_every_shipped_script_loads_and_validates(scripts: dict[str, KciScript]) -> None:
    assert len(scripts) >= len(SECTION_8) + len(OURS)
    for script in scripts.values():
        validate_script(script)


@pytest.mark.parametrize(("name", "applies_to"), sorted({**SECTION_8, **OURS}.items()))
def test_every_section_8_scenario_and_our_own_exist_for_the_right_request(
    scripts: dict[str, KciScript], name: str, applies_to: AppliesTo
) -> None:
    assert scripts[name].applies_to is applies_to


def test_every_reason_code_is_produced_by_some_shipped_script(scripts: dict[str, KciScript]) -> None:
    produced = {step.reason for script in scripts.values() for step in script.steps}
    assert set(ReasonCode) - produced == set()


def test_every_delivery_fault_is_used_by_the_delivery_faults_script(scripts: dict[str, KciScript]) -> None:
    faults = {step.fault for step in scripts["ORDER_DELIVERY_FAULTS"].steps}
    assert set(DeliveryFault) <= faults


def test_the_default_scenarios_exist(scripts: dict[str, KciScript]) -> None:
    for applies_to, name in DEFAULT_SCENARIOS.items():
        assert scripts[name].applies_to is applies_to


def test_the_default_order_script_is_acknowledged_committed_updated_completed(
    scripts: dict[str, KciScript],
) -> None:
    script = scripts["ORDER_SUCCESSFUL"]
    assert script.response is ScriptResponse.ACKNOWLEDGED
    assert [step.reason for step in script.steps] == [R.COMMITTED, R.UPDATE, R.COMPLETED]


def test_the_loaded_scripts_are_a_fresh_dict_each_time() -> None:
    first = load_scripts()
    first.clear()
    assert load_scripts()


def test_the_schema_enums_match_the_state_machine() -> None:
    definitions = load_schema(FORMAT.schema)["$defs"]
    assert definitions["reasonCode"]["enum"] == list(ReasonCode)
    assert definitions["problemCode"]["enum"] == list(ProblemCode)
    assert definitions["step"]["properties"]["fault"]["enum"] == list(DeliveryFault)
    assert load_schema(FORMAT.schema)["properties"]["response"]["enum"] == list(ScriptResponse)


# --- what validate_script refuses -------------------------------------------------------


def test_completed_straight_after_acknowledgement_is_refused_with_the_step_index() -> None:
    with pytest.raises(ConfigurationError) as caught:
        validate_script(_script(_step(R.UPDATE), _step(R.COMPLETED)))
    message = str(caught.value)
    assert "TEST_SCRIPT" in message
    assert "steps/1/reason" in message
    assert "COMPLETED is not allowed when the order is ACKNOWLEDGED" in message


def test_a_step_after_a_terminal_one_is_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"steps/2/reason.*terminal"):
        validate_script(_script(_step(R.COMMITTED), _step(R.COMPLETED), _step(R.UPDATE)))


def test_a_step_whose_status_disagrees_with_the_state_machine_is_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"steps/0/status.*not HELD"):
        validate_script(_script(_step(R.COMMITTED, status=S.HELD)))


def test_a_step_may_choose_among_the_statuses_the_table_allows() -> None:
    validate_script(
        _script(
            _step(R.COMMITTED),
            _step(R.DELAY, problem_code=ProblemCode.WAYLEAVE_ISSUE),
            _step(R.UPDATE, status=S.IN_PROGRESS, target_date_offset_days=3),
            _step(R.COMPLETED),
        )
    )


def test_a_script_answered_202_must_start_with_an_acknowledgement_or_rejection() -> None:
    with pytest.raises(ConfigurationError, match="steps/0/reason"):
        validate_script(_script(_step(R.COMMITTED), response=ScriptResponse.ACCEPTED))


def test_a_script_answered_201_in_progress_is_already_committed() -> None:
    validate_script(_script(_step(R.COMPLETED), response=ScriptResponse.IN_PROGRESS))


def test_a_request_refused_with_422_has_no_kcis() -> None:
    with pytest.raises(ConfigurationError, match="steps: a request answered 422"):
        validate_script(_script(_step(R.COMMITTED), response=ScriptResponse.REJECTED))


def test_an_amendment_cannot_be_answered_like_an_order() -> None:
    with pytest.raises(ConfigurationError, match="response: 201_ACKNOWLEDGED cannot answer an amendment"):
        validate_script(_script(applies_to=AppliesTo.AMENDMENT))


def test_an_amendment_script_must_suit_every_order_it_could_reach() -> None:
    script = _script(
        _step(R.AMENDED), _step(R.COMMITTED), response=ScriptResponse.ACCEPTED, applies_to=AppliesTo.AMENDMENT
    )
    with pytest.raises(ConfigurationError, match=r"steps/1/reason.*for an order that was"):
        validate_script(script)


@pytest.mark.parametrize(
    ("step", "field"),
    [
        (ScriptStep(R.INFORMATION_REQUIRED), "text"),
        (ScriptStep(R.ORDER_REJECTED), "text"),
        (ScriptStep(R.WARNING), "problemCode"),
        (ScriptStep(R.REAPPOINT, text="why"), "problemCode"),
        (ScriptStep(R.REAPPOINTED), "reappoint"),
        (ScriptStep(R.UPDATE, reappoint=True), "reappoint"),
        (ScriptStep(R.UPDATE, committed_date_offset_days=2), "committedDateOffsetDays"),
        (ScriptStep(R.RESUMED, target_date_offset_days=2), "targetDateOffsetDays"),
        (ScriptStep(R.WARNING, problem_code=ProblemCode.OTHER, add_service_id=True), "addServiceId"),
        (ScriptStep(R.UPDATE, delay=timedelta(seconds=-1)), "delay"),
        (ScriptStep(R.UPDATE, fault=DeliveryFault.SWAP_WITH_NEXT), "fault"),
        (ScriptStep(R.UPDATE, fault=DeliveryFault.HOLD_BACK), "fault"),
    ],
)
def test_a_step_missing_what_its_reason_needs_or_misusing_an_option_is_refused_by_field(
    step: ScriptStep, field: str
) -> None:
    with pytest.raises(ConfigurationError, match=f"steps/0/{field}"):
        validate_script(_script(step))


def test_cancel_and_delay_steps_may_leave_their_problem_code_to_the_header() -> None:
    validate_script(_script(_step(R.COMMITTED), _step(R.DELAY), _step(R.CANCELLED)))


@pytest.mark.parametrize(
    ("applies_to", "response", "ends"),
    [
        (AppliesTo.ORDER, ScriptResponse.ACKNOWLEDGED, S.ACKNOWLEDGED),
        (AppliesTo.ORDER, ScriptResponse.IN_PROGRESS, S.IN_PROGRESS),
        (AppliesTo.ORDER, ScriptResponse.ACCEPTED, S.RECEIVED),
        (AppliesTo.AMENDMENT, ScriptResponse.ACCEPTED, S.PENDING_AMENDMENT),
        (AppliesTo.AMENDMENT, ScriptResponse.APPLIED, S.IN_PROGRESS),
        (AppliesTo.CANCELLATION, ScriptResponse.ACCEPTED, S.PENDING_CANCELLATION),
        (AppliesTo.CANCELLATION, ScriptResponse.APPLIED, S.CANCELLED),
    ],
)
def test_the_answer_moves_the_order_before_the_first_step(
    applies_to: AppliesTo, response: ScriptResponse, ends: OrderStatus
) -> None:
    start = OrderState(S.RECEIVED) if applies_to is AppliesTo.ORDER else OrderState(S.IN_PROGRESS)
    state = start
    for trigger in response_triggers(_script(response=response, applies_to=applies_to)):
        state = advance(state, trigger)
    assert state.status is ends


def test_amendment_scripts_start_only_where_amendments_are_allowed() -> None:
    statuses = {state.status for state in start_states(AppliesTo.AMENDMENT)}
    assert statuses == {S.ACKNOWLEDGED, S.IN_PROGRESS, S.PENDING, S.PENDING_AMENDMENT}
    assert S.HELD in {state.status for state in start_states(AppliesTo.CANCELLATION)}


# --- property: legal walks validate; an illegal step is named ---------------------------


@st.composite
def legal_walks(draw: st.DrawFn) -> tuple[list[ScriptStep], OrderState]:
    """A 202 order script drawn from the table, and the state it leaves the order in."""
    state, steps = OrderState(S.RECEIVED), []
    for _ in range(draw(st.integers(0, 12))):
        allowed = [
            trigger
            for (source, trigger) in TRANSITIONS
            if source is state.status and isinstance(trigger, ReasonCode)
        ]
        if not allowed:
            break
        reason = draw(st.sampled_from(allowed))
        state = advance(state, reason)
        steps.append(_step(reason))
    return steps, state


@given(legal_walks())
def test_a_script_that_follows_the_table_validates(walk: tuple[list[ScriptStep], OrderState]) -> None:
    steps, _ = walk
    validate_script(_script(*steps, response=ScriptResponse.ACCEPTED))


@given(legal_walks(), st.sampled_from(list(ReasonCode)))
def test_a_step_the_table_refuses_is_named_by_its_index(
    walk: tuple[list[ScriptStep], OrderState], reason: ReasonCode
) -> None:
    steps, state = walk
    if not is_terminal(state.status) and (state.status, reason) in TRANSITIONS:
        return
    with pytest.raises(ConfigurationError, match=f"steps/{len(steps)}/reason"):
        validate_script(_script(*steps, _step(reason), response=ScriptResponse.ACCEPTED))


# --- YAML files --------------------------------------------------------------------------


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "MY_SCRIPT.yaml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """\
name: MY_SCRIPT
description: a test script
appliesTo: order
response: 202
steps:
  - reason: ACKNOWLEDGED
    delay: PT5S
  - reason: COMMITTED
    delay: P1D
"""


def test_a_script_file_loads_with_its_durations(tmp_path: Path) -> None:
    script = load_script_file(_write(tmp_path, GOOD))
    assert script.response is ScriptResponse.ACCEPTED  # an unquoted 202 is read as the string
    assert [step.delay for step in script.steps] == [timedelta(seconds=5), timedelta(days=1)]


def test_a_step_without_a_delay_waits_the_gateway_default_of_thirty_seconds() -> None:
    script = build_script(
        {
            "name": "X_SCRIPT",
            "description": "d",
            "appliesTo": "order",
            "response": "202",
            "steps": [{"reason": "ACKNOWLEDGED"}],
        }
    )
    assert script.steps[0].delay == timedelta(seconds=30)


def test_a_yaml_script_with_an_unknown_field_is_refused_naming_file_and_field(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace("delay: PT5S", "delaySeconds: 5"))
    with pytest.raises(ConfigurationError) as caught:
        load_script_file(path)
    message = str(caught.value)
    assert str(path) in message
    assert "steps/0" in message
    assert "delaySeconds" in message


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (("reason: COMMITTED", "reason: COMMITED"), "steps/1/reason"),
        (("delay: P1D", "delay: 30s"), "steps/1/delay"),
        (("appliesTo: order", "appliesTo: orders"), "appliesTo"),
        (("response: 202", "response: 200"), "response"),
    ],
)
def test_a_yaml_script_with_a_bad_value_is_refused_naming_the_field(
    tmp_path: Path, change: tuple[str, str], field: str
) -> None:
    with pytest.raises(ConfigurationError, match=field):
        load_script_file(_write(tmp_path, GOOD.replace(*change)))


def test_a_yaml_script_with_an_illegal_step_is_refused_naming_file_and_step(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace("reason: COMMITTED", "reason: COMPLETED"))
    with pytest.raises(ConfigurationError) as caught:
        load_script_file(path)
    assert str(path) in str(caught.value)
    assert "steps/1/reason" in str(caught.value)


def test_a_missing_or_unparsable_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read"):
        load_script_file(tmp_path / "absent.yaml")
    with pytest.raises(ConfigurationError, match="not valid YAML"):
        load_script_file(_write(tmp_path, "name: [unclosed"))


# --- X-Scenario, X-Problem-Code, X-Kci-Delay ---------------------------------------------


def test_a_scenario_header_may_carry_parameters() -> None:
    assert parse_scenario_header("ORDER_REAPPOINTED?targetDateOffset=5") == (
        "ORDER_REAPPOINTED",
        {"targetDateOffset": "5"},
    )
    assert parse_scenario_header(" order_delayed ") == ("ORDER_DELAYED", {})


@pytest.mark.parametrize(
    "garbage",
    ["", "?", "ORDER SUCCESSFUL", "1ORDER", "ORDER?", "ORDER?a", "ORDER?=1", "ORDER?a="],
)
def test_a_garbled_scenario_header_is_a_400(garbage: str) -> None:
    with pytest.raises(MalformedRequest) as caught:
        parse_scenario_header(garbage)
    assert caught.value.status == 400


def test_a_parameter_given_twice_is_a_422_because_the_contract_allows_the_header() -> None:
    with pytest.raises(BusinessRuleViolation, match="given twice") as caught:
        parse_scenario_header("ORDER_REAPPOINTED?targetDateOffset=1&targetDateOffset=2")
    assert caught.value.status == 422


def test_a_scenario_header_is_quoted_as_an_excerpt() -> None:
    with pytest.raises(MalformedRequest) as caught:
        parse_scenario_header("?" + "x" * 10_000)
    assert len(str(caught.value)) < 300


def test_an_unknown_scenario_is_a_422_listing_the_known_ones(scripts: dict[str, KciScript]) -> None:
    with pytest.raises(BusinessRuleViolation) as caught:
        resolve_script(scripts, "ORDER_EXPLODED", applies_to=AppliesTo.ORDER)
    assert caught.value.status == 422
    assert "ORDER_SUCCESSFUL" in str(caught.value)
    assert "AMENDMENT_ACCEPTED" not in str(caught.value)


def test_a_scenario_for_another_kind_of_request_is_refused(scripts: dict[str, KciScript]) -> None:
    with pytest.raises(BusinessRuleViolation, match="answers an order, not an amendment"):
        resolve_script(scripts, "ORDER_DELAYED", applies_to=AppliesTo.AMENDMENT)


@pytest.mark.parametrize(
    ("applies_to", "name"),
    [
        (AppliesTo.ORDER, "ORDER_SUCCESSFUL"),
        (AppliesTo.AMENDMENT, "AMENDMENT_ACCEPTED"),
        (AppliesTo.CANCELLATION, "CANCELLATION_ACCEPTED"),
    ],
)
def test_without_a_scenario_header_the_default_applies(
    scripts: dict[str, KciScript], applies_to: AppliesTo, name: str
) -> None:
    assert resolve_script(scripts, None, applies_to=applies_to).name == name


def test_the_kci_delay_header_sets_the_time_between_kcis(scripts: dict[str, KciScript]) -> None:
    shipped = scripts["ORDER_SUCCESSFUL"]
    assert {step.delay for step in shipped.steps} == {timedelta(seconds=30)}
    resolved = resolve_script(scripts, "ORDER_SUCCESSFUL", kci_delay="2.5")
    assert {step.delay for step in resolved.steps} == {timedelta(seconds=2.5)}
    assert resolve_script(scripts, "ORDER_SUCCESSFUL", kci_delay=0).steps[0].delay == timedelta()


@pytest.mark.parametrize("bad", ["soon", "-1", "nan", "inf", "", "1000000", "1e300"])
def test_a_bad_kci_delay_is_a_400(scripts: dict[str, KciScript], bad: str) -> None:
    with pytest.raises(MalformedRequest, match="X-Kci-Delay"):
        resolve_script(scripts, "ORDER_SUCCESSFUL", kci_delay=bad)


def test_cancel_and_delay_kcis_default_to_unknown_fault(scripts: dict[str, KciScript]) -> None:
    delayed = resolve_script(scripts, "ORDER_DELAYED")
    codes = {step.reason: step.problem_code for step in delayed.steps}
    assert codes[R.DELAY] is ProblemCode.UNKNOWN_FAULT
    assert codes[R.RESUMED] is None
    cancelled = resolve_script(scripts, "CANCELLATION_ACCEPTED", applies_to=AppliesTo.CANCELLATION)
    assert cancelled.steps[0].problem_code is ProblemCode.UNKNOWN_FAULT


def test_the_problem_code_header_sets_cancel_and_delay_kcis_only(scripts: dict[str, KciScript]) -> None:
    resolved = resolve_script(scripts, "ORDER_WARNING_ADDITIONAL", problem_code="WAYLEAVE_ISSUE")
    assert resolved.steps == scripts["ORDER_WARNING_ADDITIONAL"].steps  # WARNING keeps its own code
    delayed = resolve_script(scripts, "ORDER_DELAYED", problem_code="WAYLEAVE_ISSUE")
    assert [s.problem_code for s in delayed.steps if s.reason is R.DELAY] == [ProblemCode.WAYLEAVE_ISSUE]
    validate_script(delayed)


def test_an_unknown_problem_code_header_is_a_400(scripts: dict[str, KciScript]) -> None:
    with pytest.raises(MalformedRequest, match="X-Problem-Code 'BROKEN'"):
        resolve_script(scripts, "ORDER_CANCELLED", problem_code="BROKEN")


def test_target_date_offset_moves_the_reappointed_target_date(scripts: dict[str, KciScript]) -> None:
    name, params = parse_scenario_header("ORDER_REAPPOINTED?targetDateOffset=5")
    resolved = resolve_script(scripts, name, params)
    reappointed = [step for step in resolved.steps if step.reason is R.REAPPOINTED]
    assert [step.target_date_offset_days for step in reappointed] == [5]
    assert resolve_script(scripts, name).steps == scripts[name].steps


def test_a_bad_or_unknown_scenario_parameter_is_refused(scripts: dict[str, KciScript]) -> None:
    with pytest.raises(BusinessRuleViolation, match="whole number"):
        resolve_script(scripts, "ORDER_REAPPOINTED", {"targetDateOffset": "soon"})
    with pytest.raises(BusinessRuleViolation, match="known parameters: targetDateOffset"):
        resolve_script(scripts, "ORDER_REAPPOINTED", {"speed": "fast"})
    with pytest.raises(BusinessRuleViolation, match="never moves the target date"):
        resolve_script(scripts, "ORDER_SUCCESSFUL", {"targetDateOffset": "5"})


@pytest.mark.parametrize("offset", ["3651", "-3651", "9999999999", "9" * 5000])
def test_a_target_date_offset_beyond_ten_years_is_refused(scripts: dict[str, KciScript], offset: str) -> None:
    with pytest.raises(BusinessRuleViolation, match="out of range") as caught:
        resolve_script(scripts, "ORDER_REAPPOINTED", {"targetDateOffset": offset})
    assert len(str(caught.value)) < 300


@given(offset=st.integers(min_value=-3650, max_value=3650))
def test_every_target_date_offset_in_range_is_honoured(scripts: dict[str, KciScript], offset: int) -> None:
    resolved = resolve_script(scripts, "ORDER_REAPPOINTED", {"targetDateOffset": str(offset)})
    assert offset in {step.target_date_offset_days for step in resolved.steps}
