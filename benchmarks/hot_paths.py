"""Throughput and latency of the hot paths against a bare endpoint on the same served simulator.

    python -m benchmarks.hot_paths [--requests 3000] [--clients 8] [--db :memory:]

Starts ``fibresim serve`` (gunicorn, one process, threads) on a free loopback port, sends a
fixed number of requests per endpoint from a bounded pool of clients, prints requests per
second, p50/p95/p99 latency and each hot path's throughput as a ratio of the bare
endpoint's, then stops the server. Every loop is bounded; nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx

from tests.served import served_simulator

HEADERS = {"X-Request-ID": "bench", "X-Conversation-ID": "bench", "Tenant": "TENANT1"}


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    latencies: list[float]
    failures: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def availability_query(rng: random.Random) -> dict[str, str]:
    uprn = rng.choice(
        [f"10000000000{n}" for n in range(1, 6)] + [str(200_000_000_000 + rng.randrange(10_000))]
    )
    return {"address": json.dumps({"id": uprn, "type": "UPRN"})}


def appointments_query(rng: random.Random) -> dict[str, str]:
    return {
        "address": json.dumps({"id": rng.choice(["100000000002", "100000000004"]), "type": "UPRN"}),
        "serviceSpecification": json.dumps({"id": "FTTP"}),
        "appointmentPurpose": "PROVIDE",
    }


def run(
    base: str,
    name: str,
    path: str,
    query: Callable[[random.Random], dict[str, str]],
    total: int,
    clients: int,
) -> Result:
    per_client = total // clients

    def client_loop(seed: int) -> tuple[list[float], int]:
        rng = random.Random(seed)
        latencies, failures = [], 0
        with httpx.Client(base_url=base, headers=HEADERS, timeout=30) as client:
            for _ in range(per_client):
                started = time.perf_counter()
                response = client.get(path, params=query(rng))
                latencies.append(time.perf_counter() - started)
                failures += response.status_code != 200
        return latencies, failures

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        outcomes = list(pool.map(client_loop, range(clients)))
    seconds = time.perf_counter() - started
    latencies = [value for lats, _ in outcomes for value in lats]
    return Result(name, per_client * clients, seconds, latencies, sum(f for _, f in outcomes))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=3000, help="requests per endpoint (default 3000)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument(
        "--db", default=f"/tmp/fibresim-bench-{uuid.uuid4().hex[:8]}.sqlite3", help="database"
    )
    args = parser.parse_args()
    with served_simulator("--db", args.db, "--clock", "manual@2026-07-01T09:00:00Z") as base:
        cases = [
            ("bare /_admin/ping", "/_admin/ping", lambda _rng: {}),
            ("GET /service-availability", "/service-availability", availability_query),
            ("GET /available-appointments", "/available-appointments", appointments_query),
        ]
        run(base, "warm-up", "/service-availability", availability_query, 200, 4)
        results = [run(base, name, path, query, args.requests, args.clients) for name, path, query in cases]
    bare = results[0].rate
    print(
        f"{'endpoint':32} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'vs bare':>8} {'errors':>7}"
    )
    for result in results:
        p50, p95, p99 = (result.percentile(q) for q in (0.5, 0.95, 0.99))
        print(
            f"{result.name:32} {result.rate:8.0f} {p50:8.2f} {p95:8.2f} {p99:8.2f} "
            f"{result.rate / bare:8.2f} {result.failures:7d}"
        )
    print(f"mean latency of the bare endpoint: {statistics.mean(results[0].latencies) * 1000:.2f} ms")


if __name__ == "__main__":
    main()
