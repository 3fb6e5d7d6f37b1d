"""Many clients race for the last unit of a slot on a served simulator: exactly one wins."""

from __future__ import annotations

import httpx
import pytest

from tests.served import served_simulator
from tests.slot_race import evening_slot, race_for

pytestmark = pytest.mark.e2e

RACERS = 24


def test_exactly_one_of_many_concurrent_reservations_gets_the_last_unit(database_url: str) -> None:
    with served_simulator("--db", database_url, "--clock", "manual@2026-07-01T09:00:00Z") as base:
        statuses = race_for(evening_slot(base), [base], RACERS)

        assert sorted(statuses).count(201) == 1, statuses
        assert sorted(statuses).count(422) == RACERS - 1, statuses
        held = httpx.get(f"{base}/_admin/reservations").json()
        assert [r["status"] for r in held] == ["HELD"]
