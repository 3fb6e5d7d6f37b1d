"""``fibresim serve`` on its default server (granian, worker processes) with mutual TLS."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import START
from tests.pki import issue_ca, issue_certificate
from tests.served import free_port, stop

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command"),
]


def _client(folder: Path, name: str | None) -> httpx.Client:
    context = ssl.create_default_context(cafile=str(folder / "ca.pem"))
    if name is not None:
        context.load_cert_chain(str(folder / f"{name}.pem"), str(folder / f"{name}.key"))
    return httpx.Client(verify=context, timeout=10)


def test_only_a_client_the_ca_issued_is_served_by_the_worker_processes(tmp_path: Path) -> None:
    issue_ca(tmp_path, "ca")
    issue_ca(tmp_path, "stranger-ca")
    issue_certificate(tmp_path, "ca", "server", "subjectAltName=IP:127.0.0.1")
    issue_certificate(tmp_path, "ca", "client", "extendedKeyUsage=clientAuth")
    issue_certificate(tmp_path, "stranger-ca", "stranger", "extendedKeyUsage=clientAuth")
    port = free_port()
    command = [sys.executable, "-m", "simulator.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--db", str(tmp_path / "s.sqlite3"), "--clock", f"manual@{START}", "--workers", "2"]
    command += ["--tls-cert", str(tmp_path / "server.pem"), "--tls-key", str(tmp_path / "server.key")]
    command += ["--tls-client-ca", str(tmp_path / "ca.pem")]
    base = f"https://127.0.0.1:{port}"
    with tempfile.TemporaryFile(mode="w+") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, text=True)
        try:
            with _client(tmp_path, "client") as trusted:
                deadline = time.monotonic() + 60
                while True:
                    assert process.poll() is None, "fibresim serve exited"
                    try:
                        answer = trusted.get(f"{base}/_admin/health")
                        break
                    except httpx.TransportError:
                        assert time.monotonic() < deadline, "the simulator did not answer within 60 seconds"
                        time.sleep(0.2)
                assert answer.status_code == 200
            for name in (None, "stranger"):
                with _client(tmp_path, name) as refused, pytest.raises(httpx.TransportError):
                    refused.get(f"{base}/_admin/health")
        finally:
            stop(process, grace=15)
