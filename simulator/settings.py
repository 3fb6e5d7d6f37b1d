"""The simulator's settings: one frozen dataclass, filled by the CLI or by tests."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from urllib.parse import urlsplit, urlunsplit

from simulator.storage import shown_database


def shown_url(url: str) -> str:
    """An http(s) URL as it may be printed: a password in it masked."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        host = parts.netloc.rpartition("@")[2]
        return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))
    except ValueError:
        return "(an unparseable URL)"


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything ``create_app`` needs; nothing is read from the environment at import time.

    Its repr masks the database password and leaves the KCI credentials out.
    """

    profile: str = "demo"
    database: str = "fibresim.sqlite3"
    clock: str = "real"
    # The clock refuses to move past this (an ISO date or date-time with an offset).
    clock_horizon: str = "2100-01-01T00:00:00Z"
    admin_prefix: str = "/_admin"
    # Where KCIs go (the gateway's Supplier Updates API base URL) and how to authenticate.
    kci_url: str | None = None
    kci_token_url: str | None = None
    kci_ca_bundle: str | None = None  # CA bundle (PEM) the gateway's certificate is checked against
    kci_client_id: str | None = None
    kci_client_secret: str | None = field(default=None, repr=False)
    kci_bearer_token: str | None = field(default=None, repr=False)
    kci_basic: str | None = field(default=None, repr=False)  # "user:password"
    # KCIs in flight at once (each of a different order: one order's go out in sequence).
    kci_concurrency: int = 16
    # Who may call the Supplier API: none, oauth2 or basic; None takes the profile's auth/mode.
    auth: str | None = None
    # The HS256 key of access tokens; None: the one stored in the database (made on first use).
    token_signing_key: str | None = field(default=None, repr=False)
    # When set, every /_admin request must carry "Authorization: Bearer <admin_token>".
    admin_token: str | None = field(default=None, repr=False)
    # Background threads: the due-work ticker and the KCI dispatcher (tests drive both by hand).
    background: bool = True
    tick_seconds: float = 0.5
    # The request journal: "all", "errors" (status >= 400 and dropped connections) or "off";
    # at most journal_max_rows rows are kept (the newest).
    journal: str = "all"
    journal_max_rows: int = 10_000
    # Request size limits, enforced by WSGI middleware (simulator.http.request_body).
    max_body_bytes: int = 1024 * 1024
    max_target_bytes: int = 8000
    max_header_bytes: int = 16 * 1024
    max_headers: int = 100

    def __repr__(self) -> str:
        shown = {"database": shown_database, "kci_url": shown_url, "kci_token_url": shown_url}
        parts = []
        for item in fields(self):
            if item.repr:
                value = getattr(self, item.name)
                masked = shown[item.name](value) if item.name in shown and value is not None else value
                parts.append(f"{item.name}={masked!r}")
        return f"Settings({', '.join(parts)})"
