"""Order rules (ORD-…): creating orders, amending and cancelling them (reference §3.6 to §3.9, §7).

The refusals come first (ORD-003, -004, -005, -007), while the address is untouched.
These rules place real orders on the target, as few as they can: one NEW order at the
``covered`` address is shared by ORD-001 (placed), ORD-002 (retried), ORD-008 (amended)
and ORD-009 (cancelled), declared in that order; ORD-006 runs last because it drives a
second order to completion, after which the address has a live line. The suite then
orders that line ceased (best effort); a later run takes an unused ``covered`` address
from the pool in any case (``contracts.certification.addresses``). An order the
target validates only asynchronously (202) cannot be judged here: such rules are
skipped and say so, and the KCI layer looks at what follows.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import httpx

from contracts.certification.addresses import TestAddress
from contracts.certification.behaviour.order_requests import (
    PlacedOrder,
    amendment_request,
    cancellation_request,
    modify_order,
    place_new_order,
    requested_date,
)
from contracts.certification.behaviour.support import (
    acknowledgement_problems,
    availability,
    body_of,
    characteristics,
    expect_no_problems,
    expect_refusal,
    expect_unknown_id_refused,
    line_profiles,
    other_tenant,
    specification_and_profile,
)
from contracts.certification.errors import NotDecidable, RuleSkipped, RuleViolation
from contracts.certification.evidence import Evidence
from contracts.certification.rules import Capability, rule
from contracts.certification.target import Target

ORDERS = Capability.ORDERS
COMPLETION_POLL_SECONDS = 0.5
CLOCK_STEP = timedelta(minutes=1)
DRIVEN = "driven with X-Scenario ORDER_SUCCESSFUL"


def _new_order(target: Target, **kwargs: Any) -> tuple[TestAddress, PlacedOrder]:
    place = target.addresses.require("covered")
    spec_id, profile, _body = specification_and_profile(target, place)
    return place, place_new_order(target, place, spec_id, profile, **kwargs)


def _the_order(target: Target) -> tuple[TestAddress, PlacedOrder]:
    """The run's shared NEW order at the covered address, placed on first use."""
    if "order" not in target.shared:
        target.shared["order"] = _new_order(target)
    shared: tuple[TestAddress, PlacedOrder] = target.shared["order"]
    return shared


def _accepted(placed: PlacedOrder, why: str) -> None:
    if not placed.accepted:
        raise RuleSkipped(
            f"{why}, but the order itself was answered {placed.response.status_code}: "
            f"{placed.response.text[:200]} (see ORD-001)"
        )


def _refused(target: Target, response: httpx.Response, what: str) -> None:
    """An order that must be refused: 422 with the error body; after a 202 the rule is skipped."""
    expect_refusal(target, response, what, later="an ORDER_REJECTED KCI", skip_deferred=True)


@rule("ORD-003")
def an_order_with_an_unknown_line_profile_is_refused(target: Target) -> Evidence:
    """A NEW order naming a LINE_PROFILE value that availability never offered."""
    place = target.addresses.require("covered")
    spec_id, _profile, body = specification_and_profile(target, place)
    offered = {
        value for spec in body.get("serviceSpecifications", []) for value in (line_profiles(spec) or [])
    }
    bogus = f"NO-SUCH-PROFILE-{target.rng.randrange(10**6)}"
    if bogus in offered:  # pragma: no cover - a supplier would have to offer this very name
        raise RuleSkipped(f"{bogus} happens to be offered")
    placed = place_new_order(target, place, spec_id, bogus)
    _refused(target, placed.response, f"order {placed.order_id} with LINE_PROFILE {bogus}")
    return target.evidence()


@rule("ORD-004")
def a_new_line_where_none_can_be_installed_is_refused(target: Target) -> Evidence:
    """The address's only line is live, so a NEW provide (not a takeover) cannot be fulfilled."""
    place = target.addresses.require("single_service_live")
    spec_id, profile, _body = specification_and_profile(target, place)
    placed = place_new_order(target, place, spec_id, profile, appointed=False)
    _refused(target, placed.response, f"NEW order {placed.order_id} at {place.label}")
    return target.evidence()


@rule("ORD-005")
def an_amendment_of_an_unknown_order_is_refused(target: Target) -> Evidence:
    """Amend an order id the suite never used: 404 or 422, the code matching the status (§2.3)."""
    unknown = target.new_id() + 500_000_000  # far outside the ids this run and its neighbours use
    body = amendment_request(target.new_id(), unknown)
    response = target.post("/service-order-amendments", json_body=body, headers=target.headers())
    expect_unknown_id_refused(target, response, f"amendment of unknown order {unknown}")
    note = "" if response.status_code == 404 else "422 is allowed by the reference; our contract prefers 404"
    return target.evidence(note)


@rule("ORD-007")
def a_modify_of_another_tenants_service_is_refused(target: Target) -> Evidence:
    """A tenant that does not own the live line asks to change its line profile."""
    place = target.addresses.require("single_service_live")
    if not place.service_id:
        raise RuleSkipped(f"{place.label}: give the live line's serviceId in the address file")
    owner = place.tenant or target.tenant
    other = other_tenant(target, owner)
    spec_id, profile, _body = specification_and_profile(target, place)
    specs = availability(target, place.address, tenant=other).get("serviceSpecifications") or []
    profiles = next(
        (line_profiles(s) or [] for s in specs if isinstance(s, dict) and s.get("id") == spec_id), []
    )
    body = modify_order(
        target.new_id(),
        other,
        place.service_id,
        spec_id,
        profiles[-1] if profiles else profile,
        requested_date(target),
    )
    response = target.post("/service-orders", json_body=body, headers=target.headers(tenant=other))
    _refused(target, response, f"{other} modifying {owner}'s service {place.service_id}")
    return target.evidence()


@rule("ORD-001")
def a_new_order_is_acknowledged(target: Target) -> Evidence:
    """Place a NEW order at the covered address; judge the synchronous answer."""
    _place, placed = _the_order(target)
    status = placed.response.status_code
    if status == 202:
        return target.evidence("answered 202: the acknowledgement follows by KCI (KCI layer)")
    if status != 201:
        raise RuleViolation(f"order {placed.order_id}: {status} instead of 201 or 202", target.evidence())
    answer = placed.answer
    if not isinstance(answer, dict):
        raise RuleViolation(f"order {placed.order_id}: the 201 body is not an object", target.evidence())
    problems = acknowledgement_problems(answer, placed.order_id, "supplierOrderReference")
    if placed.status == "IN_PROGRESS":
        problems += [
            f"IN_PROGRESS without {field}"
            for field in ("committedDate", "targetDate")
            if not answer.get(field)
        ]
    expect_no_problems(target, f"order {placed.order_id}", problems)
    return target.evidence(f"order {placed.order_id} is {placed.status} as {placed.supplier_reference}")


@rule("ORD-002")
def the_same_order_sent_twice_is_one_order(target: Target) -> Evidence:
    """Resend the accepted order (a gateway retry), then send a distinct one (a new gateway id).

    The retry must be the same order (same supplier reference) and the distinct one a
    different order: a supplier that ignores gateway ids fails one or the other.
    """
    place, placed = _the_order(target)
    _accepted(placed, "a retry needs an accepted order")
    again = target.post(
        "/service-orders", json_body=placed.body, headers=target.headers(tenant=placed.tenant)
    )
    if again.status_code not in {201, 202}:
        raise RuleViolation(
            f"the retry of order {placed.order_id} was answered {again.status_code}, so the gateway "
            "would see a refusal of an order the supplier holds",
            target.evidence(),
        )
    retry_reference = _reference(target, again, "retry answer")
    if placed.supplier_reference and retry_reference not in {None, placed.supplier_reference}:
        raise RuleViolation(
            f"the retry of order {placed.order_id} got supplierOrderReference {retry_reference!r}, the first "
            f"{placed.supplier_reference!r}: two orders",
            target.evidence(),
        )
    distinct = {
        **{k: v for k, v in placed.body.items() if not k.startswith("appointmentReservation")},
        "id": target.new_id(),
        "requestedCompletionDate": requested_date(target).isoformat(),
    }
    other = target.post("/service-orders", json_body=distinct, headers=target.headers(tenant=placed.tenant))
    other_reference = _reference(target, other, "distinct order answer")
    if other.status_code in {201, 202}:
        target.placed_orders[int(distinct["id"])] = str(other.status_code)
        _cancel_quietly(target, int(distinct["id"]), placed.tenant, other_reference)
    if other_reference is not None and other_reference == (placed.supplier_reference or retry_reference):
        raise RuleViolation(
            f"order {distinct['id']} (a new gateway id, same content) got supplierOrderReference "
            f"{other_reference!r}, the same as order {placed.order_id}: the supplier ignores gateway ids",
            target.evidence(),
        )
    if placed.supplier_reference is None or other_reference is None:
        raise NotDecidable(
            "the answers carry no supplierOrderReference to compare (202 or no reference), so one order "
            "cannot be told from two here; the KCI layer shows what the supplier made of them",
            target.evidence(),
        )
    return target.evidence(
        f"order {placed.order_id} at {place.label} answered {again.status_code} on retry "
        f"({retry_reference}); a distinct order {distinct['id']} became {other_reference}"
    )


def _reference(target: Target, response: httpx.Response, what: str) -> str | None:
    if response.status_code != 201:
        return None
    answer = body_of(target, response, what)
    reference = answer.get("supplierOrderReference") if isinstance(answer, dict) else None
    return str(reference) if reference else None


def _cancel_quietly(target: Target, order_id: int, tenant: str, reference: str | None) -> None:
    """Cancel an order the suite made only to compare (cleanup; its answer decides nothing)."""
    if target.offers(Capability.CANCELLATIONS):
        body = cancellation_request(target.new_id(), order_id, reference)
        target.post("/service-order-cancellations", json_body=body, headers=target.headers(tenant=tenant))


@rule("ORD-008")
def an_acknowledged_order_can_be_amended(target: Target) -> Evidence:
    """Amend the notes of the order, acknowledged with 201."""
    _place, placed = _the_order(target)
    _accepted(placed, "an amendment needs an order")
    if placed.response.status_code != 201:
        raise RuleSkipped("the order was answered 202; it may not be amended before its ACKNOWLEDGED KCI")
    body = amendment_request(target.new_id(), placed.order_id, placed.supplier_reference)
    response = _taken(target, placed, "/service-order-amendments", body, "amendment")
    if response.status_code == 201:
        _about_this_order(target, response, placed, amendment=body)
    return target.evidence(f"amendment answered {response.status_code}")


def _taken(
    target: Target, placed: PlacedOrder, path: str, body: Mapping[str, Any], what: str
) -> httpx.Response:
    """Send a request about ``placed`` as its tenant; it must be answered 201 or 202."""
    response = target.post(path, json_body=body, headers=target.headers(tenant=placed.tenant))
    if response.status_code not in {201, 202}:
        raise RuleViolation(f"{what} of order {placed.order_id}: {response.status_code}", target.evidence())
    return response


def _about_this_order(
    target: Target, response: httpx.Response, placed: PlacedOrder, *, amendment: Mapping[str, Any]
) -> None:
    """A 201 to an amendment must describe this order and this amendment, not another."""
    answer = body_of(target, response, "amendment answer")
    if not isinstance(answer, dict):
        raise RuleViolation("the 201 amendment body is not a JSON object", target.evidence())
    expected = {
        "orderId": placed.order_id,
        "id": amendment["id"],
        "supplierOrderReference": placed.supplier_reference,
    }
    wrong = [
        f"{name} {answer[name]!r} (expected {value!r})"
        for name, value in expected.items()
        if value is not None and name in answer and answer[name] != value
    ]
    if "orderId" not in answer and "id" in answer and answer["id"] == placed.order_id:
        wrong = []  # the 201 body is the amended order itself (§3.8 "order has been updated")
    elif "orderId" not in answer and answer.get("id") not in {amendment["id"], placed.order_id}:
        wrong.append(f"id {answer.get('id')!r} is neither the amendment nor the order")
    if wrong:
        raise RuleViolation(
            f"the 201 answer to the amendment of order {placed.order_id} describes another: "
            f"{'; '.join(wrong)}",
            target.evidence(),
        )


@rule("ORD-009")
def an_in_flight_order_can_be_cancelled(target: Target) -> Evidence:
    """Cancel the order (it is in flight: nothing has moved the target's clock yet)."""
    _place, placed = _the_order(target)
    _accepted(placed, "a cancellation needs an order")
    body = cancellation_request(target.new_id(), placed.order_id, placed.supplier_reference)
    response = _taken(target, placed, "/service-order-cancellations", body, "cancellation")
    if response.status_code == 201:
        answer = body_of(target, response, "cancellation answer")
        if not isinstance(answer, dict) or answer.get("orderId") != placed.order_id:
            raise RuleViolation("the 201 cancellation body does not echo the orderId", target.evidence())
    return target.evidence(f"cancellation answered {response.status_code}")


def _completed_order(target: Target) -> tuple[int, str | None, str | None, str]:
    """An order the target has completed: from the address file, or driven there on the simulator."""
    known = target.addresses.completed_order
    if known is not None:
        return (
            known.order_id,
            known.tenant,
            known.supplier_order_reference,
            "completedOrder of the address file",
        )
    if not target.offers(Capability.CLOCK) or target.settings.kci_wait <= 0:
        raise RuleSkipped(
            "needs a completed order: name one as completedOrder in the address file, or certify a "
            "target with the clock API that honours X-Scenario, with --kci-wait so its COMPLETED KCI "
            "can be seen"
        )
    _place, placed = _new_order(target, extra_headers={"X-Scenario": "ORDER_SUCCESSFUL", "X-Kci-Delay": "0"})
    _accepted(placed, "a completed order is needed")
    deadline = time.monotonic() + target.settings.kci_wait
    while time.monotonic() < deadline:  # bounded by --kci-wait
        target.advance_clock(CLOCK_STEP)  # scripted KCIs fall due as the target's clock moves
        if any(_completes(kci.body, placed.order_id) for kci in target.received_kcis()):
            return placed.order_id, placed.tenant, placed.supplier_reference, DRIVEN
        time.sleep(COMPLETION_POLL_SECONDS)
    raise RuleSkipped(f"order {placed.order_id} sent no COMPLETED KCI within {target.settings.kci_wait:g}s")


def _completes(kci: Any, order_id: int) -> bool:
    entity = kci.get("provideServiceOrder") if isinstance(kci, dict) else None
    return isinstance(entity, dict) and entity.get("id") == order_id and kci.get("reasonCode") == "COMPLETED"


@rule("ORD-006")
def a_completed_order_cannot_be_cancelled(target: Target) -> Evidence:
    """Cancel a completed order: refused (422, error body)."""
    order_id, tenant, reference, how = _completed_order(target)
    body = cancellation_request(target.new_id(), order_id, reference)
    response = target.post(
        "/service-order-cancellations", json_body=body, headers=target.headers(tenant=tenant)
    )
    if response.status_code == 202:
        raise RuleViolation(
            f"cancellation of completed order {order_id} was accepted for later processing (202)",
            target.evidence(),
        )
    try:
        _refused(target, response, f"cancellation of completed order {order_id}")
    finally:
        if how == DRIVEN:
            _cease_quietly(target, order_id, tenant)
    return target.evidence(f"order {order_id}: {how}")


def _service_id(kci: Any, order_id: int) -> str | None:
    entity = kci.get("provideServiceOrder") if isinstance(kci, dict) else None
    if not isinstance(entity, dict) or entity.get("id") != order_id:
        return None
    if isinstance(entity.get("serviceId"), str) and entity["serviceId"]:
        return str(entity["serviceId"])
    item = entity.get("serviceOrderItem")
    found = characteristics(item.get("serviceCharacteristics") if isinstance(item, dict) else None)
    value = found.get("SERVICE_ID")
    return str(value) if value else None


def _cease_quietly(target: Target, order_id: int, tenant: str | None) -> None:
    """Cease the line the suite's own completed order made (cleanup; its answer decides nothing).

    A later run finds the address covered again once the cease completes; until then the
    address pool gives it another (see ``contracts.certification.addresses``).
    """
    service_ids = {sid for kci in target.received_kcis() if (sid := _service_id(kci.body, order_id))}
    if len(service_ids) != 1:
        return
    owner = tenant or target.tenant
    body = {
        "id": target.new_id(),
        "orderType": "CEASE",
        "tenant": owner,
        "serviceId": service_ids.pop(),
        "requestedCompletionDate": requested_date(target).isoformat(),
        "notes": "fibresim certification run: ceasing the line of its completed order",
    }
    target.post("/service-orders", json_body=body, headers=target.headers(tenant=owner))
