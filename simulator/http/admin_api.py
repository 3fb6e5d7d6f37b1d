"""The admin surface (``/_admin``): the simulator's clock and state, apart from the served API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from simulator.application import order_reads
from simulator.application.appointments import recent_reservations
from simulator.application.context import Context
from simulator.application.due_work import DueWorkDone, move_clock
from simulator.application.next_event import NextEventDone, advance_to_next_event
from simulator.application.order_reads import KciView, OrderView
from simulator.domain.clock import parse_duration
from simulator.domain.errors import MalformedRequest
from simulator.domain.reservations import Reservation
from simulator.http.admin_tools import register_admin_tools
from simulator.http.representations import instant, order_entity
from simulator.http.request_body import json_body


def _context() -> Context:
    context: Context = current_app.extensions["fibresim.context"]
    return context


def _json_body() -> dict[str, Any]:
    body = json_body(request)
    if not isinstance(body, dict):
        raise MalformedRequest("the request body must be a JSON object")
    return body


def _clock_state(done: DueWorkDone | None = None) -> dict[str, Any]:
    clock = _context().clock
    state: dict[str, Any] = {"now": instant(clock.now()), "kind": clock.kind}
    if done is not None:
        state["applied"] = {"reservationsExpired": done.reservations_expired, "kcisIssued": done.kcis_issued}
    return state


def next_event_json(done: NextEventDone) -> dict[str, Any]:
    """What advancing to the next scheduled event did, as the admin API reports it."""
    event = done.event
    described: dict[str, Any] | None = None
    if event is not None:
        subject = "orderKey" if event.kind == "kciStep" else "reservationId"
        described = {"kind": event.kind.value, "at": instant(event.at), "tenant": event.tenant}
        described[subject] = event.subject if subject == "orderKey" else int(event.subject)
    return {**_clock_state(done.applied), "moved": done.moved, "event": described}


def _reservation(held: Reservation) -> dict[str, Any]:
    return {
        "id": held.id,
        "supplierReference": held.supplier_reference,
        "tenant": held.tenant,
        "address": held.address_key,
        "serviceSpecification": held.specification_id,
        "patch": held.patch,
        "purpose": held.purpose,
        "timeslotStartDateTime": held.slot.start.isoformat(),
        "timeslotEndDateTime": held.slot.end.isoformat(),
        "status": held.status.value,
        "expiryDateTime": instant(held.expires_at),
        "orderId": held.order_id,
    }


CAPABILITIES = (
    "availability",
    "appointments",
    "clock",
    "orders",
    "amendments",
    "cancellations",
    "kcis",
    "assurance",
)
FAULTS = ("duplicate", "swap_with_next", "hold_back")


def _order(view: OrderView, *, full: bool = False) -> dict[str, Any]:
    order = view.order
    summary: dict[str, Any] = {
        "orderKey": order.id.key,
        "gatewayId": order.gateway_id,
        "supplierOrderReference": order.supplier_reference,
        "tenant": order.id.tenant,
        "kind": order.kind.value,
        "orderType": order.order_type.value,
        "status": order.status.value,
        "script": order.script,
        "nextStepDue": None if order.next_step_due is None else instant(order.next_step_due),
        "history": [
            {
                "at": instant(entry.at),
                "event": entry.event,
                "fromStatus": entry.from_status,
                "toStatus": entry.to_status,
                "detail": entry.detail,
            }
            for entry in view.history
        ],
    }
    if full:
        summary["body"] = order_entity(order)
    return summary


def _kci(view: KciView) -> dict[str, Any]:
    entry = view.entry
    listed: dict[str, Any] = {
        "kciId": entry.kci_id,
        "orderKey": entry.order_key,
        "sequenceNumber": entry.sequence_number,
        "state": entry.state,
        "attempts": entry.attempts,
        "lastStatusCode": entry.last_status_code,
        "lastError": entry.last_error,
        "deliveredAt": None if entry.delivered_at is None else instant(entry.delivered_at),
        "fault": entry.fault,
        "payload": view.payload,
    }
    if view.attempts is not None:
        listed["attemptLog"] = [
            {
                "attempt": a.attempt,
                "at": instant(a.at),
                "outcome": a.outcome,
                "statusCode": a.status_code,
                "error": a.error,
                "nextAttemptAt": None if a.next_attempt_at is None else instant(a.next_attempt_at),
                "latencyMs": a.latency_ms,
            }
            for a in view.attempts
        ]
    return listed


def _tenant() -> str | None:
    """The ``?tenant=`` naming whose order a key is, when several tenants used the same id."""
    return request.args.get("tenant") or None


def blueprint() -> Blueprint:
    """Admin endpoints: health, profile summary, clock, reservations."""
    bp = Blueprint("admin_api", __name__)

    @bp.get("/ping")
    def ping() -> ResponseReturnValue:
        """A bare endpoint that does no work: the baseline the benchmarks compare hot paths with."""
        return jsonify({"pong": True})

    @bp.get("/health")
    def health() -> ResponseReturnValue:
        """Liveness: the process answers and the database is reachable."""
        with _context().database.reading():
            pass
        return jsonify({"status": "ok"})

    @bp.get("/profile")
    def profile() -> ResponseReturnValue:
        """The loaded supplier profile, summarised."""
        loaded = _context().profile
        return jsonify(
            {
                "name": loaded.name,
                "code": loaded.code,
                "servicesPerAddress": loaded.services_per_address.value,
                "serviceSpecifications": [
                    {"id": spec.id, "lineProfiles": list(spec.line_profile_ids)}
                    for spec in loaded.catalogue.specifications.values()
                ],
                "addresses": [site.address.key for site in loaded.sites],
                "estateSize": loaded.estate.size if loaded.estate else 0,
            }
        )

    @bp.get("/clock")
    def read_clock() -> ResponseReturnValue:
        """The simulator's current time and clock kind."""
        return jsonify(_clock_state())

    @bp.post("/clock/advance")
    def advance_clock() -> ResponseReturnValue:
        """Move the clock forward by ``{"by": "PT30M"}`` and apply what became due."""
        body = _json_body()
        if not isinstance(body.get("by"), str):
            raise MalformedRequest('give the duration as {"by": "PT30M"} (ISO-8601)')
        by = parse_duration(body["by"])
        return jsonify(_clock_state(move_clock(_context(), lambda: _context().clock.advance(by))))

    @bp.put("/clock")
    def set_clock() -> ResponseReturnValue:
        """Jump the clock forward to ``{"now": "2026-07-01T09:00:00Z"}``."""
        body = _json_body()
        try:
            target = datetime.fromisoformat(str(body.get("now")))
        except ValueError:
            raise MalformedRequest('give the time as {"now": "2026-07-01T09:00:00Z"}') from None
        return jsonify(_clock_state(move_clock(_context(), lambda: _context().clock.set(target))))

    @bp.post("/clock/next-event")
    def advance_to_next() -> ResponseReturnValue:
        """Move the clock to the next scripted KCI step or reservation expiry and apply it."""
        return jsonify(next_event_json(advance_to_next_event(_context())))

    @bp.get("/reservations")
    def list_reservations() -> ResponseReturnValue:
        """The most recent appointment reservations with their status."""
        return jsonify([_reservation(held) for held in recent_reservations(_context())])

    _order_routes(bp)
    register_admin_tools(bp)
    return bp


def _order_routes(bp: Blueprint) -> None:
    """Admin endpoints for orders and their KCIs."""

    @bp.get("/capabilities")
    def capabilities() -> ResponseReturnValue:
        """What this supplier can be certified for (read by ``fibresim certify``)."""
        return jsonify({"capabilities": list(CAPABILITIES)})

    @bp.get("/orders")
    def list_orders() -> ResponseReturnValue:
        """Orders, newest first, each with its state history (``?tenant=`` filters)."""
        return jsonify([_order(view) for view in order_reads.list_orders(_context(), _tenant())])

    @bp.get("/orders/<order_key>")
    def one_order(order_key: str) -> ResponseReturnValue:
        """One order with its latest full body and history."""
        return jsonify(_order(order_reads.find_order(_context(), order_key, _tenant()), full=True))

    @bp.get("/orders/<order_key>/kcis")
    def order_kcis(order_key: str) -> ResponseReturnValue:
        """The KCIs of an order with their delivery attempts."""
        return jsonify([_kci(view) for view in order_reads.order_kcis(_context(), order_key, _tenant())])

    @bp.post("/orders/<order_key>/next-step")
    def next_step(order_key: str) -> ResponseReturnValue:
        """Play the order's next scripted step now."""
        return jsonify(_order(order_reads.play_next_step(_context(), order_key, _tenant()), full=True))

    @bp.post("/orders/<order_key>/faults")
    def order_fault(order_key: str) -> ResponseReturnValue:
        """Ask for a delivery fault on one pending KCI of the order."""
        body = _json_body()
        fault, sequence = body.get("fault"), body.get("sequenceNumber")
        if isinstance(sequence, float) and sequence.is_integer():
            sequence = int(sequence)  # JSON Schema counts 3.0 as an integer, so the contract does
        if fault not in FAULTS or isinstance(sequence, bool) or not isinstance(sequence, int):
            raise MalformedRequest(f'give {{"fault": one of {", ".join(FAULTS)}, "sequenceNumber": n}}')
        order_reads.add_delivery_fault(_context(), order_key, _tenant(), sequence, str(fault))
        return "", 204

    @bp.get("/kcis")
    def all_kcis() -> ResponseReturnValue:
        """Every KCI in the outbox, newest first."""
        return jsonify([_kci(view) for view in order_reads.recent_kcis(_context())])
