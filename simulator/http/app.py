"""The Flask app of a simulator: blueprints, validation, error mapping and request hooks.

:func:`build_app` wires the HTTP adapter around an open :class:`Context`; opening the
database, starting background work and shutting it all down is the composition root's job
(:mod:`simulator.composition`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider

from contracts import ADMIN_API, SUPPLIER_API
from contracts.operations import operation_index
from simulator.application.context import Context
from simulator.application.shared_state import SharedState
from simulator.application.signing_keys import token_signing_key
from simulator.http import admin_api, admin_tools, supplier_api
from simulator.http.auth import (
    TokenIssuer,
    install_admin_token,
    install_api_auth,
    new_signing_key,
    token_blueprint,
)
from simulator.http.dashboard import install_dashboard
from simulator.http.errors import REDACT, register_error_handlers
from simulator.http.fault_injection import install_fault_injection
from simulator.http.hot_reads import install_hot_reads
from simulator.http.journal import install_journal
from simulator.http.operations import validate_blueprint
from simulator.http.request_body import RequestLimits, install_request_limits
from simulator.http.request_validation import RequestValidator
from simulator.settings import Settings

ADMIN_VALIDATOR = "fibresim.admin_validator"


class StandardJSONProvider(DefaultJSONProvider):
    """Flask's JSON, in the contract's field order, and standard JSON only: a NaN or an infinity
    is an error where it is made, never text that a JSON reader (the journal's) refuses later."""

    sort_keys = False

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        """``obj`` as JSON text (``allow_nan`` off unless asked for)."""
        kwargs.setdefault("allow_nan", False)
        return super().dumps(obj, **kwargs)


class SimulatorFlask(Flask):
    """Flask with its per-call coroutine check done once per function.

    Flask asks ``inspect.iscoroutinefunction`` of every hook and view on every request
    (nine times a Supplier API call); the answer never changes for a function.
    """

    def __init__(self, import_name: str) -> None:
        super().__init__(import_name)
        self._synced: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """``func`` made callable synchronously, remembered per function."""
        synced = self._synced.get(func)
        if synced is None:
            synced = self._synced[func] = super().ensure_sync(func)
        return synced


def build_app(context: Context, settings: Settings) -> Flask:
    """The simulator's Flask app around ``context``, as ``settings`` describe it."""
    app = SimulatorFlask("fibresim")
    app.json = StandardJSONProvider(app)
    app.extensions["fibresim.settings"] = settings
    app.extensions["fibresim.context"] = context
    app.extensions[supplier_api.VALIDATOR] = RequestValidator(operation_index(SUPPLIER_API))
    app.extensions[ADMIN_VALIDATOR] = RequestValidator(operation_index(ADMIN_API))
    app.extensions[REDACT] = context.database.redact
    # Each request reads the shared state (clock, cache versions) at most once.
    app.before_request(_begin_shared_state)
    app.teardown_request(_end_shared_state)
    app.register_blueprint(supplier_api.blueprint())
    profile = context.profile
    policy = replace(profile.auth, mode=settings.auth) if settings.auth else profile.auth
    signing_key = settings.token_signing_key or token_signing_key(context, new_signing_key)
    issuer = TokenIssuer(
        signing_key,
        context.clock,
        policy.token_lifetime_seconds,
    )
    app.extensions["fibresim.auth"] = policy
    app.register_blueprint(token_blueprint(lambda: policy, lambda: issuer))
    admin = admin_api.blueprint()
    # The admin API is held to its own document, as the Supplier API is to its.
    validate_blueprint(
        admin, operation_index(ADMIN_API), ADMIN_VALIDATOR, settings.admin_prefix, admin_tools.EXTRA_CHECKS
    )
    app.register_blueprint(admin, url_prefix=settings.admin_prefix)
    install_dashboard(app, settings.admin_prefix, signing_key)  # beside the admin API, not in it
    register_error_handlers(app)
    install_hot_reads(app, lambda: policy, lambda: issuer)  # inside the request limits
    install_request_limits(app, request_limits(settings))  # first: a refused request goes no further
    install_journal(app)  # before fault injection, so a delayed call is journalled at its arrival
    # After the journal (a refused call is journalled too), before fault injection (a refused
    # call is not delayed or failed on purpose).
    install_api_auth(app, "supplier_api", lambda: policy, lambda: issuer)
    if settings.admin_token:
        install_admin_token(app, "admin_api", settings.admin_token)
    install_fault_injection(app)
    return app


def _begin_shared_state() -> None:
    SharedState.begin_request()


def _end_shared_state(_error: BaseException | None) -> None:
    SharedState.end_request()


def request_limits(settings: Settings) -> RequestLimits:
    """The request size limits ``settings`` ask for."""
    return RequestLimits(
        max_body_bytes=settings.max_body_bytes,
        max_target_bytes=settings.max_target_bytes,
        max_header_bytes=settings.max_header_bytes,
        max_headers=settings.max_headers,
    )
