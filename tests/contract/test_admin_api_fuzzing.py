"""Schemathesis against our own Admin API document: no 5xx, no contract violations.

As in ``test_supplier_api_fuzzing``: each operation's cases come from schemathesis' hypothesis
strategy and run under the test profile's settings, without schemathesis' pytest integration.
The simulator is reset (``POST /_admin/reset``) before every example, so one example's clock
move, fault rule or journal never decides the next one's answer.
"""

from __future__ import annotations

import pytest
import schemathesis
from flask import Flask
from schemathesis.config import SchemathesisConfig

from contracts import ADMIN_API, load_document
from tests.contract.fuzzing import Tally

# A schema-valid request may still name nothing (an unknown order: 404) or break a rule
# (a move past the clock's horizon: 422); both are documented answers.
CONFIG = SchemathesisConfig.from_dict(
    {"checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "404", "422"]}}}
)

DOCUMENT = load_document(ADMIN_API)
# The document's server is http://127.0.0.1:8080/_admin: its paths are relative to the prefix.
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)
# Nothing is excluded: admin calls are not subject to fault rules (the injected 5xx of the
# Supplier API cannot answer them), and the reset before each example undoes whatever one did.
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]

TALLY = Tally("admin")
_report = TALLY.fixture()


def test_every_documented_operation_is_fuzzed() -> None:
    documented = sum(
        1
        for item in DOCUMENT["paths"].values()
        for method in item
        if method in {"get", "put", "post", "delete"}
    )
    assert len(OPERATIONS) == documented


@pytest.mark.parametrize("operation", OPERATIONS, ids=[operation.label for operation in OPERATIONS])
def test_admin_operations_honour_the_contract(app: Flask, operation: schemathesis.APIOperation) -> None:
    client = app.test_client()

    def call(case: schemathesis.Case) -> object:
        assert client.post("/_admin/reset").status_code == 200
        return case.call(app=app, base_url="http://127.0.0.1/_admin")

    TALLY.honour_the_contract(operation, call)
