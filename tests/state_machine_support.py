"""The simulator a stateful test drives: an app on an in-memory database and a manual clock."""

from __future__ import annotations

from hypothesis.stateful import RuleBasedStateMachine

from simulator.application.context import Context
from simulator.composition import create_app
from simulator.settings import Settings
from tests.conftest import START, gateway_headers


class SimulatorFlows(RuleBasedStateMachine):
    """Holds the app, its client and context, and hands out fresh ids; subclasses add the rules."""

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

    def _post(self, path: str, body: dict[str, object], tenant: str, scenario: str) -> int:
        """POST ``body`` as ``tenant`` with ``X-Scenario: scenario``; never a 5xx."""
        headers = gateway_headers(tenant, **{"X-Scenario": scenario})
        response = self.client.post(path, json=body, headers=headers)
        assert response.status_code < 500, response.get_json()
        return response.status_code
