"""Mutual TLS: with a client CA, only a client holding a certificate that CA issued is served.

Certificates are made with the openssl command for each test run; the server listens on
127.0.0.1 only.
"""

from __future__ import annotations

import shutil
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from simulator.cli import main
from simulator.composition import close_app, create_app
from simulator.serving import Tls, ssl_context
from simulator.settings import Settings
from tests.conftest import START, address_query, gateway_headers
from tests.pki import issue_ca, issue_certificate
from tests.served import serve_wsgi

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA, a server certificate for 127.0.0.1, a client it issued, and a client another CA issued."""
    folder = tmp_path_factory.mktemp("pki")
    issue_ca(folder, "ca")
    issue_ca(folder, "stranger-ca")
    issue_certificate(folder, "ca", "server", "subjectAltName=IP:127.0.0.1")
    issue_certificate(folder, "ca", "client", "extendedKeyUsage=clientAuth")
    issue_certificate(folder, "stranger-ca", "stranger", "extendedKeyUsage=clientAuth")
    return folder


@pytest.fixture
def served(pki: Path) -> Iterator[str]:
    app = create_app(Settings(database=":memory:", clock=f"manual@{START}", background=False, auth="mtls"))
    tls = Tls(str(pki / "server.pem"), str(pki / "server.key"), str(pki / "ca.pem"))
    try:
        with serve_wsgi(app, ssl_context(tls)) as base:
            yield base
    finally:
        close_app(app)


def _client(pki: Path, name: str | None) -> httpx.Client:
    context = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    if name is not None:
        context.load_cert_chain(str(pki / f"{name}.pem"), str(pki / f"{name}.key"))
    return httpx.Client(verify=context, timeout=10)


def _availability(client: httpx.Client, base: str) -> httpx.Response:
    return client.get(
        f"{base}/service-availability", params=address_query("100000000002"), headers=gateway_headers()
    )


def test_a_client_with_a_certificate_the_ca_issued_is_served(pki: Path, served: str) -> None:
    with _client(pki, "client") as client:
        assert _availability(client, served).status_code == 200


@pytest.mark.parametrize("name", [None, "stranger"])
def test_a_client_without_a_trusted_certificate_is_refused_in_the_handshake(
    pki: Path, served: str, name: str | None
) -> None:
    with _client(pki, name) as client, pytest.raises(httpx.TransportError):
        _availability(client, served)


def test_mtls_without_the_tls_files_is_refused_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--db", ":memory:", "--auth", "mtls"]) == 2
    error = capsys.readouterr().err.strip()
    assert error == (
        "fibresim: --auth mtls needs --tls-cert, --tls-key and a client CA "
        "(--tls-client-ca or the profile's auth/clientCa)"
    )


def test_tls_files_that_cannot_be_read_are_refused_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = str(tmp_path / "missing.pem")
    assert main(["serve", "--db", ":memory:", "--tls-cert", missing, "--tls-key", missing]) == 2
    assert capsys.readouterr().err.startswith("fibresim: cannot use the TLS files: ")
