"""The dashboard's first paint with a 1 M-address estate and 10 k orders loaded.

    python -m benchmarks.dashboard_first_paint [--addresses 1000000] [--orders 10000] [--runs 5]

Builds a database (SQLite file) for the demo profile with its estate grown to
``--addresses`` UPRNs (the estate's live services seeded as on a first start), places one
order through the Supplier API and copies it ``--orders`` times straight into the tables
(the storage layer's own rows, so every page reads what a long day of orders would leave),
then serves it with ``fibresim serve`` on loopback and opens dashboard pages in headless
Chromium (Debian's ``/usr/bin/chromium``, through Playwright; see ``tests/browser.py``).

Prints, per page, Chromium's paint timing (``first-contentful-paint``, from navigation start;
the page is server-rendered, so that is the page with its data) as the median and worst of
``--runs`` fresh loads. The target is under a second for the overview. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from simulator.composition import close_app, create_app
from simulator.settings import Settings
from simulator.storage.tables import order_history, orders
from tests.browser import chromium, chromium_missing
from tests.orders_support import provide
from tests.served import served_simulator

CLOCK = "manual@2026-07-01T09:00:00Z"
DEMO = Path(__file__).resolve().parents[1] / "scenarios" / "profiles" / "demo.yaml"
FIRST_UPRN = 200_000_000_000  # the demo estate's first UPRN
STATUSES = ("ACKNOWLEDGED", "IN_PROGRESS", "COMPLETED", "CANCELLED")
TENANTS = ("TENANT1", "TENANT2", "TENANT3")
BATCH = 2_000


def estate_profile(directory: Path, addresses: int) -> Path:
    """The demo profile with its estate grown to ``addresses`` UPRNs."""
    text = DEMO.read_text("utf-8")
    assert "\n  size: 10000\n" in text, "the demo profile's estate size moved; update the benchmark"
    path = directory / "estate.yaml"
    path.write_text(text.replace("\n  size: 10000\n", f"\n  size: {addresses}\n"), "utf-8")
    return path


def seed(profile: Path, database: str, count: int) -> None:
    """Open the database (seeding the estate), place one order, and copy it ``count`` times."""
    started = time.perf_counter()
    app = create_app(Settings(profile=str(profile), database=database, clock=CLOCK, background=False))
    print(f"estate seeded in {time.perf_counter() - started:.1f} s")
    try:
        headers = {"X-Request-ID": str(uuid.uuid4()), "X-Conversation-ID": "bench", "Tenant": "TENANT1"}
        placed = app.test_client().post("/service-orders", json=provide(1), headers=headers)
        assert placed.status_code == 201, placed.get_data(as_text=True)
        started = time.perf_counter()
        with app.extensions["fibresim.context"].database.transaction() as connection:
            template: dict[str, Any] = dict(connection.execute(select(orders)).mappings().one())
            history = [dict(row) for row in connection.execute(select(order_history)).mappings()]
            for first in range(0, count, BATCH):
                rows, events = [], []
                for n in range(first + 2, min(first + BATCH, count) + 2):
                    tenant = TENANTS[n % len(TENANTS)]
                    key = str(n)
                    rows.append(
                        template
                        | {
                            "tenant": tenant,
                            "order_key": key,
                            "gateway_id": n,
                            "supplier_reference": f"SO-{n:09d}",
                            "status": STATUSES[n % len(STATUSES)],
                            "address_id": str(FIRST_UPRN + n * 97 % 1_000_000),
                            "created_at": template["created_at"].replace(microsecond=n % 1_000_000),
                        }
                    )
                    events += [
                        {k: v for k, v in event.items() if k != "id"} | {"tenant": tenant, "order_key": key}
                        for event in history
                    ]
                connection.execute(insert(orders), rows)
                connection.execute(insert(order_history), events)
        print(f"{count} orders copied in {time.perf_counter() - started:.1f} s")
    finally:
        close_app(app)


PAINT = """() => {
  const paint = performance.getEntriesByType('paint').find(e => e.name === 'first-contentful-paint');
  return paint ? paint.startTime : null;
}"""


def first_paints(base: str, path: str, runs: int) -> list[float]:
    """Chromium's first-contentful-paint of ``path``, in ms, over ``runs`` fresh loads."""
    figures = []
    with chromium() as browser:
        for _ in range(runs):
            context = browser.new_context(viewport={"width": 1366, "height": 900})
            page = context.new_page()
            page.goto(base + path, wait_until="load")
            page.wait_for_function(PAINT, timeout=10_000)
            figures.append(float(page.evaluate(PAINT)))
            context.close()
    return figures


def main() -> int:
    """Build the database, serve it, and print the first paint of the dashboard's pages."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addresses", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    missing = chromium_missing()
    if missing is not None:
        print(f"cannot measure: {missing}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as work:
        profile = estate_profile(Path(work), args.addresses)
        database = str(Path(work) / "bench.sqlite3")
        seed(profile, database, args.orders)
        with served_simulator("--profile", str(profile), "--db", database, "--clock", CLOCK) as base:
            print(f"\ndashboard first paint, {args.addresses:,} addresses and {args.orders + 1:,} orders:")
            for label, path in (
                ("overview", "/_admin/ui/"),
                ("orders, page 1", "/_admin/ui/orders"),
                ("orders, page 200", "/_admin/ui/orders?page=200"),
                ("orders of one tenant and status", "/_admin/ui/orders?tenant=TENANT2&status=COMPLETED"),
                ("order timeline", "/_admin/ui/orders/1?tenant=TENANT1"),
                ("address", f"/_admin/ui/addresses?address={FIRST_UPRN + 500_000}"),
                ("journal", "/_admin/ui/journal"),
            ):
                figures = first_paints(base, path, args.runs)
                print(
                    f"  {label:34} median {statistics.median(figures):6.0f} ms   worst {max(figures):6.0f} ms"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
