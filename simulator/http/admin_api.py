"""The admin surface (``/_admin``): the simulator's clock and state, apart from the served API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from simulator.application.context import Context
from simulator.domain.clock import parse_duration
from simulator.domain.errors import MalformedRequest


def _context() -> Context:
    context: Context = current_app.extensions["fibresim.context"]
    return context


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise MalformedRequest("the request body must be a JSON object")
    return body


def _clock_state() -> dict[str, Any]:
    clock = _context().clock
    return {"now": clock.now().isoformat().replace("+00:00", "Z"), "kind": clock.kind}


def blueprint() -> Blueprint:
    """Admin endpoints: health, profile summary, clock."""
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
        return jsonify(_clock_state())

    @bp.put("/clock")
    def set_clock() -> ResponseReturnValue:
        """Jump the clock forward to ``{"now": "2026-07-01T09:00:00Z"}``."""
        body = _json_body()
        try:
            target = datetime.fromisoformat(str(body.get("now")))
        except ValueError:
            raise MalformedRequest('give the time as {"now": "2026-07-01T09:00:00Z"}') from None
        _context().clock.set(target)
        return jsonify(_clock_state())

    return bp
