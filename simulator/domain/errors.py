"""The simulator's one exception tree; the HTTP layer maps it to status codes in one place.

    FibresimError
    ├── MalformedRequest        400 MALFORMED_REQUEST   the request cannot be understood
    ├── NotAuthorised           401 NOT_AUTHORISED      credentials missing or wrong
    ├── NotFound                404 NOT_FOUND           an id names nothing we hold
    ├── BusinessRuleViolation   422 INVALID_REQUEST     well formed, but the rules refuse it
    └── NotImplementedOperation 501 NOT_IMPLEMENTED     the profile switches the operation off

Configuration problems (a bad profile or script) are ``ConfigurationError``: a tool
error raised at start-up, never an HTTP answer.
"""

from __future__ import annotations


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
