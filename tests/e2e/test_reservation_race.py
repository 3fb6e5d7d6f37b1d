"""Many clients race for the last unit of a slot on a served simulator: exactly one wins."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.conftest import gateway_headers
from tests.served import served_simulator

pytestmark = pytest.mark.e2e

RACERS = 24


def test_exactly_one_of_many_concurrent_reservations_gets_the_last_unit(database_url: str) -> None:
    with served_simulator("--db", database_url, "--clock", "manual@2026-07-01T09:00:00Z") as base:
        query = {
            "address": json.dumps({"id": "100000000002", "type": "UPRN"}),
            "serviceSpecification": json.dumps({"id": "FTTP"}),
            "appointmentPurpose": "PROVIDE",
            "classifications": "WEEKDAY_EVENING",
        }
        slots = httpx.get(f"{base}/available-appointments", params=query, headers=gateway_headers()).json()
        slot = slots["availableTimeslots"][0]  # evening slots hold one appointment
        start = threading.Barrier(RACERS)

        def reserve(reservation_id: int) -> int:
            body = {
                "id": reservation_id,
                "address": {"id": "100000000002", "type": "UPRN"},
                "serviceSpecification": {"id": "FTTP"},
                "timeslot": {k: slot[k] for k in ("timeslotStartDateTime", "timeslotEndDateTime")},
            }
            with httpx.Client(timeout=30) as client:
                start.wait()
                return client.post(f"{base}/appointments", json=body, headers=gateway_headers()).status_code

        with ThreadPoolExecutor(RACERS) as pool:
            statuses = list(pool.map(reserve, range(1, RACERS + 1)))

        assert sorted(statuses).count(201) == 1, statuses
        assert sorted(statuses).count(422) == RACERS - 1, statuses
        held = httpx.get(f"{base}/_admin/reservations").json()
        assert [r["status"] for r in held] == ["HELD"]
