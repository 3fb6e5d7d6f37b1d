"""Random tenants drive service tests and problems, amendments, cancellations and the clock.

Every KCI is valid against the contract, KCI ids are unique, each test's and problem's
sequence numbers rise from 1 without gaps, and every status change recorded in their
history is a declared transition of the shared tables.
"""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, invariant, rule

from contracts.certification.kci_stream import validate_kci_stream
from contracts.model.service_problem_states import PROBLEM_STATES, ProblemStatus
from contracts.model.service_test_states import TEST_STATES, TestStatus
from contracts.model.state_table import StateTable, Transition
from simulator.domain.order_events import OrderId
from tests.assurance_support import problem, service_test
from tests.simulator_machine import SimulatorMachine, sound_stream

TENANTS = ("TENANT1", "TENANT2")
SERVICES = (("S100000000003-1", "FTTP"), ("S100000000004-1", "FTTP"), ("S100000000005-1", "FTTP-LITE"))
TEST_SCENARIOS = (
    "SERVICE_TEST_GREEN",
    "SERVICE_TEST_AMBER",
    "SERVICE_TEST_RED",
    "SERVICE_TEST_FAILED",
    "SERVICE_TEST_UNAVAILABLE",
    "SERVICE_TEST_REJECTED",
)
PROBLEM_SCENARIOS = (
    "PROBLEM_RESOLVED",
    "PROBLEM_ENGINEER_VISIT",
    "PROBLEM_NETWORK_INCIDENT",
    "PROBLEM_INFORMATION_REQUIRED",
    "PROBLEM_DELAYED",
    "PROBLEM_REJECTED",
    "PROBLEM_REFUSED",
    "PROBLEM_OPEN",
)
AMENDMENT_SCENARIOS = (
    "PROBLEM_AMENDMENT_ACCEPTED",
    "PROBLEM_AMENDMENT_APPLIED",
    "PROBLEM_AMENDMENT_REJECTED",
    "PROBLEM_ESCALATION_ACCEPTED",
)
CANCELLATION_SCENARIOS = (
    "PROBLEM_CANCELLATION_ACCEPTED",
    "PROBLEM_CANCELLED_NOW",
    "PROBLEM_CANCELLATION_REJECTED",
)
QUIET = {"ACCEPTED", "RAISED", "STEP_SKIPPED"}  # history events that are no transition


# A request answered 201 is received and applied at once: its one history entry covers both
# moves (CANCELLATION_RECEIVED then CANCELLED), as the script's answer triggers them.
APPLIED_AT_ONCE = {"AMENDMENT_RECEIVED": "AMENDED", "CANCELLATION_RECEIVED": "CANCELLED"}


def legal(table: StateTable[object], before: str, event: str, after: str) -> bool:
    """Whether some remembered previous status makes ``before --event--> after`` a declared move."""
    status = table.statuses(before)  # type: ignore[call-arg]
    candidates = [Transition(status, previous) for previous in (None, *table.statuses)]  # type: ignore[attr-defined]
    if any(after in table.targets(state, event) for state in candidates):
        return True
    applied = APPLIED_AT_ONCE.get(event)
    return applied is not None and any(
        after in table.targets(Transition(waiting, state.status), applied)
        for state in candidates
        for waiting in table.targets(state, event)
    )


class AssuranceFlows(SimulatorMachine):
    """The model is the simulator's own record; the invariants check it against the rules."""

    problems = Bundle("problems")
    max_advance_minutes = 600

    @rule(
        tenant=st.sampled_from(TENANTS),
        service=st.sampled_from(SERVICES),
        scenario=st.sampled_from(TEST_SCENARIOS),
    )
    def run_test(self, tenant: str, service: tuple[str, str], scenario: str) -> None:
        body = service_test(self._id(), service[0], serviceSpecification={"id": service[1]})
        self._post("/service-tests", body, tenant, scenario, allowed={201, 422})

    @rule(
        target=problems,
        tenant=st.sampled_from(TENANTS),
        service=st.sampled_from(SERVICES),
        scenario=st.sampled_from(PROBLEM_SCENARIOS),
        kind=st.sampled_from(["OUTAGE", "CPE", "CUSTOMER"]),
    )
    def raise_problem(self, tenant: str, service: tuple[str, str], scenario: str, kind: str) -> int:
        problem_id = self._id()
        body = problem(problem_id, service[0], serviceSpecification={"id": service[1]}, problemType=kind)
        self._post("/service-problems", body, tenant, scenario, allowed={201, 202, 422})
        return problem_id

    @rule(
        problem_id=problems,
        tenant=st.sampled_from(TENANTS),
        scenario=st.sampled_from(AMENDMENT_SCENARIOS),
        escalate=st.booleans(),
    )
    def amend(self, problem_id: int, tenant: str, scenario: str, escalate: bool) -> None:
        body = {
            "id": self._id(),
            "serviceProblemId": problem_id,
            "notes": "call ahead",
            "escalationRequest": escalate,
        }
        self._post("/service-problem-amendments", body, tenant, scenario, allowed={201, 202, 404, 422})

    @rule(
        problem_id=problems, tenant=st.sampled_from(TENANTS), scenario=st.sampled_from(CANCELLATION_SCENARIOS)
    )
    def cancel(self, problem_id: int, tenant: str, scenario: str) -> None:
        body = {
            "id": self._id(),
            "serviceProblemId": problem_id,
            "supplierServiceProblemReference": f"SP_{problem_id:09d}",
            "reasonCode": "NO_LONGER_REQUIRED",
        }
        self._post("/service-problem-cancellations", body, tenant, scenario, allowed={201, 202, 404, 422})

    @invariant()
    def every_stream_is_sound(self) -> None:
        seen: set[str] = set()
        with self.context.store.reading() as unit:
            entities = [(t.tenant, t.key, TEST_STATES) for t in unit.assurance.recent_tests(None)]
            entities += [(p.tenant, p.key, PROBLEM_STATES) for p in unit.assurance.recent_problems(None)]
            for tenant, key, table in entities:
                kcis = sound_stream(unit.outbox.for_order(OrderId(tenant, key)), seen, key)
                assert [f for f in validate_kci_stream(kcis) if not f.info] == [], key
                for event in unit.assurance.history(tenant, key):
                    if event.from_status is None or event.event in QUIET:
                        continue
                    assert legal(table, event.from_status, event.event, event.to_status or ""), (key, event)  # type: ignore[arg-type]


AssuranceFlows.TestCase.settings = settings(stateful_step_count=25, deadline=None)
test_tests_and_problems_keep_their_streams_sound = AssuranceFlows.TestCase


def test_the_tables_know_every_status_a_stream_reaches() -> None:
    assert {state.status for state in TEST_STATES.reachable_states()} == set(TestStatus)
    assert {state.status for state in PROBLEM_STATES.reachable_states()} == set(ProblemStatus)


def test_a_request_answered_201_is_one_legal_history_entry_and_nothing_else_is() -> None:
    """The invariant's reading of history: received and applied at once, as the answer does it."""
    assert legal(PROBLEM_STATES, "ACKNOWLEDGED", "CANCELLATION_RECEIVED", "CANCELLED")  # type: ignore[arg-type]
    assert legal(PROBLEM_STATES, "IN_PROGRESS", "AMENDMENT_RECEIVED", "IN_PROGRESS")  # type: ignore[arg-type]
    assert legal(PROBLEM_STATES, "IN_PROGRESS", "AMENDMENT_RECEIVED", "PENDING_AMENDMENT")  # type: ignore[arg-type]
    assert not legal(PROBLEM_STATES, "IN_PROGRESS", "AMENDMENT_RECEIVED", "COMPLETED")  # type: ignore[arg-type]
    assert not legal(PROBLEM_STATES, "COMPLETED", "CANCELLATION_RECEIVED", "CANCELLED")  # type: ignore[arg-type]
