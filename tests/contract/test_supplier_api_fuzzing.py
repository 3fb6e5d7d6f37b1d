"""Schemathesis against our own Supplier API document: no 5xx, no contract violations."""

from __future__ import annotations

import pytest
import schemathesis
from flask import Flask
from schemathesis.config import SchemathesisConfig

from contracts import SUPPLIER_API, load_document

# Operations the simulator implements; the rest answer 501 and are covered by their own tests.
IMPLEMENTED = (
    "/service-availability",
    "/available-appointments",
    "/appointments",
    "/service-orders",
    "/service-order-amendments",
    "/service-order-cancellations",
)

# Schemathesis' examples phase JSON-encodes a generated `content: application/json` query
# parameter twice when another parameter has an example (as its coverage phase once did,
# upstream issue 3701), so a valid address arrives as a JSON string. The coverage, fuzzing
# and stateful phases encode it correctly; the documents' examples are checked by
# test_openapi_documents.py.
#
# A schema-valid request may still break a business rule (an unknown specification, a slot
# another case already took): the Supplier API answers those with 422, as the reference says.
CONFIG = SchemathesisConfig.from_dict(
    {
        "phases": {"examples": {"enabled": False}},
        "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "401", "403", "404", "422"]}},
    }
)


@pytest.fixture
def supplier_schema(app: Flask) -> schemathesis.BaseSchema:
    loaded = schemathesis.openapi.from_dict(load_document(SUPPLIER_API), config=CONFIG)
    loaded.app = app
    return loaded


schema = schemathesis.pytest.from_fixture("supplier_schema").include(
    path_regex="^(" + "|".join(IMPLEMENTED) + ")$"
)


@schema.parametrize()
def test_implemented_operations_honour_the_contract(case: schemathesis.Case) -> None:
    case.call_and_validate()
