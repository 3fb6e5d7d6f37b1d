"""The simulator certifies against its own contract: every rule it has the capability for passes."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.self_certification import simulator_for_certification

pytestmark = pytest.mark.e2e

# Rules the simulator offers the capabilities for that can still not be checked on it, and why.
EXPECTED_SKIPS: dict[str, str] = {}


def test_the_simulator_passes_every_rule_it_announces_the_capabilities_for(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reports = {name: tmp_path / f"report.{name}" for name in ("xml", "html")}
    with simulator_for_certification(tmp_path) as served:
        code, document = served.certify(
            "report.json",
            *("--seed", "7", "--max-examples", "10", "--kci-wait", "20"),
            *("--junit", str(reports["xml"]), "--html", str(reports["html"])),
        )
    announced = set(document["capabilities"])
    owed = [r for r in document["results"] if {r["capability"], *r["needs"]} <= announced]
    short = {r["id"]: (r["verdict"], r["message"]) for r in owed if r["verdict"] != "passed"}
    assert short == {rule: ("not run", why) for rule, why in EXPECTED_SKIPS.items() if rule in short}, short
    assert {"availability", "appointments", "clock"} <= announced
    assert code == 0
    counts = document["counts"]
    assert counts["rules"] == counts["selected"] == len(document["results"])
    assert counts["passed"] == len(owed) - len(short)
    assert counts["ran"] == counts["passed"]
    assert sum(len(ids) for ids in document["skipReasons"].values()) == counts["notRun"]
    assert reports["xml"].read_text().startswith("<?xml")
    assert "<html" in reports["html"].read_text()
    out = capsys.readouterr().out
    assert (
        f"{counts['rules']} rules in the catalogue, {counts['selected']} selected, {counts['ran']} ran" in out
    )
    assert "not run or not decidable, and why" in out


BEHAVIOUR_AND_KCI_RULES = tuple(arg for p in ("AVL-*", "APT-*", "ORD-*", "KCI-*") for arg in ("--only", p))


def test_a_second_run_against_the_same_simulator_also_certifies_it(tmp_path: Path) -> None:
    with simulator_for_certification(tmp_path) as served:
        runs = [served.certify(f"run{n}.json", *BEHAVIOUR_AND_KCI_RULES, "--kci-wait", "20") for n in (1, 2)]
    codes = [code for code, _document in runs]
    short = [
        {r["id"]: (r["verdict"], r["message"][:300]) for r in run["results"] if r["verdict"] != "passed"}
        for _code, run in runs
    ]
    assert codes == [0, 0], [{k: v for k, v in s.items() if v[0] == "failed"} for s in short]
    # The first run left a live line at the first covered address; the second passed it over.
    texts = [(tmp_path / f"run{n}.json").read_text() for n in (1, 2)]
    assert "200000000002" not in texts[0]
    assert "200000000002" in texts[1]


def test_with_auth_on_every_rule_runs_and_passes_though_the_suite_moves_the_clock(tmp_path: Path) -> None:
    # Tokens the simulator issues live on its clock, which the rules move by hours: the suite
    # must fetch fresh ones rather than be refused with its old ones.
    with simulator_for_certification(tmp_path, "auth", "--auth", "oauth2") as served:
        credentials = ("--client-id", "demo-gateway", "--client-secret", "demo-secret")
        code, document = served.certify(
            "auth.json",
            *credentials,
            *("--token-url", f"{served.base}/auth/access-token"),
            *("--seed", "3", "--max-examples", "5", "--kci-wait", "20"),
            # The run acts for TENANT2; demo-tenant1 may act for TENANT1 only (AUT-003).
            *(
                "--tenant",
                "TENANT2",
                "--other-tenant-token-file",
                str(_other_tenant_token(served.base, tmp_path)),
            ),
        )
    short = {
        r["id"]: (r["verdict"], r["message"][:300]) for r in document["results"] if r["verdict"] != "passed"
    }
    assert short == {}
    assert code == 0
    assert document["counts"]["ran"] == document["counts"]["rules"]


def _other_tenant_token(base: str, folder: Path) -> Path:
    """A token of the demo client that may act for TENANT1 only."""
    answer = httpx.post(
        f"{base}/auth/access-token",
        data={"grant_type": "client_credentials"},
        auth=("demo-tenant1", "demo-tenant1-secret"),
    )
    path = folder / "other-tenant-token.txt"
    path.write_text(answer.json()["access_token"])
    return path
