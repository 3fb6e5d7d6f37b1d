"""Bad command-line inputs end with exit code 2 and one line that says why; secrets given by file
or environment reach the settings and never the output, the logs or the admin answers."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from simulator import serving
from simulator.cli import main, parser
from simulator.cli_checks import check_admin_exposure
from simulator.composition import close_app
from simulator.domain.errors import ConfigurationError
from simulator.storage import Database
from simulator.storage.schema import fibresim_meta
from tests.postgres import fresh_database
from tests.served import free_port

START = "manual@2026-07-01T09:00:00Z"


class NotServed:
    """Stands in for ``simulator.serving.serve``: records the app factory instead of serving."""

    def __init__(self) -> None:
        self.factories: list[Callable[[], Flask]] = []

    def __call__(self, factory: Callable[[], Flask], host: str, port: int, **_options: Any) -> None:
        assert host == "127.0.0.1"
        self.factories.append(factory)


@pytest.fixture
def not_served(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> NotServed:
    fake = NotServed()
    monkeypatch.setattr(serving, "serve", fake)
    monkeypatch.chdir(tmp_path)  # the default database, if one is made, lands here
    for name in (
        "FIBRESIM_KCI_CLIENT_SECRET",
        "FIBRESIM_KCI_TOKEN",
        "FIBRESIM_KCI_BASIC",
        "FIBRESIM_ADMIN_TOKEN",
        "FIBRESIM_TOKEN_SIGNING_KEY",
    ):
        monkeypatch.delenv(name, raising=False)
    return fake


def one_line_refusal(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run ``fibresim argv``; assert exit code 2 and exactly one line on stderr; return it."""
    code = main(list(argv))
    captured = capsys.readouterr()
    assert code == 2, captured
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert captured.out == ""
    return lines[0]


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    """Bad inputs on disk: a FIFO, a directory, malformed, invalid and oversized profiles."""
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    malformed = tmp_path / "malformed.yaml"
    malformed.write_text("supplier: {name: A}\nservices: [1, 2\nnext: 3\n")
    invalid = tmp_path / "invalid.yaml"
    invalid.write_text("supplier: {name: A}\nservicesPerAddress: sometimes\n")
    big = tmp_path / "big.yaml"
    big.write_text("a: " + "x" * (4 * 1024 * 1024))
    return {
        "fifo": str(fifo),
        "dir": str(tmp_path),
        "malformed": str(malformed),
        "invalid": str(invalid),
        "big": str(big),
        "tmp": str(tmp_path),
    }


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["serve", "--clock", "bogus"], "fibresim: unknown clock 'bogus'"),
        (["serve", "--clock", "manual@noon"], "fibresim: bad start time in 'manual@noon'"),
        (["serve", "--profile", "/dev/zero"], "fibresim: profile /dev/zero is not a regular file"),
        (["serve", "--profile", "{fifo}"], "fibresim: profile {fifo} is not a regular file"),
        (["serve", "--profile", "{dir}"], "fibresim: profile {dir} is a directory"),
        (["serve", "--profile", "{big}"], "fibresim: profile {big} is larger than 4 MiB"),
        (["serve", "--profile", "nosuch"], "fibresim: no bundled profile 'nosuch' and no such file"),
        (["check-profile", "{malformed}"], "is not valid YAML at line 3, column 5: expected ',' or ']'"),
        (
            ["check-profile", "{invalid}"],
            "is not a valid supplier profile: (top level): 'serviceSpecifications'",
        ),
        (["serve", "--kci-url", "gateway.example"], "fibresim: --kci-url: give an http:// or https:// URL"),
        (["serve", "--kci-token", "t"], "fibresim: KCI authentication is set but --kci-url is not"),
        (
            ["serve", "--kci-url", "http://127.0.0.1:9", "--kci-basic", "nocolon"],
            "--kci-basic: give USER:PASSWORD",
        ),
        (
            [
                "serve",
                "--kci-url",
                "http://127.0.0.1:9",
                "--kci-token-url",
                "http://127.0.0.1:9/t",
                "--kci-client-id",
                "id",
            ],
            "fibresim: --kci-token-url needs --kci-client-id and --kci-client-secret",
        ),
        (["serve", "--kci-token", "a", "--kci-token-file", "{fifo}"], "give --kci-token or --kci-token-file"),
        (["serve", "--kci-url", "http://127.0.0.1:9", "--kci-token-file", "{fifo}"], "is not a regular file"),
        (
            ["serve", "--db", "{tmp}/missing/x.sqlite3"],
            "fibresim: cannot open database {tmp}/missing/x.sqlite3",
        ),
        (["reset-db", "--db", "{tmp}/missing/x.sqlite3"], "fibresim: cannot open database"),
        (["receiver", "--client-secret-file", "{tmp}/absent"], "cannot read --client-secret-file"),
        (["certify", "supplier", "notaurl"], "fibresim certify: url: give an http:// or https:// URL"),
        (["certify", "supplier", "http://127.0.0.1:9", "--addresses", "{fifo}"], "is not a regular file"),
        (["certify", "gateway", "--kci-url", "ftp://gateway"], "--kci-url: give an http:// or https:// URL"),
        (
            ["certify", "supplier", "http://127.0.0.1:9", "--token-file", "{dir}"],
            "--token-file {dir} is a dir",
        ),
    ],
)
def test_a_bad_input_is_refused_with_one_line(
    argv: list[str],
    expected: str,
    files: dict[str, str],
    not_served: NotServed,
    capsys: pytest.CaptureFixture[str],
) -> None:
    line = one_line_refusal(capsys, *[part.format(**files) for part in argv])
    assert expected.format(**files) in line
    assert not_served.factories == []


def test_a_port_already_taken_is_refused_before_serving(
    not_served: NotServed, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = one_line_refusal(capsys, "serve", "--port", str(port))
    assert line.startswith(f"fibresim: cannot listen on 127.0.0.1:{port}: ")


@pytest.mark.parametrize(
    "argv",
    [
        ["serve", "--port", "70000"],
        ["serve", "--threads", "0"],
        ["receiver", "--fail-first", "-1"],
        ["certify", "supplier", "http://x", "--timeout", "0"],
    ],
)
def test_a_bad_number_is_an_argparse_usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    assert "error: argument" in capsys.readouterr().err


def test_every_secret_option_names_its_file_and_environment_twins(capsys: pytest.CaptureFixture[str]) -> None:
    expected = {
        ("serve",): [
            "--kci-client-secret-file",
            "$FIBRESIM_KCI_CLIENT_SECRET",
            "--kci-token-file",
            "$FIBRESIM_KCI_TOKEN",
            "--kci-basic-file",
            "$FIBRESIM_KCI_BASIC",
            "--admin-token-file",
            "$FIBRESIM_ADMIN_TOKEN",
            "--token-signing-key-file",
            "$FIBRESIM_TOKEN_SIGNING_KEY",
        ],
        ("receiver",): ["--client-secret-file", "$FIBRESIM_RECEIVER_CLIENT_SECRET"],
        ("certify", "supplier"): [
            "--token-file",
            "$FIBRESIM_CERTIFY_TOKEN",
            "--client-secret-file",
            "$FIBRESIM_CERTIFY_CLIENT_SECRET",
            "--other-tenant-token-file",
            "$FIBRESIM_CERTIFY_OTHER_TENANT_TOKEN",
        ],
    }
    for command, names in expected.items():
        with pytest.raises(SystemExit):
            parser().parse_args([*command, "--help"])
        shown = " ".join(capsys.readouterr().out.split())
        for name in names:
            assert name in shown, (command, name)


def test_an_old_database_is_refused_until_it_is_reset(
    not_served: NotServed, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "old.sqlite3")
    database = Database(db)
    database.create_schema()
    with database.transaction() as connection:
        fibresim_meta.drop(connection)  # as the release before the stamp wrote it
    database.dispose()
    line = one_line_refusal(capsys, "serve", "--db", db, "--clock", START, "--port", str(free_port()))
    assert "was written by an earlier fibresim (schema version 1)" in line
    assert f"fibresim reset-db --db {db}" in line
    assert main(["reset-db", "--db", db]) == 0
    assert "the simulator's tables are empty" in capsys.readouterr().out
    assert main(["serve", "--db", db, "--clock", START, "--port", str(free_port())]) == 0
    assert len(not_served.factories) == 1


def test_secrets_from_files_and_the_environment_reach_the_settings_and_nothing_shown(
    not_served: NotServed,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("token-from-file-Xq1\n")
    admin_file = tmp_path / "admin"
    admin_file.write_text("admin-from-file-Pk4\n")
    monkeypatch.setenv("FIBRESIM_KCI_CLIENT_SECRET", "secret-from-env-Zr7")
    monkeypatch.setenv("FIBRESIM_TOKEN_SIGNING_KEY", "signing-key-from-env-Wd2")
    argv = [
        "serve",
        "--db",
        str(tmp_path / "s.sqlite3"),
        "--clock",
        START,
        "--port",
        str(free_port()),
        "--kci-url",
        "http://127.0.0.1:9",
        "--kci-token-file",
        str(token_file),
        "--admin-token-file",
        str(admin_file),
    ]
    caplog.set_level(logging.DEBUG)
    assert main(argv) == 0
    app = not_served.factories[0]()
    try:
        settings = app.extensions["fibresim.settings"]
        assert settings.kci_bearer_token == "token-from-file-Xq1"
        assert settings.kci_client_secret == "secret-from-env-Zr7"
        assert settings.admin_token == "admin-from-file-Pk4"
        assert settings.token_signing_key == "signing-key-from-env-Wd2"
        client = app.test_client()
        admin = {"Authorization": "Bearer admin-from-file-Pk4"}
        answers = [
            client.get(f"/_admin/{path}", headers=admin).get_data(as_text=True)
            for path in ("health", "profile", "clock", "kcis", "capabilities")
        ]
    finally:
        close_app(app)
    shown = " ".join([capsys.readouterr().out, caplog.text, repr(settings), *answers])
    for secret in (
        "token-from-file-Xq1",
        "secret-from-env-Zr7",
        "admin-from-file-Pk4",
        "signing-key-from-env-Wd2",
    ):
        assert secret not in shown


@pytest.fixture
def postgres_with_password(postgres_server_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database whose URL carries a password (the test server trusts anyone)."""
    with fresh_database(postgres_server_url) as url:
        yield url.replace("postgresql://postgres@", "postgresql://postgres:pg-Secret-9w@", 1)


@pytest.mark.postgres
def test_the_database_password_is_masked_in_the_start_up_line_logs_and_admin_answers(
    postgres_with_password: str,
    not_served: NotServed,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    assert main(["serve", "--db", postgres_with_password, "--clock", START, "--port", str(free_port())]) == 0
    start_up = capsys.readouterr().out
    assert "postgresql://postgres:***@127.0.0.1" in start_up
    app = not_served.factories[0]()
    context = app.extensions["fibresim.context"]
    try:
        client = app.test_client()
        answers = [client.get(f"/_admin/{path}").get_data(as_text=True) for path in ("health", "profile")]

        def broken() -> Any:
            raise RuntimeError(f"lost {postgres_with_password}")  # a driver message quoting the URL

        monkeypatch.setattr(context.database, "reading", broken)
        failed = client.get("/_admin/health")
        assert failed.status_code == 500
        answers.append(failed.get_data(as_text=True))
    finally:
        close_app(app)
    assert "postgres:***@" in answers[-1]
    shown = " ".join([start_up, caplog.text, repr(app.extensions["fibresim.settings"]), *answers])
    assert "pg-Secret-9w" not in shown


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://someone:pg-Secret-9w@127.0.0.1:{port}/db",
        "postgresql://someone:pg-Secret-9w@host:noport/db",
    ],
)
def test_an_unreachable_database_is_named_with_its_password_masked(
    url: str, not_served: NotServed, capsys: pytest.CaptureFixture[str]
) -> None:
    line = one_line_refusal(capsys, "serve", "--db", url.format(port=free_port()), "--port", str(free_port()))
    assert line.startswith("fibresim: cannot open database postgresql://someone:***@")
    assert "pg-Secret-9w" not in line


def test_the_receiver_accepts_the_client_secret_from_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = NotServed()
    monkeypatch.setattr(serving, "serve", fake)
    secret = tmp_path / "secret"
    secret.write_text("receiver-secret-Kp2\n")
    assert main(["receiver", "--port", str(free_port()), "--client-secret-file", str(secret)]) == 0
    client = fake.factories[0]().test_client()
    form = {"grant_type": "client_credentials"}
    token = "/auth/supplier/access-token"
    assert (
        client.post(token, data=form, auth=("supplier-client-id", "receiver-secret-Kp2")).status_code == 200
    )
    assert (
        client.post(token, data=form, auth=("supplier-client-id", "supplier-client-secret")).status_code
        == 400
    )
    assert "receiver-secret-Kp2" not in capsys.readouterr().out


def test_serving_beyond_loopback_without_an_admin_token_is_refused(
    not_served: NotServed, capsys: pytest.CaptureFixture[str]
) -> None:
    # Refused before anything listens: no socket is bound beyond loopback.
    line = one_line_refusal(capsys, "serve", "--host", "0.0.0.0")
    assert line.startswith("fibresim: --host 0.0.0.0 exposes the admin API: give --admin-token-file")
    assert not_served.factories == []


@pytest.mark.parametrize(
    ("host", "token", "refused"),
    [
        ("127.0.0.1", None, False),
        ("localhost", None, False),
        ("::1", None, False),
        ("127.0.0.2", None, False),
        ("0.0.0.0", None, True),
        ("::", None, True),
        ("192.0.2.10", None, True),
        ("example.test", None, True),
        ("0.0.0.0", "a-token", False),
    ],
)
def test_the_admin_api_is_exposed_only_with_a_token(host: str, token: str | None, refused: bool) -> None:
    if refused:
        with pytest.raises(ConfigurationError, match="exposes the admin API"):
            check_admin_exposure(host, token)
    else:
        check_admin_exposure(host, token)


def test_the_start_line_says_how_callers_authenticate(
    not_served: NotServed, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--clock", START, "--port", str(free_port()), "--auth", "oauth2"]) == 0
    assert "auth oauth2, admin API open" in capsys.readouterr().out


def test_the_start_line_links_to_the_dashboard(
    not_served: NotServed, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    assert main(["serve", "--clock", START, "--port", str(port)]) == 0
    assert f"dashboard: http://127.0.0.1:{port}/_admin/ui/" in capsys.readouterr().out
