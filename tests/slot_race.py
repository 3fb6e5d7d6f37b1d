"""Many clients reserving the last unit of one slot at once, on one or more served simulators."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.conftest import gateway_headers

ADDRESS = {"id": "100000000002", "type": "UPRN"}


def evening_slot(base: str) -> dict[str, Any]:
    """The first evening slot offered at the demo address; evening slots hold one appointment."""
    query = {
        "address": json.dumps(ADDRESS),
        "serviceSpecification": json.dumps({"id": "FTTP"}),
        "appointmentPurpose": "PROVIDE",
        "classifications": "WEEKDAY_EVENING",
    }
    answer = httpx.get(f"{base}/available-appointments", params=query, headers=gateway_headers())
    slot: dict[str, Any] = answer.json()["availableTimeslots"][0]
    return slot


def race_for(slot: dict[str, Any], bases: Sequence[str], racers: int) -> list[int]:
    """``racers`` clients reserve ``slot`` at the same moment, spread over ``bases``; their statuses."""
    start = threading.Barrier(racers)

    def reserve(reservation_id: int) -> int:
        body = {
            "id": reservation_id,
            "address": ADDRESS,
            "serviceSpecification": {"id": "FTTP"},
            "timeslot": {k: slot[k] for k in ("timeslotStartDateTime", "timeslotEndDateTime")},
        }
        base = bases[(reservation_id - 1) % len(bases)]
        with httpx.Client(timeout=30) as client:
            start.wait()
            return client.post(f"{base}/appointments", json=body, headers=gateway_headers()).status_code

    with ThreadPoolExecutor(racers) as pool:
        return list(pool.map(reserve, range(1, racers + 1)))
