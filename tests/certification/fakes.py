"""Fakes for the certification tests: the one fake gateway (a Supplier Updates API that behaves, or not)
and a tiny supplier. ``serve_wsgi`` (from ``tests.served``) puts either on loopback."""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from collections.abc import Collection
from typing import Any

from flask import Flask, Response, jsonify, request

from contracts.certification.schemas import SUPPLIER_UPDATES_API, validator_for

CLIENT_ID = "supplier-client"
CLIENT_SECRET = "supplier-secret"
MISBEHAVIOURS = frozenset({"crash_on_malformed", "refuse_duplicates", "ignore_auth", "accept_invalid"})


def _error(status: int, code: str, message: str) -> tuple[Response, int]:
    return jsonify({"uuid": str(uuid.uuid4()), "code": code, "messages": [message]}), status


def gateway_app(misbehave: Collection[str] = (), *, require_auth: bool = True) -> Flask:
    """A Supplier Updates API: validates KCIs against the contract; ``misbehave`` breaks it on purpose."""
    unknown = set(misbehave) - MISBEHAVIOURS
    assert not unknown, unknown
    app = Flask("fake-gateway")
    tokens: set[str] = set()
    seen: dict[str, str] = {}
    received: list[Any] = []
    app.extensions["received"] = received

    @app.post("/auth/supplier/access-token")
    def token() -> Any:
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        else:
            client_id, secret = request.form.get("client_id", ""), request.form.get("client_secret", "")
        if (client_id, secret) != (CLIENT_ID, CLIENT_SECRET) or request.form.get(
            "grant_type"
        ) != "client_credentials":
            return jsonify({"error": "invalid_client"}), 400
        issued = secrets.token_urlsafe(16)
        tokens.add(issued)
        return jsonify({"access_token": issued, "expires_in": 3600, "token_type": "Bearer"})

    def refusal() -> tuple[Response, int] | None:
        """Authentication and headers, checked before the body."""
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if require_auth and "ignore_auth" not in misbehave and bearer not in tokens:
            return _error(401, "NOT_AUTHORISED", "a valid bearer token is required")
        if not request.headers.get("X-Request-ID"):
            return _error(400, "MALFORMED_REQUEST", "header X-Request-ID is required")
        return None

    def judged(body: Any) -> tuple[Response, int] | None:
        """Contract validation and de-duplication by KCI id."""
        problems = [e.message for e in validator_for(SUPPLIER_UPDATES_API, "Kci").iter_errors(body)]
        if problems and "accept_invalid" not in misbehave:
            return _error(422, "INVALID_REQUEST", problems[0][:200])
        key = body.get("id") if isinstance(body, dict) else None
        if not isinstance(key, str):
            return None
        canonical = json.dumps(body, sort_keys=True)
        if key in seen and "refuse_duplicates" in misbehave:
            return _error(409, "INVALID_REQUEST", f"KCI {key} already received")
        if seen.setdefault(key, canonical) != canonical:
            return _error(422, "INVALID_REQUEST", f"KCI id {key} reused")
        return None

    @app.post("/kcis")
    def kcis() -> Any:
        refused = refusal()
        if refused is not None:
            return refused
        try:
            body = json.loads(request.get_data(as_text=True))
        except ValueError:
            if "crash_on_malformed" in misbehave:
                raise
            return _error(400, "MALFORMED_REQUEST", "the body is not JSON")
        refused = judged(body)
        if refused is not None:
            return refused
        received.append(body)
        return "", 204

    return app


# --- a small fake supplier, for the behaviour rules ------------------------------------------------

SUPPLIER_MISBEHAVIOURS = frozenset(
    {
        "line_at_single_service",
        "utc_slots",
        "ignore_headers",
        "accept_any_order",
        "amend_unknown_422",
        "overbook",
    }
)
FAKE_NOW = "2026-07-01T09:00:00Z"
FAKE_ADDRESSES = {
    "roles": {
        "no_coverage": {"address": {"id": "1", "type": "UPRN"}},
        "covered": {"address": {"id": "2", "type": "UPRN"}, "specifications": {"FTTP": ["1", "2"]}},
        "single_service_live": {
            "address": {"id": "3", "type": "UPRN"},
            "tenant": "TENANT1",
            "serviceId": "S3",
        },
    },
    "otherTenant": "TENANT2",
}
_FTTP = {
    "id": "FTTP",
    "name": "FTTP",
    "serviceCharacteristics": [{"name": "LINE_PROFILE", "values": ["1", "2"]}],
}
_LINE = {
    "type": "NEW",
    "lineType": "FIBRE",
    "lineCharacteristics": [{"name": "MINIMUM_LEAD_TIME", "value": "10"}],
}
_EXISTING = {
    "lineId": "L3",
    "ont": {"ontReference": "ONT3", "ports": [{"portNumber": 1, "status": "ACTIVE"}]},
    "lineCharacteristics": [{"name": "MAX_DOWNSTREAM_MBPS", "value": "100"}],
}
_SLOTS = [
    ("2026-07-13", "08:00", "13:00"),
    ("2026-07-13", "13:00", "18:00"),
    ("2026-07-14", "08:00", "13:00"),
]


def _slot(day: str, start: str, end: str, utc_spelling: bool) -> dict[str, Any]:
    offset = "Z" if utc_spelling else "+01:00"  # the bug: UK local time written as UTC
    return {
        "timeslotStartDateTime": f"{day}T{start}:00{offset}",
        "timeslotEndDateTime": f"{day}T{end}:00{offset}",
        "classification": "WEEKDAY_AM" if start == "08:00" else "WEEKDAY_PM",
        "standard": True,
    }


def supplier_app(misbehave: Collection[str] = ()) -> Flask:
    """A tiny Supplier API with three addresses, three one-appointment slots and NEW orders."""
    unknown = set(misbehave) - SUPPLIER_MISBEHAVIOURS
    assert not unknown, unknown
    app = Flask("fake-supplier")
    held: dict[str, int] = {}
    orders: set[int] = set()

    @app.before_request
    def headers() -> Any:
        if request.path.startswith("/_admin") or "ignore_headers" in misbehave:
            return None
        missing = [h for h in ("X-Request-ID", "X-Conversation-ID", "Tenant") if not request.headers.get(h)]
        return _error(400, "MALFORMED_REQUEST", f"header {missing[0]} is required") if missing else None

    @app.get("/_admin/clock")
    def clock() -> Any:
        return jsonify({"now": FAKE_NOW, "kind": "manual"})

    @app.get("/service-availability")
    def availability() -> Any:
        address = json.loads(request.args["address"])
        body: dict[str, Any] = {
            "address": {"identifier": address},
            "serviceSpecifications": [],
            "siteInformation": {},
        }
        if address["id"] == "2":
            body |= {"serviceSpecifications": [_FTTP], "siteInformation": {"line": _LINE}}
        elif address["id"] == "3":
            site: dict[str, Any] = {"existingLines": [_EXISTING]}
            if "line_at_single_service" in misbehave:
                site["line"] = _LINE
            body |= {"serviceSpecifications": [_FTTP], "siteInformation": site}
        else:
            code = "NO_COVERAGE" if address["id"] == "1" else "ADDRESS_NOT_FOUND"
            body["unavailabilityReasons"] = [{"code": code, "text": "nothing here"}]
        return jsonify(body)

    def offered() -> list[dict[str, Any]]:
        slots = [_slot(*grid, "utc_slots" in misbehave) for grid in _SLOTS]
        if "overbook" in misbehave:
            return slots  # the bug: full slots are still offered
        return [slot for slot in slots if held.get(slot["timeslotStartDateTime"], 0) < 1]

    @app.get("/available-appointments")
    def appointments() -> Any:
        return jsonify(
            {
                "address": json.loads(request.args["address"]),
                "serviceSpecification": {"id": "FTTP"},
                "availableTimeslots": offered(),
            }
        )

    @app.post("/appointments")
    def reserve() -> Any:
        body = request.get_json()
        start = body["timeslot"]["timeslotStartDateTime"]
        if start not in {slot["timeslotStartDateTime"] for slot in offered()} or held.get(start, 0) >= 1:
            return _error(422, "INVALID_REQUEST", f"slot {start} is full or not offered")
        held[start] = held.get(start, 0) + 1
        return jsonify(
            {**body, "supplierReference": f"A{body['id']}", "expiryDateTime": "2026-07-01T09:30:00Z"}
        ), 201

    @app.post("/service-orders")
    def order() -> Any:
        body = request.get_json()
        live = body.get("address", {}).get("id") == "3" or body.get("orderType") == "MODIFY"
        if live and "accept_any_order" not in misbehave:
            return _error(422, "INVALID_REQUEST", "no new line can be installed here")
        profiles = {
            c["value"]
            for c in body["serviceOrderItem"]["serviceCharacteristics"]
            if c["name"] == "LINE_PROFILE"
        }
        if not profiles <= {"1", "2"}:
            return _error(422, "INVALID_REQUEST", f"line profile {sorted(profiles)} is not offered")
        orders.add(body["id"])
        return jsonify({**body, "supplierOrderReference": f"SO-{body['id']}", "status": "ACKNOWLEDGED"}), 201

    @app.post("/service-order-amendments")
    def amend() -> Any:
        body = request.get_json()
        if body["orderId"] not in orders:
            if "amend_unknown_422" in misbehave:
                return _error(422, "INVALID_REQUEST", "cannot amend")
            return _error(404, "NOT_FOUND", f"order {body['orderId']} not found")
        return "", 202

    return app
