"""Route registration that validates every request against the contract first."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, request
from flask.typing import ResponseReturnValue

from simulator.http.request_validation import RequestValidator, ValidRequest

Handler = Callable[[ValidRequest], ResponseReturnValue]


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
            return handler(valid)

        view.__name__ = handler.__name__
        view.__doc__ = handler.__doc__
        return view

    return wrap


def add_route(blueprint: Blueprint, validator_key: str, method: str, path: str, handler: Handler) -> None:
    """Register ``handler`` for ``method path`` with request validation in front."""
    blueprint.add_url_rule(path, view_func=validated(validator_key, method, path)(handler), methods=[method])
