"""Service tests and service problems come back from the database exactly as they were stored."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.model.service_problem_states import ProblemStatus
from contracts.model.service_test_states import TestOutcome, TestStatus
from simulator.domain.assurance_commands import ProblemDetails
from simulator.domain.assurance_scripts import AssuranceKind
from simulator.domain.inventory import AddressId
from simulator.domain.order import Appointment, Reply
from simulator.domain.order_commands import Contact, Scenario
from simulator.domain.service_problem import ProblemRequestRecord, ServiceProblem
from simulator.domain.service_test import ServiceTest
from simulator.storage import Database, assurance
from simulator.storage.tables import problem_request_ids, service_problems, service_tests

TENANTS = st.sampled_from(["TENANT1", "TENANT2"])
IDS = st.integers(min_value=1, max_value=2**62)
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20)
WORDS = st.from_regex(r"[A-Z][A-Z0-9_]{0,15}", fullmatch=True)
INSTANTS = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
).map(lambda moment: moment.replace(microsecond=0))
PAIRS = st.lists(st.tuples(WORDS, TEXT), max_size=3).map(tuple)
SCENARIOS = st.builds(
    Scenario,
    st.none() | WORDS,
    st.dictionaries(WORDS, TEXT, max_size=2).map(lambda params: tuple(sorted(params.items()))),
    st.none() | WORDS,
    st.none() | st.sampled_from(["PT1M", "PT0S"]),
)
PROGRESS = {
    "tenant": TENANTS,
    "supplier_reference": WORDS,
    "service_id": WORDS,
    "specification_id": WORDS,
    "problem_type": WORDS,
    "completed_date": st.none() | INSTANTS,
    "scenario": SCENARIOS,
    "next_step": st.integers(min_value=0, max_value=50),
    "next_step_due": st.none() | INSTANTS,
    "last_sequence": st.integers(min_value=0, max_value=50),
    "conversation_id": st.none() | WORDS,
    "created_at": INSTANTS,
    "updated_at": INSTANTS,
}
SERVICE_TESTS = st.builds(
    ServiceTest,
    test_id=IDS,
    characteristics=PAIRS,
    status=st.sampled_from(TestStatus),
    outcome=st.none() | st.sampled_from(TestOutcome),
    outcome_codes=st.lists(WORDS, max_size=3).map(tuple),
    **PROGRESS,
)
REQUESTS = st.builds(
    ProblemRequestRecord,
    kind=st.sampled_from([AssuranceKind.PROBLEM_AMENDMENT, AssuranceKind.PROBLEM_CANCELLATION]),
    request_id=IDS,
    reference=WORDS,
    problem_id_sent=IDS,
    scenario=SCENARIOS,
    reply=st.sampled_from(Reply),
    queued=st.booleans(),
    step=st.integers(min_value=0, max_value=9),
    reason_code=st.none() | WORDS,
    text=st.none() | TEXT,
)
SERVICE_PROBLEMS = st.builds(
    ServiceProblem,
    problem_id=IDS,
    problem_text=TEXT,
    address=st.none() | st.builds(AddressId, st.from_regex(r"[0-9]{12}", fullmatch=True)),
    service_test_id=st.none() | IDS,
    service_test_reference=st.none() | WORDS,
    characteristics=PAIRS,
    details=st.builds(
        ProblemDetails,
        primary_contact=st.none() | st.builds(Contact, TEXT, st.none() | TEXT, st.none() | TEXT),
        notes=st.none() | TEXT,
        reservation_id=st.none() | IDS,
    ),
    status=st.sampled_from(ProblemStatus),
    previous=st.none() | st.sampled_from(ProblemStatus),
    escalated=st.booleans(),
    appointment=st.none()
    | INSTANTS.map(lambda start: Appointment(start, start + timedelta(hours=4), "APPT-1")),
    network_incident_reference=st.none() | WORDS,
    resolution_code=st.none() | WORDS,
    resolution_text=st.none() | TEXT,
    resolution_status=st.none() | WORDS,
    requests=st.lists(REQUESTS, max_size=2, unique_by=lambda r: (r.kind, r.request_id)).map(tuple),
    reply=st.sampled_from(Reply),
    **PROGRESS,
)


@pytest.fixture
def database() -> Iterator[Database]:
    database = Database("sqlite://")
    database.create_schema()
    yield database
    database.dispose()


def _forget(database: Database) -> None:
    # Each example starts from empty tables: the fixture is shared by hypothesis' examples.
    with database.transaction() as connection:
        for table in (service_tests, service_problems, problem_request_ids):
            connection.execute(table.delete())


@given(test=SERVICE_TESTS, later=SERVICE_TESTS, body=st.dictionaries(WORDS, TEXT, max_size=2))
def test_a_service_test_reads_back_as_it_was_inserted_and_saved(
    database: Database, test: ServiceTest, later: ServiceTest, body: dict[str, str]
) -> None:
    _forget(database)
    with database.transaction() as connection:
        assurance.insert_test(connection, test, body)
        assert assurance.get_test(connection, test.tenant, test.test_id) == (test, body)
        assert assurance.recent_tests(connection, test.tenant) == [test]
        moved = replace(later, tenant=test.tenant, test_id=test.test_id)
        assurance.save_test(connection, moved)
        # Saving changes the state, never who it belongs to, when it arrived or its first answer.
        expected = replace(moved, created_at=test.created_at)
        assert assurance.get_test(connection, test.tenant, test.test_id) == (expected, body)
        due = assurance.due_tests(connection, datetime(2041, 1, 1, tzinfo=UTC), 10)
        assert due == ([] if moved.next_step_due is None else [(test.tenant, test.test_id)])


@given(problem=SERVICE_PROBLEMS, body=st.none() | st.dictionaries(WORDS, TEXT, max_size=2))
def test_a_service_problem_reads_back_as_it_was_stored_and_claims_its_requests(
    database: Database, problem: ServiceProblem, body: dict[str, str] | None
) -> None:
    _forget(database)
    with database.transaction() as connection:
        assurance.insert_problem(connection, problem, body)
        assurance.save_problem(connection, problem)
        assert assurance.get_problem(connection, problem.tenant, problem.problem_id) == (problem, body)
        assert assurance.recent_problems(connection, None) == [problem]
        for request in problem.requests:
            owner = assurance.request_owner(connection, problem.tenant, request.kind, request.request_id)
            assert owner == problem.problem_id
        due = assurance.due_problems(connection, datetime(2041, 1, 1, tzinfo=UTC), 10)
        assert due == ([] if problem.next_step_due is None else [(problem.tenant, problem.problem_id)])
