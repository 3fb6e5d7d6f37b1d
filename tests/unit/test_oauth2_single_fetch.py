"""Client credentials shared by threads: one token request, however many callers find none."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx

from contracts.oauth2 import ClientCredentials


class TokenEndpoint:
    """Issues numbered tokens. The first answer is held back until a second token request comes
    (at most a second), so callers that do not wait for the first fetch are caught asking too."""

    def __init__(self, callers: int) -> None:
        self.issued = 0
        self.everyone_started = threading.Barrier(callers, timeout=5)
        self._another = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            with self._lock:
                self.issued += 1
                number = self.issued
            if number == 1:
                self._another.wait(1.0)
            else:
                self._another.set()
            return httpx.Response(200, json={"access_token": f"t{number}", "expires_in": 3600})
        return httpx.Response(204 if request.headers.get("Authorization", "").startswith("Bearer t") else 401)


def test_threads_that_find_no_token_share_one_fetch() -> None:
    callers = 8
    endpoint = TokenEndpoint(callers)
    auth = ClientCredentials("http://gateway/token", "client", "secret")
    with httpx.Client(auth=auth, transport=httpx.MockTransport(endpoint)) as client:

        def call(_: int) -> int:
            endpoint.everyone_started.wait()  # all at once, each finding no token yet
            return client.post("http://gateway/kcis", json={}).status_code

        with ThreadPoolExecutor(callers) as pool:
            statuses = list(pool.map(call, range(callers)))
    assert statuses == [204] * callers
    assert endpoint.issued == 1
    assert auth.tokens_fetched == 1
