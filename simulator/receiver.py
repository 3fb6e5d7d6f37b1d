"""A stand-in for the gateway's Supplier Updates API, to receive KCIs locally and in tests.

Served API (as the contract ``supplier-updates-api.yaml`` describes it):

* ``POST /kcis``: headers and body validated against the contract (400
  ``MALFORMED_REQUEST`` naming every problem); a bearer token when ``require_token``
  (401 ``NOT_AUTHORISED``); then ``204``. A KCI whose ``id`` was seen before is answered
  ``204`` again and recorded as a duplicate. Stream rules that are cheap to check are noted
  on the record, never refused: a sequence number arriving after a higher one, a gap, a
  sequence number reused by another id, a repeated id with a different body.
* ``POST /auth/supplier/access-token``: OAuth 2.0 client credentials (Basic or form
  fields), issuing tokens that live ``token_ttl_seconds`` on ``clock``.

Admin surface, under ``/_receiver``:

| call | what it does |
|---|---|
| ``GET /kcis`` | every accepted KCI in arrival order, with ``duplicate`` and ``notes`` |
| ``DELETE /kcis`` | forget every KCI (and the per-order streams) |
| ``GET /requests`` | every ``POST /kcis``, whatever it was answered |
| ``POST /fail`` ``{"status": 503, "count": 5, "retryAfter": 2}`` | answer the next 5 KCIs with 503 |
| ``GET /tokens``, ``DELETE /tokens`` | tokens issued so far; revoke every token |
| ``GET /forwarding`` | the tenant side (``tenant_updates_url``): forwarded, failed, held back |
| ``GET /health`` | liveness |

With ``tenant_updates_url``, each new KCI is forwarded to the tenant in its order's
sequence, once (:mod:`simulator.tenant_forwarding`), as a gateway does (reference §2.6).

Injected failures come first, before authentication and validation, as a load balancer's
would. A ``503`` has no body (as the gateway documents); other statuses carry the error body.
State is in memory, guarded by one lock.
"""

from __future__ import annotations

import secrets
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request

from contracts import SUPPLIER_UPDATES_API
from contracts.operations import operation_index
from simulator.domain.clock import Clock, RealClock
from simulator.domain.errors import FibresimError, MalformedRequest, NotAuthorised
from simulator.domain.profile import ApiClient
from simulator.http.auth import check_secret
from simulator.http.errors import error_response, register_error_handlers
from simulator.http.request_validation import RequestValidator
from simulator.tenant_forwarding import TenantForwarder

_STATE = "fibresim.receiver"
_VALIDATOR = "fibresim.receiver.validator"
_LISTENER = "fibresim.receiver.listener"
_ORDER_ENTITIES = ("provideServiceOrder", "modifyServiceOrder", "ceaseServiceOrder")
_JOURNAL_SIZE = 10_000  # requests kept for GET /requests; accepted KCIs are all kept


@dataclass(frozen=True, slots=True)
class ReceiverSettings:
    """How the receiver behaves; the defaults accept every valid KCI without a token."""

    require_token: bool = False
    client_id: str = "supplier-client-id"
    # The contract's example, for local use; kept out of the repr like any secret.
    client_secret: str = field(default="supplier-client-secret", repr=False)
    token_ttl_seconds: int = 3600
    expires_in_as_string: bool = False  # the contract allows "3600" as well as 3600
    fail_first: int = 0
    fail_status: int = 503
    admin_prefix: str = "/_receiver"
    tenant_updates_url: str | None = None
    """Forward each order's KCIs, in sequence and once, to this Tenant Updates API (``URL/kcis``)."""


@dataclass(frozen=True, slots=True)
class ReceivedKci:
    """One accepted KCI, as it arrived."""

    id: str
    order_key: str
    sequence_number: int
    reason_code: str
    order_status: str | None
    duplicate: bool
    notes: tuple[str, ...]
    received_at: datetime
    request_id: str | None
    conversation_id: str | None
    body: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        """The admin API's representation."""
        return {
            "id": self.id,
            "orderKey": self.order_key,
            "sequenceNumber": self.sequence_number,
            "reasonCode": self.reason_code,
            "status": self.order_status,
            "duplicate": self.duplicate,
            "notes": list(self.notes),
            "receivedAt": self.received_at.isoformat(),
            "requestId": self.request_id,
            "conversationId": self.conversation_id,
            "body": self.body,
        }


@dataclass(frozen=True, slots=True)
class ReceivedRequest:
    """One ``POST /kcis`` and what it was answered (``kci`` is set when it was accepted)."""

    at: datetime
    status: int
    request_id: str | None
    messages: tuple[str, ...] = ()
    kci: ReceivedKci | None = None

    def as_json(self) -> dict[str, Any]:
        """The admin API's representation."""
        return {
            "at": self.at.isoformat(),
            "status": self.status,
            "requestId": self.request_id,
            "messages": list(self.messages),
            "kciId": None if self.kci is None else self.kci.id,
        }


@dataclass(slots=True)
class _Failures:
    status: int = 503
    count: int = 0
    retry_after: int | None = None


@dataclass(slots=True)
class _Stream:
    ids_by_sequence: dict[int, str] = field(default_factory=dict)
    highest: int = 0


def _order_entity(kci: dict[str, Any]) -> dict[str, Any]:
    names = (*_ORDER_ENTITIES, "serviceTest", "serviceProblem")
    return next((kci[name] for name in names if isinstance(kci.get(name), dict)), {})


# Service tests and problems have sequences of their own, apart from orders with the same id.
_T2R_ENTITIES = (
    ("serviceTest", "ST-", "supplierReference"),
    ("serviceProblem", "SP-", "supplierServiceProblemReference"),
)


def order_key(kci: dict[str, Any]) -> str:
    """The entity a KCI is about: an order's gateway id as text, else the supplier's reference;
    ``ST-<id>`` or ``SP-<id>`` for a service test or problem."""
    for name, prefix, reference in _T2R_ENTITIES:
        found = kci.get(name)
        if isinstance(found, dict):
            return prefix + str(found.get("id", found.get(reference, "?")))
    entity = _order_entity(kci)
    if "id" in entity:
        return str(entity["id"])
    return str(entity.get("supplierOrderReference", "?"))


def _order_status(kci: dict[str, Any]) -> str | None:
    status = _order_entity(kci).get("status")
    return status if isinstance(status, str) else None


class ReceiverState:
    """The receiver's memory: KCIs, streams per order, injected failures and tokens (thread-safe)."""

    def __init__(self, settings: ReceiverSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self._lock = threading.Lock()
        self._kcis: list[ReceivedKci] = []
        self._requests: deque[ReceivedRequest] = deque(maxlen=_JOURNAL_SIZE)
        self._first_bodies: dict[str, dict[str, Any]] = {}
        self._streams: dict[str, _Stream] = {}
        self._failures = _Failures(settings.fail_status, settings.fail_first)
        self._tokens: dict[str, datetime] = {}
        self._tokens_issued = 0
        self.forwarder = TenantForwarder(settings.tenant_updates_url) if settings.tenant_updates_url else None

    # -- KCIs

    def accept(
        self, body: dict[str, Any], request_id: str | None, conversation_id: str | None
    ) -> ReceivedKci:
        """Record a valid KCI, noting what its order's stream so far says about it."""
        kci_id = str(body["id"])
        key = order_key(body)
        sequence = int(body["sequenceNumber"])
        notes: list[str] = []
        with self._lock:
            first = self._first_bodies.get(kci_id)
            duplicate = first is not None
            if first is None:
                self._first_bodies[kci_id] = body
                notes = self._check_stream(key, sequence, kci_id)
            elif first != body:
                notes.append(f"same id as an earlier KCI but a different body (KCI {kci_id})")
            received = ReceivedKci(
                id=kci_id,
                order_key=key,
                sequence_number=sequence,
                reason_code=str(body["reasonCode"]),
                order_status=_order_status(body),
                duplicate=duplicate,
                notes=tuple(notes),
                received_at=self.clock.now(),
                request_id=request_id,
                conversation_id=conversation_id,
                body=body,
            )
            self._kcis.append(received)
            if not duplicate and self.forwarder is not None:
                self.forwarder.offer(key, sequence, body)
        return received

    def _check_stream(self, key: str, sequence: int, kci_id: str) -> list[str]:
        stream = self._streams.setdefault(key, _Stream())
        notes = []
        other = stream.ids_by_sequence.get(sequence)
        if other is not None:
            notes.append(f"sequenceNumber {sequence} of order {key} was already used by KCI {other}")
        elif sequence < stream.highest:
            notes.append(f"sequenceNumber {sequence} of order {key} arrived after {stream.highest}")
        elif sequence > stream.highest + 1:
            missing = range(stream.highest + 1, sequence)
            gap = str(missing[0]) if len(missing) == 1 else f"{missing[0]}..{missing[-1]}"
            notes.append(
                f"sequenceNumber {sequence} of order {key} follows {stream.highest}: {gap} not received (yet)"
            )
        stream.ids_by_sequence.setdefault(sequence, kci_id)
        stream.highest = max(stream.highest, sequence)
        return notes

    def kcis(self) -> list[ReceivedKci]:
        """Every accepted KCI, in arrival order."""
        with self._lock:
            return list(self._kcis)

    def clear(self) -> None:
        """Forget every KCI, stream and journalled request."""
        with self._lock:
            self._kcis.clear()
            self._requests.clear()
            self._first_bodies.clear()
            self._streams.clear()

    def journal(self, entry: ReceivedRequest) -> None:
        """Keep one ``POST /kcis`` in the request journal."""
        with self._lock:
            self._requests.append(entry)

    def requests(self) -> list[ReceivedRequest]:
        """The journalled ``POST /kcis`` requests, oldest first."""
        with self._lock:
            return list(self._requests)

    # -- failures

    def inject(self, status: int, count: int, retry_after: int | None = None) -> None:
        """Answer the next ``count`` KCIs with ``status`` (replacing any failures still pending)."""
        with self._lock:
            self._failures = _Failures(status, count, retry_after)

    def take_failure(self) -> _Failures | None:
        """Use up one injected failure, if any is pending."""
        with self._lock:
            if self._failures.count <= 0:
                return None
            self._failures.count -= 1
            return _Failures(self._failures.status, 1, self._failures.retry_after)

    def pending_failures(self) -> dict[str, Any]:
        """The failures still to be answered."""
        with self._lock:
            failures = self._failures
            return {"status": failures.status, "count": failures.count, "retryAfter": failures.retry_after}

    # -- tokens

    def issue_token(self) -> str:
        """A new bearer token, valid for ``token_ttl_seconds``."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = self.clock.now() + timedelta(seconds=self.settings.token_ttl_seconds)
            self._tokens_issued += 1
        return token

    def check_token(self, authorization: str | None) -> None:
        """Raise ``NotAuthorised`` unless ``authorization`` is ``Bearer <a live token>``."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthorised("Access token missing: send Authorization: Bearer <token>")
        with self._lock:
            expires = self._tokens.get(token.strip())
        if expires is None:
            raise NotAuthorised("Access token invalid")
        if self.clock.now() >= expires:
            raise NotAuthorised("Access token expired")

    def revoke_tokens(self) -> None:
        """Invalidate every token issued so far."""
        with self._lock:
            self._tokens.clear()

    def token_counts(self) -> dict[str, int]:
        """How many tokens were issued, and how many are still held."""
        with self._lock:
            return {"issued": self._tokens_issued, "held": len(self._tokens)}


RequestListener = Callable[[ReceivedRequest], None]


def create_receiver_app(
    settings: ReceiverSettings | None = None,
    *,
    clock: Clock | None = None,
    on_request: RequestListener | None = None,
) -> Flask:
    """Build the receiver; ``on_request`` hears about every ``POST /kcis`` after it is answered."""
    settings = settings or ReceiverSettings()
    state = ReceiverState(settings, clock or RealClock())
    app = Flask("fibresim-receiver")
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep the contract's field order
    app.extensions[_STATE] = state
    app.extensions[_VALIDATOR] = RequestValidator(operation_index(SUPPLIER_UPDATES_API))
    app.extensions[_LISTENER] = on_request
    app.register_blueprint(_gateway_blueprint())
    app.register_blueprint(_admin_blueprint(), url_prefix=settings.admin_prefix)
    register_error_handlers(app, fault_code="GATEWAY_FAULT")
    return app


def receiver_state(app: Flask) -> ReceiverState:
    """The in-memory state of a receiver app (for tests and the CLI)."""
    state: ReceiverState = app.extensions[_STATE]
    return state


def _state() -> ReceiverState:
    return receiver_state(current_app)


def _gateway_blueprint() -> Blueprint:
    blueprint = Blueprint("supplier_updates", __name__)

    @blueprint.post("/kcis")
    def create_kci() -> Response | tuple[str, int]:
        state = _state()
        request_id = request.headers.get("X-Request-ID")
        try:
            failure = state.take_failure()
            if failure is not None:
                return _answer(state, _failure_response(failure), request_id, (f"injected {failure.status}",))
            if state.settings.require_token:
                state.check_token(request.headers.get("Authorization"))
            validator: RequestValidator = current_app.extensions[_VALIDATOR]
            valid = validator.validate("POST", "/kcis", request.args, request.headers, request.get_data())
        except FibresimError as error:
            _notify(
                state, ReceivedRequest(state.clock.now(), error.status, request_id, tuple(error.messages))
            )
            if isinstance(error, NotAuthorised):
                refusal = error_response(error.status, error.code, error.messages)
                refusal.headers["WWW-Authenticate"] = 'Bearer realm="fibresim-receiver"'
                return refusal
            raise
        kci = state.accept(valid.body, request_id, request.headers.get("X-Conversation-ID"))
        _notify(state, ReceivedRequest(state.clock.now(), 204, request_id, kci.notes, kci))
        return "", 204

    @blueprint.post("/auth/supplier/access-token")
    def access_token() -> Response | tuple[Response, int]:
        state = _state()
        settings = state.settings
        grant = request.form.get("grant_type")
        if grant is None:
            return _token_error("invalid_request", "grant_type is required")
        if grant != "client_credentials":
            return _token_error("unsupported_grant_type", f"grant_type {grant!r} is not client_credentials")
        basic = request.authorization
        if basic is not None and basic.type == "basic":
            client_id, secret = basic.username, basic.password
        else:
            client_id, secret = request.form.get("client_id"), request.form.get("client_secret")
        # The gateway's documentation lists 400 for invalid_client, Basic or not: so does its stand-in.
        expected = ApiClient(settings.client_id, settings.client_secret)
        if client_id != settings.client_id or not check_secret(expected, secret):
            return _token_error("invalid_client", "unknown client or wrong secret")
        ttl = settings.token_ttl_seconds
        return jsonify(
            access_token=state.issue_token(),
            expires_in=str(ttl) if settings.expires_in_as_string else ttl,
            token_type="Bearer",  # noqa: S106 - the OAuth token type, not a secret
        )

    return blueprint


def _admin_blueprint() -> Blueprint:
    blueprint = Blueprint("receiver_admin", __name__)

    @blueprint.get("/health")
    def health() -> Response:
        return jsonify(status="UP")

    @blueprint.get("/kcis")
    def list_kcis() -> Response:
        return jsonify([kci.as_json() for kci in _state().kcis()])

    @blueprint.delete("/kcis")
    def clear_kcis() -> tuple[str, int]:
        _state().clear()
        return "", 204

    @blueprint.get("/forwarding")
    def forwarding() -> Response:
        forwarder = _state().forwarder
        return jsonify(None if forwarder is None else forwarder.status())

    @blueprint.get("/requests")
    def list_requests() -> Response:
        return jsonify([entry.as_json() for entry in _state().requests()])

    @blueprint.post("/fail")
    def inject_failures() -> Response:
        status, count, retry_after = _failure_request(request.get_json(silent=True))
        state = _state()
        state.inject(status, count, retry_after)
        return jsonify(state.pending_failures())

    @blueprint.get("/tokens")
    def tokens() -> Response:
        return jsonify(_state().token_counts())

    @blueprint.delete("/tokens")
    def revoke_tokens() -> tuple[str, int]:
        _state().revoke_tokens()
        return "", 204

    return blueprint


def _failure_request(body: Any) -> tuple[int, int, int | None]:
    if not isinstance(body, dict):
        raise MalformedRequest('send a JSON object such as {"status": 503, "count": 5}')
    status = _whole(body.get("status", 503), 400, 599)
    count = _whole(body.get("count"), 0, None)
    retry_after = None if body.get("retryAfter") is None else _whole(body["retryAfter"], 0, None)
    problems = []
    if status is None:
        problems.append(f"status: {body.get('status')!r} is not an HTTP error status (400-599)")
    if count is None:
        problems.append(f"count: {body.get('count')!r} is not a number of KCIs (0 or more)")
    if body.get("retryAfter") is not None and retry_after is None:
        problems.append(f"retryAfter: {body['retryAfter']!r} is not a number of seconds")
    if status is None or count is None or problems:
        raise MalformedRequest(*problems)
    return status, count, retry_after


def _whole(value: Any, low: int, high: int | None) -> int | None:
    """``value`` if it is an integer in ``[low, high]``, else ``None``."""
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        return None
    return value if high is None or value <= high else None


# The Supplier Updates API's codes for the statuses a failure can be injected with.
_FAILURE_CODES = {400: "MALFORMED_REQUEST", 401: "NOT_AUTHORISED", 403: "NOT_AUTHORISED", 404: "NOT_FOUND"}


def _failure_response(failure: _Failures) -> Response:
    if failure.status == 503:
        response = Response(status=503)  # "temporarily unavailable. No response body."
    else:
        code = _FAILURE_CODES.get(
            failure.status, "INVALID_REQUEST" if failure.status < 500 else "GATEWAY_FAULT"
        )
        response = error_response(failure.status, code, ["failure injected by the receiver"])
    if failure.retry_after is not None:
        response.headers["Retry-After"] = str(failure.retry_after)
    return response


def _answer(
    state: ReceiverState, response: Response, request_id: str | None, messages: tuple[str, ...]
) -> Response:
    _notify(state, ReceivedRequest(state.clock.now(), response.status_code, request_id, messages))
    return response


def _notify(state: ReceiverState, entry: ReceivedRequest) -> None:
    state.journal(entry)
    listener: RequestListener | None = current_app.extensions[_LISTENER]
    if listener is not None:
        listener(entry)


def _token_error(error: str, description: str) -> tuple[Response, int]:
    return jsonify(error=error, error_description=description), 400
