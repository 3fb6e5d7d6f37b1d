"""Helpers for the service test and service problem tests: requests and the KCIs they make."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from simulator.application.context import Context
from simulator.domain.order_events import OrderId
from simulator.storage.outbox import kci_body
from tests.orders_support import post

SERVICE = "S100000000003-1"  # TENANT1's live FTTP line in the demo profile
HAS_WORKED = [
    {"name": "SERVICE_HAS_WORKED", "value": "true"},
    {"name": "SERVICE_LAST_WORKED", "value": "2026-06-30T18:00:00+01:00"},
]


def service_test(test_id: int, service_id: str = SERVICE, **extra: Any) -> dict[str, Any]:
    """A ``POST /service-tests`` body on the demo profile's live line."""
    return {
        "id": test_id,
        "serviceId": service_id,
        "serviceSpecification": {"id": "FTTP"},
        "problemType": "OUTAGE",
        **extra,
    }


def problem(problem_id: int, service_id: str = SERVICE, **extra: Any) -> dict[str, Any]:
    """A ``POST /service-problems`` body on the demo profile's live line."""
    return {
        "id": problem_id,
        "problemType": "OUTAGE",
        "problemText": "No sync on the router since last night",
        "serviceId": service_id,
        "serviceSpecification": {"id": "FTTP"},
        "characteristics": HAS_WORKED,
        **extra,
    }


def raise_problem(client: FlaskClient, problem_id: int, scenario: str | None = None, **headers: str) -> Any:
    """Raise a problem, optionally with an ``X-Scenario``."""
    if scenario:
        headers["X-Scenario"] = scenario
    return post(client, "/service-problems", problem(problem_id), **headers)


def entity_kcis(app: Flask, key: str, tenant: str = "TENANT1") -> list[dict[str, Any]]:
    """Every KCI of a test (``ST-<id>``) or problem (``SP-<id>``), by sequence number."""
    context: Context = app.extensions["fibresim.context"]
    with context.store.reading() as unit:
        return [kci_body(entry.payload) for entry in unit.outbox.for_order(OrderId(tenant, key))]


def reasons(app: Flask, key: str, tenant: str = "TENANT1") -> list[str]:
    """The reason codes of an entity's KCIs, in sequence."""
    return [kci["reasonCode"] for kci in entity_kcis(app, key, tenant)]
