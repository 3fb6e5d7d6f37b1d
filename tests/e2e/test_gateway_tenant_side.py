"""``fibresim certify gateway --tenant-updates-port`` against ``fibresim receiver --tenant-updates-url``.

The receiver forwards what it keeps to the suite's Tenant Updates API; the suite decides loss,
duplicates and order there instead of leaving GW-004 and GW-005 not decidable.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from contracts.certification.cli import add_certify_command
from tests.served import free_port, served_command

pytestmark = pytest.mark.e2e


def _certify_gateway(kci_url: str, report: Path, *extra: str) -> tuple[int, dict[str, tuple[str, str]]]:
    parser = argparse.ArgumentParser(prog="fibresim")
    add_certify_command(parser.add_subparsers(dest="command", required=True))
    run = ("--only", "GW-00[1-5]", "--seed", "5", "--no-progress", "--json", str(report))
    args = parser.parse_args(["certify", "gateway", "--kci-url", kci_url, *run, *extra])
    code: int = args.run(args)
    results = json.loads(report.read_text())["results"]
    return code, {r["id"]: (r["verdict"], r["message"]) for r in results}


def test_the_receiver_certifies_on_its_tenant_side(tmp_path: Path) -> None:
    tenant_port = free_port()
    forwarding = ("--tenant-updates-url", f"http://127.0.0.1:{tenant_port}")
    with served_command("receiver", *forwarding, ready_path="/_receiver/health") as base:
        code, verdicts = _certify_gateway(
            base, tmp_path / "tenant.json", "--tenant-updates-port", str(tenant_port)
        )
    assert {rule: verdict for rule, (verdict, _message) in verdicts.items()} == {
        f"GW-00{n}": "passed" for n in range(1, 6)
    }
    assert code == 0


def test_without_the_tenant_side_a_gateway_taking_reused_ids_is_not_decidable(tmp_path: Path) -> None:
    # The receiver takes a reused KCI id with another body (and notes it): correct, but on the
    # Supplier Updates API alone whether it kept the KCI cannot be seen.
    with served_command("receiver", ready_path="/_receiver/health") as base:
        code, verdicts = _certify_gateway(base, tmp_path / "alone.json")
    assert verdicts["GW-004"][0] == verdicts["GW-005"][0] == "not decidable"
    assert "--tenant-updates-port" in verdicts["GW-004"][1]
    assert code == 1
