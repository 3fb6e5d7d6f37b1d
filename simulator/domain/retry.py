"""When to try a KCI delivery again, and whether to: the retry policy and outcome rules.

The Supplier Updates API leaves the retry policy to the supplier (it answers ``204`` once
it holds a KCI). Ours:

* ``2xx`` means the gateway has the KCI: **DELIVERED**.
* ``408``, ``429``, ``5xx``, timeouts, connection errors, and anything else that is not a
  clear answer about the KCI (``1xx``, ``3xx``, an unreadable response) mean "not yet":
  **RETRY**, keeping the KCI's ``id``. At-least-once delivery prefers a duplicate the
  gateway can recognise to a KCI that is silently lost.
* Any other ``4xx`` is the gateway refusing this KCI for good: **REJECTED**.

Back-off is exponential with *equal jitter*: attempt ``n`` waits a random time in
``[c/2, c]`` where ``c = min(max_delay, base_delay * factor ** (n - 1))``. Equal rather
than full jitter because a gateway that has just answered ``503`` gets at least half the
ceiling of breathing space, a burst of failures is still spread over the other half, and
below the cap a delay is never shorter than the one before it. A ``Retry-After`` from the
gateway is honoured as a lower bound.

Pure: standard library only; randomness comes from the ``random.Random`` passed in.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Final, Literal

Outcome = Literal["DELIVERED", "REJECTED", "RETRY"]

DELIVERED: Final = "DELIVERED"
REJECTED: Final = "REJECTED"
RETRY: Final = "RETRY"

# Client errors that say "later", not "never".
_TRANSIENT_4XX = frozenset({408, 429})


def classify(status_code: int | None, *, timed_out: bool, connection_error: bool) -> Outcome:
    """What one delivery attempt amounts to: DELIVERED, REJECTED (for good) or RETRY."""
    if timed_out or connection_error or status_code is None:
        return RETRY
    if 200 <= status_code < 300:
        return DELIVERED
    if 400 <= status_code < 500 and status_code not in _TRANSIENT_4XX:
        return REJECTED
    return RETRY


def retry_after(header_value: str | None) -> timedelta | None:
    """The wait a ``Retry-After: <seconds>`` header asks for; ``None`` when absent or not seconds.

    The HTTP-date form is not honoured (it would need the time, and the gateway documents
    neither form); the back-off applies instead.
    """
    if header_value is None:
        return None
    text = header_value.strip()
    if not text.isascii() or not text.isdigit():
        return None
    return timedelta(seconds=int(text))


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential back-off with equal jitter; ``max_attempts=None`` retries for ever.

    ``retry_after_limit`` caps how long a gateway's ``Retry-After`` can park a KCI, so a
    mistaken header cannot stop delivery for days.
    """

    base_delay: timedelta = timedelta(seconds=1)
    factor: float = 2.0
    max_delay: timedelta = timedelta(minutes=5)
    max_attempts: int | None = None
    retry_after_limit: timedelta = timedelta(hours=1)

    def __post_init__(self) -> None:
        if self.base_delay <= timedelta():
            raise ValueError("base_delay must be positive")
        if self.factor < 1:
            raise ValueError("factor must be at least 1")
        if self.max_delay < self.base_delay:
            raise ValueError("max_delay must be at least base_delay")
        if self.max_attempts is not None and self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1 (or None for no limit)")

    def ceiling(self, attempt: int) -> timedelta:
        """The longest wait after failed attempt ``attempt`` (1 for the first): the un-jittered delay."""
        if attempt < 1:
            raise ValueError("attempts are counted from 1")
        base = self.base_delay.total_seconds()
        cap = self.max_delay.total_seconds()
        steps = attempt - 1
        # Compare exponents rather than compute factor ** steps, which overflows a float.
        if self.factor == 1 or steps * math.log(self.factor) < math.log(cap / base):
            return timedelta(seconds=min(cap, base * self.factor**steps))
        return self.max_delay

    def delay_for(self, attempt: int, rng: random.Random, retry_after: timedelta | None = None) -> timedelta:
        """How long to wait after failed attempt ``attempt``: in ``[ceiling/2, ceiling]``.

        A ``retry_after`` from the gateway (capped at ``retry_after_limit``) is a lower bound.
        """
        ceiling = self.ceiling(attempt).total_seconds()
        # In float seconds: timedelta arithmetic rounds each term and could pass the ceiling.
        delay = timedelta(seconds=ceiling * (0.5 + 0.5 * rng.random()))
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.retry_after_limit))
        return delay

    def gives_up_after(self, attempt: int) -> bool:
        """True when failed attempt ``attempt`` was the last one the policy allows."""
        return self.max_attempts is not None and attempt >= self.max_attempts
