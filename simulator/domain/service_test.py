"""The service test aggregate: one test of one tenant's live service, and its scripted result.

A test is accepted with 201 (:meth:`ServiceTest.start`), then plays its script as the
simulator clock reaches each step (:meth:`ServiceTest.play_next_step`); every status
change goes through the shared table :data:`contracts.model.service_test_states.TEST_STATES`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from contracts.model.service_test_states import TEST_STATES, TestOutcome, TestReasonCode, TestStatus
from contracts.model.state_table import Transition, TransitionRefused
from simulator.domain.assurance_commands import RunServiceTest
from simulator.domain.assurance_entity import AssuranceEntity
from simulator.domain.assurance_events import AssuranceEvent, AssuranceNoted, KciDue
from simulator.domain.assurance_scripts import AssuranceKind, AssuranceScript
from simulator.domain.order_commands import Scenario
from simulator.domain.scripted import due_play_time

__all__ = ["AssuranceScripts", "ServiceTest", "service_test_key"]


class AssuranceScripts(Protocol):
    """Where a test or problem finds the script its (resolved) scenario names."""

    def script(self, scenario: Scenario, kind: AssuranceKind) -> AssuranceScript:
        """The script ``scenario`` selects for a request of ``kind``."""
        ...


def service_test_key(test_id: int) -> str:
    """The key a test's KCIs are sequenced under (``ST-77``)."""
    return f"ST-{test_id}"


@dataclass(kw_only=True)
class ServiceTest(AssuranceEntity):
    """One service test: what was tested, where it stands, and where its script is."""

    test_id: int
    status: TestStatus = TestStatus.RECEIVED
    outcome: TestOutcome | None = None
    outcome_codes: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """The key its KCIs are sequenced under."""
        return service_test_key(self.test_id)

    @classmethod
    def start(
        cls, command: RunServiceTest, script: AssuranceScript, now: datetime
    ) -> tuple[ServiceTest, list[AssuranceEvent]]:
        """A test the acceptance checks passed, answered 201, its script about to play."""
        test = cls.requested(
            command,
            script.name,
            now,
            test_id=command.test_id,
            supplier_reference=f"ST-{command.test_id:09d}",
            next_step_due=now + script.steps[0].delay if script.steps else None,
        )
        detail = {"script": script.name, "answer": 201}
        return test, [AssuranceNoted(test.tenant, test.key, now, "ACCEPTED", None, test.status, detail)]

    def play_next_step(
        self, now: datetime, scripts: AssuranceScripts, *, force: bool = False
    ) -> list[AssuranceEvent]:
        """Play the next scripted step if it is due (``force``: now, whatever its delay)."""
        at = due_play_time(self.next_step_due, now, force=force)
        if at is None:
            return []
        steps = scripts.script(self.scenario, AssuranceKind.TEST).steps
        if self.next_step >= len(steps):
            self.next_step_due = None
            return []
        step = steps[self.next_step]
        self.next_step += 1
        following = steps[self.next_step] if self.next_step < len(steps) else None
        self.next_step_due = None if following is None else at + following.delay
        self.updated_at = at
        before = self.status
        try:
            state = TEST_STATES.advance(Transition(self.status), step.reason)
        except TransitionRefused as refused:
            detail = {"reason": step.reason, "why": str(refused)}
            return [AssuranceNoted(self.tenant, self.key, at, "STEP_SKIPPED", before, before, detail)]
        self.status = state.status
        if step.reason == TestReasonCode.TEST_COMPLETED:
            self.outcome = step.outcome
            self.outcome_codes = step.outcome_codes
            self.completed_date = at
        if self.status in TEST_STATES.terminal:
            self.next_step_due = None
        self.last_sequence += 1
        return [KciDue(self.snapshot(), None, at, step.reason, self.last_sequence, before, text=step.text)]
