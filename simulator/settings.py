"""The simulator's settings: one frozen dataclass, filled by the CLI or by tests."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything ``create_app`` needs; nothing is read from the environment at import time."""

    profile: str = "demo"
    database: str = "fibresim.sqlite3"
    clock: str = "real"
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
