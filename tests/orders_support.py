"""Helpers for order tests: building requests, moving the clock, reading the KCIs an order made."""

from __future__ import annotations

import json
from datetime import date
from functools import cache
from typing import Any

from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from contracts import SUPPLIER_UPDATES_API, load_document
from contracts.certification.behaviour.order_requests import modify_order
from tests.conftest import gateway_headers

REQUESTED = date(2026, 8, 3)
"""The completion date the test orders ask for."""


def provide(
    order_id: int,
    uprn: str = "100000000002",
    *,
    tenant: str = "TENANT1",
    order_type: str = "NEW",
    spec: str = "FTTP",
    profile: str = "1",
    extra_characteristics: dict[str, str] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    characteristics = [{"name": "LINE_PROFILE", "value": profile}]
    characteristics += [{"name": k, "value": v} for k, v in (extra_characteristics or {}).items()]
    body: dict[str, Any] = {
        "id": order_id,
        "orderType": order_type,
        "tenant": tenant,
        "address": {"id": uprn, "type": "UPRN"},
        "serviceOrderItem": {"serviceSpecification": {"id": spec}, "serviceCharacteristics": characteristics},
        "primaryContact": {"name": "Ann Example", "phoneNumber": "07700900000"},
    }
    if "appointmentReservationId" not in fields:
        body["requestedCompletionDate"] = REQUESTED.isoformat()
    body.update(fields)
    return body


def modify(
    order_id: int, service_id: str, profile: str, *, tenant: str = "TENANT1", spec: str = "FTTP"
) -> dict[str, Any]:
    """The certification suite's ``ModifyServiceOrder``, without its notes, due on 2026-08-03."""
    return modify_order(order_id, tenant, service_id, spec, profile, REQUESTED, notes=None)


def cease(order_id: int, service_id: str, *, tenant: str = "TENANT1") -> dict[str, Any]:
    return {
        "id": order_id,
        "orderType": "CEASE",
        "tenant": tenant,
        "serviceId": service_id,
        "requestedCompletionDate": REQUESTED.isoformat(),
    }


def post(
    client: FlaskClient, path: str, body: dict[str, Any], tenant: str = "TENANT1", **headers: str
) -> Any:
    return client.post(path, json=body, headers=gateway_headers(tenant, **headers))


def advance(client: FlaskClient, by: str = "PT10M") -> dict[str, Any]:
    response = client.post("/_admin/clock/advance", json={"by": by})
    assert response.status_code == 200
    state: dict[str, Any] = response.get_json()
    return state


def kcis(client: FlaskClient, order_key: str) -> list[dict[str, Any]]:
    response = client.get(f"/_admin/orders/{order_key}/kcis")
    assert response.status_code == 200, response.get_json()
    return [entry["payload"] for entry in response.get_json()]


def reasons(client: FlaskClient, order_key: str) -> list[str]:
    return [kci["reasonCode"] for kci in kcis(client, order_key)]


def order(client: FlaskClient, order_key: str) -> dict[str, Any]:
    response = client.get(f"/_admin/orders/{order_key}")
    assert response.status_code == 200
    found: dict[str, Any] = response.get_json()
    return found


def live_lines(client: FlaskClient, uprn: str, tenant: str = "TENANT1") -> dict[str, dict[str, str]]:
    """``{service id or line id: characteristics}`` of the existing lines, as ``tenant`` sees them."""
    response = client.get(
        "/service-availability",
        query_string={"address": json.dumps({"id": uprn, "type": "UPRN"})},
        headers=gateway_headers(tenant),
    )
    lines = response.get_json()["siteInformation"].get("existingLines", [])
    found = {}
    for line in lines:
        chars = {c["name"]: c["value"] for c in line["lineCharacteristics"]}
        found[chars.get("SERVICE_ID", line["lineId"])] = chars
    return found


def new_line_offered(client: FlaskClient, uprn: str) -> bool:
    response = client.get(
        "/service-availability",
        query_string={"address": json.dumps({"id": uprn, "type": "UPRN"})},
        headers=gateway_headers(),
    )
    return "line" in response.get_json()["siteInformation"]


@cache
def kci_validator() -> Draft202012Validator:
    """Validates one KCI against the Supplier Updates API contract."""
    document = load_document(SUPPLIER_UPDATES_API)
    registry: Registry[Any] = Registry().with_resource(
        "urn:updates", Resource.from_contents(document, default_specification=DRAFT202012)
    )
    return Draft202012Validator(
        {"$ref": "urn:updates#/components/schemas/Kci"},
        registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def contract_problems(kci: dict[str, Any]) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in kci_validator().iter_errors(kci)]
