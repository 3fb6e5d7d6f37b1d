"""The common ground of the stateful tests: a fresh simulator per run, ids, scenario posts, the
clock, and what every KCI stream must hold."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule

from simulator.application.context import Context
from simulator.composition import create_app
from simulator.settings import Settings
from simulator.storage.outbox import OutboxEntry, kci_body
from tests.conftest import START, gateway_headers
from tests.orders_support import contract_problems


class SimulatorMachine(RuleBasedStateMachine):
    """A state machine driving one simulator (demo profile, in-memory database, manual clock)."""

    #: The longest single move of the clock, in minutes.
    max_advance_minutes = 240

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

    @rule(data=st.data())
    def advance(self, data: st.DataObject) -> None:
        """Move the simulator clock on by up to :attr:`max_advance_minutes`."""
        minutes = data.draw(st.integers(1, self.max_advance_minutes), label="minutes")
        assert self.client.post("/_admin/clock/advance", json={"by": f"PT{minutes}M"}).status_code == 200


def sound_stream(stream: Sequence[OutboxEntry], seen: set[str], key: object) -> list[dict[str, Any]]:
    """The KCIs of one stream, checked: sequence numbers rise from 1 without gaps, no KCI id was
    ``seen`` in any stream before (each is added), and every KCI is valid against the contract."""
    assert [entry.sequence_number for entry in stream] == list(range(1, len(stream) + 1)), key
    kcis = []
    for entry in stream:
        assert entry.kci_id not in seen
        seen.add(entry.kci_id)
        kci = kci_body(entry.payload)
        assert contract_problems(kci) == [], kci
        kcis.append(kci)
    return kcis
