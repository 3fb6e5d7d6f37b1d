"""The service test and problem models, their scripts and the acceptance rules, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.model.service_problem_states import (
    PROBLEM_STATES,
    ProblemReasonCode,
    ProblemRequest,
    ProblemStatus,
    missing_problem_fields,
    problem_amendment_refusal,
    problem_cancellation_refusal,
)
from contracts.model.service_test_states import TEST_STATES, TestStatus, missing_test_fields
from contracts.model.state_table import Transition, TransitionRefused
from simulator.assurance_script_loader import build_assurance_script, load_assurance_scripts
from simulator.domain.assurance import (
    AssurancePolicy,
    check_characteristics,
    check_live_service,
    check_problem_type,
)
from simulator.domain.assurance_commands import RunServiceTest
from simulator.domain.assurance_scripts import (
    AssuranceKind,
    AssuranceResponse,
    AssuranceScript,
    resolve_assurance_script,
    response_triggers,
)
from simulator.domain.errors import BusinessRuleViolation, ConfigurationError, MalformedRequest
from simulator.domain.inventory import AddressId, LiveService

S = ProblemStatus
R = ProblemReasonCode
NOW = datetime(2026, 7, 1, 9, tzinfo=UTC)


def test_a_pending_problem_returns_to_where_it_was_once_amended() -> None:
    state = Transition(S.RECEIVED)
    for reason in (R.ACKNOWLEDGED, R.INVESTIGATING, R.DELAY, R.INFORMATION_REQUIRED):
        state = PROBLEM_STATES.advance(state, reason)
    assert state == Transition(S.PENDING, S.HELD)
    state = PROBLEM_STATES.advance(state, ProblemRequest.AMENDMENT)
    assert state == Transition(S.PENDING_AMENDMENT, S.HELD)  # waiting to waiting keeps the settled one
    assert PROBLEM_STATES.advance(state, R.AMENDED) == Transition(S.HELD)


@pytest.mark.parametrize("status", [S.REJECTED, S.COMPLETED, S.CANCELLED])
def test_nothing_moves_a_closed_problem(status: ProblemStatus) -> None:
    for reason in PROBLEM_STATES.triggers:
        with pytest.raises(TransitionRefused, match="terminal"):
            PROBLEM_STATES.advance(Transition(status), reason)
    assert problem_cancellation_refusal(status) is not None
    assert problem_amendment_refusal(status) is not None


def test_a_resolution_is_completed_or_reopened_only_from_resolved() -> None:
    with pytest.raises(TransitionRefused, match="IN_PROGRESS"):
        PROBLEM_STATES.advance(Transition(S.IN_PROGRESS), R.COMPLETED)
    assert PROBLEM_STATES.advance(Transition(S.RESOLVED), R.REOPENED).status is S.IN_PROGRESS


@given(st.lists(st.sampled_from(PROBLEM_STATES.triggers), max_size=30))
def test_any_walk_through_the_problem_table_stays_among_its_reachable_states(reasons: list[str]) -> None:
    reachable = PROBLEM_STATES.reachable_states()
    state = Transition(S.RECEIVED)
    for reason in reasons:
        try:
            state = PROBLEM_STATES.advance(state, reason)
        except TransitionRefused:
            continue
        assert state in reachable
        assert (state.previous is None) == (state.status not in PROBLEM_STATES.waiting)


def test_a_test_completes_once_and_is_rejected_only_before_it_starts() -> None:
    started = TEST_STATES.advance(Transition(TestStatus.RECEIVED), "TEST_STARTED")
    with pytest.raises(TransitionRefused):
        TEST_STATES.advance(started, "TEST_REJECTED")
    done = TEST_STATES.advance(started, "TEST_COMPLETED")
    with pytest.raises(TransitionRefused, match="terminal"):
        TEST_STATES.advance(done, "TEST_COMPLETED")


def test_required_fields_follow_the_outcome() -> None:
    kci = {"id": "k", "sequenceNumber": 1, "issuedOn": "t", "reasonCode": "TEST_COMPLETED"}
    assert (
        missing_test_fields("TEST_COMPLETED", kci, {"id": 1, "status": "COMPLETED", "outcome": "GREEN"}) == []
    )
    red = missing_test_fields("TEST_COMPLETED", kci, {"id": 1, "status": "COMPLETED", "outcome": "RED"})
    assert red == ["outcomeCodes (outcome RED)"]
    failed = missing_test_fields("TEST_COMPLETED", kci, {"id": 1, "status": "COMPLETED", "outcome": "FAILED"})
    assert failed == ["text (outcome FAILED)"]


def test_a_cancelled_kci_names_the_cancellation_only_when_the_tenant_asked() -> None:
    kci = {"id": "k", "sequenceNumber": 3, "issuedOn": "t", "reasonCode": "CANCELLED"}
    entity = {"id": 88, "status": "CANCELLED"}
    assert missing_problem_fields("CANCELLED", kci, entity) == []
    assert missing_problem_fields("CANCELLED", kci, entity, tenant_requested=True) == [
        "serviceProblemCancellationId or serviceProblemCancellationReference"
    ]


def _script(**override: object) -> dict[str, object]:
    return {
        "name": "PROBLEM_BROKEN",
        "description": "test",
        "appliesTo": "problem",
        "response": "202",
        "steps": [{"reason": "ACKNOWLEDGED"}, {"reason": "COMPLETED"}],
        **override,
    }


def test_a_script_the_table_refuses_is_refused_at_load_naming_the_step() -> None:
    with pytest.raises(ConfigurationError, match=r"steps/1/reason: COMPLETED is not allowed"):
        build_assurance_script(_script())


def test_a_test_outcome_needing_codes_is_refused_without_them() -> None:
    script = _script(
        name="SERVICE_TEST_X",
        appliesTo="test",
        response="201",
        steps=[{"reason": "TEST_COMPLETED", "outcome": "AMBER"}],
    )
    with pytest.raises(ConfigurationError, match="outcomeCodes"):
        build_assurance_script(script)


@pytest.mark.parametrize(
    ("kind", "response", "allowed"),
    [
        (AssuranceKind.TEST, AssuranceResponse.ACCEPTED, "201$"),
        (AssuranceKind.PROBLEM_CANCELLATION, AssuranceResponse.IN_PROGRESS, "201, 202, 422$"),
    ],
)
def test_an_answer_a_kind_of_request_cannot_have_names_the_ones_it_can(
    kind: AssuranceKind, response: AssuranceResponse, allowed: str
) -> None:
    script = AssuranceScript("ODD", "", kind, response)
    message = f"KCI script ODD: response: {response} cannot answer a {kind}; use one of {allowed}"
    with pytest.raises(ConfigurationError, match=message):
        response_triggers(script)


def test_an_amendment_script_must_hold_for_every_problem_it_may_meet() -> None:
    script = _script(appliesTo="problemAmendment", steps=[{"reason": "AMENDED"}, {"reason": "INVESTIGATING"}])
    with pytest.raises(ConfigurationError, match="for a problem that was"):
        build_assurance_script(script)


def test_scenario_headers_choose_and_tune_a_script() -> None:
    scripts = load_assurance_scripts()
    chosen = resolve_assurance_script(
        scripts, "problem_delayed", AssuranceKind.PROBLEM, problem_code="WAYLEAVE_ISSUE", kci_delay="5"
    )
    assert chosen.steps[0].problem_code == "WAYLEAVE_ISSUE"
    assert {step.delay for step in chosen.steps} == {timedelta(seconds=5)}
    with pytest.raises(BusinessRuleViolation, match="SERVICE_TEST_GREEN"):
        resolve_assurance_script(scripts, "PROBLEM_RESOLVED", AssuranceKind.TEST)
    with pytest.raises(MalformedRequest):
        resolve_assurance_script(scripts, None, AssuranceKind.TEST, kci_delay="-1")


def _line(tenant: str = "TENANT1", spec: str = "FTTP") -> LiveService:
    return LiveService("S1", tenant, AddressId("1"), spec, "1", 1)


def _test_of(spec: str) -> RunServiceTest:
    return RunServiceTest("TENANT1", "S1", spec, "OUTAGE", test_id=1)


def test_only_the_owner_of_a_live_service_may_test_it() -> None:
    assert check_live_service(_test_of("FTTP"), _line()) == _line()
    for service, spec in ((None, "FTTP"), (_line("TENANT2"), "FTTP"), (_line(), "FTTP-PRO")):
        with pytest.raises(BusinessRuleViolation):
            check_live_service(_test_of(spec), service)


def test_problem_types_are_handled_per_specification() -> None:
    policy = AssurancePolicy(problem_types={"FTTP": frozenset({"OUTAGE"})})
    check_problem_type(policy, _line(), "OUTAGE")
    check_problem_type(policy, _line(spec="OTHER"), "CUSTOMER")  # not listed: every type
    with pytest.raises(BusinessRuleViolation, match="supported: OUTAGE"):
        check_problem_type(policy, _line(), "CPE")


@pytest.mark.parametrize(
    ("characteristics", "problem_type", "why"),
    [
        ((), "OUTAGE", "SERVICE_HAS_WORKED is required"),
        ((("SERVICE_HAS_WORKED", "yes"),), "OUTAGE", "true or false"),
        ((("SERVICE_HAS_WORKED", "true"),), "OUTAGE", "SERVICE_LAST_WORKED is required"),
        (
            (("SERVICE_HAS_WORKED", "true"), ("SERVICE_LAST_WORKED", "2026-07-02T00:00:00Z")),
            "OUTAGE",
            "future",
        ),
        ((("SERVICE_HAS_WORKED", "false"),), "CPE", "EQUIPMENT_TYPE"),
    ],
)
def test_characteristics_rules_name_what_is_wrong(
    characteristics: tuple[tuple[str, str], ...], problem_type: str, why: str
) -> None:
    with pytest.raises(BusinessRuleViolation, match=why):
        check_characteristics(problem_type, characteristics, NOW)


def test_characteristics_that_keep_the_rules_pass() -> None:
    check_characteristics("CPE", (("SERVICE_HAS_WORKED", "false"), ("EQUIPMENT_TYPE", "ROUTER")), NOW)
    check_characteristics(
        "OUTAGE", (("SERVICE_HAS_WORKED", "true"), ("SERVICE_LAST_WORKED", "2026-06-30T18:00:00+01:00")), NOW
    )


@pytest.mark.parametrize(
    ("status", "refuse_while_pending", "why"),
    [
        (S.COMPLETED, False, "the problem is COMPLETED, which is terminal"),
        (S.PENDING_AMENDMENT, True, "an earlier amendment of this problem is still being processed"),
        (
            S.RECEIVED,
            False,
            "the problem is RECEIVED; amendments are accepted only in ACKNOWLEDGED, HELD, IN_PROGRESS,"
            " NETWORK_INCIDENT, PENDING, PENDING_AMENDMENT, RESOLVED",
        ),
        (S.PENDING_AMENDMENT, False, None),
        (S.IN_PROGRESS, True, None),
    ],
)
def test_a_problem_amendment_refusal_names_the_problem_and_why(
    status: ProblemStatus, refuse_while_pending: bool, why: str | None
) -> None:
    assert problem_amendment_refusal(status, refuse_while_pending=refuse_while_pending) == why
