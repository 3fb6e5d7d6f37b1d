"""The rule catalogue: stable, unique ids, each rule tied to a source, and docs/rules.md up to date."""

from __future__ import annotations

import re

import pytest

from contracts.certification import rules as rules_module
from contracts.certification.docs import DOC_PATH, render_rules_markdown
from contracts.certification.kci_stream import STREAM_RULES
from contracts.certification.rules import Layer, Mode, catalogue, select

ID = re.compile(r"^(CON-(GET|POST)-/[a-z-]+|CON-FLOWS|(AUT|AVL|APT|ORD|AST|KCI|GW|GWI)-\d{3})$")


def test_every_rule_has_a_well_formed_unique_id_a_title_and_a_reference() -> None:
    rules = catalogue()
    assert len({r.id for r in rules}) == len(rules)
    for rule in rules:
        assert ID.match(rule.id), rule.id
        assert rule.title, rule.id
        assert rule.reference, rule.id


def test_the_catalogue_holds_the_rules_the_suite_promises() -> None:
    ids = {rule.id for rule in catalogue()}
    expected = (
        {f"AVL-00{n}" for n in range(1, 8)}
        | {f"APT-00{n}" for n in range(1, 7)}
        | {f"ORD-00{n}" for n in range(1, 10)}
        | set(STREAM_RULES)
        | {f"GW-00{n}" for n in range(1, 8)}
        | {f"GWI-00{n}" for n in range(1, 8)}
        | {"CON-GET-/service-availability", "CON-POST-/appointments", "CON-POST-/service-orders", "CON-FLOWS"}
    )
    assert expected <= ids


def test_supplier_and_gateway_modes_split_the_catalogue() -> None:
    supplier, gateway = catalogue(Mode.SUPPLIER), catalogue(Mode.GATEWAY)
    assert {r.layer for r in gateway} == {Layer.GATEWAY}
    assert Layer.GATEWAY not in {r.layer for r in supplier}
    assert len(supplier) + len(gateway) == len(catalogue())


def test_only_patterns_select_rules_by_id_case_insensitively() -> None:
    rules = catalogue(Mode.SUPPLIER)
    assert [r.id for r in select(rules, ["apt-00[12]", "AVL-007"])] == ["AVL-007", "APT-001", "APT-002"]
    assert select(rules, ["NOPE-*"]) == ()


def test_the_committed_rules_page_is_generated_from_the_catalogue() -> None:
    assert DOC_PATH.read_text(encoding="utf-8") == render_rules_markdown(), (
        "docs/rules.md is stale: run python -m contracts.certification.docs"
    )


def test_every_described_rule_has_its_check_and_a_check_needs_a_description(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    described = rules_module._described()
    checked = {r.id for r in catalogue() if r.layer is not Layer.CONTRACT}
    assert set(described) <= checked
    for rule_id, entry in described.items():
        registered = next(r for r in catalogue() if r.id == rule_id)
        assert (registered.title, registered.reference) == (entry["title"], entry["reference"])

    with pytest.raises(ValueError, match="ZZZ-001 has a check but no entry"):
        rules_module.rule("ZZZ-001")
    monkeypatch.setitem(described, "ZZZ-002", {"title": "t", "reference": "r", "capability": "orders"})
    with pytest.raises(ValueError, match="describes rules that have no check: ZZZ-002"):
        catalogue()
