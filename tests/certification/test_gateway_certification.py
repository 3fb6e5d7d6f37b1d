"""Gateway mode against in-process fake gateways: a correct one passes, each misbehaviour fails its rule."""

from __future__ import annotations

import argparse
import xml.etree.ElementTree as ET
from collections.abc import Collection
from pathlib import Path

import httpx
import pytest

from contracts.certification.cli import add_certify_command
from contracts.certification.rules import Mode
from contracts.certification.runner import SuiteResult, Verdict, certify
from contracts.certification.target import ClientCredentials, NoAuth, TargetSettings
from tests.certification.fakes import CLIENT_ID, CLIENT_SECRET, gateway_app
from tests.served import serve_wsgi

BASE = "http://gateway.test"


def certify_fake(misbehave: Collection[str] = (), *, with_auth: bool = True, **extra: object) -> SuiteResult:
    app = gateway_app(misbehave)
    transport = httpx.WSGITransport(app=app)
    auth = (
        ClientCredentials(f"{BASE}/auth/supplier/access-token", CLIENT_ID, CLIENT_SECRET)
        if with_auth
        else NoAuth()
    )
    settings = TargetSettings(base_url=BASE, mode=Mode.GATEWAY, auth=auth, seed=3, id_base=5000, **extra)  # type: ignore[arg-type]
    return certify(settings, transport=transport, announce=lambda _line: None)


def verdicts(result: SuiteResult) -> dict[str, Verdict]:
    return {item.rule.id: item.verdict for item in result.results}


def kci_verdicts(result: SuiteResult) -> dict[str, Verdict]:
    return {rule_id: verdict for rule_id, verdict in verdicts(result).items() if rule_id.startswith("GW-")}


def test_a_gateway_that_follows_the_contract_passes_every_kci_rule() -> None:
    result = certify_fake()
    assert kci_verdicts(result) == {f"GW-00{n}": Verdict.PASSED for n in range(1, 8)}
    assert result.exit_code() == 0


def test_without_a_simulator_the_inbound_rules_are_skipped_naming_the_option() -> None:
    inbound = [item for item in certify_fake().results if item.rule.id.startswith("GWI-")]
    assert [item.rule.id for item in inbound] == [f"GWI-00{n}" for n in range(1, 8)]
    assert {(item.verdict, item.message) for item in inbound} == {
        (Verdict.SKIPPED, "no simulator given (--simulator): the inbound rules read its request journal")
    }


def test_without_credentials_a_gateway_taking_unauthenticated_kcis_fails_the_authentication_rule() -> None:
    # GW-006 needs no credentials from the operator: it sends KCIs without any (it used to be skipped).
    app = gateway_app(require_auth=False)
    transport = httpx.WSGITransport(app=app)
    result = certify(TargetSettings(base_url=BASE, mode=Mode.GATEWAY, seed=1), transport=transport)
    assert verdicts(result)["GW-006"] is Verdict.FAILED
    assert result.exit_code() == 1


@pytest.mark.parametrize(
    ("misbehaviour", "failing_rules"),
    [
        ("crash_on_malformed", ["GW-002"]),
        # The generated streams (GW-007) meet invalid KCIs and re-deliveries too.
        ("accept_invalid", ["GW-003", "GW-007"]),
        ("refuse_duplicates", ["GW-004", "GW-007"]),
        ("ignore_auth", ["GW-006"]),
    ],
)
def test_a_gateway_that_misbehaves_fails_the_rule_about_it(
    misbehaviour: str, failing_rules: list[str]
) -> None:
    result = certify_fake({misbehaviour})
    failed = [item.rule.id for item in result.results if item.verdict is Verdict.FAILED]
    assert failed == failing_rules
    assert result.exit_code() == 1


def test_a_failed_gateway_rule_shows_the_exchange_that_decided_it() -> None:
    results = certify_fake({"refuse_duplicates"}).results
    (failure,) = [r for r in results if r.verdict is Verdict.FAILED and r.rule.id == "GW-004"]
    assert "409" in failure.message
    statuses = [exchange.status for exchange in failure.evidence.exchanges]
    assert statuses == [204, 409]
    assert all("***" in e.request_headers.get("Authorization", "") for e in failure.evidence.exchanges)


def test_the_valid_kcis_the_suite_sends_are_valid_against_the_contract() -> None:
    app = gateway_app()
    transport = httpx.WSGITransport(app=app)
    auth = ClientCredentials(f"{BASE}/auth/supplier/access-token", CLIENT_ID, CLIENT_SECRET)
    settings = TargetSettings(base_url=BASE, mode=Mode.GATEWAY, auth=auth, seed=9)
    certify(settings, patterns=["GW-001", "GW-004", "GW-005"], transport=transport)
    reasons = [kci["reasonCode"] for kci in app.extensions["received"]]
    assert reasons[:6] == ["ACKNOWLEDGED", "COMMITTED", "UPDATE", "ADDITIONAL", "COMPLETED", "CREATED"]


def test_certify_gateway_on_the_command_line_writes_junit_and_exits_zero(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser(prog="fibresim")
    add_certify_command(parser.add_subparsers(dest="command", required=True))
    junit = tmp_path / "gateway.xml"
    with serve_wsgi(gateway_app()) as base:
        args = parser.parse_args(
            [
                "certify",
                "gateway",
                "--kci-url",
                base,
                "--client-id",
                CLIENT_ID,
                "--client-secret",
                CLIENT_SECRET,
                "--seed",
                "4",
                "--junit",
                str(junit),
                "--no-progress",
            ]
        )
        assert args.run(args) == 0
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == (
        "14",
        "0",
        "0",
        "7",  # the inbound rules, without --simulator
    )
