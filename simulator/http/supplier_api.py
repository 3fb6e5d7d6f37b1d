"""The Supplier API: the endpoints the gateway calls. Handlers only translate."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

from contracts import SUPPLIER_API, load_document
from simulator.application import availability as availability_use_case
from simulator.application.context import Context
from simulator.domain.errors import NotImplementedOperation
from simulator.domain.inventory import AddressId
from simulator.http import representations
from simulator.http.operations import add_route
from simulator.http.request_validation import ValidRequest

VALIDATOR = "fibresim.supplier_validator"


def _context() -> Context:
    context: Context = current_app.extensions["fibresim.context"]
    return context


def _address(raw: dict[str, Any]) -> AddressId:
    return AddressId(str(raw["id"]), str(raw.get("type", "UPRN")))


def service_availability(valid: ValidRequest) -> ResponseReturnValue:
    """``GET /service-availability``: what the tenant may order at the address."""
    types = valid.query.get("serviceTypes")
    answer = availability_use_case.availability_at(
        _context(), _address(valid.query["address"]), valid.headers["Tenant"], types
    )
    return jsonify(representations.availability(answer))


def _not_implemented(method: str, path: str) -> Any:
    def handler(_valid: ValidRequest) -> ResponseReturnValue:
        raise NotImplementedOperation(f"{method} {path} is not offered by this simulator yet")

    handler.__name__ = f"not_implemented_{method}_{path}".replace("/", "_").replace("-", "_")
    return handler


IMPLEMENTED = {("GET", "/service-availability"): service_availability}


def blueprint() -> Blueprint:
    """Every operation of the Supplier API document, validated; unbuilt ones answer 501."""
    bp = Blueprint("supplier_api", __name__)
    for path, item in load_document(SUPPLIER_API)["paths"].items():
        for method in item:
            if method.upper() not in {"GET", "POST", "PUT", "PATCH", "DELETE"}:
                continue
            key = (method.upper(), path)
            handler = IMPLEMENTED.get(key) or _not_implemented(*key)
            add_route(bp, VALIDATOR, key[0], path, handler)
    return bp
