"""The receiver's tenant side forwards each order's KCIs in sequence, once each, whatever their arrival."""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

import httpx
from hypothesis import given
from hypothesis import strategies as st

from contracts.certification.gateway import GatewayOrder, example_kci
from simulator.receiver import ReceiverSettings, create_receiver_app, receiver_state
from simulator.tenant_forwarding import TenantForwarder


class Tenant:
    """A Tenant Updates API in memory; ``refuse`` answers the first N posts with that status."""

    def __init__(self, refuse: list[int] | None = None) -> None:
        self.received: list[dict[str, Any]] = []
        self.attempts = 0
        self.refuse = list(refuse or [])
        self.lock = threading.Lock()

    def handler(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.attempts += 1
            if self.refuse:
                return httpx.Response(self.refuse.pop(0))
            self.received.append(json.loads(request.content))
        return httpx.Response(204)

    def forwarder(self) -> TenantForwarder:
        return TenantForwarder(
            "http://tenant.test", backoff_seconds=0.001, transport=httpx.MockTransport(self.handler)
        )


def kci(order: int, sequence: int) -> dict[str, Any]:
    body = example_kci("UPDATE")
    body |= {"id": str(uuid.uuid4()), "sequenceNumber": sequence}
    body["provideServiceOrder"]["id"] = order
    return body


# Each order's sequence numbers 1..n, interleaved across orders in any order, some offered twice.
arrivals = st.lists(st.integers(1, 4), min_size=1, max_size=3).flatmap(
    lambda lengths: st.permutations(
        [(order, sequence) for order, n in enumerate(lengths) for sequence in range(1, n + 1)]
    ).flatmap(lambda order: st.tuples(st.just(lengths), st.just(order), st.sets(st.integers(0, 9))))
)


@given(arrivals)
def test_each_order_reaches_the_tenant_in_sequence_once_whatever_the_arrival_order(
    case: tuple[list[int], list[tuple[int, int]], set[int]],
) -> None:
    lengths, order, repeated = case
    tenant = Tenant()
    forwarder = tenant.forwarder()
    bodies = {(o, s): kci(o, s) for o, s in order}
    for position, (o, s) in enumerate(order):
        forwarder.offer(str(o), s, bodies[o, s])
        if position in repeated:
            forwarder.offer(str(o), s, bodies[o, s])  # offered again: never forwarded twice
    forwarder.close()
    for o, n in enumerate(lengths):
        got = [k["sequenceNumber"] for k in tenant.received if k["provideServiceOrder"]["id"] == o]
        assert got == list(range(1, n + 1))
    ids = [k["id"] for k in tenant.received]
    assert len(set(ids)) == len(ids) == sum(lengths)
    assert not set(ids) & {body["id"] for body in bodies.values()}, "the gateway's own ids towards the tenant"
    assert forwarder.status()["forwarded"] == sum(lengths)


def test_a_gap_holds_later_kcis_back_until_it_is_filled() -> None:
    tenant = Tenant()
    forwarder = tenant.forwarder()
    forwarder.offer("7", 2, kci(7, 2))
    forwarder.offer("7", 3, kci(7, 3))
    assert forwarder.waiting() == {"7": [2, 3]}
    forwarder.offer("7", 1, kci(7, 1))
    forwarder.close()
    assert [k["sequenceNumber"] for k in tenant.received] == [1, 2, 3]
    assert forwarder.waiting() == {}


def test_a_failed_delivery_is_retried_with_the_same_tenant_kci_id() -> None:
    tenant = Tenant(refuse=[503, 503])
    forwarder = tenant.forwarder()
    forwarder.offer("8", 1, kci(8, 1))
    forwarder.close()
    assert tenant.attempts == 3
    assert len(tenant.received) == 1
    assert forwarder.status() | {"waiting": None} == {
        "url": "http://tenant.test/kcis",
        "forwarded": 1,
        "failed": 0,
        "stale": 0,
        "queued": 0,
        "waiting": None,
    }


def test_a_refusal_by_the_tenant_is_counted_and_not_retried() -> None:
    tenant = Tenant(refuse=[422])
    forwarder = tenant.forwarder()
    forwarder.offer("9", 1, kci(9, 1))
    forwarder.close()
    assert (tenant.attempts, forwarder.status()["failed"]) == (1, 1)


def test_the_receiver_forwards_a_supplier_re_delivery_once() -> None:
    tenant = Tenant()
    app = create_receiver_app(ReceiverSettings(tenant_updates_url="http://tenant.test"))
    state = receiver_state(app)
    assert state.forwarder is not None
    state.forwarder.close()
    state.forwarder = tenant.forwarder()
    client = app.test_client()
    order = GatewayOrder(4242, "SO-000004242")
    second, first = kci(order.id, 2), kci(order.id, 1)
    for body in (second, second, first):  # out of order, and a re-delivery
        answer = client.post("/kcis", json=body, headers={"X-Request-ID": str(uuid.uuid4())})
        assert answer.status_code == 204
    status = client.get("/_receiver/forwarding").get_json()
    assert status["url"] == "http://tenant.test/kcis"
    state.forwarder.close()
    assert [k["sequenceNumber"] for k in tenant.received] == [1, 2]
