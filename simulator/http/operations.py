"""Request validation in front of every route: each request is checked against its document first.

Two ways in, one validator (:class:`~simulator.http.request_validation.RequestValidator`):

* :func:`add_route` registers a handler for an operation of the document; the handler receives
  the request already validated (the Supplier API);
* :func:`validate_blueprint` checks every request a blueprint's own routes answer against the
  operation of the document they implement (the admin API, whose routes keep Flask's
  ``<placeholder>`` syntax); the decoded request is left in ``flask.g`` for the handler
  (:func:`valid_request`).

Some rules no JSON Schema can state (a fault rule's method must be one its path offers; an
unknown journal filter names the known ones). An operation's ``extra_checks`` add those
problems to the document's, so one 400 names every problem at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from flask import Blueprint, current_app, g, request
from flask.typing import ResponseReturnValue

from contracts.operations import OperationIndex
from simulator.domain.errors import MalformedRequest
from simulator.http.request_body import JSON_CHECKED
from simulator.http.request_validation import RequestValidator, ValidRequest

Handler = Callable[[ValidRequest], ResponseReturnValue]
ExtraCheck = Callable[[ValidRequest | None], list[str]]
"""Problems the document cannot state, given what validation decoded (``None`` when it refused)."""

_FLASK_PLACEHOLDER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
_DOCUMENT_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


def validated(
    validator_key: str, method: str, path: str
) -> Callable[[Handler], Callable[[], ResponseReturnValue]]:
    """Wrap a handler so it receives the request already checked against ``path`` of the document.

    ``validator_key`` names the ``app.extensions`` entry holding the document's
    :class:`RequestValidator`, so one app can serve several documents.
    """

    def wrap(handler: Handler) -> Callable[[], ResponseReturnValue]:
        def view(**_path_args: Any) -> ResponseReturnValue:
            validator: RequestValidator = current_app.extensions[validator_key]
            valid = validator.validate(method, path, request.args, request.headers, request.get_data())
            if valid.body is not None:
                request.environ[JSON_CHECKED] = True
            return handler(valid)

        view.__name__ = handler.__name__
        view.__doc__ = handler.__doc__
        return view

    return wrap


def add_route(blueprint: Blueprint, validator_key: str, method: str, path: str, handler: Handler) -> None:
    """Register ``handler`` for ``method path`` with request validation in front."""
    blueprint.add_url_rule(path, view_func=validated(validator_key, method, path)(handler), methods=[method])


def validate_blueprint(
    blueprint: Blueprint,
    index: OperationIndex,
    validator_key: str,
    url_prefix: str = "",
    extra_checks: Mapping[str, ExtraCheck] | None = None,
) -> None:
    """Check each request ``blueprint`` routes against the operation of ``index`` it implements.

    A route is matched to its operation by shape (``/orders/<order_key>`` is
    ``/orders/{orderKey}``, ``url_prefix`` being where the blueprint is registered); a route the
    document lacks is not checked. ``extra_checks``,
    by ``operationId``, add the problems the document cannot state.
    """
    by_shape = {
        (operation.method, _DOCUMENT_PLACEHOLDER.sub("{}", operation.path)): operation for operation in index
    }
    checks = dict(extra_checks or {})

    @blueprint.before_request
    def _validate() -> None:
        rule = request.url_rule
        if rule is None:
            return
        template = rule.rule.removeprefix(url_prefix)
        operation = by_shape.get((request.method, _FLASK_PLACEHOLDER.sub("{}", template)))
        if operation is None:
            return
        # Placeholders pair by position: the route's names need not be the document's.
        names = _DOCUMENT_PLACEHOLDER.findall(operation.path)
        values = [str(value) for value in (request.view_args or {}).values()]
        validator: RequestValidator = current_app.extensions[validator_key]
        check = checks.get(operation.operation_id)
        try:
            valid = validator.validate(
                operation.method,
                operation.path,
                request.args,
                request.headers,
                request.get_data(),
                path_args=dict(zip(names, values, strict=False)),
            )
        except MalformedRequest as refused:
            extra = check(None) if check else []
            if type(refused) is not MalformedRequest or not extra:
                raise  # 413, 415 and the like keep their status; nothing else applies
            raise MalformedRequest(*refused.messages, *extra) from None
        problems = check(valid) if check else []
        if problems:
            raise MalformedRequest(*problems)
        g.valid_request = valid


def valid_request() -> ValidRequest:
    """The current request as :func:`validate_blueprint` decoded it."""
    valid: ValidRequest = g.valid_request
    return valid
