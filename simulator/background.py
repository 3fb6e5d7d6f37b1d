"""Background work of a running simulator: a ticker that applies due work, and the KCI dispatcher.

Both are daemon threads with a stop event, started by ``create_app`` when
``Settings.background`` is on. The ticker is what moves scripts along under a real or
accelerated clock; under a manual clock nothing becomes due until the clock is moved.

Every worker process of every replica starts them, but only the holder of the database
lease ``background`` does the work: the ticker takes or renews the lease on each tick (a
read while another holds it), the dispatcher delivers only while it is held. A holder
that stops gives the lease up; one that dies loses it when it runs out (:data:`LEASE_TTL`),
and the next worker to tick takes over.
"""

from __future__ import annotations

import logging
import os
import socket
import ssl
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import httpx

from contracts.inputs import InputError, read_bounded
from simulator.application.context import Context
from simulator.application.due_work import run_due_work_unless_busy
from simulator.delivery import BasicAuth, BearerToken, ClientCredentials, HttpTransport, KciDispatcher
from simulator.domain.clock import RealClock
from simulator.domain.errors import ConfigurationError
from simulator.settings import Settings
from simulator.storage.leases import SqlLeases

log = logging.getLogger(__name__)

LEASE = "background"
LEASE_TTL = timedelta(seconds=10)
"""How long a holder that stopped answering keeps the background work from the others."""


def kci_auth(settings: Settings) -> httpx.Auth | None:
    """The authentication the dispatcher uses towards the gateway, from the settings."""
    if settings.kci_token_url:
        if not (settings.kci_client_id and settings.kci_client_secret):
            raise ConfigurationError("--kci-token-url needs --kci-client-id and --kci-client-secret")
        return ClientCredentials(
            settings.kci_token_url, settings.kci_client_id, settings.kci_client_secret, clock=RealClock()
        )
    if settings.kci_bearer_token:
        return BearerToken(settings.kci_bearer_token)
    if settings.kci_basic:
        user, _, password = settings.kci_basic.partition(":")
        return BasicAuth(user, password)
    return None


def kci_verify(settings: Settings) -> ssl.SSLContext | bool:
    """How the KCI client checks the gateway's certificate: the system's CAs, or the given bundle."""
    if settings.kci_ca_bundle is None:
        return True
    try:  # a regular file of bounded size, read as text: OpenSSL would read a device forever
        bundle = read_bounded(Path(settings.kci_ca_bundle), what="--kci-ca-bundle")
        return ssl.create_default_context(cadata=bundle)
    except InputError as error:
        raise ConfigurationError(str(error)) from None
    except (OSError, ssl.SSLError, ValueError) as error:
        raise ConfigurationError(f"--kci-ca-bundle {settings.kci_ca_bundle}: {error}") from None


class BackgroundWork:
    """Owns the ticker thread and, when a KCI URL is set, the dispatcher."""

    def __init__(self, context: Context, settings: Settings) -> None:
        self._context = context
        self._interval = settings.tick_seconds
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, name="fibresim-ticker", daemon=True)
        self._leases = SqlLeases(context.database)
        self._wall = RealClock()
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._held_until = 0.0  # time.monotonic() until which this process may work
        self._renew_at = 0.0
        self.dispatcher: KciDispatcher | None = None
        self._transport: HttpTransport | None = None
        if settings.kci_url:
            self._transport = HttpTransport(
                settings.kci_url,
                kci_auth(settings),
                verify=kci_verify(settings),
                connections=settings.kci_concurrency,
            )
            self.dispatcher = KciDispatcher(
                context.database,
                self._transport,
                RealClock(),
                concurrency=settings.kci_concurrency,
                gate=self.holding,
            )

    def holding(self) -> bool:
        """Whether this process holds the background lease (with a safety margin)."""
        return time.monotonic() < self._held_until

    def _hold_lease(self) -> bool:
        """Take or renew the lease when it is due; whether this process holds it."""
        started = time.monotonic()
        if self.holding() and started < self._renew_at:
            return True
        if self._leases.hold(LEASE, self.holder, self._wall.now(), LEASE_TTL):
            ttl = LEASE_TTL.total_seconds()
            self._held_until = started + ttl * 0.8  # stop short of the stored expiry
            self._renew_at = started + ttl * 0.3
            return True
        self._held_until = 0.0
        return False

    def start(self) -> None:
        """Start the threads (the ticker takes the lease at once when nobody holds it)."""
        try:
            self._hold_lease()
        except Exception:  # the ticker tries again
            log.exception("could not take the background lease")
        self._ticker.start()
        if self.dispatcher is not None:
            self.dispatcher.start()

    def stop(self) -> None:
        """Stop the threads and wait for them briefly."""
        self._stop.set()
        if self.dispatcher is not None:
            self.dispatcher.stop()
        if self._ticker.is_alive():
            self._ticker.join(timeout=5)
        if self._transport is not None:
            self._transport.close()
        if self.holding():
            self._held_until = 0.0
            try:  # another worker or replica takes over at its next tick
                self._leases.release(LEASE, self.holder)
            except Exception:
                log.exception("could not give the background lease up")

    def _tick(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                if self._hold_lease():
                    run_due_work_unless_busy(self._context)  # a clock move runs it itself
            except Exception:  # the ticker must outlive a bad step; the log says what happened
                log.exception("due work failed")
