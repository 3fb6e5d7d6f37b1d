"""The authentication rules (AUT-*) against the simulator itself: they pass with its auth on,
fail with it off, and are not run (never passed) when the operator gives no credentials."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from flask import Flask

from contracts.certification.rules import Capability
from contracts.certification.runner import SuiteResult, Verdict, certify
from contracts.certification.target import TargetSettings
from contracts.oauth2 import BearerToken, ClientCredentials, NoAuth
from simulator.composition import close_app, create_app
from simulator.settings import Settings
from tests.conftest import START

BASE = "http://supplier.test"
TOKEN_URL = f"{BASE}/auth/access-token"


@pytest.fixture(params=["oauth2", "none"])
def simulator(request: pytest.FixtureRequest) -> Iterator[Flask]:
    app = create_app(
        Settings(database=":memory:", clock=f"manual@{START}", background=False, auth=request.param)
    )
    yield app
    close_app(app)


def token_of(app: Flask, client_id: str, secret: str) -> str:
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    answer = app.test_client().post("/auth/access-token", data=form)
    token: str = answer.get_json()["access_token"]
    return token


def run(app: Flask, auth: httpx.Auth, other_tenant_token: str | None = None) -> SuiteResult:
    settings = TargetSettings(
        base_url=BASE,
        tenant="TENANT2",  # demo-tenant1 may act for TENANT1 only
        auth=auth,
        capabilities=frozenset({Capability.AVAILABILITY}),
        seed=7,
        id_base=100,
        other_tenant_token=other_tenant_token,
    )
    return certify(
        settings, patterns=["AUT-*"], transport=httpx.WSGITransport(app=app), announce=lambda _: None
    )


def verdicts(result: SuiteResult) -> dict[str, Verdict]:
    return {item.rule.id: item.verdict for item in result.results}


def test_with_client_credentials_the_rules_pass_when_auth_is_on_and_fail_when_off(simulator: Flask) -> None:
    other = token_of(simulator, "demo-tenant1", "demo-tenant1-secret")
    result = run(simulator, ClientCredentials(TOKEN_URL, "demo-gateway", "demo-secret"), other)
    if simulator.extensions["fibresim.settings"].auth == "oauth2":
        assert verdicts(result) == dict.fromkeys(("AUT-001", "AUT-002", "AUT-003"), Verdict.PASSED)
        assert result.certified
    else:
        assert verdicts(result) == {
            "AUT-001": Verdict.FAILED,
            "AUT-002": Verdict.FAILED,
            "AUT-003": Verdict.ADVISORY_FAILURE,
        }
        assert not result.certified
        failed = next(item for item in result.results if item.rule.id == "AUT-001")
        assert "expected 401, got 200" in failed.message
        assert failed.evidence.exchanges


def test_a_bearer_token_is_also_checked_tampered() -> None:
    secured = create_app(
        Settings(database=":memory:", clock=f"manual@{START}", background=False, auth="oauth2")
    )
    result = run(secured, BearerToken(token_of(secured, "demo-gateway", "demo-secret")))
    close_app(secured)
    assert verdicts(result)["AUT-002"] is Verdict.PASSED
    notes = [exchange.note for item in result.results for exchange in item.evidence.exchanges]
    assert "with the operator's token tampered" in notes
    # Without --other-tenant-token the advisory rule is not run, and says what it needs.
    skipped = next(item for item in result.results if item.rule.id == "AUT-003")
    assert skipped.verdict is Verdict.NOT_RUN
    assert "--other-tenant-token" in skipped.message


def test_without_credentials_the_rules_are_not_run_and_block_nothing(simulator: Flask) -> None:
    result = run(simulator, NoAuth())
    assert set(verdicts(result).values()) == {Verdict.NOT_RUN}
    assert all(item.out_of_scope for item in result.results)
    assert "no credentials given" in result.results[0].message
    assert result.certified
