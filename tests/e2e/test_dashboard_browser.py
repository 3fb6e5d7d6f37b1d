"""The dashboard in a real browser: the gateway developer's main story, end to end.

A served simulator (manual clock) delivers KCIs to a served receiver; headless Chromium
(Debian's, via Playwright) watches the dashboard while the test plays the gateway: it
places orders through the Supplier API, moves the clock from the page, makes the receiver
refuse a KCI once and the Supplier API refuse an order once, and sees each failure and its
retry on the page. Screenshots of the main pages go to reports/screenshots/.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.browser import SCREENSHOTS, chromium, chromium_missing
from tests.orders_support import provide
from tests.served import served_command, served_simulator

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.e2e

CLOCK = "manual@2026-07-01T09:00:00Z"
# Every wait on the page is bounded; generously, as the machine may be busy with other tests.
WAIT_MS = 30_000
SINGLE = "100000000002"  # covered, nothing live: 1001 installs its one line
MULTIPLE = "100000000004"  # takes several services: 1002 adds one beside the live line


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium; the test skips without it, unless CI says it must be there."""
    missing = chromium_missing()
    if missing is not None:
        if os.environ.get("FIBRESIM_REQUIRE_BROWSER") == "1":
            pytest.fail(f"FIBRESIM_REQUIRE_BROWSER=1 but {missing}")
        pytest.skip(missing)
    from playwright.sync_api import expect

    expect.set_options(timeout=WAIT_MS)
    with chromium() as running:
        yield running


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(2 * WAIT_MS)
    opened.on("dialog", lambda dialog: dialog.accept())
    yield opened
    context.close()


def place(simulator: str, order_id: int, uprn: str) -> httpx.Response:
    """The gateway's call: a provide order through the Supplier API."""
    headers = {"X-Request-ID": str(uuid.uuid4()), "X-Conversation-ID": str(uuid.uuid4()), "Tenant": "TENANT1"}
    body = provide(order_id, uprn)
    return httpx.post(f"{simulator}/service-orders", json=body, headers=headers, timeout=10)


UNLABELLED = """() => Array.from(document.querySelectorAll('input, select, textarea, button'))
  .filter(el => el.type !== 'hidden')
  .filter(el => el.tagName === 'BUTTON' ? !(el.textContent.trim() || el.getAttribute('aria-label'))
                                        : el.labels.length === 0)
  .map(el => el.outerHTML)"""


def shot(page: Page, name: str) -> None:
    """Keep a screenshot of the page, once every control on it is checked for a label."""
    assert page.evaluate(UNLABELLED) == [], f"controls without a label on the {name} page"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def attempts(simulator: str, order_key: str) -> list[list[dict[str, Any]]]:
    kcis = httpx.get(f"{simulator}/_admin/orders/{order_key}/kcis", timeout=10).json()
    return [kci.get("attemptLog", []) for kci in kcis]


def test_a_gateway_developer_watches_orders_kcis_and_faults_in_the_dashboard(
    page: Page, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    with (
        served_command("receiver", ready_path="/_receiver/health") as receiver,
        served_simulator(
            "--db", str(tmp_path / "ui.sqlite3"), "--clock", CLOCK, "--kci-url", receiver
        ) as simulator,
    ):
        ui = f"{simulator}/_admin/ui"
        page.goto(ui + "/")
        expect(page.locator("#clock-now")).to_have_text("2026-07-01T09:00:00Z")
        expect(page.locator("#orders-region")).to_contain_text("No orders")

        # The gateway places an order; the open page shows it without a reload.
        assert place(simulator, 1001, SINGLE).status_code == 201
        expect(page.locator("#orders-region")).to_contain_text("1001", timeout=WAIT_MS)
        expect(page.locator("#next-event")).to_contain_text("KCI step of order 1001", timeout=WAIT_MS)
        shot(page, "overview")

        # The gateway will refuse the first KCI once (503, retry after 1 s).
        refusal = {"status": 503, "count": 1, "retryAfter": 1}
        assert httpx.post(f"{receiver}/_receiver/fail", json=refusal, timeout=10).status_code == 200

        page.get_by_role("link", name="1001").first.click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Order 1001")
        page.get_by_role("button", name="Next scheduled event").click()
        expect(page.locator("#flashes")).to_contain_text("kciStep of order 1001")
        expect(page.locator("#clock-now")).to_have_text("2026-07-01T09:00:30Z")
        timeline = page.locator("#timeline-region")
        expect(timeline).to_contain_text("KCI #1 COMMITTED")
        # The failed attempt and its retry arrive by polling, with the gateway's answer.
        expect(timeline.locator("tr.attempt").first).to_contain_text("RETRY", timeout=WAIT_MS)
        expect(timeline.locator("tr.attempt").first).to_contain_text("503")
        expect(timeline.locator("tr.attempt").nth(1)).to_contain_text("DELIVERED", timeout=WAIT_MS)
        assert [a["outcome"] for a in attempts(simulator, "1001")[0]] == ["RETRY", "DELIVERED"]

        # Advance an hour from the page: the script's next KCIs go out and are delivered.
        page.get_by_role("button", name="+ 1 hour").click()
        expect(page.locator("#clock-now")).to_have_text("2026-07-01T10:00:30Z")
        expect(timeline).to_contain_text("KCI #3 COMPLETED", timeout=WAIT_MS)
        delivered = timeline.locator(".kci-state", has_text="DELIVERED")
        expect(delivered).to_have_count(3, timeout=WAIT_MS)
        expect(page.locator("#order-status")).to_contain_text("COMPLETED")
        shot(page, "order-timeline")

        # A fault on the Supplier API, added from the page: the next order is refused once.
        page.get_by_role("link", name="Faults").click()
        page.get_by_label("Method").select_option("POST")
        page.get_by_label("Path").select_option("/service-orders")
        page.get_by_label("Answer with status").fill("503")
        page.get_by_label("Times").fill("1")
        page.get_by_role("button", name="Add rule").click()
        expect(page.locator("#flashes")).to_contain_text("Added fault rule 1")
        expect(page.locator("#faults-table")).to_contain_text("/service-orders")
        shot(page, "faults")
        assert place(simulator, 1002, MULTIPLE).status_code == 503
        retried = place(simulator, 1002, MULTIPLE)
        assert retried.status_code == 201, retried.text  # the gateway's retry
        expect(page.locator("#faults-table")).to_contain_text("1", timeout=WAIT_MS)

        # The journal shows the refusal and the retry; one click shows the request in full. Each
        # worker process writes its own batches, so the two may land in either order (the page
        # polls until both are there).
        page.get_by_role("link", name="Journal").click()
        rows = page.locator("#journal-table tbody tr")
        refused = rows.filter(has_text="503")
        expect(refused).to_have_count(1, timeout=WAIT_MS)
        expect(rows.filter(has_text="201")).to_have_count(2, timeout=WAIT_MS)
        expect(page.locator("#journal-table")).not_to_contain_text("favicon")  # the page asks for none
        shot(page, "journal")
        refused.get_by_role("link", name="/service-orders").click()
        expect(page.locator("#request-body")).to_contain_text('"id": 1002')

        # The address: its reservations, slots and live services; the order placed there.
        page.goto(f"{ui}/addresses?address={MULTIPLE}")
        expect(page.locator("#address-region")).to_contain_text("Slots offered now")
        expect(page.locator("#address-region")).to_contain_text("1002")
        expect(page.locator("#live-services")).to_contain_text("S100000000004-1")
        shot(page, "address")

        # Reset from the page: every order goes, and the open overview follows.
        page.goto(ui + "/")
        page.get_by_role("button", name="Reset the simulator").click()
        expect(page.locator("#flashes")).to_contain_text("Reset: removed")
        expect(page.locator("#orders-region")).to_contain_text("No orders")
        expect(page.locator("#clock-now")).to_have_text("2026-07-01T09:00:00Z")


def test_a_protected_dashboard_asks_for_the_admin_token_in_the_browser(page: Page, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    with served_simulator(
        "--db",
        str(tmp_path / "ui.sqlite3"),
        "--clock",
        CLOCK,
        "--admin-token",
        "open-sesame",
        ready_path="/_admin/ui/style.css",  # the admin API itself wants the token
    ) as simulator:
        page.goto(f"{simulator}/_admin/ui/orders")
        expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to the dashboard")
        page.get_by_label("Admin token").fill("wrong")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_contain_text("not the admin token")
        # By keyboard alone: the token field has the focus, Enter signs in, Tab reaches the buttons.
        page.get_by_label("Admin token").fill("")
        page.keyboard.type("open-sesame")
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_have_text("Orders")
        for _ in range(40):  # bounded: the clock's buttons come early in the page
            page.keyboard.press("Tab")
            if page.evaluate("() => document.activeElement.textContent.trim()") == "+ 5 min":
                break
        else:
            raise AssertionError("Tab never reached the + 5 min button")
        page.keyboard.press("Enter")
        expect(page.locator("#clock-now")).to_have_text("2026-07-01T09:05:00Z")
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to the dashboard")
