"""The KCI stream validator on service test and service problem streams."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from contracts.certification.kci_stream import validate_kci_stream


def _kci(number: int, reason: str, key: str = "serviceProblem", **entity: Any) -> dict[str, Any]:
    identity = {"id": 88, "supplierServiceProblemReference": "SP_000000088"}
    if key == "serviceTest":
        identity = {"id": 77, "supplierReference": "ST-000000077"}
    body: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "sequenceNumber": number,
        "issuedOn": "2026-07-01T10:00:00Z",
        "reasonCode": reason,
        key: {**identity, **entity},
    }
    return body


def _rules(kcis: list[dict[str, Any]]) -> list[str]:
    return [f.rule_id for f in validate_kci_stream(kcis) if not f.info]


def test_a_sound_problem_stream_has_no_findings() -> None:
    stream = [
        _kci(1, "ACKNOWLEDGED", status="ACKNOWLEDGED"),
        _kci(2, "INVESTIGATING", status="IN_PROGRESS"),
        _kci(3, "RESOLVED", status="RESOLVED", resolutionCode="FIBRE_REPAIRED", resolutionStatus="PENDING"),
        _kci(
            4,
            "COMPLETED",
            status="COMPLETED",
            resolutionCode="FIBRE_REPAIRED",
            resolutionStatus="ACCEPTED",
            completedDate="2026-07-01T12:00:00Z",
        ),
    ]
    assert _rules(stream) == []


def test_a_problem_acknowledged_by_its_201_answer_may_start_with_investigating() -> None:
    assert _rules([_kci(1, "INVESTIGATING", status="IN_PROGRESS")]) == []


@pytest.mark.parametrize(
    ("stream", "why"),
    [
        ([("AMENDED", "IN_PROGRESS")], "201 IN_PROGRESS, then an amendment answered 202"),
        ([("AMENDED", "ACKNOWLEDGED")], "201 ACKNOWLEDGED, then an amendment answered 202"),
        ([("CANCELLATION_REJECTED", "IN_PROGRESS")], "201 IN_PROGRESS, then a cancellation answered 202"),
        ([("AMENDED", "IN_PROGRESS"), ("DELAY", "HELD")], "the scripted steps carry on after the amendment"),
    ],
)
def test_a_first_kci_after_a_201_answer_and_a_request_answered_202_is_legal(
    stream: list[tuple[str, str]], why: str
) -> None:
    """Neither the 201 answer nor the 202 to the request is announced by a KCI."""
    kcis = [_kci(number, reason, status=status) for number, (reason, status) in enumerate(stream, start=1)]
    assert "KCI-010" not in _rules(kcis), why  # the moves only; the fields these KCIs lack are KCI-011's


def test_an_amendment_kci_is_still_illegal_after_the_problem_closed() -> None:
    stream = [
        _kci(1, "ACKNOWLEDGED", status="ACKNOWLEDGED"),
        _kci(2, "CANCELLED", status="CANCELLED"),
        _kci(3, "AMENDED", status="ACKNOWLEDGED"),
    ]
    assert "KCI-010" in _rules(stream)


def test_an_illegal_problem_move_is_an_advisory_kci_010_and_a_report_after_closing_is_kci_012() -> None:
    stream = [
        _kci(1, "ACKNOWLEDGED", status="ACKNOWLEDGED"),
        _kci(
            2, "COMPLETED", status="COMPLETED", resolutionCode="OTHER", completedDate="2026-07-01T12:00:00Z"
        ),
        _kci(3, "UPDATE", status="IN_PROGRESS"),
    ]
    assert sorted(_rules(stream)) == ["KCI-010", "KCI-010", "KCI-012"]


def test_test_and_problem_streams_have_their_own_sequences_apart_from_orders() -> None:
    test = [
        _kci(1, "TEST_STARTED", "serviceTest", status="IN_PROGRESS"),
        _kci(2, "TEST_COMPLETED", "serviceTest", status="COMPLETED", outcome="GREEN"),
    ]
    problem = [_kci(1, "ACKNOWLEDGED", status="ACKNOWLEDGED")]
    assert _rules(test + problem) == []
    assert _rules([*test, _kci(4, "TEST_COMPLETED", "serviceTest", status="COMPLETED", outcome="GREEN")]) == [
        "KCI-012",
        "KCI-010",
        "KCI-003",
    ]


def test_a_red_outcome_without_codes_and_a_broken_shape_are_advisory_findings() -> None:
    red = _kci(1, "TEST_COMPLETED", "serviceTest", status="COMPLETED", outcome="RED")
    assert set(_rules([red])) == {"KCI-009", "KCI-011"}
    unnamed = _kci(1, "ACKNOWLEDGED", status="ACKNOWLEDGED")
    unnamed["serviceProblem"] = {"status": "ACKNOWLEDGED"}
    assert "KCI-007" in _rules([unnamed])
