"""Run the app under granian (the default), gunicorn or Werkzeug's development server.

granian and gunicorn run several worker processes (one per CPU by default), each with its
own app, database pool and threads. They are one simulator because everything shared lives
in the database: the clock, the cache versions, the fault rules, and the lease that lets
exactly one process run the background work (``simulator.background``). granian (a Rust
HTTP server with a WSGI interface) is the default because it measured fastest: see the
README's performance section. Werkzeug serves in one process, for development.

Request size limits are the app's (WSGI middleware, answered with the API's error body).
gunicorn's own limits are set at its maxima, above the app's, so that the app answers
whatever gunicorn lets through; only a request line over 8190 bytes, one header field over
:data:`SERVER_MAX_FIELD_BYTES` or more than :data:`SERVER_MAX_FIELDS` headers get gunicorn's
own plain-text 414/431/400. Werkzeug's development server has similar fixed limits
(a 65536-byte request line, 100 headers).
granian reads headers into a buffer of its own (:data:`GRANIAN_BUFFER_BYTES`, above the
app's header limit) and hands the rest to the app.
The app is built by a factory *inside* each worker: database connections and background
threads must not be created before the server forks, or the worker would share the
master's sockets and the threads would run in the master. A worker closes its simulator
when the server stops it (SIGTERM to the server stops every worker).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import ssl
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from flask import Flask

from simulator.composition import close_app

SERVER_MAX_LINE = 8190  # gunicorn's largest limit_request_line
SERVER_MAX_FIELD_BYTES = 64 * 1024
SERVER_MAX_FIELDS = 400
GRANIAN_BUFFER_BYTES = 1024 * 1024
SERVERS = ("granian", "gunicorn", "werkzeug")


def default_workers() -> int:
    """One worker process per CPU this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


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
    server: str = "granian",
    workers: int = 1,
    threads: int = 8,
    tls: Tls | None = None,
) -> None:
    """Serve the app ``app_factory`` builds on ``host:port`` (HTTPS with ``tls``) until interrupted
    or terminated, in ``workers`` processes of ``threads`` request threads (Werkzeug: one process).

    On the way out (Ctrl-C, SIGTERM, or the server stopping a worker) each worker's simulator
    is closed in order: background threads, the journal's last entries, the database.
    """
    if server == "granian":
        _serve_granian(app_factory, host, port, workers=workers, threads=threads, tls=tls)
        return
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
                "workers": workers,
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


def _serve_granian(
    app_factory: Callable[[], Flask], host: str, port: int, *, workers: int, threads: int, tls: Tls | None
) -> None:
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces, SSLProtocols
    from granian.http import HTTP1Settings
    from granian.server.mp import MPServer

    built: list[Flask] = []

    def load(_target: str) -> Flask:  # runs in the worker, after the fork
        # The worker inherits the master's handlers, which only set a flag in the master's
        # copy: a SIGTERM while the app is being built would be lost and the worker would
        # serve on for ever. Until granian installs the worker's own handlers, it ends it.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        _end_with_parent()
        app = app_factory()
        built.append(app)
        return app

    def run_worker(*args: Any, **kwargs: Any) -> None:
        try:
            MPServer._spawn_wsgi_worker(*args, **kwargs)  # granian's own worker body
        finally:  # the worker was told to stop: close its simulator before the process ends
            for app in built:
                close_app(app)

    options: dict[str, Any] = {}
    if tls is not None:
        options.update(ssl_cert=Path(tls.cert), ssl_key=Path(tls.key), ssl_protocol_min=SSLProtocols.tls12)
        if tls.client_ca:
            options.update(ssl_ca=Path(tls.client_ca), ssl_client_verify=True)
    server = Granian(
        "fibresim",
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=threads,
        http=HTTPModes.http1,
        http1_settings=HTTP1Settings(max_buffer_size=GRANIAN_BUFFER_BYTES),
        websockets=False,
        log_level="warning",  # type: ignore[arg-type]  # granian takes the level's name
        respawn_failed_workers=True,
        workers_kill_timeout=20,  # a worker that does not stop in time is killed
        **options,
    )
    server.serve(spawn_target=run_worker, target_loader=load)


def _end_with_parent() -> None:
    """Ask Linux to send this worker SIGTERM when its master dies (a killed master must not
    leave workers serving on); elsewhere, nothing."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


_PR_SET_PDEATHSIG = 1


def _exit_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    sys.exit(0)  # unwinds through ``finally``, so the simulator is closed
