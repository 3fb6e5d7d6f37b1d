"""Behaviour rules against a small fake supplier: it passes as written, and each bug fails its rule."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

import httpx
import pytest
from flask import Flask, request

from contracts.certification.addresses import AddressBook, RunAddresses, TestAddress, parse_address_book
from contracts.certification.errors import SetupError
from contracts.certification.rules import Capability
from contracts.certification.runner import SuiteResult, Verdict, certify
from contracts.certification.target import TargetSettings
from tests.certification.fakes import FAKE_ADDRESSES, supplier_app

SELECTED = ["AVL-00[12356]", "APT-00[1-4]", "APT-006", "ORD-00[1345]"]
CAPABILITIES = frozenset(
    {
        Capability.AVAILABILITY,
        Capability.APPOINTMENTS,
        Capability.CLOCK,
        Capability.ORDERS,
        Capability.AMENDMENTS,
    }
)


def run(misbehave: Collection[str] = (), addresses: AddressBook | None = None) -> SuiteResult:
    settings = TargetSettings(
        base_url="http://supplier.test",
        addresses=addresses or parse_address_book(FAKE_ADDRESSES, "fake"),
        capabilities=CAPABILITIES,
        seed=11,
        id_base=100,
    )
    transport = httpx.WSGITransport(app=supplier_app(misbehave))
    return certify(settings, patterns=SELECTED, transport=transport)


def by_verdict(result: SuiteResult, verdict: Verdict) -> list[str]:
    return [item.rule.id for item in result.results if item.verdict is verdict]


def test_a_supplier_that_behaves_passes_the_rules_it_can_be_asked() -> None:
    result = run()
    assert by_verdict(result, Verdict.FAILED) == []
    assert by_verdict(result, Verdict.ERROR) == []
    assert by_verdict(result, Verdict.SKIPPED) == []
    assert len(by_verdict(result, Verdict.PASSED)) == len(result.results) == 14


@pytest.mark.parametrize(
    ("bug", "rule_id", "said"),
    [
        ("line_at_single_service", "AVL-003", "siteInformation.line offers a new line"),
        ("ignore_headers", "AVL-006", "expected 400, got 200"),
        ("local_as_utc", "APT-002", "UK local times move across the clock change"),
        ("overbook", "APT-004", "still offered"),
        ("accept_any_order", "ORD-004", "accepted with 201"),
        ("amend_unknown_500", "ORD-005", "expected 404 or 422, got 500"),
    ],
)
def test_a_supplier_bug_fails_the_rule_about_it(bug: str, rule_id: str, said: str) -> None:
    result = run({bug})
    failed = {item.rule.id: item for item in result.results if item.verdict is Verdict.FAILED}
    assert rule_id in failed, {item.rule.id: (item.verdict, item.message) for item in result.results}
    assert said in failed[rule_id].message
    assert failed[rule_id].evidence.exchanges, "a failure shows the exchanges that decided it"


def test_a_rule_without_its_address_is_skipped_naming_the_role() -> None:
    result = run(addresses=AddressBook())
    skipped = {item.rule.id: item.message for item in result.results if item.verdict is Verdict.SKIPPED}
    assert "AVL-001" in skipped
    assert "'no_coverage'" in skipped["AVL-001"]
    assert "AVL-006" not in skipped  # it needs no particular address


def test_a_rule_whose_capability_is_not_offered_is_skipped_saying_so() -> None:
    settings = TargetSettings(
        base_url="http://supplier.test", capabilities=frozenset({Capability.AVAILABILITY})
    )
    transport = httpx.WSGITransport(app=supplier_app())
    result = certify(settings, patterns=["APT-001"], transport=transport)
    assert [(r.verdict, r.message) for r in result.results] == [
        (Verdict.NOT_RUN, "the target does not offer appointments")
    ]


def test_an_address_file_with_mistakes_is_refused_naming_each_field() -> None:
    with pytest.raises(SetupError) as refused:
        parse_address_book({"roles": {"covred": {}, "covered": {"address": {"id": 2}}}}, "mine.yaml")
    message = str(refused.value)
    assert "mine.yaml" in message
    assert "roles: Additional properties are not allowed ('covred' was unexpected)" in message
    assert "roles/covered/address/id: 2 is not of type 'string'" in message


POOLED = {
    "roles": {
        "covered": {
            "specifications": {"FTTP": ["1"]},
            "pool": [{"address": {"id": "2", "type": "UPRN"}}, {"address": {"id": "3", "type": "UPRN"}}],
        },
        "no_coverage": {"address": {"id": "1", "type": "UPRN"}},
    }
}


def test_a_pool_gives_each_role_its_first_unused_address() -> None:
    book = parse_address_book(POOLED, "pools.yaml")
    assert [m.address["id"] for m in book.pool("covered")] == ["2", "3"]
    assert book.require("covered").specifications == {"FTTP": ("1",)}  # the role's defaults
    assert [m.address["id"] for m in book.pool("no_coverage")] == ["1"]  # the single-address form
    checked: list[str] = []

    def used_up(place: TestAddress) -> str | None:
        checked.append(place.address["id"])
        return "a live line" if place.address["id"] == "2" else None

    run = RunAddresses(book, used_up)
    assert run.require("covered").address["id"] == "3"
    assert run.require("covered").address["id"] == "3"  # chosen once per run
    assert checked == ["2", "3"]


def test_a_pool_that_has_run_out_is_not_run_and_blocks_certification() -> None:
    app = Flask("everything-live")

    @app.get("/service-availability")
    def availability() -> Any:
        address = json.loads(request.args["address"])
        line = {"lineId": "L1", "ont": {"ontReference": "O1", "ports": [{"portNumber": 1}]}}
        return {
            "address": {"identifier": address},
            "serviceSpecifications": [{"id": "FTTP"}],
            "siteInformation": {"existingLines": [line]},
        }

    settings = TargetSettings(
        base_url="http://supplier.test",
        capabilities=frozenset({Capability.AVAILABILITY}),
        addresses=parse_address_book(POOLED, "pools.yaml"),
    )
    result = certify(settings, patterns=["AVL-002"], transport=httpx.WSGITransport(app=app))
    (only,) = result.results
    assert only.verdict is Verdict.NOT_RUN
    assert "the 'covered' pool has run out: all 2 address(es) are used up" in only.message
    assert "UPRN 2: 1 existing line(s) now live there" in only.message
    assert only.blocks_certification
    assert result.exit_code() == 1
