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


def _certify(parser: argparse.ArgumentParser, base: str, port: int, report: Path, *extra: str) -> int:
    args = parser.parse_args(
        [
            "certify",
            "supplier",
            base,
            "--addresses",
            "simulator-demo",
            "--only",
            "AVL-*",
            "--only",
            "APT-*",
            "--only",
            "ORD-*",
            "--only",
            "KCI-*",
            "--kci-wait",
            "20",
            "--kci-port",
            str(port),
            "--no-progress",
            "--json",
            str(report),
            *extra,
        ]
    )
    code: int = args.run(args)
    return code


def test_a_second_run_against_the_same_simulator_also_certifies_it(tmp_path: Path) -> None:
    port = free_port()
    parser = argparse.ArgumentParser(prog="fibresim")
    add_certify_command(parser.add_subparsers(dest="command", required=True))
    simulator = ("--db", str(tmp_path / "s.sqlite3"), "--clock", "manual@2026-07-01T09:00:00Z")
    with served_simulator(*simulator, "--kci-url", f"http://127.0.0.1:{port}") as base:
        codes = [_certify(parser, base, port, tmp_path / f"run{n}.json") for n in (1, 2)]
    runs = [json.loads((tmp_path / f"run{n}.json").read_text()) for n in (1, 2)]
    short = [
        {r["id"]: (r["verdict"], r["message"][:300]) for r in run["results"] if r["verdict"] != "passed"}
        for run in runs
    ]
    assert codes == [0, 0], [{k: v for k, v in s.items() if v[0] == "failed"} for s in short]
    # The first run left a live line at the first covered address; the second passed it over.
    texts = [(tmp_path / f"run{n}.json").read_text() for n in (1, 2)]
    assert "200000000002" not in texts[0]
    assert "200000000002" in texts[1]
