"""Gateway mode (GW-…): the suite plays supplier against a gateway's Supplier Updates API.

``fibresim certify gateway --kci-url URL`` posts KCIs to ``{URL}/kcis``: valid ones
built from the contract's examples (expects 204), malformed ones (400 with the error
body), invalid ones (422 or 400 with the error body, never a server error), a duplicate
(204 again), sequence numbers out of order (204: buffered, not lost), and, when
credentials are configured, calls without them (401).

Each rule talks about its own order so the rules do not disturb one another: a fresh
gateway id, or the next of the ids given with ``--order-id`` when the gateway only
accepts KCIs about orders it knows.

Whether a gateway *kept* what it answered 204 to cannot be seen on the Supplier Updates
API, which has no read. The suite observes it on the tenant side instead, the one place a
gateway must make it visible (reference §2.6: KCIs "reach tenants in numeric sequence"):
with ``--tenant-updates-port`` it plays the tenant, serving a Tenant Updates API
(``POST /kcis``) that the gateway is configured to forward to. A forwarded KCI belongs to
an order when it names the order's gateway id (``id`` of any object in it) or its supplier
reference (any value, whatever the field is called: ``supplierOrderNumber`` on the tenant
side, §2.4). Its KCI ``id`` is the gateway's own (§2.4); a gateway's re-delivery of one
tenant KCI repeats that id and counts once. Without the tenant side, a gateway that does
not refuse a reused KCI id leaves GW-004 and GW-005 not decidable: never a pass.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import httpx

from contracts import SUPPLIER_UPDATES_API
from contracts.certification.behaviour.support import expect_error_code
from contracts.certification.errors import NotDecidable, RuleViolation
from contracts.certification.evidence import Evidence
from contracts.certification.rules import rule
from contracts.certification.target import Target
from contracts.operations import operation_index

__all__ = [
    "GatewayOrder",
    "example_kci",
    "forwarded_reasons",
    "kci_about",
    "post_kci",
    "tenant_mark",
    "tenant_side",
]

HAPPY_PATH = ("ACKNOWLEDGED", "COMMITTED", "UPDATE", "ADDITIONAL", "COMPLETED")


def example_kci(reason: str) -> dict[str, Any]:
    """A private copy of the contract's example KCI for ``reason``."""
    examples = operation_index(SUPPLIER_UPDATES_API).get("POST", "/kcis").body_examples
    value: dict[str, Any] = copy.deepcopy(examples[reason])
    return value


@dataclass(frozen=True, slots=True)
class GatewayOrder:
    """The order a rule's KCIs are about."""

    id: int
    supplier_order_reference: str


def _order(target: Target) -> GatewayOrder:
    given = target.settings.order_ids
    used: int = target.shared.get("orders_used", 0)
    target.shared["orders_used"] = used + 1
    order_id = given[used % len(given)] if given else target.new_id()
    return GatewayOrder(order_id, f"SO-{order_id:09d}")


def _values(node: Any) -> Iterator[tuple[str | None, Any]]:
    """Every (key, value) of a JSON document, depth first; list items have no key."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key), value
            yield from _values(value)
    elif isinstance(node, list):
        for item in node:
            yield None, item
            yield from _values(item)


def _names_order(body: Any, order: GatewayOrder) -> bool:
    """Whether a forwarded KCI is about ``order``: its gateway id as an ``id``, or its reference."""
    for key, value in _values(body):
        if key == "id" and str(value) == str(order.id):
            return True
        if isinstance(value, str) and value == order.supplier_order_reference:
            return True
    return False


def tenant_side(target: Target) -> bool:
    return target.tenant_receiver is not None and target.settings.tenant_updates_wait > 0


def tenant_mark(target: Target) -> int:
    """How many deliveries the tenant side has had so far (a rule judges only later ones)."""
    return len(target.tenant_receiver.received()) if target.tenant_receiver is not None else 0


def forwarded_reasons(
    target: Target,
    order: GatewayOrder,
    expected: int,
    since: int,
    settle: float = 2.0,
    *,
    record: bool = True,
) -> list[str]:
    """The reason codes the tenant received about ``order``, in arrival order, once per tenant KCI.

    Only deliveries after the first ``since`` count. Waits up to ``--tenant-updates-wait`` for
    ``expected`` of them, then a little longer (a quarter of the wait, at most ``settle``
    seconds) for any that should not come. With ``record``, the deliveries become evidence.
    """
    receiver = target.tenant_receiver
    assert receiver is not None
    wait = target.settings.tenant_updates_wait

    def about() -> list[str]:
        seen: set[str] = set()
        reasons = []
        for item in receiver.received()[since:]:
            body = item.body
            if not isinstance(body, dict) or not _names_order(body, order):
                continue
            key = str(body.get("id", id(item)))
            if key not in seen:
                seen.add(key)
                reasons.append(str(body.get("reasonCode")))
        return reasons

    give_up = time.monotonic() + target.remaining(wait)
    while len(about()) < expected and time.monotonic() < give_up:
        time.sleep(0.05)
    settle_until = time.monotonic() + target.remaining(min(settle, wait / 4))
    while time.monotonic() < settle_until:
        time.sleep(0.05)
    for item in receiver.received()[since:] if record else ():
        if isinstance(item.body, dict) and _names_order(item.body, order):
            target.record(item.exchange(f"{receiver.url}/kcis", 204))
    return about()


def _tenant_got(
    target: Target, order: GatewayOrder, sent: str, expected: Sequence[str], since: int
) -> Evidence:
    """Judge what the tenant side received about ``order`` since ``since`` against ``expected``."""
    got = forwarded_reasons(target, order, len(expected), since)
    if got == list(expected):
        return target.evidence(f"the tenant received {', '.join(got)} about order {order.id}, once each")
    missing = [reason for reason in expected if reason not in got]
    if missing:
        problem = f"lost: the tenant never received {', '.join(missing)}"
    elif len(got) > len(expected):
        problem = "re-delivery not treated as the same KCI: the tenant received it more than once"
    else:
        problem = "applied out of sequence: the tenant received them in the order they were sent"
    raise RuleViolation(
        f"{sent}, all answered 204; about order {order.id} the tenant received "
        f"{', '.join(got) or 'nothing'} (expected {', '.join(expected)}): {problem}",
        target.evidence(),
    )


def kci_about(target: Target, reason: str, order: GatewayOrder, sequence: int) -> dict[str, Any]:
    """The contract's example for ``reason``, re-addressed to ``order`` with a fresh id and time."""
    kci = example_kci(reason)
    kci["id"] = target.new_uuid()
    kci["sequenceNumber"] = sequence
    kci["issuedOn"] = target.now().astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    for key in ("provideServiceOrder", "modifyServiceOrder", "ceaseServiceOrder"):
        entity = kci.get(key)
        if isinstance(entity, dict):
            if reason == "CREATED":  # an unsolicited cease is new and has no gateway id yet
                entity["supplierOrderReference"] = f"UC-{order.id:09d}"
            else:
                entity["id"] = order.id
                entity["supplierOrderReference"] = order.supplier_order_reference
    return kci


def post_kci(
    target: Target,
    body: Any = None,
    *,
    raw: str | None = None,
    headers: Mapping[str, str] | None = None,
    send_auth: bool = True,
    note: str = "",
) -> httpx.Response:
    return target.post(
        "/kcis",
        json_body=body,
        content=raw,
        content_type="application/json" if raw is not None else None,
        headers=dict(headers) if headers is not None else target.headers(),
        send_auth=send_auth,
        note=note,
    )


def _delivered(target: Target, kci: Any, what: str, *, note: str) -> None:
    """Deliver ``kci``; the gateway must receive it with 204."""
    response = post_kci(target, kci, note=note)
    if response.status_code != 204:
        raise RuleViolation(
            f"{what}: {response.status_code} instead of 204: {response.text[:300]}", target.evidence()
        )


@rule("GW-001")
def valid_kcis_are_received(target: Target) -> Evidence:
    """A provide order's happy path, then an unsolicited cease announced with CREATED."""
    order, since = _order(target), tenant_mark(target)
    for sequence, reason in enumerate(HAPPY_PATH, start=1):
        _delivered(target, kci_about(target, reason, order, sequence), reason, note=reason)
    created = kci_about(target, "CREATED", _order(target), 1)
    _delivered(target, created, "CREATED (unsolicited cease)", note="CREATED")
    if tenant_side(target):
        _tenant_got(target, order, "the happy path in sequence", HAPPY_PATH, since)
    return target.evidence(f"order {order.id}: {', '.join(HAPPY_PATH)}; an unsolicited cease: CREATED")


@rule("GW-002")
def malformed_kcis_are_refused(target: Target) -> Evidence:
    """A body that is not JSON, an empty body, and a KCI without X-Request-ID."""
    order = _order(target)
    cases: list[tuple[str, httpx.Response]] = [
        ("a body that is not JSON", post_kci(target, raw='{"id": "not json', note="not JSON")),
        ("an empty body", post_kci(target, raw="", note="empty body")),
    ]
    without_request_id = {k: v for k, v in target.headers().items() if k != "X-Request-ID"}
    valid = kci_about(target, "ACKNOWLEDGED", order, 1)
    cases.append(
        (
            "a KCI without X-Request-ID",
            post_kci(target, valid, headers=without_request_id, note="no X-Request-ID"),
        )
    )
    for what, response in cases:
        expect_error_code(target, response, {400}, what, document=SUPPLIER_UPDATES_API)
    return target.evidence()


def _invalid_kcis(target: Target, order: GatewayOrder) -> list[tuple[str, Any]]:
    committed = kci_about(target, "COMMITTED", order, 1)
    for field in ("committedDate", "targetDate"):
        committed["provideServiceOrder"].pop(field, None)
    unknown_reason = {**kci_about(target, "UPDATE", order, 1), "reasonCode": "SHIPPED"}
    sequence_zero = kci_about(target, "ACKNOWLEDGED", order, 1) | {"sequenceNumber": 0}
    no_entity = {k: v for k, v in kci_about(target, "UPDATE", order, 1).items() if k != "provideServiceOrder"}
    anonymous = kci_about(target, "UPDATE", order, 1)
    anonymous["provideServiceOrder"] = {"status": "IN_PROGRESS"}
    return [
        ("COMMITTED without committedDate and targetDate", committed),
        ("an unknown reasonCode", unknown_reason),
        ("sequenceNumber 0", sequence_zero),
        ("no order entity", no_entity),
        ("an order entity without id or supplierOrderReference", anonymous),
        ("a JSON array instead of a KCI", [kci_about(target, "ACKNOWLEDGED", order, 1)]),
    ]


@rule("GW-003")
def invalid_kcis_are_refused(target: Target) -> Evidence:
    """Well-formed JSON that breaks the contract, one problem at a time."""
    order = _order(target)
    for what, body in _invalid_kcis(target, order):
        response = post_kci(target, body, note=what)
        expect_error_code(target, response, {400, 422}, f"a KCI with {what}", document=SUPPLIER_UPDATES_API)
    return target.evidence()


def _kept(target: Target, kci: Mapping[str, Any], what: str) -> Evidence:
    """Observe that the gateway kept ``kci``: the same id with another body must now be refused.

    A gateway that answered 204 and dropped the KCI has nothing to compare against; one that
    does not check reused ids leaves the question open (not decidable, never a pass).
    """
    reused = {**kci, "text": "fibresim certification: the same id with another body"}
    response = post_kci(target, reused, note=f"probe: {what} reused with another body")
    if 400 <= response.status_code < 500 and response.status_code not in {401, 403}:
        return target.evidence(
            f"{what} was kept: the same id with another body was refused with {response.status_code}"
        )
    if response.status_code >= 500:
        raise RuleViolation(
            f"a reused KCI id with another body: server error {response.status_code}", target.evidence()
        )
    raise NotDecidable(
        f"the gateway answered 204, but whether it kept {what} cannot be observed: it also took the same "
        f"KCI id with another body ({response.status_code}), and the Supplier Updates API offers no read; "
        "play the tenant (--tenant-updates-port) to observe what the gateway forwards",
        target.evidence(),
    )


@rule("GW-004")
def a_duplicate_kci_is_received_again(target: Target) -> Evidence:
    """A supplier retry after a lost 204: the same id and body again."""
    order, since = _order(target), tenant_mark(target)
    kci = kci_about(target, "ACKNOWLEDGED", order, 1)
    _delivered(target, kci, "first delivery", note="first delivery")
    _delivered(target, kci, "re-delivery of the same KCI", note="re-delivery")
    if tenant_side(target):
        return _tenant_got(target, order, f"KCI {kci['id']} delivered twice", ["ACKNOWLEDGED"], since)
    return _kept(target, kci, f"KCI {kci['id']} (delivered twice)")


@rule("GW-005")
def out_of_order_kcis_are_buffered(target: Target) -> Evidence:
    """COMMITTED (2) before ACKNOWLEDGED (1) for the same order."""
    order, since = _order(target), tenant_mark(target)
    early = kci_about(target, "COMMITTED", order, 2)
    _delivered(target, early, "sequence 2 before sequence 1", note="sequence 2 first")
    late = kci_about(target, "ACKNOWLEDGED", order, 1)
    _delivered(target, late, "sequence 1 after sequence 2", note="sequence 1 second")
    if tenant_side(target):
        return _tenant_got(
            target, order, "COMMITTED (2) sent before ACKNOWLEDGED (1)", ["ACKNOWLEDGED", "COMMITTED"], since
        )
    return _kept(target, early, f"the out-of-sequence KCI {early['id']} (sequence 2, sent first)")


@rule("GW-006")
def kcis_need_credentials(target: Target) -> Evidence:
    """No Authorization header, then a token the gateway never issued (neither needs credentials)."""
    order = _order(target)
    attempts = [
        ("without Authorization", {}),
        (
            "with a token the gateway never issued",
            {"Authorization": "Bearer fibresim-certification-not-a-token"},
        ),
    ]
    for sequence, (what, extra) in enumerate(attempts, start=1):
        kci = kci_about(target, "ACKNOWLEDGED", order, sequence)
        response = post_kci(target, kci, headers=target.headers(**extra), send_auth=False, note=what)
        expect_error_code(target, response, {401}, f"a KCI {what}", document=SUPPLIER_UPDATES_API)
    return target.evidence()
