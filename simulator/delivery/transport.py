"""Sending one KCI to the gateway's Supplier Updates API: the port and its httpx adapter.

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

import ssl
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

import httpx

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


class HttpTransport:
    """Posts KCIs to ``{base_url}/kcis`` with one ``httpx.Client`` (close it when done)."""

    def __init__(
        self,
        base_url: str,
        auth: httpx.Auth | None = None,
        timeout: float = 10.0,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self.url = base_url.rstrip("/") + "/kcis"
        # Certificates are always verified over HTTPS: against the system's CAs, or ``verify``.
        self._client = httpx.Client(auth=auth or NoAuth(), timeout=timeout, verify=verify)

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
