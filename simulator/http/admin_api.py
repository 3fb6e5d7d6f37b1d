"""The admin surface (``/_admin``): the simulator's clock and state, apart from the served API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from simulator.application.context import Context
from simulator.application.due_work import DueWorkDone, run_due_work
from simulator.domain.clock import parse_duration
from simulator.domain.errors import MalformedRequest
from simulator.domain.reservations import Reservation
from simulator.http.representations import instant
from simulator.storage import reservations as reservation_store


def _context() -> Context:
    context: Context = current_app.extensions["fibresim.context"]
    return context


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise MalformedRequest("the request body must be a JSON object")
    return body


def _clock_state(done: DueWorkDone | None = None) -> dict[str, Any]:
    clock = _context().clock
    state: dict[str, Any] = {"now": instant(clock.now()), "kind": clock.kind}
    if done is not None:
        state["applied"] = {"reservationsExpired": done.reservations_expired}
    return state


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


def blueprint() -> Blueprint:
    """Admin endpoints: health, profile summary, clock, reservations."""
    bp = Blueprint("admin_api", __name__)

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
        _context().clock.advance(parse_duration(body["by"]))
        return jsonify(_clock_state(run_due_work(_context())))

    @bp.put("/clock")
    def set_clock() -> ResponseReturnValue:
        """Jump the clock forward to ``{"now": "2026-07-01T09:00:00Z"}``."""
        body = _json_body()
        try:
            target = datetime.fromisoformat(str(body.get("now")))
        except ValueError:
            raise MalformedRequest('give the time as {"now": "2026-07-01T09:00:00Z"}') from None
        _context().clock.set(target)
        return jsonify(_clock_state(run_due_work(_context())))

    @bp.get("/reservations")
    def list_reservations() -> ResponseReturnValue:
        """The most recent appointment reservations with their status."""
        with _context().database.reading() as connection:
            return jsonify([_reservation(held) for held in reservation_store.listing(connection)])

    return bp
