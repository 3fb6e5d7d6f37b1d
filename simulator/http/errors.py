"""Every error leaves the simulator as the API's error body, mapped here and nowhere else."""

from __future__ import annotations

import logging
import traceback
import uuid
from collections.abc import Callable

from flask import Flask, Response, current_app, jsonify
from werkzeug.exceptions import HTTPException

from contracts.model.order_states import IllegalTransition
from simulator.domain.errors import BusinessRuleViolation, FibresimError

log = logging.getLogger(__name__)

REDACT = "fibresim.redact"
"""``app.extensions`` key of a ``str -> str`` function that removes secrets (the database password)."""

# Werkzeug's own answers (unknown URL, wrong method…) in the API's vocabulary.
_HTTP_CODES = {
    400: "MALFORMED_REQUEST",
    401: "NOT_AUTHORISED",
    404: "NOT_FOUND",
    405: "MALFORMED_REQUEST",
    413: "MALFORMED_REQUEST",
    414: "MALFORMED_REQUEST",
    415: "MALFORMED_REQUEST",
    422: "INVALID_REQUEST",
    431: "MALFORMED_REQUEST",
    501: "NOT_IMPLEMENTED",
}


MAX_MESSAGES = 25
MAX_MESSAGE_LENGTH = 500


def _bounded(messages: list[str]) -> list[str]:
    """Messages as sent: a few, each short, whatever a request made the code say."""
    shown = [
        m if len(m) <= MAX_MESSAGE_LENGTH else m[:MAX_MESSAGE_LENGTH] + "…" for m in messages[:MAX_MESSAGES]
    ]
    if len(messages) > MAX_MESSAGES:
        shown.append(f"… and {len(messages) - MAX_MESSAGES} more")
    return shown


def error_response(status: int, code: str, messages: list[str]) -> Response:
    """The API's error body (``uuid``, ``code``, ``messages``) with ``status``.

    At most :data:`MAX_MESSAGES` messages of :data:`MAX_MESSAGE_LENGTH` characters go out, so
    no answer echoes a large request back.
    """
    response = jsonify({"uuid": str(uuid.uuid4()), "code": code, "messages": _bounded(messages)})
    response.status_code = status
    return response


def register_error_handlers(app: Flask, fault_code: str = "SUPPLIER_FAULT") -> None:
    """Map domain errors, HTTP errors and anything unexpected to error bodies.

    ``fault_code`` names the server's own failures: ``SUPPLIER_FAULT`` for the simulated
    supplier, ``GATEWAY_FAULT`` for the receiver, which plays the gateway.
    """

    @app.errorhandler(FibresimError)
    def _domain(error: FibresimError) -> Response:
        return error_response(error.status, error.code, error.messages)

    @app.errorhandler(IllegalTransition)
    def _refused_transition(error: IllegalTransition) -> Response:
        # The shared state model knows no HTTP; a refused move is a business-rule refusal.
        return error_response(BusinessRuleViolation.status, BusinessRuleViolation.code, error.messages)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response:
        status = error.code or 500
        code = _HTTP_CODES.get(status, fault_code)
        response = error_response(status, code, [error.description or error.name])
        if status == 405 and error.get_response().headers.get("Allow"):
            response.headers["Allow"] = error.get_response().headers["Allow"]
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        redact: Callable[[str], str] = current_app.extensions.get(REDACT, str)
        text = redact(str(error)).strip()
        # The stack without the message, which a driver may have filled with connection details.
        stack = "".join(traceback.format_tb(error.__traceback__))
        log.error("unhandled error %s: %s\n%s", type(error).__name__, text, stack)
        # A simulator's users are debugging their own systems: say what broke, briefly.
        detail = text.splitlines()[0][:300] if text else "see the server log"
        return error_response(500, fault_code, [f"unexpected {type(error).__name__}: {detail}"])
