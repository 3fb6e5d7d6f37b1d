"""Fault and latency injection on the Supplier API: a failing supplier, on demand.

Gateway developers add rules on the admin surface (``POST /_admin/faults``) to see how their
gateway copes when the supplier is slow, refuses, or vanishes mid-call. A rule names:

* **which calls**: ``method`` and ``path`` (each ``*`` for any), optionally one ``tenant``;
* **what happens**, one or more of:
  ``delayMs``  wait this long (at most 60 s) before answering — normally, unless the rule
               also says ``status`` or ``drop``;
  ``status``   answer with this 4xx/5xx instead: the API error body (``SUPPLIER_FAULT`` for
               5xx), except ``503``, which has no body, as the reference describes; ``429`` and
               ``503`` carry ``Retry-After`` (``retryAfter`` seconds, default 1 for 429);
  ``drop``     close the connection without sending anything;
* **how often**: ``times`` (the next N matching calls) and ``probability`` (each matching call
  fires with this chance, drawn from a ``random.Random`` seeded per rule — ``seed``, by default
  the rule's id — so the same rules added in the same order fire on the same calls).

Rules are tried in the order they were added; the first one that fires is consumed under one
lock, so two concurrent calls never both take the last unit of ``times: 1``. Rules live in
the database (``simulator.application.fault_rules``), so every worker process and replica
applies the same rules with the same budgets. Requests under the admin prefix are never touched.

How a connection is dropped: the ``before_request`` hook only marks the request
(:data:`~simulator.http.journal.DROPPED`) and returns a placeholder answer, so the journal still
records it (with status 0). A WSGI wrapper, once Flask has finished, shuts the client socket
down in both directions — Werkzeug exposes it as ``environ["werkzeug.socket"]``, gunicorn as
``environ["gunicorn.socket"]`` — and the server's attempt to write the placeholder fails with
``EPIPE``, which both servers treat as a client that went away: the client sees the connection
closed with no response. granian exposes no socket; there the wrapper answers with a body that
fails before its first byte, and granian closes the connection without a response. Any other
server that exposes no socket (the Flask test client, for one) gets :class:`ConnectionDropped`
raised out of the WSGI call instead, which tests can assert on.
"""

from __future__ import annotations

import contextlib
import difflib
import socket
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app, request
from flask.typing import ResponseReturnValue

from contracts import SUPPLIER_API
from contracts.operations import operation_index
from simulator.application.fault_rules import FaultRuleSet, MemoryFaultRules
from simulator.domain.faults import ANY, FaultRule, FaultSpec
from simulator.http.errors import error_response
from simulator.http.journal import DROPPED, is_admin_path

__all__ = [  # FaultSpec is re-exported: rules are written with it
    "FAULTS",
    "MAX_DELAY_MS",
    "ConnectionDropped",
    "FaultRules",
    "FaultSpec",
    "Firing",
    "install_fault_injection",
    "parse_rule",
    "rule_json",
    "rule_problems",
    "supplier_operations",
    "unoffered_method",
]

#: ``app.extensions`` key of the app's :class:`FaultRules`.
FAULTS = "fibresim.faults"
MAX_DELAY_MS = 60_000

# Error codes of the API's vocabulary for the statuses a rule may answer with.
_CODES = {400: "MALFORMED_REQUEST", 401: "NOT_AUTHORISED", 403: "NOT_AUTHORISED", 404: "NOT_FOUND"}


class ConnectionDropped(Exception):
    """Raised out of the WSGI app when a rule drops a connection the server gave no socket for."""


@dataclass(frozen=True, slots=True)
class Firing:
    """A rule that fired on one call: what to do to it."""

    rule_id: int
    spec: FaultSpec


def rule_json(rule_id: int, spec: FaultSpec, remaining: int | None, hits: int) -> dict[str, Any]:
    """A rule as the admin surface shows it."""
    return {
        "id": rule_id,
        "method": spec.method,
        "path": spec.path,
        "tenant": spec.tenant,
        "status": spec.status,
        "delayMs": spec.delay_ms,
        "drop": spec.drop,
        "times": spec.times,
        "remaining": remaining,
        "probability": spec.probability,
        "seed": spec.seed,
        "retryAfter": spec.retry_after,
        "message": spec.message,
        "hits": hits,
    }


class FaultRules:
    """The rules of one running simulator, as the admin surface and the request hook use them.

    They are kept by a store (:class:`~simulator.application.fault_rules.FaultRuleSet`): the
    database in a running simulator, so every worker and replica applies the same rules;
    this process's memory when none is given. Every method is safe to call from many threads.
    """

    def __init__(self, operations: Mapping[str, Iterable[str]], rules: FaultRuleSet | None = None) -> None:
        #: The Supplier API's paths and the methods each offers (to validate rules against).
        self.operations = {
            path: frozenset(m.upper() for m in methods) for path, methods in operations.items()
        }
        if rules is None:
            store = MemoryFaultRules()
            rules = FaultRuleSet(store, lambda: store.version)
        self._rules = rules

    def __len__(self) -> int:
        return len(self._rules)

    def add(self, spec: FaultSpec) -> dict[str, Any]:
        """Add a rule after the existing ones; returns it as the admin surface shows it."""
        return _shown(self._rules.add(spec))

    def listing(self) -> list[dict[str, Any]]:
        """Every rule, oldest first, with its remaining budget and hit count."""
        return [_shown(rule) for rule in self._rules.listing()]

    def remove(self, rule_id: int) -> None:
        """Remove one rule; :class:`NotFound` names the ids there are when it is not one."""
        self._rules.remove(rule_id)

    def clear(self) -> int:
        """Remove every rule; returns how many there were."""
        return self._rules.clear()

    def take(self, method: str, path: str, tenant: str | None) -> Firing | None:
        """The first rule that fires on this call, its budget consumed; ``None`` when none does."""
        fired = self._rules.take(method, path, tenant)
        return None if fired is None else Firing(fired.id, fired.spec)


def _shown(rule: FaultRule) -> dict[str, Any]:
    return rule_json(rule.id, rule.spec, rule.remaining, rule.hits)


def supplier_operations() -> dict[str, frozenset[str]]:
    """The Supplier API contract's paths and the methods each offers."""
    return operation_index(SUPPLIER_API).paths()


# --------------------------------------------------------------------------------------------
# a rule from the admin surface
#
# ``POST /_admin/faults`` is validated against admin-api.yaml (FaultRuleInput) before it gets
# here: types, ranges, unknown fields and which effects go together are the document's to say.
# What it cannot say is below: near-miss help for a field or path that is not one, and whether
# the rule's method is one its path offers.

_FIELDS = {
    "method": "method",
    "path": "path",
    "tenant": "tenant",
    "status": "status",
    "delayMs": "delay_ms",
    "drop": "drop",
    "times": "times",
    "probability": "probability",
    "seed": "seed",
    "retryAfter": "retry_after",
    "message": "message",
}


def _unknown_field(name: str) -> str:
    camel = "".join(part if i == 0 else part.capitalize() for i, part in enumerate(name.split("_")))
    guesses = [camel] if camel in _FIELDS else difflib.get_close_matches(name, list(_FIELDS), n=1)
    hint = f" (did you mean {guesses[0]}?)" if guesses else ""
    return f"body {name}: unknown field{hint}; the fields are {', '.join(_FIELDS)}"


def _check_operation(method: str, path: str, operations: Mapping[str, frozenset[str]]) -> list[str]:
    """Near-miss help: a path or method the Supplier API does not have, and what it does have."""
    known = sorted(operations)
    if path != ANY and path not in operations:
        close = difflib.get_close_matches(path, known, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        return [f"body path: {path!r} is not a Supplier API path{hint}; the paths are {', '.join(known)}"]
    offered = operations[path] if path != ANY else frozenset().union(*operations.values())
    if method != ANY and method not in offered:
        where = path if path != ANY else "any path"
        return [f"body method: {method} is not offered on {where}; use {', '.join(sorted(offered))} or *"]
    return []


def rule_problems(body: Any, operations: Mapping[str, frozenset[str]]) -> list[str]:
    """What the admin document cannot say about a malformed rule: near misses of field names and
    paths. A listed method its path lacks is well formed: :func:`unoffered_method` refuses it."""
    if not isinstance(body, dict):
        return []
    problems = [_unknown_field(name) for name in body if name not in _FIELDS]
    path = body.get("path")
    if isinstance(path, str):
        problems += _check_operation(ANY, path, operations)
    return problems


def unoffered_method(spec: FaultSpec, operations: Mapping[str, frozenset[str]]) -> list[str]:
    """A method the rule's path does not offer (the rule could never match), and what it offers."""
    return _check_operation(spec.method, spec.path, operations)


def parse_rule(body: Mapping[str, Any]) -> FaultSpec:
    """The rule of a request body already validated against the admin document (nulls mean absent)."""
    values = {_FIELDS[name]: value for name, value in body.items() if value is not None}
    if "method" in values:
        values["method"] = values["method"].upper()
    if "probability" in values:
        values["probability"] = float(values["probability"])
    return FaultSpec(**values)


# --------------------------------------------------------------------------------------------
# applying rules to requests


def _answer(firing: Firing) -> Response:
    spec = firing.spec
    status = spec.status or 500
    retry_after = spec.retry_after if spec.retry_after is not None else (1 if status == 429 else None)
    if status == 503:
        response = Response(status=503)  # the reference's 503 has no body…
        del response.headers["Content-Type"]  # …so no type for one either
    else:
        code = _CODES.get(status) or (
            "NOT_IMPLEMENTED"
            if status == 501
            else "SUPPLIER_FAULT"
            if status >= 500 or status == 429
            else "INVALID_REQUEST"
        )
        response = error_response(
            status, code, [spec.message or f"simulated fault (fault rule {firing.rule_id})"]
        )
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _apply_faults() -> ResponseReturnValue | None:
    rules: FaultRules = current_app.extensions[FAULTS]
    if not len(rules):  # the usual case: no rules, no lock
        return None
    firing = rules.take(request.method, request.path, request.headers.get("Tenant"))
    if firing is None:
        return None
    if firing.spec.delay_ms:
        # Sleeping is the point of a latency rule; the cap bounds it even if validation is bypassed.
        time.sleep(min(firing.spec.delay_ms, MAX_DELAY_MS) / 1000)
    if firing.spec.drop:
        request.environ[DROPPED] = True
        return Response(status=500)  # never sent: the wrapper below closes the socket first
    if firing.spec.status is not None:
        return _answer(firing)
    return None


class _DropConnections:
    """WSGI wrapper that carries out a drop once Flask has finished (and journalled) the request."""

    def __init__(self, wsgi_app: Callable[..., Any]) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("SERVER_SOFTWARE") == "Granian":
            start_response = _unsized(environ, start_response)
        body = self.wsgi_app(environ, start_response)
        if not environ.get(DROPPED):
            return body
        if hasattr(body, "close"):
            body.close()
        client = environ.get("gunicorn.socket") or environ.get("werkzeug.socket")
        if environ.get("SERVER_SOFTWARE") == "Granian":
            return _abort_response()  # granian gives no socket, but drops a body that fails
        if not isinstance(client, socket.socket):
            raise ConnectionDropped(
                f"fault rule dropped {environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}"
            )
        with contextlib.suppress(OSError):  # the client went first: dropped either way
            client.shutdown(socket.SHUT_RDWR)
        return []  # the server's write of the status line now fails with EPIPE


def _unsized(environ: dict[str, Any], start_response: Callable[..., Any]) -> Callable[..., Any]:
    """``start_response`` that leaves out the length of a dropped call's placeholder: granian
    starts an unsized answer only with its first chunk, so a body failing before it is a drop."""

    def started(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
        if environ.get(DROPPED):
            headers = [(name, value) for name, value in headers if name.lower() != "content-length"]
        return start_response(status, headers, *rest)

    return started


def _abort_response() -> Iterator[bytes]:
    """A body that fails before its first byte (when the server iterates it, after the WSGI
    call): granian then closes the connection unanswered."""
    yield from ()
    raise ConnectionDropped("fault rule dropped the connection")


def install_fault_injection(app: Flask, rules: FaultRules | None = None) -> FaultRules:
    """Apply fault rules to every request outside the admin prefix; returns the app's rules.

    Idempotent: a second call returns the rules already installed.
    """
    installed: FaultRules | None = app.extensions.get(FAULTS)
    if installed is not None:
        return installed
    if rules is None:
        context = app.extensions["fibresim.context"]
        rules = FaultRules(supplier_operations(), context.fault_rules)
    app.extensions[FAULTS] = rules
    admin_prefix: str = app.extensions["fibresim.settings"].admin_prefix

    @app.before_request
    def _faults() -> ResponseReturnValue | None:
        if is_admin_path(request.path, admin_prefix):
            return None
        return _apply_faults()

    # Wrapping wsgi_app is how Flask documents adding WSGI middleware.
    app.wsgi_app = _DropConnections(app.wsgi_app)  # type: ignore[method-assign]
    return rules
