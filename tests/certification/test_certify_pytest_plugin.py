"""The pytest plugin: one item per rule when given a target, nothing otherwise.

Inner runs are subprocesses: an in-process run shares hypothesis' and schemathesis' global
state with this process and leaves later contract-layer runs generating nothing.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from tests.certification.fakes import FAKE_ADDRESSES, supplier_app
from tests.served import free_port, serve_wsgi, served_simulator

pytest_plugins = ("pytester",)

PLUGIN = "contracts.certification.pytest_plugin"


def plugin_args() -> list[str]:
    """``-p`` the plugin unless its entry point already loads it."""
    installed = any(ep.value == PLUGIN for ep in entry_points(group="pytest11"))
    return [] if installed else ["-p", PLUGIN]


def test_without_a_target_the_plugin_collects_nothing(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess(*plugin_args())
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_an_unreachable_target_stops_the_session_once_with_exit_status_2(pytester: pytest.Pytester) -> None:
    target = f"http://127.0.0.1:{free_port()}"
    result = pytester.runpytest_subprocess(
        *plugin_args(), "--fibresim-target", target, "--fibresim-only", "AVL-00[12]"
    )
    assert result.ret == 2  # could not run; it was 40 errors with a traceback each
    output = "\n".join(result.outlines)
    assert output.count("cannot be reached") == 1, output
    assert "Traceback" not in output


def test_a_failing_rule_fails_its_item_with_the_evidence_and_a_skip_says_why(
    pytester: pytest.Pytester,
) -> None:
    addresses = pytester.path / "addresses.yaml"
    roles = {k: v for k, v in FAKE_ADDRESSES["roles"].items() if k != "multi_service_live"}  # type: ignore[union-attr]
    addresses.write_text(json.dumps({**FAKE_ADDRESSES, "roles": roles}))  # JSON is YAML
    with serve_wsgi(supplier_app({"ignore_headers"})) as base:
        result = pytester.runpytest_subprocess(
            *plugin_args(),
            "--fibresim-target",
            base,
            "--fibresim-addresses",
            str(addresses),
            "--fibresim-capability",
            "availability",
            "--fibresim-only",
            "AVL-00[146]",
            "--fibresim-only",
            "APT-001",
            "-rs",
        )
    # AVL-004 was not run for want of its address: never counted as passed, so its item fails;
    # APT-001 is out of scope (appointments not offered): skipped, saying why.
    result.assert_outcomes(passed=1, failed=2, skipped=1)
    result.stdout.fnmatch_lines(
        ["*AVL-006 a request without a required gateway header*", "*expected 400, got 200*"]
    )
    result.stdout.fnmatch_lines(["*AVL-004*not run*", "*'multi_service_live'*"])
    result.stdout.fnmatch_lines(["*SKIPPED*out of scope*does not offer appointments*"])


@pytest.mark.e2e
def test_each_rule_is_a_pytest_item_named_by_its_id(pytester: pytest.Pytester, tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    with served_simulator(
        "--db", str(tmp_path / "s.sqlite3"), "--clock", "manual@2026-07-01T09:00:00Z"
    ) as base:
        result = pytester.runpytest_subprocess(
            *plugin_args(),
            "--fibresim-target",
            base,
            "--fibresim-addresses",
            "simulator-demo",
            "--fibresim-only",
            "AVL-*",
            "--fibresim-only",
            "APT-006",
            f"--junitxml={junit}",
            "-v",
        )
    result.assert_outcomes(passed=8)
    result.stdout.fnmatch_lines(
        [
            "*fibresim certification of http://127.0.0.1:*8 rule(s)*",
            "*fibresim-certification::AVL-001 PASSED*",
        ]
    )
    names = [case.get("name") for case in ET.parse(junit).getroot().iter("testcase")]
    assert names == [*(f"AVL-00{n}" for n in range(1, 8)), "APT-006"]
