"""Journal Supplier API requests: what came in, and what the simulator answered.

Two Flask hooks, installed by :func:`install_journal`: ``before_request`` notes the
arrival time on the simulator clock, ``after_request`` queues one entry. Requests under the
admin prefix are not journalled: the admin surface reads the journal, it is not what the
journal is about. What is kept is a choice (``--journal``): ``all`` (the default; strict
certification and the dashboard read it), ``errors`` (answers of 400 and above, and dropped
connections) or ``off`` (no hooks at all).

The journal must never cost the gateway its answer, nor much of its time:

* a request only puts its entry on a bounded in-memory queue (raw bytes, parsed later) and
  never waits: when the queue is full the entry is dropped and counted, and the count is
  kept in the database for ``GET /_admin/journal/status``;
* a :class:`JournalWriter` thread per process drains the queue in batches, one insert per
  batch, trims the table to the newest ``--journal-max-rows`` after every batch and, on
  SQLite, truncates the write-ahead log once it passes :data:`WAL_LIMIT`, so the files stay
  bounded; reading the journal flushes this process's queue first;
* a storage error is logged and swallowed, and the answer goes out unchanged;
* request and response bodies are kept whole up to :data:`BODY_CAP` bytes, larger ones
  are kept as truncated text, and a body that is not JSON is kept as text;
* a body is parsed by the same rules as the API's (:func:`~simulator.http.request_body.parse_json`),
  so what is kept as JSON can always be written and read back; anything else is kept as text.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from functools import lru_cache
from typing import Any

from flask import Flask, Request, Response, current_app, request

from simulator.application import journal as journal_use_case
from simulator.application.context import Context
from simulator.application.journal import EncodedJson, JournalEntry
from simulator.domain.errors import MalformedRequest
from simulator.http.auth import TOKEN_PATH
from simulator.http.request_body import JSON_CHECKED, parse_json

log = logging.getLogger(__name__)

BODY_CAP = 16 * 1024
#: The journal's modes (``--journal``): nothing, answers of 400 and above, everything.
MODES = ("off", "errors", "all")
#: Rows kept by default (``--journal-max-rows``): the newest, trimmed after every batch.
KEEP = 10_000
#: Entries a process holds for its writer at most; beyond that they are dropped and counted.
QUEUE_CAP = 20_000
#: Entries written in one transaction at most.
BATCH = 500
#: Seconds between looks at the size of SQLite's write-ahead log.
CHECKPOINT_SECONDS = 10.0
#: The write-ahead log is truncated once it is larger than this: truncating holds writers off,
#: so it is done only to keep the disk bounded (SQLite's own checkpoints hold nobody up).
WAL_LIMIT = 64 * 1024 * 1024

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
    return _parsed_body(raw)


@lru_cache(maxsize=256)
def _parsed_body(raw: bytes) -> Any:
    # Remembered: a cached answer is the same bytes every time it is served, so a load test's
    # journal checks it once. Checked JSON is stored as the text it came as (parse_json only
    # passes UTF-8), rather than parsed and encoded again.
    try:
        parse_json(raw)
    except MalformedRequest:  # too deep, a lone surrogate, not JSON at all: kept as it came
        return _text(raw)
    return _checked(raw)


def _kept(raw: bytes) -> bytes | str | None:
    """A body as queued: raw bytes (parsed by the writer), or already truncated text when large."""
    if not raw:
        return None
    return raw if len(raw) <= BODY_CAP else _text(raw)


def _checked(kept: bytes | str | None) -> bytes | str | None:
    """Raw bytes known to be valid JSON, as :class:`EncodedJson`; anything else as it is."""
    return EncodedJson(kept.decode("utf-8")) if isinstance(kept, bytes) else kept


def _request_body(incoming: Request) -> bytes | str | None:
    kept = _kept(incoming.get_data(cache=True))
    # Validation parsed and passed it already; only a body it did not pass is parsed again.
    return _checked(kept) if incoming.environ.get(JSON_CHECKED) else kept


def _response_bytes(response: Response) -> bytes | str | None:
    if response.is_streamed or response.direct_passthrough:
        return None  # reading it here would consume what the client is owed
    kept = _kept(response.get_data())
    # The app's own JSON (its provider writes standard JSON only, see http.app): not parsed again.
    return _checked(kept) if response.mimetype == "application/json" else kept


def _parsed(entry: JournalEntry) -> JournalEntry:
    """The entry with its bodies decoded, done by the writer rather than the request."""
    body, answer = entry.body, entry.response
    if isinstance(body, bytes) or isinstance(answer, bytes):
        return replace(
            entry,
            body=_json_or_text(body) if isinstance(body, bytes) else body,
            response=_json_or_text(answer) if isinstance(answer, bytes) else answer,
        )
    return entry


SECRET_PATHS = frozenset({TOKEN_PATH})
"""Paths whose bodies carry credentials (a client secret in, a token out): journalled without them."""
WITHHELD = "(withheld: it carries credentials)"


def _latency_ms(environ: dict[str, Any]) -> int | None:
    started = environ.get(STARTED)
    return None if started is None else max(0, round((time.perf_counter() - started) * 1000))


def _query_text(environ: dict[str, Any]) -> str:
    # WSGI gives the query as latin-1 text of its bytes; the journal keeps it as UTF-8.
    return str(environ.get("QUERY_STRING", "")).encode("latin-1").decode("utf-8", "replace")


def _entry(
    environ: dict[str, Any],
    method: str,
    path: str,
    *,
    query: str,
    body: Any,
    status: int,
    response: Any,
    at: datetime,
) -> JournalEntry:
    # Headers straight from the WSGI environ: this runs on every request.
    return JournalEntry(
        at=at,
        method=method,
        path=path,
        query=query,
        tenant=environ.get("HTTP_TENANT"),
        request_id=environ.get("HTTP_X_REQUEST_ID"),
        conversation_id=environ.get("HTTP_X_CONVERSATION_ID"),
        body=body,
        status=status,
        response=response,
        latency_ms=_latency_ms(environ),
    )


def _flask_entry(incoming: Request, response: Response, at: datetime) -> JournalEntry:
    environ = incoming.environ
    dropped = bool(environ.get(DROPPED))
    path = incoming.path
    secret = path in SECRET_PATHS
    return _entry(
        environ,
        incoming.method,
        path,
        query="" if secret else _query_text(environ),
        body=WITHHELD if secret else _request_body(incoming),
        status=0 if dropped else response.status_code,
        # Raw bytes here and in body; the writer parses them off the request path (see _parsed).
        response=None if dropped else WITHHELD if secret else _response_bytes(response),
        at=at,
    )


def answered_entry(environ: dict[str, Any], path: str, answer: bytes, at: datetime) -> JournalEntry:
    """The entry of a bodiless ``GET`` answered 200 with the app's own JSON ``answer``."""
    return _entry(
        environ,
        "GET",
        path,
        query=_query_text(environ),
        body=None,
        status=200,
        response=_checked(_kept(answer)),
        at=at,
    )


WRITER = "fibresim.journal_writer"
#: ``app.extensions`` key of the :data:`AnswerRecorder` (absent when 200s are not journalled).
ANSWERS = "fibresim.journal_answers"
AnswerRecorder = Callable[[dict[str, Any], str, bytes, datetime], None]


class JournalWriter:
    """A bounded queue of journal entries, written in batches from a thread or on demand.

    :meth:`add` never blocks on storage: it appends under a lock held for an append, and
    when ``capacity`` entries are already waiting it drops the entry and counts it.
    """

    def __init__(
        self,
        context: Context,
        *,
        keep: int = KEEP,
        capacity: int = QUEUE_CAP,
        interval: float = 0.25,
    ) -> None:
        self._context = context
        self._keep = keep
        self._capacity = capacity
        self._interval = interval
        self._pending: list[JournalEntry] = []
        self._lock = threading.Lock()
        self._flushing = threading.Lock()  # one flush at a time: batches land in arrival order
        self._dropped = 0  # dropped here and not yet added to the stored total
        self.dropped_here = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._checkpointed = time.monotonic()

    @property
    def capacity(self) -> int:
        """Entries the queue holds at most."""
        return self._capacity

    @property
    def queued(self) -> int:
        """Entries waiting to be written."""
        return len(self._pending)

    def add(self, entry: JournalEntry) -> bool:
        """Queue one entry; ``False`` (and counted) when the queue is full."""
        with self._lock:
            if len(self._pending) >= self._capacity:
                self._dropped += 1
                self.dropped_here += 1
                return False
            self._pending.append(entry)
            full_batch = len(self._pending) >= BATCH
        if full_batch:
            self._wake.set()
        return True

    def flush(self) -> None:
        """Write everything queued so far, in batches of at most :data:`BATCH`."""
        with self._flushing:
            while True:
                with self._lock:
                    batch, self._pending = self._pending[:BATCH], self._pending[BATCH:]
                    dropped, self._dropped = self._dropped, 0
                if not batch and not dropped:
                    return
                try:
                    journal_use_case.record(
                        self._context,
                        [_parsed(entry) for entry in batch],
                        trim_to=self._keep,
                        dropped=dropped,
                    )
                except Exception as error:  # the journal is a by-product; never let it take the server down
                    log.warning("journal: %d entries not recorded: %s", len(batch), error)
                    return
                if len(batch) < BATCH:
                    return

    def checkpoint(self) -> None:
        """Truncate the write-ahead log past :data:`WAL_LIMIT`, looked at every :data:`CHECKPOINT_SECONDS`."""
        if time.monotonic() - self._checkpointed < CHECKPOINT_SECONDS:
            return
        self._checkpointed = time.monotonic()
        try:
            journal_use_case.checkpoint(self._context, larger_than=WAL_LIMIT)
        except Exception as error:  # a busy or closed database: the next round tries again
            log.warning("journal: write-ahead log not checkpointed: %s", error)

    def start(self) -> None:
        """Flush in the background every ``interval`` seconds (sooner when a batch is full)."""
        self._thread = threading.Thread(target=self._run, name="fibresim-journal", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and write what is left."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.flush()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._interval)
            self._wake.clear()
            self.flush()
            self.checkpoint()


def journal_writer(app: Flask) -> JournalWriter | None:
    """The app's journal writer; ``None`` when the journal is off."""
    writer: JournalWriter | None = app.extensions.get(WRITER)
    return writer


def flush_journal(app: Flask) -> None:
    """Write any buffered entries now (before reading the journal)."""
    writer = journal_writer(app)
    if writer is not None:
        writer.flush()


def stop_journal(app: Flask) -> None:
    """Stop the journal's writer thread, writing what is left (part of shutting down)."""
    writer = journal_writer(app)
    if writer is not None:
        writer.stop()


def install_journal(app: Flask, context_key: str = "fibresim.context") -> None:
    """Record requests outside the admin prefix as ``settings.journal`` says (idempotent).

    Install it before fault injection, so a delayed request is journalled at its arrival.
    """
    if app.extensions.get(INSTALLED):
        return
    app.extensions[INSTALLED] = True
    settings = app.extensions["fibresim.settings"]
    mode: str = getattr(settings, "journal", "all")
    if mode == "off":
        return
    errors_only = mode == "errors"
    admin_prefix: str = settings.admin_prefix
    writer = JournalWriter(app.extensions[context_key], keep=getattr(settings, "journal_max_rows", KEEP))
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
        environ = request.environ
        if not is_admin_path(environ.get("PATH_INFO", ""), admin_prefix):
            environ[ARRIVED_AT] = context().clock.now()
            environ[STARTED] = time.perf_counter()

    def queue(entry: JournalEntry) -> None:
        writer.add(entry)
        if not background:
            writer.flush()

    @app.after_request
    def _journal(response: Response) -> Response:
        incoming: Request = request._get_current_object()  # type: ignore[attr-defined]  # one lookup, not ten
        environ = incoming.environ
        if ARRIVED_AT not in environ and is_admin_path(incoming.path, admin_prefix):
            return response
        # A dropped connection is journalled as status 0: it is an error too.
        if errors_only and response.status_code < 400 and not environ.get(DROPPED):
            return response
        try:
            queue(_flask_entry(incoming, response, environ.get(ARRIVED_AT) or context().clock.now()))
        except Exception as error:  # the journal is a by-product; the answer must still go out
            log.warning("journal: %s %s not recorded: %s", request.method, request.path, error)
        return response

    def note_answer(environ: dict[str, Any], path: str, answer: bytes, at: datetime) -> None:
        try:
            queue(answered_entry(environ, path, answer, at))
        except Exception as error:  # as in _journal
            log.warning("journal: GET %s not recorded: %s", path, error)

    if not errors_only:  # the hot reads answer 200 only
        app.extensions[ANSWERS] = note_answer


def answer_recorder(app: Flask) -> AnswerRecorder | None:
    """What journals a hot read's 200 (``environ``, path, answer, arrival); ``None`` when the
    journal keeps no such answers."""
    recorder: AnswerRecorder | None = app.extensions.get(ANSWERS)
    return recorder
