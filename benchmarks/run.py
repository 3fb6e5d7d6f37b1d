"""The benchmark harness: every figure of the README's performance table in one run.

    python -m benchmarks.run [--seconds 10] [--connections 16] [--wrk-threads 1]
                             [--server granian] [--workers N] [--threads 8]
                             [--db sqlite|postgres] [--estate 100000]
                             [--sections hot,auth,journal,writes,kci,scale,replicas]
                             [--scale-sizes 10000,100000,1000000]

In one run, with the same server settings for all (``--server``, ``--workers``,
``--threads``, passed to ``fibresim serve`` and to ``benchmarks.baseline_apps``):

* **baselines**: a bare WSGI callable (the Python ceiling) and a Flask hello-JSON (where a
  canned-stub mock server stands);
* **hot**: ``GET /service-availability`` and ``GET /available-appointments``, once at one
  address and once spread over the estate, auth off;
* **auth**: the same spread over the estate with ``--auth oauth2`` and a bearer token;
* **journal**: availability spread and orders again with ``--journal off`` and
  ``--journal errors`` (the rows above run with the default, ``all``);
* **writes**: ``POST /appointments`` and ``POST /service-orders``, each request a distinct
  valid body (unique ids, addresses spread over the estate; ``wrk_bodies.lua``);
* **kci**: the orders just placed are moved on an hour, then fibresim is restarted with
  ``--kci-url`` at a bare sink answering 204 (``benchmarks.sink``), and the KCIs delivered
  per second are timed from the first to the last the sink receives;
* **scale**: start-up time (first start, which seeds the estate's live services, and a
  restart) and resident memory per worker after a spread load, at each estate size;
* **replicas**: one and two ``fibresim serve`` processes on one throwaway PostgreSQL; wrk
  cannot balance, so two replicas are driven by one wrk each, concurrently, with half the
  connections each, and their rates added (latencies: the worse of the two).

The load generator is wrk (``apt-get install wrk``), a compiled one, on the same machine;
every run is bounded by ``--seconds`` and every server started is stopped. The exact wrk
commands are printed at the end. A section whose server option or database is not there
(an option this fibresim lacks, no PostgreSQL binaries) is skipped with the reason.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from benchmarks.loads import COMMANDS, Figures, Load, combined, wrk
from benchmarks.servers import Running, ServerOptions, ServerUnavailable, baseline, fibresim, unsupported
from benchmarks.sink import sink
from benchmarks.workload import (
    HEADERS,
    START,
    Orderable,
    availability_lines,
    order_lines,
    orderable,
    profile_with_estate,
    query,
    reservation_lines,
    slots_lines,
    write_lines,
)

SECTIONS = ("hot", "auth", "journal", "writes", "kci", "scale", "replicas")
ONE_ADDRESS = {"id": "100000000004", "type": "UPRN"}


@dataclass
class Report:
    """Everything measured, printed at the end as markdown tables."""

    rows: list[tuple[str, Figures]] = field(default_factory=list)
    kci: list[str] = field(default_factory=list)
    scale: list[str] = field(default_factory=list)
    replicas: list[tuple[str, Figures]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def skip(self, section: str, reason: str) -> None:
        """Note a section that did not run, and why."""
        self.notes.append(f"{section}: skipped, {reason}")
        print(f"  {section}: skipped, {reason}", file=sys.stderr)


def progress(text: str) -> None:
    """A line on stderr while the harness runs (the report goes to stdout)."""
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


@contextmanager
def database(kind: str, server_url: str | None, folder: Path, name: str) -> Iterator[str]:
    """A fresh database for one server: an SQLite file in ``folder`` or a new PostgreSQL database."""
    if kind == "sqlite":
        yield str(folder / f"{name}.sqlite3")
        return
    from tests.postgres import fresh_database

    assert server_url is not None
    with fresh_database(server_url) as url:
        yield url


@contextmanager
def postgres(kind: str) -> Iterator[str | None]:
    """A throwaway PostgreSQL server when ``kind`` asks for one (``None`` when none can be had)."""
    if kind != "postgres":
        yield None
        return
    from tests.postgres import postgres_server

    with postgres_server() as url:
        yield url


def bearer_token(base: str) -> str:
    """An access token for the demo profile's gateway client."""
    form = {"grant_type": "client_credentials", "client_id": "demo-gateway", "client_secret": "demo-secret"}
    answer = httpx.post(base + "/auth/access-token", data=form, timeout=10)
    answer.raise_for_status()
    token: str = answer.json()["access_token"]
    return token


def first_slots(base: str, address: Orderable) -> list[dict[str, str]]:
    """The provide slots the simulator offers at ``address`` (the grid every FTTP address shares)."""
    params = query(
        address={"id": address.uprn, "type": "UPRN"},
        serviceSpecification={"id": address.specification},
        appointmentPurpose="PROVIDE",
    )
    answer = httpx.get(f"{base}/available-appointments?{params}", headers=HEADERS, timeout=10)
    answer.raise_for_status()
    slots: list[dict[str, str]] = answer.json()["availableTimeslots"]
    return slots


class Harness:
    """One run: the options, the files it writes, and the report it fills."""

    def __init__(self, args: argparse.Namespace, folder: Path) -> None:
        self.args = args
        self.folder = folder
        self.load = Load(args.seconds, args.connections, args.wrk_threads)
        self.options = ServerOptions(args.server, args.workers, args.threads)
        self.report = Report()
        self.profile = profile_with_estate(folder, args.estate)
        progress(f"choosing orderable addresses from an estate of {args.estate:,}")
        self.addresses = orderable(self.profile)
        fttp = [a for a in self.addresses if a.specification == "FTTP"]
        self.fttp = fttp[0]
        self.lines = {
            "availability": write_lines(folder / "availability-lines", availability_lines(self.addresses)),
            "slots": write_lines(folder / "slots-lines", slots_lines(self.addresses)),
            "orders": write_lines(folder / "order-bodies", order_lines(self.addresses)),
        }

    def measure(self, name: str, url: str, headers: dict[str, str] | None = None, **options: Any) -> Figures:
        """Run one measured load (see :func:`benchmarks.loads.wrk`), note it, and show it at once."""
        progress(f"{name} ...")
        figures = wrk(name, url, self.load, headers, **options)
        self.report.rows.append((name, figures))
        progress(f"  {figures.rate:,.0f} req/s, p99 {figures.p99_ms:.1f} ms, failed {figures.failed}")
        return figures

    def warm(self, url: str, headers: dict[str, str] | None = None, **options: Any) -> None:
        """One second of load that is not measured (nor stated among the commands)."""
        wrk("warm-up", url, self.load, headers, seconds=1, **options)
        COMMANDS.pop()

    def simulator_args(self, db: str, *extra: str, profile: Path | None = None) -> list[str]:
        """``fibresim serve`` options for a run on ``db``."""
        return ["--db", db, "--clock", f"manual@{START}", "--profile", str(profile or self.profile), *extra]

    def hot(self, base: str, label: str, headers: dict[str, str]) -> None:
        """Availability and slots: at one address, and spread over the estate."""
        one = {"address": ONE_ADDRESS}
        cases = [
            ("GET /service-availability, one address", f"/service-availability?{query(**one)}", None),
            (
                "GET /available-appointments, one address",
                "/available-appointments?"
                + query(**one, serviceSpecification={"id": "FTTP"}, appointmentPurpose="PROVIDE"),
                None,
            ),
            ("GET /service-availability, spread", "/", ("GET", "-", self.lines["availability"], 0)),
            ("GET /available-appointments, spread", "/", ("GET", "-", self.lines["slots"], 0)),
        ]
        if label:
            cases = cases[2:]
        for name, path, varied in cases:
            self.warm(base + path, headers, varied=varied)
            self.measure(f"{name}{label}", base + path, headers, varied=varied)

    def writes(self, base: str) -> None:
        """Reservations and orders, each request a distinct valid body."""
        slots = first_slots(base, self.fttp)
        bodies = write_lines(self.folder / "reservation-bodies", reservation_lines(self.addresses, slots))
        for name, path, lines in (
            ("POST /appointments (reservations)", "/appointments", bodies),
            ("POST /service-orders (orders)", "/service-orders", self.lines["orders"]),
        ):
            self.measure(name, base + path, HEADERS, varied=("POST", path, lines, 1))

    def run(self) -> None:
        """Every section asked for, in order."""
        sections = set(self.args.sections.split(","))
        why = unsupported(self.options)
        if why is not None:
            self.report.skip("every section", why)
            return
        with ExitStack() as stack:
            pg_url = stack.enter_context(postgres(self.args.db))
            if self.args.db == "postgres" and pg_url is None:
                self.report.skip(
                    "every section", "--db postgres, but no PostgreSQL binaries (apt-get install postgresql)"
                )
                return
            self.baselines()
            if sections & {"hot", "writes", "kci"}:
                self.main_server(sections, pg_url)
            if "auth" in sections:
                self.auth(pg_url)
            if "journal" in sections:
                self.journal(pg_url)
            if "scale" in sections:
                self.scale(pg_url)
        if "replicas" in sections:
            self.replicas()

    def baselines(self) -> None:
        """The bare WSGI callable and the Flask hello-JSON, on the same server settings."""
        for app, name in (("bare", "bare WSGI callable"), ("flask", "Flask hello-JSON")):
            with baseline(app, self.options) as served:
                self.warm(served.base + "/")
                self.measure(name, served.base + "/")

    def main_server(self, sections: set[str], pg_url: str | None) -> None:
        """Hot paths and writes on one server; then the KCIs those orders made."""
        with database(self.args.db, pg_url, self.folder, "main") as db:
            with fibresim(self.options, *self.simulator_args(db)) as served:
                if "hot" in sections:
                    self.hot(served.base, "", HEADERS)
                if sections & {"writes", "kci"}:
                    self.writes(served.base)
                if "kci" in sections:
                    progress("moving the clock on an hour: the orders' scripts issue their KCIs")
                    began = time.monotonic()
                    moved = httpx.post(
                        served.base + "/_admin/clock/advance", json={"by": "PT1H"}, timeout=600
                    )
                    moved.raise_for_status()
                    applied = moved.json().get("applied", {})
                    self.report.kci.append(
                        f"| clock advance (1 h) over the orders placed | {time.monotonic() - began:.1f} s | "
                        f"{applied.get('kcisIssued', '?')} KCIs issued |"
                    )
                    now = moved.json()["now"]
            if "kci" in sections:
                self.kci(db, now)

    def kci(self, db: str, now: str) -> None:
        """Restart with ``--kci-url`` at the sink; time the outbox draining."""
        from simulator.storage import Database, outbox

        store = Database(db)
        try:
            with store.reading() as connection:
                pending = outbox.pending_count(connection)
            if pending == 0:
                self.report.skip("kci", "no KCI pending after the orders (did the orders run fail?)")
                return
            progress(f"delivering {pending:,} pending KCIs to a 204 sink ...")
            with sink() as (url, tally):
                args = [
                    "--db",
                    db,
                    "--clock",
                    f"manual@{now}",
                    "--profile",
                    str(self.profile),
                    "--kci-url",
                    url,
                ]
                with fibresim(self.options, *args) as served:
                    deadline = time.monotonic() + self.args.kci_seconds
                    while time.monotonic() < deadline:
                        time.sleep(0.2)
                        with store.reading() as connection:
                            if outbox.pending_count(connection) == 0:
                                break
                    with store.reading() as connection:
                        left = outbox.pending_count(connection)
                    started_in = served.started_in
            rate = tally.rate()
            self.report.kci.append(
                f"| KCI dispatch to a 204 sink | **{rate:,.0f} KCIs/s** | {tally.count:,} delivered "
                f"of {pending:,} pending, {left:,} left after {self.args.kci_seconds} s at most; "
                f"server up in {started_in:.1f} s |"
            )
            progress(f"  {rate:,.0f} KCIs/s")
        finally:
            store.dispose()

    def auth(self, pg_url: str | None) -> None:
        """Availability and slots spread over the estate with OAuth2 bearer tokens checked."""
        with (
            database(self.args.db, pg_url, self.folder, "auth") as db,
            fibresim(self.options, *self.simulator_args(db, "--auth", "oauth2")) as served,
        ):
            headers = {**HEADERS, "Authorization": f"Bearer {bearer_token(served.base)}"}
            self.hot(served.base, ", auth oauth2", headers)

    def journal(self, pg_url: str | None) -> None:
        """Availability spread and orders with the journal off and errors-only: what keeping it costs."""
        for mode in ("off", "errors"):
            with (
                database(self.args.db, pg_url, self.folder, f"journal-{mode}") as db,
                fibresim(self.options, *self.simulator_args(db, "--journal", mode)) as served,
            ):
                url = served.base + "/"
                self.warm(url, HEADERS, varied=("GET", "-", self.lines["availability"], 0))
                self.measure(
                    f"GET /service-availability, spread, journal {mode}",
                    url,
                    HEADERS,
                    varied=("GET", "-", self.lines["availability"], 0),
                )
                self.measure(
                    f"POST /service-orders (orders), journal {mode}",
                    served.base + "/service-orders",
                    HEADERS,
                    varied=("POST", "/service-orders", self.lines["orders"], 1),
                )

    def scale(self, pg_url: str | None) -> None:
        """Start-up time and memory per worker at each estate size."""
        for size in (int(value) for value in self.args.scale_sizes.split(",")):
            profile = profile_with_estate(self.folder, size)
            lines = write_lines(self.folder / f"scale-{size}", availability_lines(orderable(profile, 5_000)))
            with database(self.args.db, pg_url, self.folder, f"scale-{size}") as db:
                progress(f"estate of {size:,}: first start ...")
                try:
                    with fibresim(
                        self.options, *self.simulator_args(db, profile=profile), timeout=900
                    ) as served:
                        first = served.started_in
                        wrk(
                            f"scale {size}",
                            served.base + "/",
                            self.load,
                            HEADERS,
                            varied=("GET", "-", lines, 0),
                            seconds=3,
                        )
                        COMMANDS.pop()
                        rss = served.worker_rss_mb()
                    with fibresim(self.options, *self.simulator_args(db, profile=profile)) as again:
                        restart = again.started_in
                except ServerUnavailable as error:
                    self.report.skip(f"scale {size}", str(error))
                    continue
            shown = ", ".join(f"{value:.0f}" for value in rss) or "?"
            self.report.scale.append(f"| {size:,} | {first:.1f} s | {restart:.1f} s | {shown} |")
            progress(f"  first start {first:.1f} s, restart {restart:.1f} s, RSS {shown} MiB")

    def replicas(self) -> None:
        """One and two replicas on one throwaway PostgreSQL, availability spread and orders."""
        with postgres("postgres") as pg_url:
            if pg_url is None:
                self.report.skip("replicas", "no PostgreSQL binaries (apt-get install postgresql)")
                return
            for count in (1, 2):
                with database("postgres", pg_url, self.folder, "") as db, ExitStack() as stack:
                    try:
                        served: list[Running] = [
                            stack.enter_context(fibresim(self.options, *self.simulator_args(db)))
                            for _ in range(count)
                        ]
                    except ServerUnavailable as error:
                        self.report.skip(f"{count} replica(s)", str(error))
                        return
                    per = max(1, self.load.connections // count)
                    for name, method, path, lines, first_id in (
                        ("GET /service-availability, spread", "GET", "-", self.lines["availability"], 0),
                        ("POST /service-orders (orders)", "POST", "/service-orders", self.lines["orders"], 1),
                    ):
                        label = f"{name}, {count} replica{'s' if count > 1 else ''} on PostgreSQL"
                        progress(f"{label} ...")
                        runs = [
                            partial(
                                wrk,
                                label,
                                replica.base + "/",
                                self.load,
                                HEADERS,
                                # Each replica's wrk its own id range: the orders stay distinct.
                                varied=(method, path, lines, first_id + number * 10**9),
                                connections=per,
                            )
                            for number, replica in enumerate(served)
                        ]
                        with ThreadPoolExecutor(count) as pool:
                            parts = list(pool.map(lambda run: run(), runs))
                        figures = combined(label, parts)
                        self.report.replicas.append((label, figures))
                        progress(f"  {figures.rate:,.0f} req/s")

    def print(self) -> None:
        """The report, as markdown."""
        rows = self.report.rows
        bare = next((f.rate for n, f in rows if n == "bare WSGI callable"), None)
        hello = next((f.rate for n, f in rows if n == "Flask hello-JSON"), None)
        print(f"\n## fibresim benchmark, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")
        print(
            f"- machine: {os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable), "
            f"{platform.processor() or platform.machine()}, load average "
            f"{' '.join(f'{x:.1f}' for x in os.getloadavg())} at the end; wrk on the same machine"
        )
        print(f"- server (fibresim and both baselines): {self.options.describe()}; database: {self.args.db}")
        print(
            f"- load: wrk -t{self.load.threads} -c{self.load.connections} -d{self.load.seconds}s; "
            f"estate of {self.args.estate:,} addresses; Python {platform.python_version()}\n"
        )
        header = "| endpoint | req/s | p50 ms | p99 ms | max ms | vs bare | vs Flask | failed |"
        print(header + "\n|---|---:|---:|---:|---:|---:|---:|---:|")
        for name, f in rows:
            vs_bare = f"{f.rate / bare:.2f}" if bare else "-"
            vs_hello = f"{f.rate / hello:.2f}" if hello else "-"
            print(
                f"| {name} | {f.rate:,.0f} | {f.p50_ms:.1f} | {f.p99_ms:.1f} | {f.max_ms:.0f} | "
                f"{vs_bare} | {vs_hello} | {f.failed} |"
            )
        if self.report.kci:
            print("\n| KCI dispatch | figure | detail |\n|---|---:|---|")
            print("\n".join(self.report.kci))
        if self.report.scale:
            print("\n| estate addresses | first start (seeds) | restart | RSS per worker, MiB |")
            print("|---:|---:|---:|---|")
            print("\n".join(self.report.scale))
        if self.report.replicas:
            print(
                "\nReplicas: one wrk per replica, concurrently, connections split evenly; rates added, "
                "latencies the worse of the two.\n"
            )
            print(header.replace(" vs bare | vs Flask |", "") + "\n|---|---:|---:|---:|---:|---:|")
            for name, f in self.report.replicas:
                latency = f"{f.p50_ms:.1f} | {f.p99_ms:.1f} | {f.max_ms:.0f}"
                print(f"| {name} | {f.rate:,.0f} | {latency} | {f.failed} |")
        for note in self.report.notes:
            print(f"\n- {note}")
        print("\nwrk commands (BODIES/LINES files are generated per run by benchmarks.workload):\n")
        for command in COMMANDS:
            print(f"    {command}")


def main() -> None:
    """Parse the options, run every section asked for, print the report."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per run (default 10)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument(
        "--server", default="granian", help="fibresim serve --server for all (default granian, as serve)"
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="worker processes for all (default: the server's)"
    )
    parser.add_argument("--threads", type=int, default=8, help="threads per worker for all (default 8)")
    parser.add_argument(
        "--db", choices=("sqlite", "postgres"), default="sqlite", help="database (default sqlite)"
    )
    parser.add_argument(
        "--estate", type=int, default=100_000, help="estate size of the load runs (default 100000)"
    )
    parser.add_argument(
        "--sections", default=",".join(SECTIONS), help=f"comma-separated, of {','.join(SECTIONS)}"
    )
    parser.add_argument(
        "--scale-sizes", default="10000,100000,1000000", help="estate sizes of the scale section"
    )
    parser.add_argument(
        "--kci-seconds", type=int, default=60, help="longest wait for the outbox to drain (default 60)"
    )
    args = parser.parse_args()
    unknown = set(args.sections.split(",")) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    with tempfile.TemporaryDirectory(prefix="fibresim-bench-") as folder:
        harness = Harness(args, Path(folder))
        try:
            harness.run()
        finally:
            harness.print()


if __name__ == "__main__":
    main()
