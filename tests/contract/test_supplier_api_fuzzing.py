"""Schemathesis against our own Supplier API document: no 5xx, no contract violations.

Each operation's cases come from schemathesis' hypothesis strategy and run under the test
profile's settings (seeded in the quick profile), without schemathesis' pytest integration,
which follows pytest's private internals and breaks on new pytest releases.
"""

from __future__ import annotations

import pytest
import schemathesis
from flask import Flask
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig

from contracts import SUPPLIER_API
from contracts.operations import operation_index
from tests.contract.fuzzing import Tally

# Operations the simulator implements (x-fibresim-implemented); the rest answer 501 and are
# covered by their own tests.
INDEX = operation_index(SUPPLIER_API)
IMPLEMENTED = tuple(operation.path for operation in INDEX.implemented())

# A schema-valid request may still break a business rule (an unknown specification, a slot
# another case already took): the Supplier API answers those with 422, as the reference says.
CONFIG = SchemathesisConfig.from_dict(
    {"checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "401", "403", "404", "422"]}}}
)

SCHEMA = schemathesis.openapi.from_dict(dict(INDEX.document), config=CONFIG).include(
    path_regex="^(" + "|".join(IMPLEMENTED) + ")$"
)
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]

TALLY = Tally("supplier")
_report = TALLY.fixture()


def test_every_implemented_operation_is_fuzzed() -> None:
    assert sorted(operation.path for operation in OPERATIONS) == sorted(IMPLEMENTED)


@pytest.mark.parametrize("operation", OPERATIONS, ids=[operation.label for operation in OPERATIONS])
def test_implemented_operations_honour_the_contract(app: Flask, operation: schemathesis.APIOperation) -> None:
    TALLY.honour_the_contract(operation, lambda case: case.call(app=app))


def test_strategies_are_hypothesis_strategies() -> None:
    assert all(isinstance(operation.as_strategy(), st.SearchStrategy) for operation in OPERATIONS)
