"""Run the app under gunicorn (one worker process, many threads) or Werkzeug's development server.

One process keeps one simulator clock and one KCI dispatcher; threads give concurrency.

Request size limits are the app's (WSGI middleware, answered with the API's error body).
gunicorn's own limits are set at its maxima, above the app's, so that the app answers
whatever gunicorn lets through; only a request line over 8190 bytes, one header field over
:data:`SERVER_MAX_FIELD_BYTES` or more than :data:`SERVER_MAX_FIELDS` headers get gunicorn's
own plain-text 414/431/400. Werkzeug's development server has similar fixed limits
(a 65536-byte request line, 100 headers).
The app is built by a factory *inside* the gunicorn worker: database connections and
background threads must not be created before gunicorn forks, or the worker would share
the master's sockets and the threads would run in the master.
"""

from __future__ import annotations

import signal
import ssl
import sys
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any

from flask import Flask

from simulator.composition import close_app

SERVER_MAX_LINE = 8190  # gunicorn's largest limit_request_line
SERVER_MAX_FIELD_BYTES = 64 * 1024
SERVER_MAX_FIELDS = 400


@dataclass(frozen=True, slots=True)
class Tls:
    """HTTPS: the server's certificate and key; with ``client_ca``, mutual TLS."""

    cert: str
    key: str
    client_ca: str | None = None
    """A client must present a certificate this CA issued, or the handshake fails."""


def ssl_context(tls: Tls) -> ssl.SSLContext:
    """The server-side TLS context ``tls`` describes (TLS 1.2 or newer)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(tls.cert, tls.key)
    if tls.client_ca:
        context.load_verify_locations(tls.client_ca)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def serve(
    app_factory: Callable[[], Flask],
    host: str,
    port: int,
    *,
    server: str = "gunicorn",
    threads: int = 8,
    tls: Tls | None = None,
) -> None:
    """Serve the app ``app_factory`` builds on ``host:port`` (HTTPS with ``tls``) until interrupted
    or terminated.

    On the way out (Ctrl-C, SIGTERM, or gunicorn stopping its worker) the simulator is closed
    in order: background threads, the journal's last entries, the database.
    """
    if server == "werkzeug":
        app = app_factory()
        context = ssl_context(tls) if tls else None
        previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
        try:
            app.run(host=host, port=port, threaded=True, use_reloader=False, ssl_context=context)
        finally:
            signal.signal(signal.SIGTERM, previous)
            close_app(app)
        return
    from gunicorn.app.base import BaseApplication

    class _Gunicorn(BaseApplication):  # type: ignore[misc]  # gunicorn ships no type information
        def load_config(self) -> None:
            options: dict[str, Any] = {
                "bind": f"{host}:{port}",
                "workers": 1,
                "worker_class": "gthread",
                "threads": threads,
                "accesslog": None,
                "errorlog": "-",
                "loglevel": "warning",
                "timeout": 120,
                "limit_request_line": SERVER_MAX_LINE,
                "limit_request_field_size": SERVER_MAX_FIELD_BYTES,
                "limit_request_fields": SERVER_MAX_FIELDS,
            }
            if tls is not None:
                options.update(certfile=tls.cert, keyfile=tls.key)
                if tls.client_ca:
                    options.update(ca_certs=tls.client_ca, cert_reqs=ssl.CERT_REQUIRED)
            for key, value in options.items():
                self.cfg.set(key, value)
            self.cfg.set("worker_exit", self._worker_exit)

        def load(self) -> Flask:
            self.app = app_factory()
            return self.app

        def _worker_exit(self, _server: Any, _worker: Any) -> None:
            if getattr(self, "app", None) is not None:
                close_app(self.app)

    _Gunicorn().run()


def _exit_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    sys.exit(0)  # unwinds through ``finally``, so the simulator is closed
