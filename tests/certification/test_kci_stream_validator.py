"""The KCI stream validator on hand-made streams: each rule fires on its own mistake, and only then."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest

from contracts.certification.kci_stream import StreamViolation, validate_kci_stream

ORDER = 1001
REFERENCE = "SO-000001001"
COMMITTED = "2026-07-14T08:00:00+01:00"


def kci(reason: str, sequence: int, *, status: str, text: str | None = None, **entity: Any) -> dict[str, Any]:
    """A provide-order KCI with the gateway id and the supplier reference unless told otherwise."""
    order: dict[str, Any] = {"id": ORDER, "supplierOrderReference": REFERENCE, "status": status, **entity}
    body: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "sequenceNumber": sequence,
        "issuedOn": f"2026-07-0{min(sequence, 9)}T10:00:00.000Z",
        "reasonCode": reason,
        "provideServiceOrder": {k: v for k, v in order.items() if v is not None},
    }
    if text:
        body["text"] = text
    return body


def acknowledged(sequence: int = 1) -> dict[str, Any]:
    return kci("ACKNOWLEDGED", sequence, status="ACKNOWLEDGED")


def committed(sequence: int, date: str = COMMITTED, **extra: Any) -> dict[str, Any]:
    return kci("COMMITTED", sequence, status="IN_PROGRESS", committedDate=date, targetDate=date, **extra)


def completed(sequence: int) -> dict[str, Any]:
    return kci("COMPLETED", sequence, status="COMPLETED", completedDate="2026-07-14T12:15:00+01:00")


def violations(findings: list[StreamViolation], rule_id: str | None = None) -> list[StreamViolation]:
    return [f for f in findings if not f.info and (rule_id is None or f.rule_id == rule_id)]


def test_an_asynchronous_happy_path_has_no_findings() -> None:
    stream = [acknowledged(1), committed(2), kci("UPDATE", 3, status="IN_PROGRESS"), completed(4)]
    assert validate_kci_stream(stream) == []


def test_a_synchronously_acknowledged_order_may_start_with_committed() -> None:
    stream = [committed(1), completed(2)]
    assert validate_kci_stream(stream, initial_statuses={ORDER: "ACKNOWLEDGED"}) == []


def test_without_the_201_answer_the_validator_says_what_it_assumed() -> None:
    findings = validate_kci_stream([committed(1), completed(2)])
    assert violations(findings) == []
    assert [(f.rule_id, f.info) for f in findings] == [("KCI-004", True)]
    assert "201 ACKNOWLEDGED" in findings[0].message


def test_a_gap_in_the_sequence_is_reported_with_the_missing_number() -> None:
    findings = violations(validate_kci_stream([acknowledged(1), kci("UPDATE", 3, status="ACKNOWLEDGED")]))
    assert [(f.rule_id, f.order, f.sequence_number) for f in findings] == [("KCI-003", f"id {ORDER}", 2)]


def test_a_stream_that_does_not_start_at_one_is_a_gap() -> None:
    findings = violations(validate_kci_stream([committed(2)], initial_statuses={ORDER: "ACKNOWLEDGED"}))
    assert [(f.rule_id, f.sequence_number) for f in findings] == [("KCI-003", 1)]


def test_the_same_kci_delivered_twice_is_a_duplicate_not_a_violation() -> None:
    first = acknowledged(1)
    findings = validate_kci_stream([first, copy.deepcopy(first), committed(2)])
    assert violations(findings) == []
    assert [(f.rule_id, f.info, f.index) for f in findings] == [("KCI-002", True, 1)]


def test_a_kci_id_reused_for_a_different_kci_is_a_violation() -> None:
    first = acknowledged(1)
    other = committed(2)
    other["id"] = first["id"]
    findings = violations(validate_kci_stream([first, other]))
    assert [(f.rule_id, f.kci_id, f.index) for f in findings] == [("KCI-002", first["id"], 1)]


def test_a_sequence_number_used_twice_is_a_violation() -> None:
    findings = violations(validate_kci_stream([acknowledged(1), committed(1)]), "KCI-003")
    assert len(findings) == 1
    assert "sequence number 1 is used by 2 KCIs" in findings[0].message


def test_completed_straight_after_acknowledged_is_an_illegal_transition() -> None:
    findings = violations(validate_kci_stream([acknowledged(1), completed(2)]))
    assert [(f.rule_id, f.sequence_number) for f in findings] == [("KCI-004", 2)]
    assert "ACKNOWLEDGED" in findings[0].message


def test_a_kci_after_a_terminal_status_is_an_illegal_transition() -> None:
    stream = [acknowledged(1), committed(2), completed(3), kci("UPDATE", 4, status="COMPLETED")]
    findings = violations(validate_kci_stream(stream))
    assert [(f.rule_id, f.sequence_number) for f in findings] == [("KCI-004", 4)]
    assert "terminal" in findings[0].message


def test_a_status_the_reason_code_cannot_lead_to_is_an_illegal_transition() -> None:
    wrong = kci("DELAY", 3, status="PENDING", problemCode="WAYLEAVE_ISSUE")
    findings = violations(validate_kci_stream([acknowledged(1), committed(2), wrong]), "KCI-004")
    assert [f.sequence_number for f in findings] == [3]


def test_committed_without_a_target_date_lacks_a_required_field() -> None:
    missing = kci("COMMITTED", 2, status="IN_PROGRESS", committedDate=COMMITTED)
    findings = violations(validate_kci_stream([acknowledged(1), missing]))
    assert {f.rule_id for f in findings} == {"KCI-001", "KCI-005"}
    (required,) = violations(findings, "KCI-005")
    assert required.message == "COMMITTED lacks targetDate"
    assert (required.order, required.sequence_number) == (f"id {ORDER}", 2)


def test_rejecting_an_order_without_saying_why_lacks_text() -> None:
    rejected = kci("ORDER_REJECTED", 1, status="REJECTED")
    assert [f.message for f in violations(validate_kci_stream([rejected]), "KCI-005")] == [
        "ORDER_REJECTED lacks text"
    ]


def test_a_changed_committed_date_is_a_violation() -> None:
    moved = kci("UPDATE", 3, status="IN_PROGRESS", committedDate="2026-07-21T08:00:00+01:00")
    findings = violations(validate_kci_stream([acknowledged(1), committed(2), moved]))
    assert [(f.rule_id, f.sequence_number) for f in findings] == [("KCI-006", 3)]


def test_the_same_committed_date_in_another_spelling_is_unchanged() -> None:
    same = kci("UPDATE", 3, status="IN_PROGRESS", committedDate="2026-07-14T07:00:00Z")
    assert violations(validate_kci_stream([acknowledged(1), committed(2), same])) == []


def test_an_applied_amendment_may_move_the_committed_date() -> None:
    stream = [
        acknowledged(1),
        committed(2),
        kci("INFORMATION_REQUIRED", 3, status="PENDING", text="Which door?"),
        kci("AMENDED", 4, status="IN_PROGRESS", serviceOrderAmendmentId=501),
        committed(5, "2026-07-21T08:00:00+01:00"),
    ]
    assert violations(validate_kci_stream(stream)) == []


def test_a_kci_without_any_order_identifier_is_a_violation() -> None:
    anonymous = kci("UPDATE", 2, status="ACKNOWLEDGED", id=None, supplierOrderReference=None)
    findings = violations(validate_kci_stream([acknowledged(1), anonymous]))
    assert {f.rule_id for f in findings} == {"KCI-001", "KCI-007"}
    assert violations(findings, "KCI-007")[0].index == 1


def test_a_kci_naming_only_the_supplier_reference_joins_its_order() -> None:
    by_reference = kci(
        "COMMITTED", 2, status="IN_PROGRESS", id=None, committedDate=COMMITTED, targetDate=COMMITTED
    )
    assert validate_kci_stream([acknowledged(1), by_reference]) == []


def test_kcis_arriving_out_of_order_are_judged_in_sequence() -> None:
    findings = validate_kci_stream([committed(2), acknowledged(1), completed(3)])
    assert violations(findings) == []
    assert [(f.rule_id, f.info) for f in findings] == [("KCI-003", True)]


def test_an_amendment_answered_later_is_inferred_from_the_amended_kci() -> None:
    stream = [
        acknowledged(1),
        committed(2),
        kci("AMENDED", 3, status="IN_PROGRESS", serviceOrderAmendmentId=7),
    ]
    findings = validate_kci_stream(stream)
    assert violations(findings) == []
    assert "amendment answered 202" in findings[0].message


@pytest.mark.parametrize("answered", ["ACKNOWLEDGED", "IN_PROGRESS"])
def test_an_order_answered_201_then_amended_by_a_202_may_start_with_amended(answered: str) -> None:
    """Neither the 201 answer nor the 202 to the amendment is announced by a KCI."""
    stream = [kci("AMENDED", 1, status=answered, serviceOrderAmendmentId=7)]
    findings = validate_kci_stream(stream)
    assert violations(findings) == []
    assert f"201 {answered}" in findings[0].message
    assert "amendment answered 202" in findings[0].message


def test_orders_are_validated_separately() -> None:
    other = {**acknowledged(1), "id": str(uuid.uuid4())}
    other["provideServiceOrder"] = {"id": 2002, "supplierOrderReference": "SO-2002", "status": "ACKNOWLEDGED"}
    assert validate_kci_stream([acknowledged(1), other, committed(2)]) == []


@pytest.mark.parametrize("body", ["not json", ["a", "list"], {"id": "x"}])
def test_something_that_is_not_a_kci_fails_the_schema_rule(body: Any) -> None:
    findings = violations(validate_kci_stream([body]))
    assert findings
    assert {f.rule_id for f in findings} <= {"KCI-001", "KCI-007"}
    assert findings[0].rule_id == "KCI-001"


def test_a_finding_reads_as_one_line_naming_rule_order_and_sequence() -> None:
    (finding,) = violations(validate_kci_stream([acknowledged(1), completed(2)]))
    assert str(finding).startswith(f"KCI-004 violation (order id {ORDER} seq 2): ")


def test_a_schema_finding_names_the_json_pointer_and_the_broken_rule() -> None:
    broken = acknowledged()
    broken["provideServiceOrder"]["status"] = "HALF_DONE"
    findings = [f for f in validate_kci_stream([broken]) if f.rule_id == "KCI-001"]
    assert findings, findings
    assert any(
        f.message.startswith("/provideServiceOrder/status: 'HALF_DONE' is not one of [")
        and f.message.endswith("(enum)")
        for f in findings
    ), [f.message for f in findings]
