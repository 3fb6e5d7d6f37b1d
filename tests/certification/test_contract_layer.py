"""Layer 1 finds a supplier whose answers break the contract, and shows the exchange."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Flask, jsonify, request

from contracts.certification.contract import certifiable_document, contract_rule_id
from contracts.certification.rules import Capability, catalogue
from contracts.certification.runner import RuleResult, SuiteResult, Verdict, run_rule, run_suite
from contracts.certification.schemas import SUPPLIER_API, instance_pointer, problems, rule_of
from contracts.certification.target import Target, TargetSettings
from tests.served import serve_wsgi


def availability_supplier(answer: dict[str, Any]) -> Flask:
    """A supplier whose availability answer is always ``answer``."""
    app = Flask("availability-supplier")

    @app.get("/service-availability")
    def availability() -> Any:
        return jsonify(answer)

    return app


def availability_contract_rule(answer: dict[str, Any]) -> RuleResult:
    """The contract rule of GET /service-availability run against ``availability_supplier(answer)``."""
    (rule,) = [r for r in catalogue() if r.id == contract_rule_id("get", "/service-availability")]
    with serve_wsgi(availability_supplier(answer)) as base:
        settings = TargetSettings(
            base_url=base, capabilities=frozenset({Capability.AVAILABILITY}), max_examples=3
        )
        with Target(settings) as target:
            result = run_rule(rule, target)
    assert all(e.url.startswith(base) for e in result.evidence.exchanges)
    return result


def test_an_answer_that_breaks_the_response_schema_fails_the_operations_rule() -> None:
    # no address, no siteInformation, no reasons
    result = availability_contract_rule({"serviceSpecifications": []})
    assert result.verdict is Verdict.FAILED, result.message
    assert "response_schema_conformance" in result.message
    # Where and which rule: the JSON pointer of the failing value, the keyword and what it expects.
    assert '(root): "address" is a required property (required)' in result.message
    assert result.evidence.exchanges


def test_the_gateway_test_stub_headers_are_not_generated() -> None:
    operation = certifiable_document()["paths"]["/service-orders"]["post"]
    names = {parameter["$ref"].rsplit("/", 1)[-1] for parameter in operation["parameters"]}
    assert names == {"XRequestId", "XConversationId", "Tenant"}


def test_a_schema_finding_names_the_json_pointer_and_the_rule() -> None:
    result = availability_contract_rule(
        {
            "address": {"identifier": {"id": "100000000002", "type": "UPRN"}},
            "serviceSpecifications": [{"id": "FTTP", "serviceCharacteristics": 7}],
            "siteInformation": {},
        }
    )
    assert result.verdict is Verdict.FAILED, result.message
    assert (
        '/serviceSpecifications/0/serviceCharacteristics: 7 is not of type "array" (type)' in result.message
    )


def test_validator_problems_name_pointer_keyword_and_expected_value() -> None:
    body = {"uuid": "u", "code": "WRONG", "messages": [""], "extra": {"a/b": 1}}
    found = problems(SUPPLIER_API, "Error", body)
    assert any(
        line.startswith("/code: 'WRONG' is not one of [") and line.endswith("(enum)") for line in found
    ), found
    assert problems(SUPPLIER_API, "Error", []) == ["(root): [] is not of type 'object' (type)"]
    assert instance_pointer(["a/b", "c~d", 0]) == "/a~1b/c~0d/0"
    assert rule_of("minimum", 1, "0 is less than 2") == "(minimum: 1)"


def reasons_supplier(reasons: list[Any]) -> Flask:
    """Availability as the contract says, except (maybe) the shape of unavailabilityReasons."""
    app = Flask("reasons-supplier")

    @app.get("/service-availability")
    def availability() -> Any:
        for header in ("X-Request-ID", "X-Conversation-ID", "Tenant"):
            if not request.headers.get(header):
                body = {"uuid": str(uuid.uuid4()), "code": "MALFORMED_REQUEST", "messages": [f"no {header}"]}
                return jsonify(body), 400
        return jsonify(
            {
                "address": {"identifier": {"id": "100000000001", "type": "UPRN"}},
                "serviceSpecifications": [],
                "siteInformation": {},
                "unavailabilityReasons": reasons,
            }
        )

    return app


def _availability_contract(reasons: list[Any]) -> SuiteResult:
    rules = [r for r in catalogue() if r.id == contract_rule_id("get", "/service-availability")]
    with serve_wsgi(reasons_supplier(reasons)) as base:
        settings = TargetSettings(
            base_url=base, capabilities=frozenset({Capability.AVAILABILITY}), max_examples=5
        )
        with Target(settings) as target:
            return run_suite(target, rules)


def test_a_supplier_differing_only_in_a_marked_contract_decision_is_certified() -> None:
    assert _availability_contract([{"code": "NO_COVERAGE", "text": "not here"}]).certified
    result = _availability_contract([{"reason": "OUT_OF_AREA"}])
    (verdict,) = result.results
    assert verdict.verdict is Verdict.ADVISORY_FAILURE, verdict.message
    assert "decision of our contract beyond the reference" in verdict.message
    assert "/unavailabilityReasons/0" in verdict.message
    assert result.exit_code() == 0
    assert result.exit_code(strict=True) == 1


def test_a_finding_outside_the_marked_decisions_still_fails() -> None:
    broken = [r for r in catalogue() if r.id == contract_rule_id("get", "/service-availability")]
    with serve_wsgi(availability_supplier({"serviceSpecifications": []})) as base:
        settings = TargetSettings(
            base_url=base, capabilities=frozenset({Capability.AVAILABILITY}), max_examples=3
        )
        with Target(settings) as target:
            assert run_suite(target, broken).results[0].verdict is Verdict.FAILED


def test_the_order_flow_links_are_transitions_of_schemathesis_stateful_phase() -> None:
    import schemathesis

    machine = schemathesis.openapi.from_dict(certifiable_document()).as_state_machine()
    transitions = {name for name in dir(machine) if "___201_" in name}
    # reservation -> order -> amendment / cancellation, as the gateway chains them
    assert {
        "POST_appointments___201_ProvideOrderForTheReservation__POST_service_orders",
        "POST_service_orders___201_AmendTheOrder__POST_service_order_amendments",
        "POST_service_orders___201_CancelTheOrder__POST_service_order_cancellations",
    } <= transitions
    links = certifiable_document()["paths"]["/service-orders"]["post"]["responses"]["201"]["links"]
    assert links["AmendTheOrder"]["requestBody"] == {"orderId": "$response.body#/id"}
