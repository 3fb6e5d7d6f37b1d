"""The Supplier API's hot reads, answered without Flask's per-request machinery.

A gateway's load test asks for availability and slots far more than anything else, and
once their answers are cached (:mod:`simulator.application.answer_cache`) Flask's request
context, routing, hooks and response object cost more than the answer. :class:`HotReads`
sits inside the request size limits and serves ``GET`` of those operations
(:data:`~simulator.http.supplier_api.HOT_READS`) with the very steps the Flask route runs,
in the same order: arrival noted, auth, fault rules, validation against the document, the
date check, the use case, the journal.

Any step that would not answer 200 hands the request, untouched, to Flask, which answers
it as it always does: those steps only read, so running them twice changes nothing, and
every refusal keeps being made in one place (:mod:`simulator.http.errors`). So does a call
with fault rules in force, a body, or a ``HEAD``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from flask import Flask
from werkzeug.datastructures import EnvironHeaders

from contracts import SUPPLIER_API
from contracts.operations import operation_index
from simulator.application.context import Context
from simulator.application.shared_state import SharedState
from simulator.domain.profile import AuthPolicy
from simulator.http import supplier_api
from simulator.http.auth import TokenIssuer, refusal
from simulator.http.fault_injection import FAULTS
from simulator.http.journal import STARTED, answer_recorder
from simulator.http.request_body import REFUSED
from simulator.http.request_validation import RequestValidator, remembered_per_text

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: ``app.extensions`` key of the installed :class:`HotReads` (tests read its counts).
INSTALLED = "fibresim.hot_reads"

_JSON = "application/json"


def _parsed_query(raw: str) -> dict[str, str]:
    """A query string's parameters, parsed as werkzeug's ``Request.args`` parses them; the first
    value of a repeated name, as ``args.get`` gives (a plain dict: a missing name costs no
    exception)."""
    text = raw.encode("latin-1").decode()
    pairs = parse_qsl(text, keep_blank_values=True, errors="werkzeug.url_quote")
    return dict(reversed(pairs))


_query = remembered_per_text(_parsed_query)


def _has_body(environ: dict[str, Any]) -> bool:
    # The request limits (outside) leave a length on every call with a body: a chunked one
    # was read and given its length, and a call without either has none.
    return environ.get("CONTENT_LENGTH") not in (None, "", "0")


class HotReads:
    """WSGI middleware answering the hot reads' 200s itself and passing everything else on."""

    def __init__(
        self,
        flask_app: WsgiApp,
        app: Flask,
        context: Context,
        policy: Callable[[], AuthPolicy],
        issuer: Callable[[], TokenIssuer],
    ) -> None:
        #: What answers every call passed on: Flask's own dispatch.
        self.flask_app = flask_app
        self._app = app
        self._context = context
        self._policy = policy
        self._issuer = issuer
        by_id = {operation.operation_id: operation for operation in operation_index(SUPPLIER_API)}
        #: The reads answered here, by path (emptied, every call goes through Flask).
        self.reads: dict[str, supplier_api.ReadAnswer] = {}
        for read in supplier_api.HOT_READS:
            operation = by_id[read.operation_id]
            if operation.method != "GET" or "{" in operation.path:
                raise ValueError(f"{read.operation_id} is not a GET of a fixed path")
            self.reads[operation.path] = read.answer
        #: Calls answered here and calls passed on to Flask (for tests and diagnostics).
        self.answered = 0
        self.passed_on = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Answer a hot read's 200 here; pass any other call on to Flask."""
        path = environ.get("PATH_INFO", "")
        read = self.reads.get(path)
        if read is None or environ.get("REQUEST_METHOD") != "GET" or REFUSED in environ or _has_body(environ):
            return self.flask_app(environ, start_response)
        SharedState.begin_request()
        try:
            answer = self._answer(environ, path, read)
        finally:
            SharedState.end_request()
        if answer is None:
            self.passed_on += 1
            return self.flask_app(environ, start_response)
        self.answered += 1
        start_response("200 OK", [("Content-Type", _JSON), ("Content-Length", str(len(answer)))])
        return [answer]

    def _answer(self, environ: dict[str, Any], path: str, answer: supplier_api.ReadAnswer) -> bytes | None:
        """The 200 answer's body, or ``None`` when Flask is to answer (a refusal, a fault)."""
        context = self._context
        app = self._app
        record = answer_recorder(app)
        arrived = None
        if record is not None:
            environ[STARTED] = time.perf_counter()
            arrived = context.clock.now()
        rules = app.extensions.get(FAULTS)
        if rules is not None and len(rules):
            return None
        tenant = environ.get("HTTP_TENANT")
        if refusal(self._policy(), self._issuer(), environ.get("HTTP_AUTHORIZATION"), tenant) is not None:
            return None
        validator: RequestValidator = app.extensions[supplier_api.VALIDATOR]
        try:
            valid = validator.validate(
                "GET", path, _query(environ.get("QUERY_STRING", "")), EnvironHeaders(environ)
            )
            supplier_api.check_dates(context, valid)
            body = answer(context, valid, app.json.dumps)
        except Exception:  # Flask answers it, as it answers every refusal and fault
            return None
        if record is not None and arrived is not None:
            record(environ, path, body, arrived)
        return body


def install_hot_reads(
    app: Flask, policy: Callable[[], AuthPolicy], issuer: Callable[[], TokenIssuer]
) -> HotReads:
    """Put :class:`HotReads` in front of ``app``'s Flask dispatch.

    Install it before the request limits, so they wrap it and run first.
    """
    hot = HotReads(app.wsgi_app, app, app.extensions["fibresim.context"], policy, issuer)
    app.extensions[INSTALLED] = hot
    # Wrapping wsgi_app is how Flask documents adding WSGI middleware.
    app.wsgi_app = hot  # type: ignore[method-assign]
    return hot
