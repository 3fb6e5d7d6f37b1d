"""The one OAuth 2.0 client: credentials as ``httpx.Auth``, for KCI delivery and certification alike.

* :class:`NoAuth` sends nothing, :class:`BearerToken` a fixed ``Authorization: Bearer``;
* :class:`ClientCredentials` runs the client-credentials grant (§2.1 of the reference): a
  form-encoded ``grant_type=client_credentials`` (and ``scope``) to the token endpoint, the
  client authenticating with ``Authorization: Basic`` — and, when the endpoint refuses that
  with 400 or 401, once more with the credentials as form fields, which §2.1 also allows. The
  token is cached until ``refresh_margin`` before ``expires_in`` runs out (half its lifetime for
  very short-lived tokens); a ``401`` from the API discards it and the request is sent once more
  with a new token.

A token endpoint that refuses the client raises :class:`TokenRefused` (its status and OAuth
``error``, never the secret), logged once per distinct refusal so a retrying caller does not
flood the log; an unusable answer raises :class:`TokenError`, its base.

Standard library and httpx only: the simulator and the certification suite both import it.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
import uuid
from collections.abc import Callable, Generator
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import httpx

__all__ = ["BearerToken", "ClientCredentials", "NoAuth", "TokenError", "TokenRefused"]

log = logging.getLogger(__name__)

DEFAULT_LIFETIME = 3600
"""Seconds a token is taken to live when the endpoint leaves ``expires_in`` out (RFC 6749 §5.1)."""


class Clock(Protocol):
    """Anything with ``now()`` (``simulator.domain.clock.Clock`` is one)."""

    def now(self) -> datetime:
        """The current time, with a UTC offset."""
        ...


class _WallClock:
    def now(self) -> datetime:
        return datetime.fromtimestamp(time.time(), UTC)


class TokenError(Exception):
    """The token endpoint did not issue a usable token (the message says what it answered)."""


class TokenRefused(TokenError):
    """The token endpoint refused the client: its status and OAuth ``error`` (never the secret)."""

    def __init__(self, token_url: str, status: int, error: str, description: str = "") -> None:
        self.status, self.error, self.description = status, error, description
        detail = f" ({description})" if description else ""
        super().__init__(f"token refused by {token_url}: {status} {error}{detail}")


class NoAuth(httpx.Auth):
    """No ``Authorization`` header."""

    header: str | None = None


class BearerToken(httpx.Auth):
    """``Authorization: Bearer`` with a fixed token."""

    def __init__(self, token: str) -> None:
        self.header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Add the header and send."""
        request.headers["Authorization"] = self.header
        yield request


def _expires_in(value: Any) -> int:
    # The contract accepts an integer or a numeric string (the published pages disagree).
    if value is None:
        return DEFAULT_LIFETIME
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


TokenFlow = Generator[httpx.Request, httpx.Response, str]


class ClientCredentials(httpx.Auth):
    """OAuth 2.0 client credentials against a token endpoint, the token cached (see the module)."""

    requires_response_body = True  # the token endpoint's JSON is read inside the flow

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        scope: str | None = None,
        *,
        clock: Clock | None = None,
        refresh_margin: timedelta = timedelta(seconds=60),
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self.scope = scope
        self._secret = client_secret
        self._clock: Clock = clock or _WallClock()
        self._refresh_margin = refresh_margin
        self._lock = threading.Lock()
        # One fetch at a time: threads that find no token wait for the one fetching it (a
        # dispatcher sending side by side would otherwise ask the endpoint once per thread).
        self._fetching = threading.Lock()
        self._token: str | None = None
        self._valid_until: datetime | None = None
        self._logged: tuple[int, str] | None = None
        self.tokens_fetched = 0

    def __repr__(self) -> str:  # never the secret
        return f"ClientCredentials({self.token_url!r}, {self.client_id!r}, scope={self.scope!r})"

    # --- the cache ------------------------------------------------------------------------------

    def _cached(self) -> str | None:
        with self._lock:
            if self._token is None or self._valid_until is None or self._clock.now() >= self._valid_until:
                return None
            return self._token

    def forget(self) -> None:
        """Drop the cached token (the next call fetches another), e.g. once the issuer's clock moved."""
        with self._lock:
            self._token = self._valid_until = None

    def _store(self, token: str, lifetime: int) -> str:
        usable = max(timedelta(seconds=lifetime) - self._refresh_margin, timedelta(seconds=lifetime / 2))
        with self._lock:
            self._token, self._valid_until = token, self._clock.now() + usable
            self.tokens_fetched += 1
            self._logged = None
        return token

    # --- the grant ------------------------------------------------------------------------------

    def _token_request(self, *, in_body: bool) -> httpx.Request:
        form = {"grant_type": "client_credentials"}
        if self.scope:
            form["scope"] = self.scope
        headers = {"Accept": "application/json"}
        if in_body:
            form |= {"client_id": self.client_id, "client_secret": self._secret}
        else:
            basic = base64.b64encode(f"{self.client_id}:{self._secret}".encode()).decode("ascii")
            headers["Authorization"] = f"Basic {basic}"
        return httpx.Request("POST", self.token_url, data=form, headers=headers)

    def _fetch(self) -> TokenFlow:
        """Ask for a token (Basic, then form fields if Basic is refused); cache and return it."""
        response = yield self._token_request(in_body=False)
        if response.status_code in {400, 401}:
            response = yield self._token_request(in_body=True)
        if response.status_code != 200:
            raise self._refused(response)
        try:
            document = response.json()
            token = document["access_token"]
            lifetime = _expires_in(document.get("expires_in"))
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise TokenError(
                f"the token endpoint's answer is unusable ({error}): {response.text[:300]}"
            ) from None
        if not isinstance(token, str) or not token:
            raise TokenError("the token endpoint's access_token is empty")
        return self._store(token, lifetime)

    def _refused(self, response: httpx.Response) -> TokenRefused:
        try:
            answer = response.json()
        except ValueError:
            answer = None
        answer = answer if isinstance(answer, dict) else {}
        error = str(answer.get("error") or response.text[:100] or "no error given")
        refused = TokenRefused(
            self.token_url, response.status_code, error, str(answer.get("error_description") or "")
        )
        with self._lock:
            first = self._logged != (refused.status, refused.error)
            self._logged = (refused.status, refused.error)
        if first:
            log.warning("client %s: %s", self.client_id, refused)
        return refused

    def _token_other_than(self, stale: str | None) -> TokenFlow:
        """The cached token unless it is missing, expired or ``stale``; else a new one, one fetch at a time.

        Sync clients only: the lock is held across the token request, which runs in the caller's thread.
        """
        with self._fetching:
            token = self._cached()
            if token is None or token == stale:
                token = yield from self._fetch()
            return token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Send with the cached token (fetching one first if needed); on 401 refetch once and resend."""
        token = self._cached()
        if token is None:
            token = yield from self._token_other_than(None)
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            # Another thread may have fetched a new one meanwhile: that is taken, not fetched again.
            token = yield from self._token_other_than(token)
            request.headers["Authorization"] = f"Bearer {token}"
            if "X-Request-ID" in request.headers:  # a new request, so a new id (§2.2)
                request.headers["X-Request-ID"] = str(uuid.uuid4())
            yield request

    def authorization(self, send: Callable[[httpx.Request], httpx.Response]) -> str:
        """The ``Authorization`` value to send now, fetching a token through ``send`` if needed.

        For callers that set headers themselves (schemathesis, for one) rather than pass an auth.
        """
        token = self._cached()
        if token is None:
            flow = self._token_other_than(None)  # one fetch at a time, as auth_flow
            try:
                request = next(flow)
                while True:
                    request = flow.send(send(request))
            except StopIteration as done:
                token = done.value
        return f"Bearer {token}"
