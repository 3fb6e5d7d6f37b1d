"""Sending one KCI to the gateway's Supplier Updates API: the port and its urllib3 adapter.

``KciTransport.send`` never raises for anything the network or the gateway does: every
attempt becomes a ``TransportResult`` (an answer, a timeout, a connection error, or a
failed token request), which :func:`simulator.domain.retry.classify` turns into an
outcome.

An outbox payload is the KCI body, plus optionally one key that is not sent:
``"_delivery": {"conversationId": "..."}`` carries the conversation id of the request
that created the order, sent as ``X-Conversation-ID`` so the KCI joins that conversation
(the header is optional on ``POST /kcis`` and omitted when there is none).

Authentication (``auth``) is an ``httpx.Auth``: :class:`BasicAuth`, or one of
:mod:`contracts.oauth2` (the client the certification suite uses too): ``NoAuth``,
``BearerToken``, or ``ClientCredentials``, which fetches a token from the gateway's token
endpoint, reuses it until shortly before it expires, and fetches a new one once when the
gateway answers ``401``. A token the endpoint refuses fails the attempt with an error that
says so and why (``no access token: token refused by URL: 401 invalid_client``), which the
outbox keeps in the attempt log the admin API shows.
"""

from __future__ import annotations

import json
import ssl
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

import httpx
import urllib3

from contracts.oauth2 import BearerToken, ClientCredentials, NoAuth, TokenError
from simulator.domain.retry import Outcome, classify, retry_after
from simulator.storage.outbox import DELIVERY_CONTEXT, kci_body

__all__ = [
    "BasicAuth",
    "BearerToken",
    "ClientCredentials",
    "HttpTransport",
    "KciTransport",
    "NoAuth",
    "TransportResult",
    "conversation_id",
]


@dataclass(frozen=True, slots=True)
class TransportResult:
    """What one attempt to send a KCI came to.

    ``body`` is the gateway's answer as text (``None`` when there was no answer or it was
    empty); ``error`` describes a failure that produced no usable answer.
    """

    status_code: int | None
    body: str | None = None
    error: str | None = None
    timed_out: bool = False
    connection_error: bool = False
    retry_after: timedelta | None = None
    request_id: str | None = None

    @property
    def outcome(self) -> Outcome:
        """DELIVERED, REJECTED or RETRY, by the retry policy's rules."""
        return classify(self.status_code, timed_out=self.timed_out, connection_error=self.connection_error)


class KciTransport(Protocol):
    """Sends one KCI; the same ``kci_id`` (the payload's ``id``) on every re-delivery."""

    def send(self, kci_id: str, payload: dict[str, Any]) -> TransportResult:
        """Post the KCI once and report what happened; never raises for network or gateway trouble."""
        ...


def conversation_id(payload: dict[str, Any]) -> str | None:
    """The conversation id an outbox payload asks the KCI to join, if any."""
    context = payload.get(DELIVERY_CONTEXT)
    value = context.get("conversationId") if isinstance(context, dict) else None
    return value if isinstance(value, str) and value else None


class BasicAuth(httpx.BasicAuth):
    """``Authorization: Basic`` with a fixed user and password."""

    def __init__(self, user: str, password: str) -> None:
        super().__init__(user, password)
        self.header = self._auth_header


class HttpTransport:
    """Posts KCIs to ``{base_url}/kcis`` over one urllib3 connection pool (close it when done).

    urllib3 rather than an ``httpx.Client``: a KCI costs well under half the CPU, and
    delivery is bound by it. ``auth`` stays an ``httpx.Auth`` (the OAuth2 client and token
    cache the certification suite shares): a fixed header is added as it is, and a token
    flow is driven here, so a token request and the resend after a ``401`` go over the
    same pool. ``connections`` should cover the dispatcher's concurrency, so that no send
    waits for a connection.
    """

    def __init__(
        self,
        base_url: str,
        auth: httpx.Auth | None = None,
        timeout: float = 10.0,
        verify: ssl.SSLContext | bool = True,
        connections: int = 16,
    ) -> None:
        self.url = base_url.rstrip("/") + "/kcis"
        self._auth = auth or NoAuth()
        # An auth that only adds a fixed header is applied here, without httpx's request models:
        # they cost more than the send. Any other (a token flow) is driven by :meth:`_exchange`.
        self._fixed = self._auth if isinstance(self._auth, NoAuth | BearerToken | BasicAuth) else None
        # Certificates are always verified over HTTPS: against the system's CAs, or ``verify``.
        tls: dict[str, Any] = {}  # verify=True: urllib3's default, the system's CAs
        if isinstance(verify, ssl.SSLContext):
            tls["ssl_context"] = verify
        elif verify is False:
            tls["cert_reqs"] = "CERT_NONE"
        self._pool = urllib3.PoolManager(
            maxsize=max(1, connections),
            timeout=urllib3.Timeout(connect=timeout, read=timeout),
            retries=False,  # the dispatcher retries, with back-off, and records each attempt
            **tls,
        )
        self._kcis = self._pool.connection_from_url(self.url)  # the gateway's pool, looked up once

    def send(self, kci_id: str, payload: dict[str, Any]) -> TransportResult:
        """Post the KCI once, with a new ``X-Request-ID``; report the answer or the failure."""
        request_id = str(uuid.uuid4())
        headers = {"Content-Type": "application/json", "X-Request-ID": request_id}
        conversation = conversation_id(payload)
        if conversation is not None:
            headers["X-Conversation-ID"] = conversation
        text = json.dumps(kci_body(payload), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        body = text.encode()
        try:
            if self._fixed is not None:
                return self._posted(self._fixed.header, body, headers)
            response = self._exchange(httpx.Request("POST", self.url, headers=headers, content=body))
        except urllib3.exceptions.NewConnectionError as error:  # a ConnectTimeoutError too, by history
            return _failed("connection failed", error, request_id, connection_error=True)
        except urllib3.exceptions.TimeoutError as error:
            return _failed("timed out", error, request_id, timed_out=True)
        except urllib3.exceptions.HTTPError as error:
            return _failed("connection failed", error, request_id, connection_error=True)
        except TokenError as error:
            return TransportResult(None, error=f"no access token: {error}", request_id=request_id)
        return TransportResult(
            response.status_code,
            body=response.text or None,
            retry_after=retry_after(response.headers.get("Retry-After")),
            request_id=response.request.headers.get("X-Request-ID", request_id),
        )

    def _posted(self, authorization: str | None, body: bytes, headers: dict[str, str]) -> TransportResult:
        """Post with a fixed ``Authorization`` value (or none) straight over the pool."""
        if authorization is not None:
            headers["Authorization"] = authorization
        answer = self._kcis.urlopen("POST", self.url, body=body, headers=headers, redirect=False)
        return TransportResult(
            answer.status,
            body=answer.data.decode("utf-8", "replace") or None,
            retry_after=retry_after(answer.headers.get("Retry-After")),
            request_id=headers["X-Request-ID"],
        )

    def _exchange(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` as the auth flow asks (a token first, a resend after 401); the last answer."""
        flow = self._auth.sync_auth_flow(request)
        try:
            outgoing = next(flow)
            while True:
                response = self._sent(outgoing)
                try:
                    outgoing = flow.send(response)
                except StopIteration:
                    return response
        finally:
            flow.close()  # a send that raised leaves the flow suspended, perhaps holding its token lock

    def _sent(self, request: httpx.Request) -> httpx.Response:
        answer = self._pool.request(
            request.method,
            str(request.url),
            body=request.read(),
            headers=dict(request.headers),
            redirect=False,  # a redirect is an answer of the gateway's, judged like any other
        )
        return httpx.Response(
            answer.status, headers=list(answer.headers.items()), content=answer.data, request=request
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._pool.clear()

    def __enter__(self) -> HttpTransport:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _failed(
    what: str, error: Exception, request_id: str, *, timed_out: bool = False, connection_error: bool = False
) -> TransportResult:
    """An attempt that got no answer: it timed out, or it could not connect."""
    return TransportResult(
        None,
        error=_describe(what, error),
        timed_out=timed_out,
        connection_error=connection_error,
        request_id=request_id,
    )


def _describe(what: str, error: Exception) -> str:
    detail = str(error) or type(error).__name__
    return f"{what}: {detail}"
