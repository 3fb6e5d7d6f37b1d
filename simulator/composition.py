"""The composition root: one place builds a running simulator and one place takes it down.

:class:`Simulator` opens the database, the context (profile, clock, storage), the Flask app
and the background work (the due-work ticker, the KCI dispatcher and its HTTP client, the
journal writer), and :meth:`Simulator.close` stops them in the reverse order: threads first,
so nothing writes to a closed database, then the journal's last entries, then the engine.
It is a context manager, and :func:`create_app` keeps the one-call form tests and servers use.
"""

from __future__ import annotations

import logging
import threading
from types import TracebackType

from flask import Flask

from simulator.application.context import Context
from simulator.background import BackgroundWork
from simulator.domain.clock import clock_from_spec, parse_horizon
from simulator.http.app import build_app
from simulator.http.journal import stop_journal
from simulator.profiles import load_profile
from simulator.settings import Settings
from simulator.storage import Database

log = logging.getLogger(__name__)

#: ``app.extensions`` key of the :class:`Simulator` that owns an app.
SIMULATOR = "fibresim.simulator"


class Simulator:
    """Everything a running simulator owns, built from ``settings``; :meth:`close` releases it."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        profile = load_profile(self.settings.profile)
        clock = clock_from_spec(self.settings.clock, parse_horizon(self.settings.clock_horizon))
        self.database = Database(self.settings.database)
        try:
            self.context = Context.open(profile, self.database, clock)
            self.app = build_app(self.context, self.settings)
        except BaseException:
            self.database.dispose()
            raise
        self.app.extensions[SIMULATOR] = self
        self.background = BackgroundWork(self.context, self.settings) if self.settings.background else None
        self._closed = False
        self._lock = threading.Lock()

    def start(self) -> Simulator:
        """Start the background work (when the settings ask for it); returns ``self``."""
        if self.background is not None:
            self.background.start()
        return self

    def close(self) -> None:
        """Stop background work, write the journal's last entries, close the database (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if self.background is not None:
            self.background.stop()
        stop_journal(self.app)
        self.database.dispose()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


def create_app(settings: Settings | None = None) -> Flask:
    """Build and start a simulator; its app. ``close_app(app)`` takes it down again."""
    return Simulator(settings).start().app


def close_app(app: Flask) -> None:
    """Close the simulator that owns ``app`` (made by :func:`create_app`; any other app: nothing)."""
    simulator: Simulator | None = getattr(app, "extensions", {}).get(SIMULATOR)
    if simulator is not None:
        simulator.close()
