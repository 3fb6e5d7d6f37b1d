"""The common ground of the stateful tests: a fresh simulator per run, ids, and scenario posts."""

from __future__ import annotations

from typing import Any

from hypothesis.stateful import RuleBasedStateMachine

from simulator.application.context import Context
from simulator.composition import create_app
from simulator.settings import Settings
from tests.conftest import START, gateway_headers


class SimulatorMachine(RuleBasedStateMachine):
    """A state machine driving one simulator (demo profile, in-memory database, manual clock)."""

    def __init__(self) -> None:
        super().__init__()
        self.app = create_app(Settings(database=":memory:", clock=f"manual@{START}", background=False))
        self.client = self.app.test_client()
        self.context: Context = self.app.extensions["fibresim.context"]
        self.next_id = 1

    def teardown(self) -> None:
        self.context.database.dispose()

    def _id(self) -> int:
        self.next_id += 1
        return self.next_id

    def _post(self, path: str, body: dict[str, Any], tenant: str, scenario: str, allowed: set[int]) -> int:
        """Post ``body`` as ``tenant`` under ``scenario``; the answer's status must be one ``allowed``."""
        headers = gateway_headers(tenant, **{"X-Scenario": scenario})
        response = self.client.post(path, json=body, headers=headers)
        assert response.status_code in allowed, response.get_json()
        return response.status_code
