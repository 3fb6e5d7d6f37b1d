"""Fakes for the certification tests: the one fake gateway (a Supplier Updates API that behaves, or not)
and a tiny supplier. ``serve_wsgi`` (from ``tests.served``) puts either on loopback."""

from __future__ import annotations

import base64
import copy
import json
import secrets
import uuid
from collections.abc import Collection, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from flask import Flask, Response, jsonify, request

from contracts.certification.gateway import example_kci
from contracts.certification.schemas import SUPPLIER_UPDATES_API, validator_for

CLIENT_ID = "supplier-client"
CLIENT_SECRET = "supplier-secret"
MISBEHAVIOURS = frozenset(
    {
        "crash_on_malformed",  # GW-002: a body that is not JSON is a 500
        "refuse_duplicates",  # GW-004: a re-delivery is refused
        "ignore_auth",  # GW-006: KCIs without credentials are taken
        "accept_invalid",  # GW-003: KCIs breaking the contract are taken
        "wrong_error_code",  # GW-003: 422 with code MALFORMED_REQUEST
        "drop_out_of_order",  # GW-005: 204 for a KCI ahead of its sequence, then forgotten
        "drop_everything",  # GW-004, GW-005: 204 for every KCI, none kept
        "forward_unordered",  # GW-005 (tenant side): KCIs forwarded as they arrive, not in sequence
        "forward_duplicates",  # GW-004 (tenant side): a re-delivery forwarded to the tenant again
        "accept_reused_id",  # correct: the same KCI id with another body taken as a re-delivery
    }
)
_ORDER_KEYS = ("provideServiceOrder", "modifyServiceOrder", "ceaseServiceOrder")


def _error(status: int, code: str, message: str) -> tuple[Response, int]:
    return jsonify({"uuid": str(uuid.uuid4()), "code": code, "messages": [message]}), status


def _named(store: Mapping[int, dict[str, Any]], field: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The request's JSON body, and the entity of ``store`` its ``field`` names (``None`` when unknown)."""
    body: dict[str, Any] = request.get_json()
    return body, store.get(body[field])


def _cancel(entity: dict[str, Any], what: str, closed: Collection[str]) -> tuple[Response, int] | None:
    """Cancel ``entity``, or the 422 refusal when its status is one of ``closed``."""
    if entity["status"] in closed:
        return _error(422, "INVALID_REQUEST", f"{what} is {entity['status']}")
    entity["status"] = "CANCELLED"
    return None


class _TenantSide:
    """Forwards kept KCIs to a tenant's ``/kcis``: per order in sequence, once per supplier KCI id."""

    def __init__(self, url: str | None, misbehave: Collection[str]) -> None:
        self.url = url
        self.misbehave = misbehave
        self.forwarded: set[str] = set()
        self.next: dict[str, int] = {}
        self.held: dict[str, dict[int, Any]] = {}

    def take(self, body: dict[str, Any]) -> None:
        if self.url is None:
            return
        if body["id"] in self.forwarded:
            if "forward_duplicates" in self.misbehave:
                self._send(body)  # the bug: a supplier's retry reaches the tenant as a new KCI
            return
        self.forwarded.add(body["id"])
        if "forward_unordered" in self.misbehave:
            self._send(body)
            return
        entity = next((body[k] for k in _ORDER_KEYS if isinstance(body.get(k), dict)), {})
        key = str(entity.get("id") or entity.get("supplierOrderReference"))
        held = self.held.setdefault(key, {})
        held[int(body["sequenceNumber"])] = body
        while self.next.get(key, 1) in held:
            self._send(held.pop(self.next.get(key, 1)))
            self.next[key] = self.next.get(key, 1) + 1

    def _send(self, body: dict[str, Any]) -> None:
        kci = {**body, "id": str(uuid.uuid4())}
        httpx.post(f"{self.url}/kcis", json=kci, headers={"X-Request-ID": str(uuid.uuid4())}, timeout=5)


def gateway_app(
    misbehave: Collection[str] = (), *, require_auth: bool = True, tenant_url: str | None = None
) -> Flask:
    """A Supplier Updates API: validates KCIs against the contract; ``misbehave`` breaks it on purpose.

    With ``tenant_url`` it forwards what it keeps to that tenant, as a gateway does.
    """
    unknown = set(misbehave) - MISBEHAVIOURS
    assert not unknown, unknown
    app = Flask("fake-gateway")
    tokens: set[str] = set()
    seen: dict[str, str] = {}
    received: list[Any] = []
    app.extensions["received"] = received
    tenant = _TenantSide(tenant_url, misbehave)

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

    last_sequence: dict[Any, int] = {}

    def _next_in_sequence(body: Any) -> bool:
        entity = next((body[k] for k in ("provideServiceOrder",) if isinstance(body.get(k), dict)), {})
        key = entity.get("id") or entity.get("supplierOrderReference")
        expected = last_sequence.get(key, 0) + 1
        if body.get("sequenceNumber") == expected:
            last_sequence[key] = expected
            return True
        return False

    def judged(body: Any) -> tuple[Response | str, int] | None:  # noqa: PLR0911 - one return per outcome
        """Contract validation and de-duplication by KCI id."""
        problems = [e.message for e in validator_for(SUPPLIER_UPDATES_API, "Kci").iter_errors(body)]
        if problems and "accept_invalid" not in misbehave:
            code = "MALFORMED_REQUEST" if "wrong_error_code" in misbehave else "INVALID_REQUEST"
            return _error(422, code, problems[0][:200])
        if "drop_everything" in misbehave or (
            "drop_out_of_order" in misbehave and not _next_in_sequence(body)
        ):
            return "", 204  # the bug: answered as received, and forgotten
        key = body.get("id") if isinstance(body, dict) else None
        if not isinstance(key, str):
            return None
        canonical = json.dumps(body, sort_keys=True)
        if key in seen and "refuse_duplicates" in misbehave:
            return _error(409, "INVALID_REQUEST", f"KCI {key} already received")
        if seen.setdefault(key, canonical) != canonical:
            if "accept_reused_id" in misbehave:
                return "", 204  # taken as a re-delivery of the first: nothing new is kept
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
        tenant.take(body)
        return "", 204

    return app


# --- a small fake supplier, for the behaviour and KCI rules -----------------------------------------
#
# One configurable Supplier API. Each flag of SUPPLIER_BUGS breaks one documented rule; each flag of
# SUPPLIER_QUIRKS is unusual but correct (the reference allows it). tests/certification/
# test_detection.py runs every variant and checks the rule it is about.

SUPPLIER_BUGS = frozenset(
    {
        "line_at_single_service",  # AVL-003: a new line offered beside the only live line
        "wrong_line",  # AVL-004: existingLines reports another line than the live one
        "ignore_headers",  # AVL-006: missing gateway headers are not refused
        "local_as_utc",  # APT-002: UK local time written as UTC (13:00Z for 13:00 BST)
        "overbook",  # APT-004: a full slot is still offered (double booking)
        "never_expire",  # APT-005: a hold with an expiryDateTime is never released
        "accept_any_order",  # ORD-004: a NEW line where none can be installed
        "crash_on_bad_input",  # ORD-003: a 500 for a line profile it does not know
        "ignore_ids",  # ORD-002: orders de-duplicated by content, not by gateway id
        "other_order",  # ORD-008: a 201 to an amendment that describes another order
        "amend_unknown_500",  # ORD-005: a server error for an unknown order
        "no_kcis",  # KCI-008: orders placed, no KCI ever sent
        "kci_sequence_gap",  # KCI-003: sequence numbers 1, 3
        "kci_reused_id",  # KCI-002: a new KCI under an old KCI's id
        "completed_without_committed",  # KCI-004: COMPLETED straight after ACKNOWLEDGED
        "test_foreign_service",  # AST-003: a test on another tenant's service is accepted
        "problem_illegal_transition",  # KCI-012 (and KCI-010): a closed problem reported IN_PROGRESS again
        "problem_silent_202",  # KCI-008: a problem answered 202, and no KCI ever follows
        "cancel_closed_problem",  # AST-009: a cancelled problem is cancelled again
    }
)
SUPPLIER_QUIRKS = frozenset(
    {
        "utc_slots",  # slot times written in UTC (07:00Z for 08:00 BST): correct, §2.5
        "no_expiry",  # reservations without expiryDateTime (no TTL stated): allowed, §3.5
        "amend_unknown_422",  # 422 for an unknown order: allowed, §3.1
        "pending_amendment",  # 201 to an amendment showing PENDING_AMENDMENT: allowed, §3.8
        "kci_redelivered",  # every KCI delivered twice with the same id: a retry, §6.1
        "no_clock",  # no clock API: expiry observed by waiting
        "problem_unknown_422",  # 422 for a request on an unknown problem: allowed, §3.1
    }
)
SUPPLIER_MISBEHAVIOURS = SUPPLIER_BUGS | SUPPLIER_QUIRKS
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
        "multi_service_live": {
            "address": {"id": "4", "type": "UPRN"},
            "tenant": "TENANT1",
            "serviceId": "S4",
            "lineId": "L4",
        },
        "live_service": {
            "address": {"id": "3", "type": "UPRN"},
            "tenant": "TENANT1",
            "serviceId": "S3",
            "specification": "FTTP",
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
LEAD_DAYS = 10
HORIZON_DAYS = 14
HOLD = timedelta(minutes=30)
_GRID = (("08:00", "13:00", "AM"), ("13:00", "18:00", "PM"))
_UK = ZoneInfo("Europe/London")


def _existing(number: str) -> dict[str, Any]:
    return {
        "lineId": f"L{number}",
        "ont": {"ontReference": f"ONT{number}", "ports": [{"portNumber": 1, "status": "ACTIVE"}]},
        "lineCharacteristics": [
            {"name": "MAX_DOWNSTREAM_MBPS", "value": "100"},
            {"name": "SERVICE_ID", "value": f"S{number}"},
        ],
    }


def _stamp(moment: datetime, spelling: str) -> str:
    """UK local wall time ``moment`` as the supplier writes it."""
    if spelling == "utc":
        return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if spelling == "local_as_utc":  # the bug: the wall-clock time with a Z
        return moment.replace(tzinfo=None).isoformat() + "Z"
    return moment.isoformat()


class _Kcis:
    """The KCIs a fake supplier sends about its orders (synchronously, to ``url``)."""

    def __init__(self, url: str | None, bugs: Collection[str]) -> None:
        self.url, self.bugs = url, bugs
        self.sequence: dict[int, int] = {}
        self.last_id: str | None = None

    def send(self, order: Mapping[str, Any], reason: str, status: str, **fields: Any) -> None:
        if self.url is None or "no_kcis" in self.bugs:
            return
        number = self.sequence.get(order["id"], 0) + 1
        if "kci_sequence_gap" in self.bugs and number == 2:
            number = 3
        self.sequence[order["id"]] = number
        kci = copy.deepcopy(example_kci(reason))
        kci_id = str(uuid.uuid4())
        if "kci_reused_id" in self.bugs and self.last_id is not None:
            kci_id = self.last_id
        self.last_id = kci_id
        kci |= {"id": kci_id, "sequenceNumber": number, "issuedOn": FAKE_NOW}
        entity = kci["provideServiceOrder"]
        entity |= {"id": order["id"], "supplierOrderReference": order["ref"], "status": status, **fields}
        times = 2 if "kci_redelivered" in self.bugs else 1
        for _ in range(times):
            httpx.post(f"{self.url}/kcis", json=kci, headers={"X-Request-ID": str(uuid.uuid4())}, timeout=5)


def _t2r_kci(url: str | None, entity_key: str, entity: Mapping[str, Any], reason: str, number: int) -> None:
    """Send one service test or problem KCI (the fake's T2R KCIs are built by hand)."""
    if url is None:
        return
    kci = {
        "id": str(uuid.uuid4()),
        "sequenceNumber": number,
        "issuedOn": FAKE_NOW,
        "reasonCode": reason,
        entity_key: dict(entity),
    }
    httpx.post(f"{url}/kcis", json=kci, headers={"X-Request-ID": str(uuid.uuid4())}, timeout=5)


_SERVICES = {"S3": "TENANT1"}  # the fake's live services and their tenants


def _add_assurance(app: Flask, misbehave: Collection[str], kci_url: str | None) -> None:
    """Service tests and problems: every refusal the AST rules look for, and a KCI or two."""
    problems: dict[int, dict[str, Any]] = {}

    def foreign(body: Mapping[str, Any], *, allow: bool = False) -> tuple[Response, int] | None:
        owner = _SERVICES.get(body["serviceId"])
        if owner is None or (owner != request.headers.get("Tenant") and not allow):
            return _error(422, "INVALID_REQUEST", f"{body['serviceId']} is not a live service of the tenant")
        return None

    @app.post("/service-tests")
    def service_test() -> Any:
        body = request.get_json()
        refused = foreign(body, allow="test_foreign_service" in misbehave)
        if refused is not None:
            return refused
        test = {"id": body["id"], "supplierReference": f"T{body['id']}", "serviceId": body["serviceId"]}
        _t2r_kci(
            kci_url, "serviceTest", {**test, "status": "COMPLETED", "outcome": "GREEN"}, "TEST_COMPLETED", 1
        )
        return jsonify({**test, "serviceSpecification": body["serviceSpecification"]}), 201

    @app.post("/service-problems")
    def service_problem() -> Any:
        body = request.get_json()
        refused = foreign(body)
        if refused is not None:
            return refused
        if not any(c["name"] == "SERVICE_HAS_WORKED" for c in body.get("characteristics", [])):
            return _error(422, "INVALID_REQUEST", "SERVICE_HAS_WORKED is required")
        problem = {
            "id": body["id"],
            "supplierServiceProblemReference": f"P{body['id']}",
            "status": "ACKNOWLEDGED",
        }
        problems[body["id"]] = problem
        if request.headers.get("X-Scenario") == "PROBLEM_OPEN":
            return jsonify(problem), 201
        if "problem_silent_202" not in misbehave:
            _t2r_kci(kci_url, "serviceProblem", problem, "ACKNOWLEDGED", 1)
        if "problem_illegal_transition" in misbehave:
            done = {**problem, "status": "COMPLETED", "resolutionCode": "OTHER", "completedDate": FAKE_NOW}
            _t2r_kci(kci_url, "serviceProblem", done, "COMPLETED", 2)
            _t2r_kci(kci_url, "serviceProblem", {**problem, "status": "IN_PROGRESS"}, "UPDATE", 3)
        return "", 202

    def unknown(problem_id: int) -> tuple[Response, int]:
        if "problem_unknown_422" in misbehave:
            return _error(422, "INVALID_REQUEST", f"problem {problem_id} cannot be changed")
        return _error(404, "NOT_FOUND", f"problem {problem_id} not found")

    @app.post("/service-problem-amendments")
    def amend_problem() -> Any:
        body, problem = _named(problems, "serviceProblemId")
        if problem is None:
            return unknown(body["serviceProblemId"])
        reference = problem["supplierServiceProblemReference"]
        answer = {
            "id": body["id"],
            "serviceProblemId": problem["id"],
            "supplierServiceProblemReference": reference,
        }
        return jsonify(answer), 201

    @app.post("/service-problem-cancellations")
    def cancel_problem() -> Any:
        body, problem = _named(problems, "serviceProblemId")
        if problem is None:
            return unknown(body["serviceProblemId"])
        closed = () if "cancel_closed_problem" in misbehave else ("CANCELLED",)
        refused = _cancel(problem, f"problem {problem['id']}", closed)
        return refused or (jsonify({**body, "supplierReference": f"PC{body['id']}"}), 201)


def supplier_app(misbehave: Collection[str] = (), *, kci_url: str | None = None) -> Flask:
    """A tiny Supplier API: four addresses, a slot grid of one appointment each, NEW orders, KCIs."""
    unknown = set(misbehave) - SUPPLIER_MISBEHAVIOURS
    assert not unknown, unknown
    app = Flask("fake-supplier")
    now = [datetime.fromisoformat(FAKE_NOW)]
    holds: dict[datetime, list[datetime | None]] = {}
    orders: dict[int, dict[str, Any]] = {}
    by_content: dict[str, int] = {}
    kcis = _Kcis(kci_url, misbehave)
    spelling = "utc" if "utc_slots" in misbehave else "local_as_utc" if "local_as_utc" in misbehave else ""

    @app.before_request
    def headers() -> Any:
        if request.path.startswith("/_admin") or "ignore_headers" in misbehave:
            return None
        missing = [h for h in ("X-Request-ID", "X-Conversation-ID", "Tenant") if not request.headers.get(h)]
        return _error(400, "MALFORMED_REQUEST", f"header {missing[0]} is required") if missing else None

    @app.get("/_admin/clock")
    def clock() -> Any:
        if "no_clock" in misbehave:
            return _error(404, "NOT_FOUND", "no clock")
        return jsonify({"now": now[0].isoformat(), "kind": "manual"})

    @app.post("/_admin/clock/advance")
    def advance() -> Any:
        seconds = int(request.get_json()["by"].removeprefix("PT").removesuffix("S"))
        now[0] += timedelta(seconds=seconds)
        for order in orders.values():  # scripted: an in-flight order completes a day after commitment
            if order["status"] == "IN_PROGRESS" and now[0] >= order["due"]:
                order["status"] = "COMPLETED"
                kcis.send(order, "COMPLETED", "COMPLETED", completedDate=now[0].isoformat())
        return jsonify({"now": now[0].isoformat()})

    @app.get("/service-availability")
    def availability() -> Any:
        address = json.loads(request.args["address"])
        body: dict[str, Any] = {
            "address": {"identifier": address},
            "serviceSpecifications": [],
            "siteInformation": {},
        }
        number = address["id"]
        if number == "2":
            body |= {"serviceSpecifications": [_FTTP], "siteInformation": {"line": _LINE}}
        elif number in {"3", "4"}:
            shown = "9" if number == "4" and "wrong_line" in misbehave else number
            site: dict[str, Any] = {"existingLines": [_existing(shown)]}
            if number == "4" or "line_at_single_service" in misbehave:
                site["line"] = _LINE
            body |= {"serviceSpecifications": [_FTTP], "siteInformation": site}
        else:
            code = "NO_COVERAGE" if number == "1" else "ADDRESS_NOT_FOUND"
            body["unavailabilityReasons"] = [{"code": code, "text": "nothing here"}]
        return jsonify(body)

    def held(start: datetime) -> int:
        live = [e for e in holds.get(start, []) if e is None or e > now[0] or "never_expire" in misbehave]
        return len(live)

    def grid(from_day: date) -> list[dict[str, Any]]:
        first = max(from_day, now[0].astimezone(_UK).date() + timedelta(days=LEAD_DAYS))
        slots = []
        for offset in range(HORIZON_DAYS):
            day = first + timedelta(days=offset)
            if day.weekday() >= 5:
                continue
            for start, end, half in _GRID:
                begin = datetime.fromisoformat(f"{day}T{start}").replace(tzinfo=_UK)
                finish = datetime.fromisoformat(f"{day}T{end}").replace(tzinfo=_UK)
                if held(begin) >= 1 and "overbook" not in misbehave:
                    continue
                slots.append(
                    {
                        "timeslotStartDateTime": _stamp(begin, spelling),
                        "timeslotEndDateTime": _stamp(finish, spelling),
                        "classification": f"WEEKDAY_{half}",
                        "standard": True,
                    }
                )
        return slots

    @app.get("/available-appointments")
    def appointments() -> Any:
        from_day = date.fromisoformat(request.args.get("appointmentFromDate", now[0].date().isoformat()))
        return jsonify(
            {
                "address": json.loads(request.args["address"]),
                "serviceSpecification": {"id": "FTTP"},
                "availableTimeslots": grid(from_day),
            }
        )

    @app.post("/appointments")
    def reserve() -> Any:
        body = request.get_json()
        start = datetime.fromisoformat(body["timeslot"]["timeslotStartDateTime"])
        offered = {datetime.fromisoformat(s["timeslotStartDateTime"]) for s in grid(start.date())}
        if start not in offered or held(start) >= 1:
            return _error(422, "INVALID_REQUEST", f"slot {start} is full or not offered")
        expiry = None if "no_expiry" in misbehave else now[0] + HOLD
        holds.setdefault(start, []).append(expiry)
        answer = {**body, "supplierReference": f"A{body['id']}"}
        if expiry is not None:
            answer["expiryDateTime"] = expiry.isoformat()
        return jsonify(answer), 201

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
            if "crash_on_bad_input" in misbehave:
                return _error(500, "SUPPLIER_FAULT", "KeyError")
            return _error(422, "INVALID_REQUEST", f"line profile {sorted(profiles)} is not offered")
        # The ignore_ids bug: one order per address and product, whatever the gateway id says.
        content = json.dumps([body.get("address"), body.get("serviceOrderItem")], sort_keys=True)
        key = by_content.setdefault(content, body["id"]) if "ignore_ids" in misbehave else body["id"]
        if key not in orders:
            orders[key] = {"id": key, "ref": f"SO-{key}", "status": "ACKNOWLEDGED", "due": now[0]}
            placed = orders[key]
            if "completed_without_committed" in misbehave:
                placed["status"] = "COMPLETED"
                kcis.send(placed, "COMPLETED", "COMPLETED", completedDate=now[0].isoformat())
            else:
                placed |= {"status": "IN_PROGRESS", "due": now[0] + timedelta(minutes=5)}
                kcis.send(placed, "COMMITTED", "IN_PROGRESS")
        answer = {**body, "supplierOrderReference": orders[key]["ref"], "status": "ACKNOWLEDGED"}
        return jsonify(answer), 201

    @app.post("/service-order-amendments")
    def amend() -> Any:
        body = request.get_json()
        if body["orderId"] not in orders:
            if "amend_unknown_422" in misbehave:
                return _error(422, "INVALID_REQUEST", "cannot amend")
            if "amend_unknown_500" in misbehave:
                return _error(500, "SUPPLIER_FAULT", "no such order")
            return _error(404, "NOT_FOUND", f"order {body['orderId']} not found")
        order_id = body["orderId"] + 1 if "other_order" in misbehave else body["orderId"]
        answer = {"id": body["id"], "orderId": order_id, "supplierReference": f"AM{body['id']}"}
        if "pending_amendment" in misbehave:
            answer["status"] = "PENDING_AMENDMENT"
        return jsonify(answer), 201

    @app.post("/service-order-cancellations")
    def cancel() -> Any:
        body, placed = _named(orders, "orderId")
        if placed is None:
            return _error(404, "NOT_FOUND", f"order {body['orderId']} not found")
        refused = _cancel(placed, f"order {body['orderId']}", {"COMPLETED", "CANCELLED"})
        if refused is not None:
            return refused
        kcis.send(placed, "CANCELLED", "CANCELLED", serviceOrderCancellationId=body["id"])
        return jsonify({**body, "supplierReference": f"C{body['id']}"}), 201

    _add_assurance(app, misbehave, kci_url)
    return app
