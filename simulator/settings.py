"""The simulator's settings: one frozen dataclass, filled by the CLI or by tests."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything ``create_app`` needs; nothing is read from the environment at import time."""

    profile: str = "demo"
    database: str = "fibresim.sqlite3"
    clock: str = "real"
    validate_requests: bool = True
    kci_url: str | None = None
    admin_prefix: str = "/_admin"
