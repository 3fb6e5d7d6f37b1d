"""The simulator's settings: one frozen dataclass, filled by the CLI or by tests."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything ``create_app`` needs; nothing is read from the environment at import time."""

    profile: str = "demo"
    database: str = "fibresim.sqlite3"
    clock: str = "real"
    # The clock refuses to move past this (an ISO date or date-time with an offset).
    clock_horizon: str = "2100-01-01T00:00:00Z"
    admin_prefix: str = "/_admin"
    # Where KCIs go (the gateway's Supplier Updates API base URL) and how to authenticate.
    kci_url: str | None = None
    kci_token_url: str | None = None
    kci_client_id: str | None = None
    kci_client_secret: str | None = None
    kci_bearer_token: str | None = None
    kci_basic: str | None = None  # "user:password"
    # Background threads: the due-work ticker and the KCI dispatcher (tests drive both by hand).
    background: bool = True
    tick_seconds: float = 0.5
    # Request size limits, enforced by WSGI middleware (simulator.http.request_body).
    max_body_bytes: int = 1024 * 1024
    max_target_bytes: int = 8000
    max_header_bytes: int = 16 * 1024
    max_headers: int = 100
