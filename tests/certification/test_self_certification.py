"""The simulator certifies against its own contract: every rule it has the capability for passes."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from contracts.certification.cli import add_certify_command
from tests.served import free_port, served_simulator

pytestmark = pytest.mark.e2e

# Rules the simulator offers the capabilities for that can still not be checked on it, and why.
EXPECTED_SKIPS: dict[str, str] = {}


def test_the_simulator_passes_every_rule_it_announces_the_capabilities_for(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    reports = {name: tmp_path / f"report.{name}" for name in ("json", "xml", "html")}
    parser = argparse.ArgumentParser(prog="fibresim")
    add_certify_command(parser.add_subparsers(dest="command", required=True))
    simulator = ("--db", str(tmp_path / "s.sqlite3"), "--clock", "manual@2026-07-01T09:00:00Z")
    with served_simulator(*simulator, "--kci-url", f"http://127.0.0.1:{port}") as base:
        args = parser.parse_args(
            [
                "certify",
                "supplier",
                base,
                "--addresses",
                "simulator-demo",
                "--seed",
                "7",
                "--max-examples",
                "10",
                "--kci-wait",
                "20",
                "--kci-port",
                str(port),
                "--no-progress",
                "--json",
                str(reports["json"]),
                "--junit",
                str(reports["xml"]),
                "--html",
                str(reports["html"]),
            ]
        )
        code = args.run(args)
    document = json.loads(reports["json"].read_text())
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
    out = capsys.readouterr().out
    assert (
        f"{counts['rules']} rules in the catalogue, {counts['selected']} selected, {counts['ran']} ran" in out
    )
    assert "not run or not decidable, and why" in out
