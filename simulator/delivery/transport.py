"""Sending one KCI to the gateway's Supplier Updates API: the port and its httpx adapter.

``KciTransport.send`` never raises for anything the network or the gateway does: every
attempt becomes a ``TransportResult`` (an answer, a timeout, a connection error, or a
failed token request), which :func:`simulator.domain.retry.classify` turns into an
outcome.

An outbox payload is the KCI body, plus optionally one key that is not sent:
``"_delivery": {"conversationId": "..."}`` carries the conversation id of the request
that created the order, sent as ``X-Conversation-ID`` so the KCI joins that conversation
(the header is optional on ``POST /kcis`` and omitted when there is none).

Authentication (``auth``) is an ``httpx.Auth``: :class:`NoAuth`, :class:`BasicAuth`,
:class:`BearerToken`, or :class:`ClientCredentials`, which fetches a token from the
gateway's token endpoint, reuses it until shortly before it expires, and fetches a new one
once when the gateway answers ``401``.
"""

from __future__ import annotations

import base64
import threading
import uuid
from collections.abc import Generator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import httpx

from simulator.domain.clock import Clock
from simulator.domain.retry import Outcome, classify, retry_after
from simulator.storage.outbox import DELIVERY_CONTEXT, kci_body

#: Outbox payload key for delivery metadata; it is removed before the KCI is sent.


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


class TokenError(Exception):
    """The token endpoint did not issue a usable token (the message says what it answered)."""


class NoAuth(httpx.Auth):
    """No ``Authorization`` header (a local receiver that does not ask for one)."""


class BasicAuth(httpx.BasicAuth):
    """``Authorization: Basic`` with a fixed user and password."""

    def __init__(self, user: str, password: str) -> None:
        super().__init__(user, password)


class BearerToken(httpx.Auth):
    """``Authorization: Bearer`` with a fixed token."""

    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Add the header and send."""
        request.headers["Authorization"] = self._header
        yield request


def _expires_in(value: Any) -> int:
    # The contract accepts an integer or a numeric string (the published pages disagree).
    if isinstance(value, bool):
        raise TokenError(f"expires_in is {value!r}, not a number of seconds")
    if isinstance(value, int):
        seconds = value
    elif isinstance(value, str) and value.strip().isdigit():
        seconds = int(value.strip())
    else:
        raise TokenError(f"expires_in is {value!r}, not a number of seconds")
    if seconds < 1:
        raise TokenError(f"expires_in is {seconds}, not a positive number of seconds")
    return seconds


class ClientCredentials(httpx.Auth):
    """OAuth 2.0 client credentials against the gateway's token endpoint (§2.1).

    The token is requested form-encoded with ``grant_type=client_credentials`` (and
    ``scope`` when given), the client authenticating with ``Authorization: Basic``. It is
    reused until ``refresh_margin`` before ``expires_in`` runs out (by ``clock``), or half
    its lifetime for very short-lived tokens. A ``401`` from the gateway discards it, and the
    request is sent once more with a new token.

    The token request goes through the same ``httpx.Client`` as the KCIs, so it shares
    their timeout and connection pool.
    """

    requires_response_body = True  # the token endpoint's JSON is read inside the flow

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        scope: str | None = None,
        *,
        clock: Clock,
        refresh_margin: timedelta = timedelta(seconds=60),
    ) -> None:
        self.token_url = token_url
        self.scope = scope
        self._basic = "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode("ascii")
        self._clock = clock
        self._refresh_margin = refresh_margin
        self._lock = threading.Lock()
        self._token: str | None = None
        self._valid_until: datetime | None = None
        self.tokens_fetched = 0

    def _cached(self) -> str | None:
        with self._lock:
            if self._token is None or self._valid_until is None or self._clock.now() >= self._valid_until:
                return None
            return self._token

    def _store(self, response: httpx.Response) -> str:
        if response.status_code != 200:
            raise TokenError(f"the token endpoint answered {response.status_code}: {response.text[:500]}")
        try:
            document = response.json()
            token = document["access_token"]
            lifetime = _expires_in(document["expires_in"])
        except (ValueError, KeyError, TypeError) as error:
            raise TokenError(
                f"the token endpoint's answer is unusable ({error}): {response.text[:500]}"
            ) from None
        if not isinstance(token, str) or not token:
            raise TokenError("the token endpoint's access_token is empty")
        usable = max(timedelta(seconds=lifetime) - self._refresh_margin, timedelta(seconds=lifetime / 2))
        with self._lock:
            self._token, self._valid_until = token, self._clock.now() + usable
            self.tokens_fetched += 1
        return token

    def _forget(self) -> None:
        with self._lock:
            self._token = self._valid_until = None

    def _token_request(self) -> httpx.Request:
        form = {"grant_type": "client_credentials"}
        if self.scope:
            form["scope"] = self.scope
        return httpx.Request(
            "POST",
            self.token_url,
            data=form,
            headers={"Authorization": self._basic, "Accept": "application/json"},
        )

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Send with the cached token (fetching one first if needed); on 401 refetch once and resend."""
        token = self._cached()
        if token is None:
            token = self._store((yield self._token_request()))
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            self._forget()
            token = self._store((yield self._token_request()))
            request.headers["Authorization"] = f"Bearer {token}"
            if "X-Request-ID" in request.headers:  # a new request, so a new id (§2.2)
                request.headers["X-Request-ID"] = str(uuid.uuid4())
            yield request


class HttpTransport:
    """Posts KCIs to ``{base_url}/kcis`` with one ``httpx.Client`` (close it when done)."""

    def __init__(self, base_url: str, auth: httpx.Auth | None = None, timeout: float = 10.0) -> None:
        self.url = base_url.rstrip("/") + "/kcis"
        self._client = httpx.Client(auth=auth or NoAuth(), timeout=timeout)

    def send(self, kci_id: str, payload: dict[str, Any]) -> TransportResult:
        """Post the KCI once, with a new ``X-Request-ID``; report the answer or the failure."""
        request_id = str(uuid.uuid4())
        headers = {"X-Request-ID": request_id}
        conversation = conversation_id(payload)
        if conversation is not None:
            headers["X-Conversation-ID"] = conversation
        try:
            response = self._client.post(self.url, json=kci_body(payload), headers=headers)
        except httpx.TimeoutException as error:
            return TransportResult(
                None, error=_describe("timed out", error), timed_out=True, request_id=request_id
            )
        except httpx.TransportError as error:
            return TransportResult(
                None,
                error=_describe("connection failed", error),
                connection_error=True,
                request_id=request_id,
            )
        except TokenError as error:
            return TransportResult(None, error=f"no access token: {error}", request_id=request_id)
        return TransportResult(
            response.status_code,
            body=response.text or None,
            retry_after=retry_after(response.headers.get("Retry-After")),
            request_id=response.request.headers.get("X-Request-ID", request_id),
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def __enter__(self) -> HttpTransport:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _describe(what: str, error: httpx.HTTPError) -> str:
    detail = str(error) or type(error).__name__
    return f"{what}: {detail}"
