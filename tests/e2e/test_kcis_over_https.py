"""KCIs reach a gateway served over HTTPS, whose certificate the KCI client checks."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import gateway_headers
from tests.orders_support import provide
from tests.pki import issue_ca, issue_certificate
from tests.served import free_port, served_simulator

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command"),
]

CLOCK = "manual@2026-07-01T09:00:00Z"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA and a server certificate it issued for 127.0.0.1."""
    folder = tmp_path_factory.mktemp("pki")
    issue_ca(folder, "ca")
    issue_certificate(folder, "ca", "gateway", "subjectAltName=IP:127.0.0.1")
    return folder


def trusting(pki: Path) -> ssl.SSLContext:
    """A client context that trusts the test CA."""
    return ssl.create_default_context(cafile=str(pki / "ca.pem"))


@contextmanager
def https_receiver(pki: Path) -> Iterator[str]:
    """``fibresim receiver`` over HTTPS on a loopback port; its base URL once it answers."""
    port = free_port()
    command = [sys.executable, "-m", "simulator.cli", "receiver", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--tls-cert", str(pki / "gateway.pem"), "--tls-key", str(pki / "gateway.key")]
    base = f"https://127.0.0.1:{port}"
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/_receiver/health", verify=trusting(pki)).raise_for_status()
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def _play_one_order(simulator: str) -> list[str]:
    answer = httpx.post(f"{simulator}/service-orders", json=provide(3101), headers=gateway_headers())
    assert answer.status_code == 201, answer.text
    httpx.post(f"{simulator}/_admin/clock/advance", json={"by": "PT10M"}).raise_for_status()
    return [entry["kciId"] for entry in httpx.get(f"{simulator}/_admin/orders/3101/kcis").json()]


def _outbox(simulator: str) -> list[dict[str, object]]:
    entries: list[dict[str, object]] = httpx.get(f"{simulator}/_admin/orders/3101/kcis").json()
    return entries


def test_with_the_gateways_ca_bundle_kcis_arrive_over_https(pki: Path, tmp_path: Path) -> None:
    with https_receiver(pki) as receiver:
        options = ("--kci-url", receiver, "--kci-ca-bundle", str(pki / "ca.pem"))
        with served_simulator("--db", str(tmp_path / "s.sqlite3"), "--clock", CLOCK, *options) as simulator:
            issued = _play_one_order(simulator)
            deadline = time.monotonic() + 60
            while any(entry["state"] != "DELIVERED" for entry in _outbox(simulator)):
                assert time.monotonic() < deadline, _outbox(simulator)
                time.sleep(0.2)
        arrived = httpx.get(f"{receiver}/_receiver/kcis", verify=trusting(pki)).json()
    assert [kci["id"] for kci in arrived if not kci["duplicate"]] == issued


def test_a_gateway_certificate_no_trusted_ca_issued_is_not_sent_kcis(pki: Path, tmp_path: Path) -> None:
    with https_receiver(pki) as receiver:
        options = ("--kci-url", receiver)  # the system's CAs do not know the test CA
        with served_simulator("--db", str(tmp_path / "s.sqlite3"), "--clock", CLOCK, *options) as simulator:
            _play_one_order(simulator)
            deadline = time.monotonic() + 60
            while not any(entry["attempts"] for entry in _outbox(simulator)):  # type: ignore[misc]
                assert time.monotonic() < deadline, _outbox(simulator)
                time.sleep(0.2)
            first = _outbox(simulator)[0]
        arrived = httpx.get(f"{receiver}/_receiver/kcis", verify=trusting(pki)).json()
    assert arrived == []
    assert first["state"] != "DELIVERED"
    assert "CERTIFICATE_VERIFY_FAILED" in str(first["attemptLog"])


def test_a_ca_bundle_that_is_not_one_is_refused_at_start(tmp_path: Path) -> None:
    bundle = tmp_path / "not-a-bundle.pem"
    bundle.write_text("no certificates here\n")
    command = [sys.executable, "-m", "simulator.cli", "serve", "--port", str(free_port()), "--db", ":memory:"]
    command += ["--kci-url", "https://127.0.0.1:9", "--kci-ca-bundle", str(bundle)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "--kci-ca-bundle" in done.stderr


@pytest.mark.parametrize("option", ["--kci-ca-bundle", "--tls-cert"])
def test_a_pem_option_naming_a_device_is_refused_at_once(option: str, tmp_path: Path) -> None:
    command = [sys.executable, "-m", "simulator.cli", "serve", "--port", str(free_port()), "--db", ":memory:"]
    command += ["--kci-url", "https://127.0.0.1:9", option, "/dev/zero"]
    if option == "--tls-cert":
        command += ["--tls-key", "/dev/zero"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert option in done.stderr
