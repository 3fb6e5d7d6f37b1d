"""``fibresim certify``: the subcommands registered on a parser, listing, bad setups and an absent target."""

from __future__ import annotations

import argparse
import socket
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import pytest

from contracts.certification import pytest_plugin
from contracts.certification.cli import add_certify_command
from contracts.certification.target import PROBE_TIMEOUT
from tests.certification.fakes import supplier_app
from tests.served import free_port, serve_wsgi


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="fibresim")
    add_certify_command(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["certify", *argv])
    code: int = args.run(args)
    return code


def test_both_modes_are_registered_as_certify_subcommands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        run("--help")
    assert "supplier" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        run("gateway", "--help")
    assert "--kci-url" in capsys.readouterr().out


def test_list_prints_the_selected_rules_without_calling_the_target(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run("supplier", "http://127.0.0.1:9", "--list", "--only", "AVL-*") == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == [f"AVL-00{n}" for n in range(1, 8)]


def test_an_address_file_that_does_not_exist_is_a_setup_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("supplier", "http://127.0.0.1:9", "--addresses", "no-such-file.yaml") == 2
    assert "no-such-file.yaml" in capsys.readouterr().err


def test_client_credentials_without_a_token_url_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("supplier", "http://127.0.0.1:9", "--client-id", "me", "--client-secret", "s") == 2
    assert "--token-url" in capsys.readouterr().err


def test_an_unreachable_target_is_a_tool_error_for_every_rule(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    url = f"http://127.0.0.1:{free_port()}"
    assert (
        run("supplier", url, "--only", "AVL-00[12]", "--seed", "1", "--junit", str(junit), "--no-progress")
        == 2
    )
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("errors")) == ("2", "2")
    reasons = [p.get("value") or "" for p in suite.iter("property") if p.get("name") == "could not run"]
    assert len(reasons) == 1
    assert "cannot be reached" in reasons[0]


def test_the_cli_and_the_pytest_plugin_declare_the_same_supplier_options() -> None:
    parser = argparse.ArgumentParser(prog="fibresim")
    add_certify_command(parser.add_subparsers(dest="command"))
    cli = parser.parse_args(["certify", "supplier", "http://127.0.0.1:1"])

    registered: dict[str, dict[str, Any]] = {}

    class Group:
        def addoption(self, *names: str, **keywords: Any) -> None:
            registered[names[0]] = keywords

    pytest_plugin.pytest_addoption(cast(pytest.Parser, type("P", (), {"getgroup": lambda *_: Group()})()))
    for name in ("client-id", "client-secret", "token-url", "scope", "token", "seed", "kci-wait", "kci-port"):
        keywords = registered[f"--fibresim-{name}"]
        assert keywords.get("default") == getattr(cli, name.replace("-", "_")), name
    assert cli.seed is None  # both: a random seed, printed


@contextmanager
def hanging_server() -> Iterator[str]:
    """A TCP port that accepts connections and never answers (a hung supplier)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield f"http://127.0.0.1:{server.getsockname()[1]}"


def test_a_hanging_target_is_found_out_in_seconds_and_said_once(capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    with hanging_server() as url:
        code = run("supplier", url, "--only", "AVL-*", "--seed", "1", "--timeout", "30", "--no-progress")
    assert code == 2  # could not run
    assert time.monotonic() - started < PROBE_TIMEOUT + 5  # it ran 617 s silently before
    out = capsys.readouterr().out
    assert out.count("did not answer within") == 1, out


def test_the_deadline_stops_a_run_and_it_could_not_run(capsys: pytest.CaptureFixture[str]) -> None:
    with serve_wsgi(supplier_app()) as url:
        started = time.monotonic()
        code = run("supplier", url, "--only", "AVL-*", "--seed", "1", "--deadline", "0.001", "--no-progress")
    assert code == 2
    assert time.monotonic() - started < 10
    assert "deadline" in capsys.readouterr().out


def test_without_a_terminal_each_rule_is_announced_as_it_starts(capsys: pytest.CaptureFixture[str]) -> None:
    with serve_wsgi(supplier_app()) as url:
        run("supplier", url, "--only", "AVL-006", "--seed", "1")
    assert "[1/1] AVL-006" in capsys.readouterr().out
