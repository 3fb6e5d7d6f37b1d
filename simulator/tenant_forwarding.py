"""The receiver's tenant side: forward each order's KCIs to a Tenant Updates API, in sequence, once.

A gateway "buffers and orders" supplier KCIs so that they reach tenants in numeric sequence
(reference §2.6). :class:`TenantForwarder` does that for ``fibresim receiver
--tenant-updates-url``: a KCI ahead of its order's next sequence number waits until the gap
is filled; a supplier's re-delivery (same KCI id) is not offered again; each forwarded KCI
gets the gateway's own id (reference §2.4), kept on every retry of its delivery. Delivery runs
on one background thread, started on first use (so a server that forks after building the
app forwards from the worker), retried with backoff a bounded number of times.

The certification suite's gateway mode plays the tenant (``--tenant-updates-port``) and
judges loss, duplicates and order on what arrives. State is in memory, like the receiver's.
"""

from __future__ import annotations

import copy
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = ["TenantForwarder"]

_STOP = object()


@dataclass(slots=True)
class _OrderStream:
    next_sequence: int = 1
    held: dict[int, dict[str, Any]] = field(default_factory=dict)


class TenantForwarder:
    """Buffers KCIs per order and posts them to ``{url}/kcis`` in sequence (thread-safe)."""

    def __init__(
        self,
        url: str,
        *,
        attempts: int = 5,
        backoff_seconds: float = 0.2,
        timeout_seconds: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = f"{url.rstrip('/')}/kcis"
        self._attempts = attempts
        self._backoff = backoff_seconds
        self._client = httpx.Client(timeout=timeout_seconds, transport=transport)
        self._lock = threading.Lock()
        self._streams: dict[str, _OrderStream] = {}
        self._ready: queue.Queue[Any] = queue.Queue()
        self._thread: threading.Thread | None = None
        self.forwarded = 0
        self.failed = 0
        self.stale = 0

    def offer(self, order_key: str, sequence: int, body: dict[str, Any]) -> None:
        """Take a supplier KCI seen for the first time; forward it and any it unblocks, in order."""
        with self._lock:
            stream = self._streams.setdefault(order_key, _OrderStream())
            if sequence < stream.next_sequence or sequence in stream.held:
                self.stale += 1  # a sequence number already forwarded or waiting: not forwarded twice
                return
            stream.held[sequence] = body
            while stream.next_sequence in stream.held:
                self._ready.put(self._as_tenant_kci(stream.held.pop(stream.next_sequence)))
                stream.next_sequence += 1
            self._start()

    def waiting(self) -> dict[str, list[int]]:
        """Per order, the sequence numbers held back until a gap is filled."""
        with self._lock:
            return {key: sorted(stream.held) for key, stream in self._streams.items() if stream.held}

    def status(self) -> dict[str, Any]:
        """What the admin API shows: where KCIs go, and how many went, failed or were stale."""
        return {
            "url": self.url,
            "forwarded": self.forwarded,
            "failed": self.failed,
            "stale": self.stale,
            "queued": self._ready.qsize(),
            "waiting": self.waiting(),
        }

    def close(self) -> None:
        """Stop after the KCIs already queued (each still gets its bounded retries)."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._ready.put(_STOP)
            thread.join(timeout=self._attempts * (self._backoff * 2**self._attempts + 5))
        self._client.close()

    @staticmethod
    def _as_tenant_kci(body: dict[str, Any]) -> dict[str, Any]:
        kci = copy.deepcopy(body)
        kci["id"] = str(uuid.uuid4())  # the gateway's own KCI id towards the tenant (§2.4)
        return kci

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._deliver_all, name="tenant-forwarder", daemon=True)
            self._thread.start()

    def _deliver_all(self) -> None:
        while (kci := self._ready.get()) is not _STOP:
            delivered = self._deliver(kci)
            with self._lock:
                if delivered:
                    self.forwarded += 1
                else:
                    self.failed += 1

    def _deliver(self, kci: dict[str, Any]) -> bool:
        headers = {"X-Request-ID": str(uuid.uuid4())}
        for attempt in range(self._attempts):
            try:
                response = self._client.post(self.url, json=kci, headers=headers)
            except httpx.HTTPError:
                response = None
            if response is not None and response.status_code < 300:
                return True
            if response is not None and 400 <= response.status_code < 500 and response.status_code != 429:
                return False  # the tenant refused it: another try would be refused too
            time.sleep(self._backoff * 2**attempt)
        return False
