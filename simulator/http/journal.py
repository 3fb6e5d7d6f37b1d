"""Journal every Supplier API request: what came in, and what the simulator answered.

Two Flask hooks, installed by :func:`install_journal`: ``before_request`` notes the
arrival time on the simulator clock, ``after_request`` writes one row to the ``journal``
table in its own short transaction. Requests under the admin prefix are not journalled:
the admin surface reads the journal, it is not what the journal is about.

The journal must never cost the gateway its answer, nor much of its time:

* entries are buffered and written in batches by a :class:`JournalWriter` thread, so a
  request never waits for (or, on SQLite, queues behind) a journal write; reading the
  journal flushes the buffer first, so what was answered is always there to query;
* a storage error is logged and swallowed, and the answer goes out unchanged;
* request and response bodies are kept whole up to :data:`BODY_CAP` bytes, larger ones
  are kept as truncated text, and a body that is not JSON is kept as text;
* a body is parsed by the same rules as the API's (:func:`~simulator.http.request_body.parse_json`),
  so what is kept as JSON can always be written and read back; anything else is kept as text;
* the table is trimmed to the newest :data:`KEEP` entries every :data:`TRIM_EVERY` writes,
  so a simulator left running for days does not grow without bound.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from dataclasses import replace
from datetime import datetime
from typing import Any

from flask import Flask, Request, Response, current_app, request

from simulator.application import journal as journal_use_case
from simulator.application.context import Context
from simulator.application.journal import JournalEntry
from simulator.domain.errors import MalformedRequest
from simulator.http.auth import TOKEN_PATH
from simulator.http.request_body import parse_json

log = logging.getLogger(__name__)

BODY_CAP = 16 * 1024
KEEP = 10_000
TRIM_EVERY = 500

#: ``app.extensions`` key marking an app whose requests are journalled.
INSTALLED = "fibresim.journal"
#: ``environ`` key: the arrival time on the simulator clock.
ARRIVED_AT = "fibresim.arrived_at"
#: ``environ`` key: when the request arrived on a monotonic real-time counter (for its latency).
STARTED = "fibresim.started"
#: ``environ`` key set when the connection is to be dropped without an answer (journalled as 0).
DROPPED = "fibresim.connection_dropped"


def is_admin_path(path: str, admin_prefix: str) -> bool:
    """Whether ``path`` belongs to the admin surface mounted at ``admin_prefix``."""
    prefix = admin_prefix.rstrip("/")
    return path == prefix or path.startswith(prefix + "/")


def _text(raw: bytes) -> str:
    if len(raw) <= BODY_CAP:
        return raw.decode("utf-8", "replace")
    return raw[:BODY_CAP].decode("utf-8", "replace") + f"…[{len(raw)} bytes, truncated]"


def _json_or_text(raw: bytes) -> Any:
    if not raw:
        return None
    if len(raw) > BODY_CAP:
        return _text(raw)
    try:
        return parse_json(raw)
    except MalformedRequest:  # too deep, a lone surrogate, not JSON at all: kept as it came
        return _text(raw)


def _request_body(incoming: Request) -> Any:
    return _json_or_text(incoming.get_data(cache=True))


def _response_bytes(response: Response) -> bytes | None:
    if response.is_streamed or response.direct_passthrough:
        return None  # reading it here would consume what the client is owed
    return response.get_data()


def _parsed(entry: JournalEntry) -> JournalEntry:
    """The entry with its response body decoded, done by the writer rather than the request."""
    if isinstance(entry.response, bytes):
        return replace(entry, response=_json_or_text(entry.response))
    return entry


SECRET_PATHS = frozenset({TOKEN_PATH})
"""Paths whose bodies carry credentials (a client secret in, a token out): journalled without them."""
WITHHELD = "(withheld: it carries credentials)"


def _latency_ms() -> int | None:
    started = request.environ.get(STARTED)
    return None if started is None else max(0, round((time.perf_counter() - started) * 1000))


def _entry(response: Response, clock_now: datetime) -> JournalEntry:
    environ = request.environ
    dropped = bool(environ.get(DROPPED))
    headers = request.headers
    if request.path in SECRET_PATHS:
        return JournalEntry(
            at=environ.get(ARRIVED_AT) or clock_now,
            method=request.method,
            path=request.path,
            query="",
            tenant=headers.get("Tenant"),
            request_id=headers.get("X-Request-ID"),
            conversation_id=headers.get("X-Conversation-ID"),
            body=WITHHELD,
            status=0 if dropped else response.status_code,
            response=None if dropped else WITHHELD,
            latency_ms=_latency_ms(),
        )
    return JournalEntry(
        at=environ.get(ARRIVED_AT) or clock_now,
        method=request.method,
        path=request.path,
        query=request.query_string.decode("utf-8", "replace"),
        tenant=headers.get("Tenant"),
        request_id=headers.get("X-Request-ID"),
        conversation_id=headers.get("X-Conversation-ID"),
        body=_request_body(request),
        status=0 if dropped else response.status_code,
        # Raw bytes here; the writer parses them off the request path (see _parsed).
        response=None if dropped else _response_bytes(response),
        latency_ms=_latency_ms(),
    )


WRITER = "fibresim.journal_writer"


class JournalWriter:
    """Buffers journal entries and writes them in batches, from a thread or on demand."""

    def __init__(self, context: Context, *, interval: float = 0.25) -> None:
        self._context = context
        self._interval = interval
        self._pending: list[JournalEntry] = []
        self._lock = threading.Lock()
        self._writes = itertools.count(1)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, entry: JournalEntry) -> None:
        """Queue one entry."""
        with self._lock:
            self._pending.append(entry)

    def flush(self) -> None:
        """Write everything queued so far."""
        with self._lock:
            batch, self._pending = self._pending, []
        if not batch:
            return
        try:
            trim = KEEP if next(self._writes) % TRIM_EVERY == 0 else None
            journal_use_case.record(self._context, [_parsed(entry) for entry in batch], trim_to=trim)
        except Exception as error:  # the journal is a by-product; never let it take the server down
            log.warning("journal: %d entries not recorded: %s", len(batch), error)

    def start(self) -> None:
        """Flush in the background every ``interval`` seconds until :meth:`stop`."""
        self._thread = threading.Thread(target=self._run, name="fibresim-journal", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and write what is left."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.flush()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.flush()


def flush_journal(app: Flask) -> None:
    """Write any buffered entries now (before reading the journal)."""
    writer: JournalWriter | None = app.extensions.get(WRITER)
    if writer is not None:
        writer.flush()


def stop_journal(app: Flask) -> None:
    """Stop the journal's writer thread, writing what is left (part of shutting down)."""
    writer: JournalWriter | None = app.extensions.get(WRITER)
    if writer is not None:
        writer.stop()


def install_journal(app: Flask, context_key: str = "fibresim.context") -> None:
    """Record every request outside the admin prefix in the journal (idempotent).

    Install it before fault injection, so a delayed request is journalled at its arrival.
    """
    if app.extensions.get(INSTALLED):
        return
    app.extensions[INSTALLED] = True
    settings = app.extensions["fibresim.settings"]
    admin_prefix: str = settings.admin_prefix
    writer = JournalWriter(app.extensions[context_key])
    app.extensions[WRITER] = writer
    # Without background threads (tests), each entry is written as the answer goes out.
    background = bool(getattr(settings, "background", False))
    if background:
        writer.start()

    def context() -> Context:
        found: Context = current_app.extensions[context_key]
        return found

    @app.before_request
    def _note_arrival() -> None:
        if not is_admin_path(request.path, admin_prefix):
            request.environ[ARRIVED_AT] = context().clock.now()
            request.environ[STARTED] = time.perf_counter()

    @app.after_request
    def _journal(response: Response) -> Response:
        if is_admin_path(request.path, admin_prefix):
            return response
        try:
            writer.add(_entry(response, context().clock.now()))
            if not background:
                writer.flush()
        except Exception as error:  # the journal is a by-product; the answer must still go out
            log.warning("journal: %s %s not recorded: %s", request.method, request.path, error)
        return response
