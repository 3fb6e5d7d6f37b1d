"""The simulator's one exception tree; the HTTP layer maps it to status codes in one place.

    FibresimError
    ├── MalformedRequest        400 MALFORMED_REQUEST   the request cannot be understood
    │   ├── PayloadTooLarge     413 MALFORMED_REQUEST   the body is over the size limit
    │   ├── RequestTargetTooLong 414 MALFORMED_REQUEST  the path and query are too long
    │   ├── HeadersTooLarge     431 MALFORMED_REQUEST   the headers are too large or too many
    │   └── UnsupportedMediaType 415 MALFORMED_REQUEST  the body is not JSON by its Content-Type
    ├── NotAuthorised           401 NOT_AUTHORISED      credentials missing or wrong
    ├── NotFound                404 NOT_FOUND           an id names nothing we hold
    ├── BusinessRuleViolation   422 INVALID_REQUEST     well formed, but the rules refuse it
    └── NotImplementedOperation 501 NOT_IMPLEMENTED     the profile switches the operation off

Configuration problems (a bad profile or script) are ``ConfigurationError``: a tool
error raised at start-up, never an HTTP answer.
"""

from __future__ import annotations

EXCERPT_LENGTH = 80
"""How much of a value a message quotes: enough to recognise it, never a whole upload."""


def excerpt(value: object, limit: int = EXCERPT_LENGTH) -> str:
    """``repr(value)`` cut to ``limit`` characters with an ellipsis, for quoting input in messages."""
    if isinstance(value, str | bytes) and len(value) > 4 * limit:
        value = value[: 4 * limit]  # repr() of a huge upload would cost more than the request is worth
        text = repr(value)
        return text[:limit] + "…"
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


class FibresimError(Exception):
    """Base of every error the simulator answers with; carries one or more messages."""

    status = 500
    code = "SUPPLIER_FAULT"

    def __init__(self, *messages: str) -> None:
        super().__init__("; ".join(messages))
        self.messages = list(messages) or [self.__class__.__name__]


class MalformedRequest(FibresimError):
    """The request is syntactically wrong: bad JSON, missing header, wrong type."""

    status = 400
    code = "MALFORMED_REQUEST"


class PayloadTooLarge(MalformedRequest):
    """The request body is larger than the simulator accepts."""

    status = 413


class RequestTargetTooLong(MalformedRequest):
    """The request's path and query are longer than the simulator accepts."""

    status = 414


class HeadersTooLarge(MalformedRequest):
    """The request headers are larger, or more, than the simulator accepts."""

    status = 431


class UnsupportedMediaType(MalformedRequest):
    """A JSON operation was sent a body of another media type."""

    status = 415


class NotAuthorised(FibresimError):
    """Authentication is missing or invalid."""

    status = 401
    code = "NOT_AUTHORISED"


class NotFound(FibresimError):
    """An identifier in the request names nothing the simulator holds."""

    status = 404
    code = "NOT_FOUND"


class BusinessRuleViolation(FibresimError):
    """Well formed, but refused by a business rule (the message names which)."""

    status = 422
    code = "INVALID_REQUEST"


class NotImplementedOperation(FibresimError):
    """The supplier profile does not offer this operation."""

    status = 501
    code = "NOT_IMPLEMENTED"


class ConfigurationError(Exception):
    """A profile, script or setting is invalid; the message names the field."""
