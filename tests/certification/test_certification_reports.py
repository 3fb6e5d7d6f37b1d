"""Reports of a run: JUnit parses and counts match, HTML escapes the evidence, JSON and exit codes agree."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from rich.console import Console

from contracts.certification.evidence import Evidence, Exchange
from contracts.certification.html_report import html_report
from contracts.certification.reports import console_summary, json_report, junit_xml, write_reports
from contracts.certification.rules import Capability, Layer, Mode, Rule
from contracts.certification.runner import RuleResult, SuiteResult, Verdict

HOSTILE = '<script>alert("x")</script> & friends'


def make_rule(rule_id: str, *, required: bool = True) -> Rule:
    return Rule(
        id=rule_id,
        title=f"title of {rule_id}",
        reference="reference §3.2",
        layer=Layer.BEHAVIOUR,
        capability=Capability.AVAILABILITY,
        required=required,
        check=lambda _target: Evidence(),
    )


def evidence() -> Evidence:
    exchange = Exchange.create(
        "GET",
        "http://supplier.test/service-availability?address=x",
        request_headers=[("Authorization", "Bearer very-secret"), ("Tenant", "TENANT1")],
        status=200,
        response_body=json.dumps({"note": HOSTILE}),
    )
    return Evidence((exchange,), ("a note with <b>markup</b>",))


def suite(*results: RuleResult) -> SuiteResult:
    return SuiteResult(
        mode=Mode.SUPPLIER,
        target="http://supplier.test",
        seed=42,
        capabilities=("availability",),
        capability_source="declared",
        catalogue_size=40,
        results=results,
        started="2026-07-01T09:00:00+00:00",
        seconds=1.5,
    )


@pytest.fixture
def mixed() -> SuiteResult:
    return suite(
        RuleResult(make_rule("AVL-001"), Verdict.PASSED, evidence=Evidence(notes=("fine",))),
        RuleResult(make_rule("AVL-002"), Verdict.FAILED, f"line offered: {HOSTILE}", evidence()),
        RuleResult(make_rule("AVL-007", required=False), Verdict.ADVISORY_FAILURE, "422 instead of 200"),
        RuleResult(make_rule("AVL-003"), Verdict.NOT_RUN, "needs a 'single_service_live' address"),
        RuleResult(
            make_rule("AVL-004"), Verdict.NOT_RUN, "the target does not offer availability", out_of_scope=True
        ),
        RuleResult(make_rule("AVL-005"), Verdict.ERROR, "GET http://supplier.test: ConnectError"),
    )


def test_junit_parses_and_its_counts_match_the_results(mixed: SuiteResult) -> None:
    root = ET.fromstring(junit_xml(mixed))
    testsuite = root.find("testsuite")
    assert testsuite is not None
    cases = testsuite.findall("testcase")
    assert len(cases) == int(testsuite.get("tests", "-1")) == 6
    # A required rule in scope that was not run is never counted as passed: a failure of type not-run.
    assert (
        int(testsuite.get("failures", "-1")) == len([c for c in cases if c.find("failure") is not None]) == 2
    )
    assert int(testsuite.get("errors", "-1")) == len([c for c in cases if c.find("error") is not None]) == 1
    assert (
        int(testsuite.get("skipped", "-1")) == len([c for c in cases if c.find("skipped") is not None]) == 2
    )


def test_junit_names_each_testcase_by_rule_id_and_reports_advisory_failures_as_skipped(
    mixed: SuiteResult,
) -> None:
    cases = {
        case.get("name", "").split()[0]: case for case in ET.fromstring(junit_xml(mixed)).iter("testcase")
    }
    assert list(cases) == ["AVL-001", "AVL-002", "AVL-007", "AVL-003", "AVL-004", "AVL-005"]
    advisory = cases["AVL-007"].find("skipped")
    assert advisory is not None
    assert advisory.get("type") == "advisory-failure"
    failure = cases["AVL-002"].find("failure")
    assert failure is not None
    assert HOSTILE in (failure.text or "")
    not_run = cases["AVL-003"].find("failure")
    assert not_run is not None
    assert not_run.get("type") == "not-run"
    out_of_scope = cases["AVL-004"].find("skipped")
    assert out_of_scope is not None
    assert out_of_scope.get("type") == "out-of-scope"


def test_the_html_report_escapes_everything_the_target_said(mixed: SuiteResult) -> None:
    page = html_report(mixed)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; friends" in page
    assert "&lt;b&gt;markup&lt;/b&gt;" in page
    assert 'id="AVL-002"' in page


def test_reports_never_show_the_credentials_that_were_sent(mixed: SuiteResult) -> None:
    for text in (html_report(mixed), json_report(mixed), junit_xml(mixed)):
        assert "very-secret" not in text
    assert "Bearer ***" in html_report(mixed)


def test_the_json_report_has_counts_skip_reasons_and_evidence(mixed: SuiteResult) -> None:
    document = json.loads(json_report(mixed))
    assert document["counts"] == {
        "rules": 40,
        "selected": 6,
        "ran": 4,
        "passed": 1,
        "failed": 1,
        "failedAdvisory": 1,
        "notRun": 2,
        "notRunOutOfScope": 1,
        "notDecidable": 0,
        "errors": 1,
    }
    assert document["skipReasons"] == {
        "needs a 'single_service_live' address": ["AVL-003"],
        "the target does not offer availability": ["AVL-004"],
    }
    assert [r["blocksCertification"] for r in document["results"]] == [False, True, False, True, False, True]
    assert document["results"][1]["evidence"]["exchanges"][0]["status"] == 200
    assert document["exitCode"] == 2


@pytest.mark.parametrize(
    ("verdicts", "strict", "code"),
    [
        # A required rule not run (in scope) or not decidable is never counted as passed.
        ([(Verdict.PASSED, True), (Verdict.NOT_RUN, True)], False, 1),
        ([(Verdict.PASSED, True), (Verdict.NOT_DECIDABLE, True)], False, 1),
        ([(Verdict.PASSED, True), (Verdict.NOT_DECIDABLE, False)], False, 0),
        ([(Verdict.PASSED, True), (Verdict.ADVISORY_FAILURE, False)], False, 0),
        ([(Verdict.PASSED, True), (Verdict.ADVISORY_FAILURE, True)], False, 0),
        ([(Verdict.PASSED, True), (Verdict.ADVISORY_FAILURE, False)], True, 1),
        ([(Verdict.FAILED, True)], False, 1),
        ([(Verdict.FAILED, True), (Verdict.ERROR, True)], False, 2),
    ],
)
def test_the_exit_code_is_decided_by_required_rules_that_ran(
    verdicts: list[tuple[Verdict, bool]], strict: bool, code: int
) -> None:
    results = [
        RuleResult(make_rule(f"AVL-00{n}", required=required), verdict, "why")
        for n, (verdict, required) in enumerate(verdicts, start=1)
    ]
    assert suite(*results).exit_code(strict) == code


def test_the_console_summary_counts_rules_and_lists_why_they_were_skipped(mixed: SuiteResult) -> None:
    out = io.StringIO()
    console_summary(mixed, Console(file=out, width=200, color_system=None))
    text = out.getvalue()
    assert "40 rules in the catalogue, 6 selected, 4 ran: 1 passed, 1 failed, 1 advisory failure(s)" in text
    assert "AVL-003: needs a 'single_service_live' address" in text
    assert "could not run" in text


def test_a_rule_out_of_scope_does_not_block_certification_but_is_never_a_pass() -> None:
    out = RuleResult(make_rule("AVL-002"), Verdict.NOT_RUN, "not offered", out_of_scope=True)
    result = suite(RuleResult(make_rule("AVL-001"), Verdict.PASSED), out)
    assert result.exit_code() == 0
    assert result.exit_code(strict=True) == 1
    assert result.counts()["passed"] == 1


def test_junit_stays_parseable_when_bodies_carry_control_characters() -> None:
    nasty = "fuzzed \x00\x01\x08\x0b\x1f\ud800 body"
    item = RuleResult(
        make_rule("AVL-002"),
        Verdict.FAILED,
        f"bad: {nasty}",
        evidence=Evidence((Exchange.create("GET", "http://s.test/x", status=500, response_body=nasty),)),
    )
    root = ET.fromstring(junit_xml(suite(item)))  # raised ParseError before control characters were escaped
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None
    assert "\\x01" in (failure.get("message") or "")


def test_write_reports_creates_the_files_asked_for(mixed: SuiteResult, tmp_path: Path) -> None:
    paths = {
        "junit": tmp_path / "a" / "j.xml",
        "json_path": tmp_path / "b" / "r.json",
        "html": tmp_path / "r.html",
    }
    write_reports(mixed, **paths)
    assert all(path.is_file() for path in paths.values())
