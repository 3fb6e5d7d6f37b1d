"""The order state machine: the declared table, the one function enforcing it, and §7's rules."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.model.order_states import (
    AMENDABLE_STATUSES,
    IN_FLIGHT_STATUSES,
    REQUIRED_FIELDS,
    TERMINAL_STATUSES,
    TRANSITIONS,
    IllegalTransition,
    Keep,
    OrderState,
    OrderStatus,
    ProblemCode,
    ReasonCode,
    RequestReceived,
    Target,
    Trigger,
    advance,
    amendment_refusal,
    apply_reason,
    can_amend,
    can_cancel,
    cancellation_refusal,
    is_terminal,
    missing_fields,
    reachable_states,
)

S = OrderStatus
R = ReasonCode
ALL_TRIGGERS: list[Trigger] = [*ReasonCode, *RequestReceived]
UNDECLARED = [
    (status, trigger)
    for status, trigger in itertools.product(OrderStatus, ALL_TRIGGERS)
    if (status, trigger) not in TRANSITIONS
]


def _resolved(target: Target, status: OrderStatus, previous: OrderStatus | None) -> OrderStatus | None:
    """What a declared target means for an order in ``status`` (test model, not the code under test)."""
    if target is Keep.UNCHANGED:
        return status
    if target is Keep.PREVIOUS:
        return previous
    return OrderStatus(target)


def _previous_for(status: OrderStatus) -> OrderStatus | None:
    """A plausible settled status behind a waiting one."""
    return S.IN_PROGRESS if status in {S.PENDING, S.PENDING_AMENDMENT, S.PENDING_CANCELLATION} else None


# --- the table and apply_reason ---------------------------------------------------------


def test_the_supplier_has_eighteen_reason_codes_and_twenty_eight_problem_codes() -> None:
    assert len(ReasonCode) == 18
    assert len(ProblemCode) == 28
    assert "UNKNOWN_FAULT" in set(ProblemCode)


@pytest.mark.parametrize(("status", "trigger"), UNDECLARED, ids=str)
def test_every_pair_missing_from_the_table_is_an_illegal_transition(
    status: OrderStatus, trigger: str
) -> None:
    with pytest.raises(IllegalTransition) as caught:
        apply_reason(status, _previous_for(status), trigger)
    assert caught.value.from_status is status
    assert caught.value.reason == trigger


@pytest.mark.parametrize(("status", "trigger"), list(TRANSITIONS), ids=str)
def test_every_declared_pair_lands_on_its_default_target(status: OrderStatus, trigger: Trigger) -> None:
    previous = _previous_for(status)
    expected = _resolved(TRANSITIONS[(status, trigger)][0], status, previous)
    assert apply_reason(status, previous, trigger) == expected


@pytest.mark.parametrize("status", sorted(TERMINAL_STATUSES))
@pytest.mark.parametrize("trigger", ALL_TRIGGERS)
def test_terminal_statuses_accept_nothing(status: OrderStatus, trigger: str) -> None:
    assert is_terminal(status)
    with pytest.raises(IllegalTransition, match="terminal"):
        apply_reason(status, None, trigger)


def test_an_illegal_transition_names_the_status_the_reason_and_what_is_accepted() -> None:
    with pytest.raises(IllegalTransition) as caught:
        apply_reason(S.ACKNOWLEDGED, None, R.COMPLETED)
    error = caught.value
    assert error.messages == [str(error)]
    assert "COMPLETED is not allowed when the order is ACKNOWLEDGED" in str(error)
    assert "COMMITTED" in str(error)


def test_a_string_that_is_no_reason_code_is_refused() -> None:
    with pytest.raises(IllegalTransition, match="not a supplier reason code"):
        apply_reason(S.IN_PROGRESS, None, "TERMINATED")


def test_the_happy_path_runs_from_received_to_completed() -> None:
    state = OrderState(S.RECEIVED)
    for reason, expected in [
        (R.ACKNOWLEDGED, S.ACKNOWLEDGED),
        (R.COMMITTED, S.IN_PROGRESS),
        (R.UPDATE, S.IN_PROGRESS),
        (R.ADDITIONAL, S.IN_PROGRESS),
        (R.COMPLETED, S.COMPLETED),
    ]:
        state = advance(state, reason)
        assert state == OrderState(expected)


@pytest.mark.parametrize("before", [S.ACKNOWLEDGED, S.IN_PROGRESS, S.HELD])
@pytest.mark.parametrize("asking", [R.INFORMATION_REQUIRED, R.REAPPOINT])
def test_pending_returns_to_the_status_before_it_when_amended(
    before: OrderStatus, asking: ReasonCode
) -> None:
    pending = advance(OrderState(before), asking)
    assert pending == OrderState(S.PENDING, before)
    assert advance(pending, R.AMENDED) == OrderState(before)


def test_an_amendment_answering_a_pending_order_returns_it_to_the_status_before_pending() -> None:
    pending = advance(OrderState(S.IN_PROGRESS), R.INFORMATION_REQUIRED)
    amending = advance(pending, RequestReceived.AMENDMENT)
    assert amending == OrderState(S.PENDING_AMENDMENT, S.IN_PROGRESS)
    assert advance(amending, R.AMENDED) == OrderState(S.IN_PROGRESS)


@pytest.mark.parametrize(
    ("request_kind", "refusal"),
    [
        (RequestReceived.AMENDMENT, R.AMENDMENT_REJECTED),
        (RequestReceived.CANCELLATION, R.CANCELLATION_REJECTED),
    ],
)
@pytest.mark.parametrize("before", [S.ACKNOWLEDGED, S.IN_PROGRESS])
def test_a_refused_amendment_or_cancellation_returns_the_order_to_where_it_was(
    request_kind: RequestReceived, refusal: ReasonCode, before: OrderStatus
) -> None:
    waiting = advance(OrderState(before), request_kind)
    assert waiting.previous is before
    assert advance(waiting, refusal) == OrderState(before)


def test_a_cancellation_of_a_pending_amendment_order_still_cancels() -> None:
    state = advance(OrderState(S.ACKNOWLEDGED), RequestReceived.AMENDMENT)
    state = advance(state, RequestReceived.CANCELLATION)
    assert state == OrderState(S.PENDING_CANCELLATION, S.ACKNOWLEDGED)
    assert advance(state, R.AMENDED) == state  # the cancellation still decides
    assert advance(state, R.CANCELLED) == OrderState(S.CANCELLED)


def test_returning_to_a_previous_status_that_was_never_recorded_is_refused() -> None:
    with pytest.raises(IllegalTransition, match="no status was recorded"):
        apply_reason(S.PENDING, None, R.AMENDED)


def test_update_may_bring_a_held_order_back_in_progress_but_keeps_it_held_by_default() -> None:
    assert apply_reason(S.HELD, None, R.UPDATE) is S.HELD
    assert apply_reason(S.HELD, None, R.UPDATE, status=S.IN_PROGRESS) is S.IN_PROGRESS


def test_a_kci_cannot_claim_a_status_the_table_does_not_declare() -> None:
    with pytest.raises(IllegalTransition, match="leads to IN_PROGRESS, not COMPLETED"):
        apply_reason(S.ACKNOWLEDGED, None, R.COMMITTED, status=S.COMPLETED)
    with pytest.raises(IllegalTransition, match="not HELD"):
        apply_reason(S.IN_PROGRESS, None, R.UPDATE, status=S.HELD)


@pytest.mark.parametrize("start", [S.ACKNOWLEDGED, S.IN_PROGRESS])
def test_created_starts_an_unsolicited_cease_acknowledged_or_in_progress(start: OrderStatus) -> None:
    assert apply_reason(S.RECEIVED, None, R.CREATED, status=start) is start
    assert apply_reason(S.RECEIVED, None, R.CREATED) is S.ACKNOWLEDGED


def test_an_order_can_be_rejected_only_before_it_is_acknowledged() -> None:
    assert apply_reason(S.RECEIVED, None, R.ORDER_REJECTED) is S.REJECTED
    for status in IN_FLIGHT_STATUSES - {S.RECEIVED}:
        with pytest.raises(IllegalTransition):
            apply_reason(status, _previous_for(status), R.ORDER_REJECTED)


def test_completion_needs_the_order_in_progress() -> None:
    accepting = {status for status in OrderStatus if (status, R.COMPLETED) in TRANSITIONS}
    assert accepting == {S.IN_PROGRESS}


def test_every_in_flight_status_can_be_cancelled_by_the_supplier() -> None:
    for status in IN_FLIGHT_STATUSES:
        assert apply_reason(status, _previous_for(status), R.CANCELLED) is S.CANCELLED


def test_a_delay_holds_a_committed_order_and_resuming_brings_it_back() -> None:
    held = advance(OrderState(S.IN_PROGRESS), R.DELAY)
    assert held == OrderState(S.HELD)
    assert advance(held, R.RESUMED) == OrderState(S.IN_PROGRESS)
    with pytest.raises(IllegalTransition):
        apply_reason(S.ACKNOWLEDGED, None, R.DELAY)


@pytest.mark.parametrize("reason", [R.UPDATE, R.ADDITIONAL, R.WARNING, R.REAPPOINTED, R.RESUBMIT])
@pytest.mark.parametrize("status", [S.ACKNOWLEDGED, S.IN_PROGRESS, S.HELD])
def test_informational_reasons_keep_the_status(reason: ReasonCode, status: OrderStatus) -> None:
    assert apply_reason(status, None, reason) is status


def test_every_status_other_than_the_start_is_reachable() -> None:
    assert {state.status for state in reachable_states()} == set(OrderStatus)


# --- §7: who may amend or cancel --------------------------------------------------------


@pytest.mark.parametrize("status", list(OrderStatus))
def test_amendments_are_allowed_only_in_the_four_statuses_of_section_seven(status: OrderStatus) -> None:
    expected = status in {S.ACKNOWLEDGED, S.IN_PROGRESS, S.PENDING, S.PENDING_AMENDMENT}
    assert can_amend(status, is_unsolicited_cease=False) is expected


@pytest.mark.parametrize("status", list(OrderStatus))
def test_an_unsolicited_cease_is_never_amendable(status: OrderStatus) -> None:
    assert not can_amend(status, is_unsolicited_cease=True)
    assert amendment_refusal(status, True) == "an unsolicited cease order cannot be amended"


def test_a_supplier_may_refuse_a_second_amendment_while_one_is_pending() -> None:
    assert can_amend(S.PENDING_AMENDMENT, False)
    assert not can_amend(S.PENDING_AMENDMENT, False, refuse_while_pending=True)
    assert can_amend(S.IN_PROGRESS, False, refuse_while_pending=True)


def test_an_amendment_refusal_says_why() -> None:
    assert "terminal" in (amendment_refusal(S.COMPLETED, False) or "")
    assert "accepted only in" in (amendment_refusal(S.HELD, False) or "")
    assert amendment_refusal(S.IN_PROGRESS, False) is None


@pytest.mark.parametrize("status", list(OrderStatus))
def test_any_in_flight_order_may_be_cancelled_until_the_point_of_no_return(status: OrderStatus) -> None:
    assert can_cancel(status, point_of_no_return_reached=False) is (status not in TERMINAL_STATUSES)
    assert not can_cancel(status, point_of_no_return_reached=True)


def test_a_cancellation_refusal_says_why() -> None:
    assert "point of no return" in (cancellation_refusal(S.IN_PROGRESS, True) or "")
    assert "terminal" in (cancellation_refusal(S.CANCELLED, False) or "")


def test_the_table_receives_amendments_exactly_where_amendments_are_allowed() -> None:
    receiving = {status for status in OrderStatus if (status, RequestReceived.AMENDMENT) in TRANSITIONS}
    assert receiving == AMENDABLE_STATUSES
    assert receiving == {status for status in OrderStatus if can_amend(status, False)}


def test_the_table_receives_cancellations_exactly_where_cancellations_are_allowed() -> None:
    receiving = {status for status in OrderStatus if (status, RequestReceived.CANCELLATION) in TRANSITIONS}
    assert receiving == {status for status in OrderStatus if can_cancel(status, False)}


# --- property: apply_reason against the table --------------------------------------------


def _expected(state: OrderState, trigger: Trigger, status: OrderStatus | None) -> OrderState | None:
    """A tiny independent model: what the table says, or None for a refusal."""
    targets = TRANSITIONS.get((state.status, trigger))
    if targets is None:
        return None
    resolved = [_resolved(target, state.status, state.previous) for target in targets]
    chosen = resolved[0] if status is None else status
    if chosen is None or chosen not in resolved:
        return None
    waiting = {S.PENDING, S.PENDING_AMENDMENT, S.PENDING_CANCELLATION}
    if chosen not in waiting:
        return OrderState(chosen)
    kept = state.previous if state.status in waiting else state.status
    return OrderState(chosen, kept)


@given(
    st.lists(
        st.tuples(st.sampled_from(ALL_TRIGGERS), st.none() | st.sampled_from(list(OrderStatus))),
        max_size=40,
    )
)
def test_apply_reason_accepts_only_declared_transitions_and_nothing_after_a_terminal_status(
    moves: list[tuple[Trigger, OrderStatus | None]],
) -> None:
    state = OrderState(S.RECEIVED)
    for trigger, claimed in moves:
        was_terminal = is_terminal(state.status)
        expected = _expected(state, trigger, claimed)
        try:
            following = advance(state, trigger, status=claimed)
        except IllegalTransition:
            assert expected is None
            continue
        assert not was_terminal
        assert following == expected
        state = following


# --- what each reason code requires ------------------------------------------------------

FULL_KCI: dict[str, Any] = {
    "id": "5f0c6a64-2c55-4b8e-9a44-0e4c2f4e1f11",
    "sequenceNumber": 2,
    "issuedOn": "2026-07-01T09:00:00Z",
    "reasonCode": "COMMITTED",
    "problemCode": "ACCESS_ISSUE",
    "text": "why",
}
FULL_ENTITY: dict[str, Any] = {
    "id": 123,
    "supplierOrderReference": "SO123",
    "status": "IN_PROGRESS",
    "committedDate": "2026-07-10T09:00:00Z",
    "targetDate": "2026-07-10T09:00:00Z",
    "completedDate": "2026-07-10T12:00:00Z",
    "appointmentTimeslot": {"timeslotStartDateTime": "2026-07-10T08:00:00+01:00"},
    "appointmentSupplierReference": "A234",
    "serviceOrderAmendmentId": 234,
    "serviceOrderAmendmentReference": "AM234",
    "serviceOrderCancellationId": 345,
    "serviceOrderCancellationReference": "CA345",
    "serviceId": "S12345",
}


def test_every_reason_code_has_a_declared_requirement() -> None:
    assert set(REQUIRED_FIELDS) == set(ReasonCode)


@pytest.mark.parametrize("reason", list(ReasonCode))
def test_a_complete_kci_misses_nothing(reason: ReasonCode) -> None:
    assert missing_fields(reason, FULL_KCI, FULL_ENTITY, tenant_requested=True) == []


@pytest.mark.parametrize(
    ("reason", "requirement"),
    [(reason, requirement) for reason, rules in REQUIRED_FIELDS.items() for requirement in rules],
    ids=lambda value: str(getattr(value, "label", value)),
)
def test_each_required_field_is_named_when_it_is_missing(reason: ReasonCode, requirement: Any) -> None:
    kci, entity = dict(FULL_KCI), dict(FULL_ENTITY)
    source = kci if requirement.part == "envelope" else entity
    for name in requirement.any_of:
        source.pop(name)
    assert missing_fields(reason, kci, entity, tenant_requested=True) == [requirement.label]


@pytest.mark.parametrize(
    ("reason", "removed", "named"),
    [
        (R.COMMITTED, "targetDate", "targetDate"),
        (R.COMMITTED, "committedDate", "committedDate"),
        (R.ACKNOWLEDGED, "supplierOrderReference", "supplierOrderReference"),
        (R.COMPLETED, "completedDate", "completedDate"),
        (R.REAPPOINTED, "appointmentTimeslot", "appointmentTimeslot"),
        (R.DELAY, "problemCode", "problemCode"),
        (R.WARNING, "problemCode", "problemCode"),
        (R.INFORMATION_REQUIRED, "text", "text"),
        (R.ORDER_REJECTED, "text", "text"),
    ],
)
def test_a_kci_without_what_its_reason_needs_names_the_field(
    reason: ReasonCode, removed: str, named: str
) -> None:
    kci = {key: value for key, value in FULL_KCI.items() if key != removed}
    entity = {key: value for key, value in FULL_ENTITY.items() if key != removed}
    assert missing_fields(reason, kci, entity) == [named]


def test_either_an_amendment_id_or_reference_identifies_the_amendment() -> None:
    entity = {key: value for key, value in FULL_ENTITY.items() if key != "serviceOrderAmendmentId"}
    assert missing_fields(R.AMENDED, FULL_KCI, entity) == []
    entity.pop("serviceOrderAmendmentReference")
    assert missing_fields(R.AMENDED, FULL_KCI, entity) == [
        "serviceOrderAmendmentId or serviceOrderAmendmentReference"
    ]


def test_a_supplier_cancellation_need_not_name_a_cancellation_request() -> None:
    entity = {
        key: value for key, value in FULL_ENTITY.items() if not key.startswith("serviceOrderCancellation")
    }
    assert missing_fields(R.CANCELLED, FULL_KCI, entity) == []
    assert missing_fields(R.CANCELLED, FULL_KCI, entity, tenant_requested=True) == [
        "serviceOrderCancellationId or serviceOrderCancellationReference"
    ]


def test_the_order_may_be_identified_by_either_id_and_empty_values_count_as_missing() -> None:
    entity = {**FULL_ENTITY, "id": None}
    assert missing_fields(R.UPDATE, FULL_KCI, entity) == []
    entity["supplierOrderReference"] = ""
    assert missing_fields(R.UPDATE, FULL_KCI, entity) == ["id or supplierOrderReference"]


def test_every_kci_needs_its_envelope() -> None:
    assert missing_fields(R.UPDATE, {}, FULL_ENTITY) == ["id", "sequenceNumber", "issuedOn", "reasonCode"]


def test_missing_fields_refuses_a_string_that_is_no_reason_code() -> None:
    with pytest.raises(ValueError, match="TERMINATED"):
        missing_fields("TERMINATED", FULL_KCI, FULL_ENTITY)
