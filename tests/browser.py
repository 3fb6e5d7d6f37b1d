"""Headless Chromium for the dashboard's browser tests and benchmark, from Debian's packages.

Playwright drives it (not Selenium): one library gives the tests auto-waiting assertions
on a live page and the benchmark Chromium's paint timings, with no driver binary to keep
in step with the browser. It is pointed at Debian's ``/usr/bin/chromium`` explicitly; the
browser Playwright would download itself is never used (``playwright install`` is not run).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM = Path(os.environ.get("FIBRESIM_CHROMIUM", "/usr/bin/chromium"))
INSTALL = "apt-get install -y chromium chromium-driver"
# Headless on a CI box: no sandbox (containers run as root), no GPU, and nothing that
# reaches for the network on its own (the tests run offline).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "reports" / "screenshots"


def chromium_missing() -> str | None:
    """Why the browser cannot run here, or ``None`` when it can."""
    if not CHROMIUM.is_file() or not os.access(CHROMIUM, os.X_OK):
        return f"no Chromium at {CHROMIUM}: {INSTALL}"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed: pip install -e '.[dev]'"
    return None


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
