"""A tiny Supplier Updates API on 127.0.0.1 that collects the KCIs a supplier sends.

The suite starts one per supplier run when the KCI layer is on (``--kci-wait``) and
prints its URL: configure it as the supplier's Supplier Updates base URL. It answers
``POST /kcis`` with 204 for any JSON body (judging the KCIs is the validator's job) and
400 with the error body for anything that is not JSON, and it issues a token on
``POST /auth/supplier/access-token`` to any client, so a supplier can use its usual
client-credentials flow against it.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from contracts.certification.errors import SetupError
from contracts.certification.evidence import Exchange

__all__ = ["MAX_BODY_BYTES", "KciReceiver", "ReceivedKci"]

MAX_BODY_BYTES = 1_000_000


@dataclass(frozen=True, slots=True)
class ReceivedKci:
    """One ``POST /kcis`` as it arrived: the parsed body (or the raw text when it is not JSON)."""

    body: Any
    raw: str
    headers: dict[str, str] = field(default_factory=dict)
    arrived: float = 0.0

    def exchange(self, url: str, status: int) -> Exchange:
        """The delivery as evidence."""
        return Exchange.create(
            "POST",
            url,
            request_headers=self.headers.items(),
            request_body=self.raw,
            status=status,
            note="received KCI",
        )


class _Server(ThreadingHTTPServer):
    """Keeps its open connections, so stopping closes kept-alive ones too.

    Otherwise a supplier's kept-alive connection would still reach a stopped receiver's
    handler thread, which would answer 204 for KCIs nobody reads any more (the next run's
    receiver, on the same port, would never see them).
    """

    daemon_threads = True
    receiver: KciReceiver

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stopping = False
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Stop taking KCIs and close every open connection."""
        self.stopping = True
        with self.connections_lock:
            open_now = list(self.connections)
        for connection in open_now:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        """Stay quiet: the suite reports what arrived."""

    def _answer(self, status: int, body: Any = None) -> None:
        payload = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if payload:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _error(self, status: int, code: str, message: str) -> None:
        self._answer(status, {"uuid": str(uuid.uuid4()), "code": code, "messages": [message]})

    def _read(self) -> bytes | None:
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit() or int(length) > MAX_BODY_BYTES:
            self._error(
                400, "MALFORMED_REQUEST", f"a body of at most {MAX_BODY_BYTES} bytes with Content-Length"
            )
            self.close_connection = True
            return None
        return self.rfile.read(int(length))

    def do_POST(self) -> None:
        """KCIs and tokens."""
        path = self.path.split("?", 1)[0].rstrip("/")
        if path.endswith("/auth/supplier/access-token"):
            if self._read() is not None:
                token = secrets.token_urlsafe(24)
                self._answer(200, {"access_token": token, "expires_in": 3600, "token_type": "Bearer"})
            return
        if not path.endswith("/kcis"):
            self._error(404, "NOT_FOUND", f"{self.path} is not served here; post KCIs to /kcis")
            return
        raw = self._read()
        if raw is None:
            return
        if self.server.stopping:  # the run is over: the supplier must deliver it again later
            self.close_connection = True
            self._error(503, "SUPPLIER_FAULT", "the KCI receiver is stopping")
            return
        text = raw.decode("utf-8", errors="replace")
        try:
            body: Any = json.loads(text)
            parsed = True
        except ValueError:
            body, parsed = text, False
        self.server.receiver.add(ReceivedKci(body, text, dict(self.headers.items()), time.monotonic()))
        if parsed:
            self._answer(204)
        else:
            self._error(400, "MALFORMED_REQUEST", "the body is not JSON")

    def do_GET(self) -> None:
        """Only a liveness answer: KCIs are posted."""
        self._answer(200, {"status": "ok", "received": len(self.server.receiver.received())})


class KciReceiver:
    """A threaded HTTP server on 127.0.0.1 that keeps every KCI posted to it."""

    def __init__(self, port: int = 0) -> None:
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._received: list[ReceivedKci] = []
        self._lock = threading.Lock()

    def start(self) -> KciReceiver:
        """Listen on 127.0.0.1 (port 0 picks a free one) in a background thread."""
        try:
            server = _Server(("127.0.0.1", self._port), _Handler)
        except OSError as error:
            raise SetupError(f"the KCI receiver cannot listen on 127.0.0.1:{self._port}: {error}") from None
        server.receiver = self
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="kci-receiver", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.shutdown()
            self._server.close_connections()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> KciReceiver:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The base URL to give the supplier (``http://127.0.0.1:PORT``); KCIs go to ``/kcis``."""
        if self._server is None:
            raise SetupError("the KCI receiver is not running")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def add(self, received: ReceivedKci) -> None:
        """Keep one delivery (called by the request handler)."""
        with self._lock:
            self._received.append(received)

    def received(self) -> list[ReceivedKci]:
        """Every delivery so far, in arrival order."""
        with self._lock:
            return list(self._received)

    def kcis(self) -> list[Any]:
        """The bodies received so far, in arrival order."""
        return [item.body for item in self.received()]
