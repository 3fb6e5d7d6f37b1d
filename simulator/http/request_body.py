"""What the simulator accepts before it looks at a request: sizes, media types and JSON itself.

Two parts, both used by the app factory (:func:`install_request_limits`):

* :class:`LimitRequests`, WSGI middleware, so the limits hold under any server (gunicorn,
  Werkzeug, a test client). It refuses a request target longer than ``max_target_bytes``
  (414), headers over ``max_header_bytes`` in all or ``max_headers`` in number (431), and a
  body over ``max_body_bytes`` (413): by its ``Content-Length`` without reading a byte, or,
  for a chunked body with no length, by reading at most ``max_body_bytes + 1`` bytes.
  A refused request reaches Flask with an empty body and the refusal noted in its
  environ; the first ``before_request`` hook raises it, so it is answered with the API's
  error body (by :mod:`simulator.http.errors`) and journalled like any other answer.
* :func:`parse_json` and :func:`require_json`, which every JSON operation uses: a body
  must say it is JSON (``application/json``, with parameters or not, or
  ``application/*+json``; else 415), be UTF-8, parse, nest at most :data:`MAX_DEPTH`
  deep, and hold no lone UTF-16 surrogate (which no database or encoder can store).

The server in front still has its own, larger limits (see ``simulator.serving``): a
request line or header too large for the server itself gets the server's plain answer.
"""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, Request, request

from simulator.domain.errors import (
    FibresimError,
    HeadersTooLarge,
    MalformedRequest,
    PayloadTooLarge,
    RequestTargetTooLong,
    UnsupportedMediaType,
    excerpt,
)

MIB = 1024 * 1024
MAX_DEPTH = 64
"""Deepest JSON nesting accepted; the contract's own documents nest fewer than ten levels."""

#: ``environ`` key holding the refusal :class:`LimitRequests` found, raised by the app.
REFUSED = "fibresim.refused"

_JSON_TYPE = re.compile(r"^application/(?:[\w.+-]+\+)?json$")
_SURROGATE = re.compile("[\ud800-\udfff]")
# Where a surrogate can come from in JSON text: a \\u escape of D800-DFFF (also matches an
# escaped backslash before "ud8..", which only costs the full walk).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


@dataclass(frozen=True, slots=True)
class RequestLimits:
    """How large a request may be; the defaults suit any gateway call with room to spare."""

    max_body_bytes: int = MIB
    max_target_bytes: int = 8000
    max_header_bytes: int = 16 * 1024
    max_headers: int = 100

    def __post_init__(self) -> None:
        for name in ("max_body_bytes", "max_target_bytes", "max_header_bytes", "max_headers"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")


# Request headers WSGI keeps without the HTTP_ prefix.
_UNPREFIXED = frozenset({"CONTENT_TYPE", "CONTENT_LENGTH"})


class LimitRequests:
    """WSGI middleware enforcing :class:`RequestLimits` before the application reads anything."""

    def __init__(self, wsgi_app: WsgiApp, limits: RequestLimits) -> None:
        self.wsgi_app = wsgi_app
        self.limits = limits

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Check the request's sizes, then pass it on (emptied of its body when refused)."""
        refusal = self._head_refusal(environ) or self._body_refusal(environ)
        if refusal is not None:
            environ[REFUSED] = refusal
            environ["wsgi.input"] = io.BytesIO()
            environ["CONTENT_LENGTH"] = "0"
            environ.pop("HTTP_TRANSFER_ENCODING", None)
        return self.wsgi_app(environ, start_response)

    def _head_refusal(self, environ: Mapping[str, Any]) -> FibresimError | None:
        limits = self.limits
        target = len(environ.get("PATH_INFO", "")) + len(environ.get("QUERY_STRING", ""))
        if target > limits.max_target_bytes:
            return RequestTargetTooLong(
                f"the request target is {target} bytes; the simulator accepts at most "
                f"{limits.max_target_bytes}"
            )
        # One pass over the environ, counting as it goes: this runs on every request.
        count = size = 0
        for key, value in environ.items():
            if key.startswith("HTTP_") or key in _UNPREFIXED:
                count += 1
                size += len(key) + len(str(value))
        if count > limits.max_headers:
            return HeadersTooLarge(
                f"the request has {count} headers; the simulator accepts at most {limits.max_headers}"
            )
        if size > limits.max_header_bytes:
            return HeadersTooLarge(
                f"the request headers are {size} bytes; the simulator accepts at most "
                f"{limits.max_header_bytes}"
            )
        return None

    def _body_refusal(self, environ: dict[str, Any]) -> FibresimError | None:
        limit = self.limits.max_body_bytes
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        declared = environ.get("CONTENT_LENGTH") or ""
        if declared.strip() and not chunked:  # with both, Transfer-Encoding wins (RFC 9112 6.3)
            try:
                length = int(declared)
            except ValueError:
                return MalformedRequest(f"Content-Length {excerpt(declared)} is not a number")
            return _too_large(limit) if length > limit else None
        http1 = environ.get("SERVER_PROTOCOL", "").startswith("HTTP/1")
        if not chunked and (http1 or not environ.get("wsgi.input_terminated")):
            # No body at all: in HTTP/1 a request with neither a length nor chunked coding has
            # none (RFC 9112 6.3), and without a terminated input reading would wait on the
            # socket. Whoever reads the body reads nothing, without asking the server for it
            # (granian's empty read costs a GET more than its answer).
            environ["wsgi.input"] = io.BytesIO()
            return None
        # No length given (chunked, or HTTP/2): read one byte past the limit, never more, to tell.
        body = environ["wsgi.input"].read(limit + 1)
        if len(body) > limit:
            return _too_large(limit)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        return None


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"the request body is over the limit of {limit} bytes")


def install_request_limits(app: Flask, limits: RequestLimits) -> None:
    """Wrap ``app`` in :class:`LimitRequests` and answer its refusals before anything else runs.

    Call it before any other ``before_request`` hook is registered, so a refused request
    reaches neither fault injection nor a handler.
    """

    @app.before_request
    def _refuse() -> None:
        refusal: FibresimError | None = request.environ.get(REFUSED)
        if refusal is not None:
            raise refusal

    # Wrapping wsgi_app is how Flask documents adding WSGI middleware.
    app.wsgi_app = LimitRequests(app.wsgi_app, limits)  # type: ignore[method-assign]


def require_json(content_type: str | None) -> None:
    """Refuse (415) a body whose ``Content-Type`` is not JSON; parameters such as charset are fine."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if not _JSON_TYPE.match(media):
        shown = excerpt(content_type) if content_type else "none"
        raise UnsupportedMediaType(
            f"the request body must be JSON (Content-Type: application/json), not Content-Type {shown}"
        )
    charset = re.search(r";\s*charset\s*=\s*\"?([\w-]+)", content_type or "", re.IGNORECASE)
    if charset and charset[1].lower() not in {"utf-8", "utf8"}:
        raise UnsupportedMediaType(f"the request body must be UTF-8, not {excerpt(charset[1])}")


#: ``environ`` key: the request's body was parsed by :func:`parse_json` and passed (the journal
#: keeps it as the text it came as, without parsing it again).
JSON_CHECKED = "fibresim.json_checked"


def parse_json(raw: bytes) -> Any:
    """``raw`` as JSON: UTF-8, at most :data:`MAX_DEPTH` deep, no lone surrogates; else 400."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedRequest(f"the request body is not UTF-8 (byte {error.start})") from None
    try:
        document = json.loads(text, parse_constant=_not_json, parse_float=_finite)
    except RecursionError:
        raise MalformedRequest(f"the request body nests deeper than {MAX_DEPTH} levels") from None
    except ValueError as error:
        raise MalformedRequest(f"the request body is not valid JSON: {excerpt(str(error), 120)}") from None
    # The walk is needed only when the text could break a rule: a surrogate escape in it, or
    # more brackets than the depth allowed (the depth is at most the number of brackets).
    texts = _SURROGATE_ESCAPE.search(text) is not None
    if texts or text.count("[") + text.count("{") > MAX_DEPTH:
        _check_document(document, texts=texts)
    return document


def _not_json(constant: str) -> Any:
    # Python reads NaN and the infinities; JSON (RFC 8259) has no such values, and neither
    # could be written back out as JSON (the journal keeps what it parsed).
    raise ValueError(f"{constant} is not a JSON value")


def _finite(number: str) -> float:
    # 1e400 is JSON, but as a float it is infinity, which could never be written back as JSON.
    value = float(number)
    if math.isinf(value):
        raise ValueError(f"{excerpt(number)} is too large a number")
    return value


def _check_document(document: Any, *, texts: bool = True) -> None:
    """Walk the document once (without recursion): depth and, when ``texts``, lone surrogates."""
    pending: list[tuple[Any, int]] = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if texts:
                _check_text(value)
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_DEPTH:
            raise MalformedRequest(f"the request body nests deeper than {MAX_DEPTH} levels")
        if isinstance(value, dict):
            for key, item in value.items():
                if texts:
                    _check_text(key)
                pending.append((item, depth + 1))
        else:
            pending.extend((item, depth + 1) for item in value)


def _check_text(value: str) -> None:
    # A surrogate can only come from a \\u escape (UTF-8 cannot carry one): pairs were joined
    # by the parser, so any left is alone and cannot be encoded again.
    if _SURROGATE.search(value):
        raise MalformedRequest(
            f"the request body holds a lone UTF-16 surrogate in {excerpt(value)}; send Unicode text"
        )


def json_body(incoming: Request) -> Any:
    """The JSON body of a Flask request, checked by :func:`require_json` and :func:`parse_json`.

    An empty body is ``None`` (the caller decides whether one is required).
    """
    raw = incoming.get_data(cache=True)
    if not raw:
        return None
    require_json(incoming.headers.get("Content-Type"))
    return parse_json(raw)
