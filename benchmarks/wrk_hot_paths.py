"""Hot paths against a bare WSGI endpoint and a Flask hello-JSON, all driven by wrk.

    python -m benchmarks.wrk_hot_paths [--seconds 5] [--connections 16] [--threads 1]

Starts, on free loopback ports and with the same server settings (``simulator.serving``):
``fibresim serve`` (SQLite file, manual clock), a bare WSGI callable and a Flask
hello-JSON. Drives each endpoint with wrk (a compiled load generator: install it with
``apt-get install wrk``) for a fixed time, and prints req/s, p50/p99/max latency and the
ratios to both baselines. Every run is bounded by ``--seconds``; nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import base64
import json
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from simulator.serving import default_workers
from tests.served import _wait_until_ready, free_port, served_simulator

HERE = Path(__file__).parent
HEADERS = {"X-Request-ID": "bench", "X-Conversation-ID": "bench", "Tenant": "TENANT1"}


@dataclass(frozen=True)
class Figures:
    """What wrk measured for one endpoint."""

    name: str
    rate: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    non2xx: int


def query(**params: object) -> str:
    """A query string with JSON-encoded values, as the gateway sends them."""
    return urllib.parse.urlencode({k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()})


@contextmanager
def served_baseline(app: str, args: argparse.Namespace) -> Iterator[str]:
    """Serve ``benchmarks.baseline_apps`` ``app`` with the run's server settings; yield its base URL."""
    port = free_port()
    command = [sys.executable, "-m", "benchmarks.baseline_apps", app, "--port", str(port)]
    command += [
        "--threads",
        str(args.server_threads),
        "--server",
        args.server,
        "--workers",
        str(args.workers),
    ]
    with tempfile.TemporaryFile(mode="w+") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, text=True)
        try:
            yield _wait_until_ready(process, log, f"http://127.0.0.1:{port}", "/")
        finally:
            process.terminate()
            process.wait(timeout=10)


def wrk(name: str, url: str, args: argparse.Namespace, headers: dict[str, str]) -> Figures:
    """Run wrk against ``url`` for ``args.seconds``; parse the JSON line of wrk_report.lua."""
    command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.seconds}s", "--timeout", "5s"]
    command += ["-s", str(HERE / "wrk_report.lua")]
    for key, value in headers.items():
        command += ["-H", f"{key}: {value}"]
    output = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True, timeout=args.seconds + 30
    )
    line = next(row for row in output.stdout.splitlines() if row.startswith("{"))
    raw = json.loads(line)
    return Figures(
        name,
        raw["requests"] / (raw["duration_us"] / 1e6),
        raw["p50_us"] / 1000,
        raw["p99_us"] / 1000,
        raw["max_us"] / 1000,
        raw["errors"],
        raw["non2xx"],
    )


def access_token(base: str) -> str:
    """A bearer token of the demo profile's gateway client."""
    form = {"grant_type": "client_credentials", "client_id": "demo-gateway", "client_secret": "demo-secret"}
    token: str = httpx.post(f"{base}/auth/access-token", data=form).json()["access_token"]
    return token


def main() -> None:
    """Run every endpoint once and print the table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=5, help="wrk duration per endpoint (default 5)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument(
        "--server-threads", type=int, default=8, help="server threads for all three (default 8)"
    )
    parser.add_argument("--server", default="granian", help="granian, gunicorn or werkzeug (default granian)")
    parser.add_argument(
        "--workers", type=int, default=default_workers(), help="worker processes (default: one per CPU)"
    )
    parser.add_argument("--auth", default=None, help="fibresim's --auth (default: the profile's)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")

    results: list[Figures] = []
    with served_baseline("bare", args) as bare:
        results.append(wrk("bare WSGI callable", bare + "/", args, {}))
    with served_baseline("flask", args) as hello:
        results.append(wrk("Flask hello-JSON", hello + "/", args, {}))
    with tempfile.TemporaryDirectory() as folder:
        simulator_args = ["--db", f"{folder}/bench.sqlite3", "--clock", "manual@2026-07-01T09:00:00Z"]
        simulator_args += ["--threads", str(args.server_threads), "--server", args.server]
        simulator_args += ["--workers", str(args.workers)]
        headers = dict(HEADERS)
        if args.auth:
            simulator_args += ["--auth", args.auth]
        with served_simulator(*simulator_args) as base:
            if args.auth == "oauth2":
                headers["Authorization"] = "Bearer " + access_token(base)
            elif args.auth == "basic":
                headers["Authorization"] = "Basic " + base64.b64encode(b"demo-gateway:demo-secret").decode()
            address = {"id": "100000000004", "type": "UPRN"}
            cases = [
                ("GET /service-availability", f"/service-availability?{query(address=address)}"),
                (
                    "GET /available-appointments",
                    "/available-appointments?"
                    + query(
                        address=address, serviceSpecification={"id": "FTTP"}, appointmentPurpose="PROVIDE"
                    ),
                ),
            ]
            for name, path in cases:
                wrk("warm-up", base + path, argparse.Namespace(**{**vars(args), "seconds": 1}), headers)
                results.append(wrk(name, base + path, args, headers))

    bare_rate, hello_rate = results[0].rate, results[1].rate
    print(
        f"wrk -t{args.threads} -c{args.connections} -d{args.seconds}s; server: {args.server}, "
        f"{args.workers} worker(s), {args.server_threads} threads each; auth {args.auth or 'profile'}; "
        "loopback; load generator on the same machine"
    )
    columns = ("req/s", "p50 ms", "p99 ms", "max ms", "vs bare", "vs flask", "errors")
    print(f"{'endpoint':30} " + " ".join(f"{column:>8}" for column in columns))
    for row in results:
        print(
            f"{row.name:30} {row.rate:8.0f} {row.p50_ms:8.2f} {row.p99_ms:8.2f} {row.max_ms:8.1f} "
            f"{row.rate / bare_rate:8.2f} {row.rate / hello_rate:8.2f} {row.errors + row.non2xx:8d}"
        )


if __name__ == "__main__":
    main()
