"""Checks of the OpenAPI contract documents in contracts/openapi.

* each document is a valid OpenAPI 3.1 document;
* every ``example`` / ``examples`` value in a document (schemas, media types, parameters,
  headers) is valid against the schema it belongs to (JSON Schema draft 2020-12, formats
  checked, ``$ref`` resolved against the whole document);
* the headers, status codes, error bodies and component names the simulator relies on are
  declared;
* a few deliberately invalid instances are rejected, so the conditional rules really bite.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from tests.orders_support import provide

OPENAPI_DIR = Path(__file__).resolve().parents[2] / "contracts" / "openapi"
SUPPLIER_API = "supplier-api.yaml"
UPDATES_API = "supplier-updates-api.yaml"
AUTH_API = "supplier-auth-api.yaml"
DOCUMENTS = (SUPPLIER_API, UPDATES_API, AUTH_API)
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# JSON Schema keywords whose values are subschemas.
_SCHEMA_MAP_KEYWORDS = ("properties", "patternProperties", "$defs", "dependentSchemas")
_SCHEMA_LIST_KEYWORDS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_SINGLE_KEYWORDS = (
    "items",
    "additionalProperties",
    "unevaluatedProperties",
    "unevaluatedItems",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "contentSchema",
)


# --------------------------------------------------------------------------------------------
# loading and helpers


@functools.cache
def _load(name: str) -> dict[str, Any]:
    with (OPENAPI_DIR / name).open(encoding="utf-8") as handle:
        document = yaml.safe_load(handle)
    assert isinstance(document, dict), f"{name} does not hold a mapping"
    return document


def load(name: str) -> dict[str, Any]:
    """A private copy of the parsed document (tests must not share mutations)."""
    return copy.deepcopy(_load(name))


def _escape(token: Any) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def _join(pointer: str, *tokens: Any) -> str:
    return pointer + "".join("/" + _escape(token) for token in tokens)


def _base_uri(name: str) -> str:
    return f"https://fibresim.invalid/contracts/openapi/{name}"


@functools.cache
def _registry(name: str) -> Registry:
    resource = DRAFT202012.create_resource(_load(name))
    return Registry().with_resource(_base_uri(name), resource)


def validator_for(name: str, schema_pointer: str) -> Draft202012Validator:
    """Validator for the schema at ``schema_pointer`` inside document ``name``."""
    ref = f"{_base_uri(name)}#{quote(schema_pointer, safe='/~')}"
    return Draft202012Validator(
        {"$ref": ref},
        registry=_registry(name),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def schema_errors(name: str, schema_pointer: str, instance: Any) -> list[str]:
    errors = validator_for(name, schema_pointer).iter_errors(instance)
    return sorted(f"at /{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in errors)


def resolve_local(document: dict[str, Any], node: Any) -> Any:
    """Follow local ``$ref``s (``#/...``) of OpenAPI objects until a non-reference is reached."""
    seen: set[str] = set()
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), f"only local references are used, got {ref!r}"
        assert ref not in seen, f"reference loop at {ref!r}"
        seen.add(ref)
        node = document
        for token in ref[2:].split("/"):
            node = node[token.replace("~1", "/").replace("~0", "~")]
    return node


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document.get("paths", {}).items():
        for method in HTTP_METHODS:
            if method in item:
                yield path, method, item[method]


def operation_parameters(document: dict[str, Any], path: str, method: str) -> list[dict[str, Any]]:
    """Path-level and operation-level parameters, resolved; operation-level ones win."""
    item = document["paths"][path]
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for raw in [*item.get("parameters", []), *item[method].get("parameters", [])]:
        parameter = resolve_local(document, raw)
        name = parameter["name"].lower() if parameter["in"] == "header" else parameter["name"]
        merged[(parameter["in"], name)] = parameter
    return list(merged.values())


def _operation_cases(names: tuple[str, ...] = DOCUMENTS) -> list[Any]:
    return [
        pytest.param(name, path, method, id=f"{name}:{method.upper()} {path}")
        for name in names
        for path, method, _ in operations(_load(name))
    ]


# --------------------------------------------------------------------------------------------
# example collection


@dataclass(frozen=True)
class ExampleCase:
    document: str
    example_pointer: str
    schema_pointer: str | None
    value: Any

    @property
    def case_id(self) -> str:
        return f"{self.document}#{self.example_pointer}"


def _schema_examples(name: str, schema: Any, pointer: str) -> Iterator[ExampleCase]:
    if not isinstance(schema, dict):
        return
    if "example" in schema:
        yield ExampleCase(name, _join(pointer, "example"), pointer, schema["example"])
    if "examples" in schema:
        examples = schema["examples"]
        if isinstance(examples, list):
            for index, value in enumerate(examples):
                yield ExampleCase(name, _join(pointer, "examples", index), pointer, value)
        else:  # a schema's `examples` must be an array; make the problem visible as a case
            yield ExampleCase(name, _join(pointer, "examples"), None, examples)
    for keyword in _SCHEMA_MAP_KEYWORDS:
        for key, subschema in (schema.get(keyword) or {}).items():
            yield from _schema_examples(name, subschema, _join(pointer, keyword, key))
    for keyword in _SCHEMA_LIST_KEYWORDS:
        for index, subschema in enumerate(schema.get(keyword) or []):
            yield from _schema_examples(name, subschema, _join(pointer, keyword, index))
    for keyword in _SCHEMA_SINGLE_KEYWORDS:
        if keyword in schema:
            yield from _schema_examples(name, schema[keyword], _join(pointer, keyword))


def _holder_examples(
    name: str, document: dict[str, Any], holder: dict[str, Any], pointer: str
) -> Iterator[ExampleCase]:
    """Examples of a media type, parameter or header object."""
    if "$ref" in holder:
        return  # the referenced component is walked on its own
    schema_pointer = _join(pointer, "schema") if "schema" in holder else None
    if "schema" in holder:
        yield from _schema_examples(name, holder["schema"], schema_pointer)
    if "example" in holder:
        yield ExampleCase(name, _join(pointer, "example"), schema_pointer, holder["example"])
    for key, raw_example in (holder.get("examples") or {}).items():
        example_pointer = _join(pointer, "examples", key)
        example = resolve_local(document, raw_example)
        if "value" in example:
            yield ExampleCase(name, _join(example_pointer, "value"), schema_pointer, example["value"])
    for media_type, media in (holder.get("content") or {}).items():
        yield from _holder_examples(name, document, media, _join(pointer, "content", media_type))


def _response_examples(
    name: str, document: dict[str, Any], response: dict[str, Any], pointer: str
) -> Iterator[ExampleCase]:
    if "$ref" in response:
        return
    for header, definition in (response.get("headers") or {}).items():
        yield from _holder_examples(name, document, definition, _join(pointer, "headers", header))
    for media_type, media in (response.get("content") or {}).items():
        yield from _holder_examples(name, document, media, _join(pointer, "content", media_type))


def _body_examples(
    name: str, document: dict[str, Any], body: dict[str, Any] | None, pointer: str
) -> Iterator[ExampleCase]:
    if not body or "$ref" in body:
        return
    for media_type, media in (body.get("content") or {}).items():
        yield from _holder_examples(name, document, media, _join(pointer, "content", media_type))


def _operation_examples(
    name: str, document: dict[str, Any], operation: dict[str, Any], pointer: str
) -> Iterator[ExampleCase]:
    for index, parameter in enumerate(operation.get("parameters") or []):
        yield from _holder_examples(name, document, parameter, _join(pointer, "parameters", index))
    yield from _body_examples(name, document, operation.get("requestBody"), _join(pointer, "requestBody"))
    for status, response in (operation.get("responses") or {}).items():
        yield from _response_examples(name, document, response, _join(pointer, "responses", status))


def _path_examples(name: str, document: dict[str, Any]) -> Iterator[ExampleCase]:
    for path, item in (document.get("paths") or {}).items():
        item_pointer = _join("", "paths", path)
        for index, parameter in enumerate(item.get("parameters") or []):
            yield from _holder_examples(name, document, parameter, _join(item_pointer, "parameters", index))
        for method in HTTP_METHODS:
            if method in item:
                yield from _operation_examples(name, document, item[method], _join(item_pointer, method))


def _component_examples(name: str, document: dict[str, Any]) -> Iterator[ExampleCase]:
    components = document.get("components") or {}
    for key, schema in (components.get("schemas") or {}).items():
        yield from _schema_examples(name, schema, _join("", "components", "schemas", key))
    for section in ("parameters", "headers"):
        for key, holder in (components.get(section) or {}).items():
            yield from _holder_examples(name, document, holder, _join("", "components", section, key))
    for key, body in (components.get("requestBodies") or {}).items():
        yield from _body_examples(name, document, body, _join("", "components", "requestBodies", key))
    for key, response in (components.get("responses") or {}).items():
        yield from _response_examples(name, document, response, _join("", "components", "responses", key))


def collect_examples(name: str) -> list[ExampleCase]:
    """Every example of the document, with the pointer of the schema it must satisfy."""
    document = _load(name)
    return [*_path_examples(name, document), *_component_examples(name, document)]


def _example_params() -> list[Any]:
    params = []
    for name in DOCUMENTS:
        for case in collect_examples(name):
            params.append(pytest.param(case, id=case.case_id))
    return params


# --------------------------------------------------------------------------------------------
# whole-document checks


@pytest.mark.parametrize("name", DOCUMENTS)
def test_document_is_valid_openapi_3_1(name: str) -> None:
    document = load(name)
    assert document["openapi"] == "3.1.0"
    validate(document)


@pytest.mark.parametrize("name", DOCUMENTS)
def test_document_holds_only_json_data(name: str) -> None:
    # An unquoted date or timestamp would be loaded by YAML as a date object.
    json.dumps(_load(name), allow_nan=False)


@pytest.mark.parametrize("name", DOCUMENTS)
def test_document_has_many_examples(name: str) -> None:
    least = 8 if name == AUTH_API else 40  # the token endpoint's document is one operation
    assert len(collect_examples(name)) >= least, "the example walker found suspiciously few examples"


@pytest.mark.parametrize("case", _example_params())
def test_example_is_valid_against_its_schema(case: ExampleCase) -> None:
    assert case.schema_pointer is not None, (
        f"{case.case_id}: example without a schema, or a schema `examples` that is not an array"
    )
    errors = schema_errors(case.document, case.schema_pointer, case.value)
    assert not errors, f"{case.case_id} is invalid against {case.schema_pointer}:\n" + "\n".join(errors)


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_component_schema_has_an_example(name: str) -> None:
    schemas = _load(name)["components"]["schemas"]
    missing = [key for key, schema in schemas.items() if not (schema.get("examples") or "example" in schema)]
    assert not missing, f"component schemas without examples: {missing}"


@pytest.mark.parametrize(("name", "path", "method"), _operation_cases())
def test_every_operation_has_examples(name: str, path: str, method: str) -> None:
    document = _load(name)
    operation = document["paths"][path][method]
    holders: list[tuple[str, dict[str, Any]]] = []
    if "requestBody" in operation:
        body = resolve_local(document, operation["requestBody"])
        holders += [(f"requestBody {mt}", media) for mt, media in body["content"].items()]
    for status, raw_response in operation["responses"].items():
        response = resolve_local(document, raw_response)
        holders += [
            (f"response {status} {mt}", media) for mt, media in (response.get("content") or {}).items()
        ]
    assert holders, "operation has neither a request body nor a response body"
    missing = [label for label, media in holders if not (media.get("examples") or "example" in media)]
    assert not missing, f"media types without examples: {missing}"


@pytest.mark.parametrize(("name", "path", "method"), _operation_cases())
def test_error_responses_use_the_error_schema(name: str, path: str, method: str) -> None:
    document = _load(name)
    expected, minimum = "#/components/schemas/Error", 3
    if (name, path) in {(UPDATES_API, "/auth/supplier/access-token"), (AUTH_API, "/auth/access-token")}:
        # OAuth 2.0 error format (RFC 6749 section 5.2), one error response with a body.
        expected, minimum = "#/components/schemas/TokenError", 1
    responses = document["paths"][path][method]["responses"]
    checked = 0
    for status, raw_response in responses.items():
        if str(status)[0] not in "45":
            continue
        response = resolve_local(document, raw_response)
        if expected.endswith("/Error"):
            # shared definitions, so every operation answers errors alike
            assert set(raw_response) == {"$ref"}, f"{status} is not a components/responses reference"
            assert raw_response["$ref"].startswith("#/components/responses/")
        for media_type, media in (response.get("content") or {}).items():
            assert media_type == "application/json", f"{status}: unexpected media type {media_type}"
            assert media.get("schema") == {"$ref": expected}, (
                f"{method.upper()} {path} {status} does not use {expected}: {media.get('schema')}"
            )
            checked += 1
    assert checked >= minimum, "expected error responses with a body"


@pytest.mark.parametrize(
    ("name", "codes"),
    [
        (
            SUPPLIER_API,
            {
                "INVALID_REQUEST",
                "MALFORMED_REQUEST",
                "NOT_AUTHORISED",
                "NOT_FOUND",
                "NOT_IMPLEMENTED",
                "SUPPLIER_FAULT",
            },
        ),
        (
            UPDATES_API,
            {
                "INVALID_REQUEST",
                "MALFORMED_REQUEST",
                "NOT_AUTHORISED",
                "NOT_FOUND",
                "NOT_IMPLEMENTED",
                "GATEWAY_FAULT",
            },
        ),
    ],
)
def test_error_schema_shape(name: str, codes: set[str]) -> None:
    error = _load(name)["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"uuid", "code", "messages"}
    # The Supplier API's error body is open: the reference does not close it (§2.3).
    assert error.get("additionalProperties") is (None if name == "supplier-api.yaml" else False)
    assert error["properties"]["uuid"]["type"] == "string"
    assert error["properties"]["uuid"]["format"] == "uuid"
    assert set(error["properties"]["code"]["enum"]) == codes
    assert error["properties"]["messages"]["minItems"] == 1
    assert schema_errors(
        name, "/components/schemas/Error", {"uuid": "x", "code": "NOT_FOUND", "messages": ["m"]}
    )


# --------------------------------------------------------------------------------------------
# Supplier API specifics

SUPPLIER_SCHEMA_NAMES = [
    "Error",
    "AddressIdentifier",
    "Address",
    "ServiceAvailability",
    "ServiceSpecificationAvailability",
    "AvailabilityCharacteristic",
    "SiteInformation",
    "NewLine",
    "ExistingLine",
    "Ont",
    "OntPort",
    "LineCharacteristic",
    "UnavailabilityReason",
    "AppointmentAvailability",
    "Timeslot",
    "TimeslotClassification",
    "AppointmentReservationRequest",
    "AppointmentReservation",
    "ServiceCharacteristic",
    "ServiceSpecificationRef",
    "ServiceOrderItem",
    "Contact",
    "ProvideServiceOrder",
    "ModifyServiceOrder",
    "CeaseServiceOrder",
    "ServiceOrderRequest",
    "ServiceOrder",
    "ServiceOrderStatus",
    "ServiceOrderAmendmentRequest",
    "ServiceOrderAmendment",
    "ServiceOrderCancellationRequest",
    "ServiceOrderCancellation",
    "CancellationReasonCode",
    "ServiceTestRequest",
    "ServiceTest",
    "ServiceProblemRequest",
    "ServiceProblem",
    "ServiceProblemAmendmentRequest",
    "ServiceProblemAmendment",
    "ServiceProblemCancellationRequest",
    "ServiceProblemCancellation",
    "ProblemCode",
    "ServiceProblemType",
    "EngineerTask",
    "AppointmentPurpose",
]

_GET_STATUSES = {"200", "400", "401", "403", "422", "500", "503"}
_ASYNC_STATUSES = {"201", "202", "400", "401", "403", "422", "500", "503"}
SUPPLIER_STATUSES = {
    ("/service-availability", "get"): _GET_STATUSES,
    ("/available-appointments", "get"): _GET_STATUSES,
    ("/appointments", "post"): {"201", "400", "401", "403", "422", "500", "503"},
    ("/service-orders", "post"): _ASYNC_STATUSES | {"501"},
    ("/service-order-amendments", "post"): _ASYNC_STATUSES | {"404", "501"},
    ("/service-order-cancellations", "post"): _ASYNC_STATUSES | {"404", "501"},
    ("/service-tests", "post"): {"201", "400", "401", "403", "422", "500", "501", "503"},
    ("/service-problems", "post"): _ASYNC_STATUSES | {"501"},
    ("/service-problem-amendments", "post"): _ASYNC_STATUSES | {"404", "501"},
    ("/service-problem-cancellations", "post"): _ASYNC_STATUSES | {"404", "501"},
}
UPDATES_STATUSES = {
    ("/kcis", "post"): {"204", "400", "401", "403", "422", "500", "503"},
    ("/auth/supplier/access-token", "post"): {"200", "400", "503"},
}
AUTH_STATUSES = {("/auth/access-token", "post"): {"200", "400", "401"}}
STUB_HEADER_REFS = ("XScenario", "XProblemCode", "XKciDelay")


def test_supplier_api_metadata() -> None:
    document = _load(SUPPLIER_API)
    assert document["info"]["version"] == "1.15"
    assert "http://127.0.0.1:8080" in [server["url"] for server in document["servers"]]
    schemes = document["components"]["securitySchemes"]
    assert schemes["oauth2"]["type"] == "oauth2"
    assert "tokenUrl" in schemes["oauth2"]["flows"]["clientCredentials"]
    assert schemes["bearerAuth"] == schemes["bearerAuth"] | {"type": "http", "scheme": "bearer"}
    assert document["security"] == [{}, {"bearerAuth": []}, {"oauth2": []}]


def test_supplier_api_component_schema_names() -> None:
    schemas = _load(SUPPLIER_API)["components"]["schemas"]
    missing = [name for name in SUPPLIER_SCHEMA_NAMES if name not in schemas]
    assert not missing, f"component schemas the simulator compiles by name are missing: {missing}"


def test_supplier_api_declares_exactly_the_expected_operations() -> None:
    found = {(path, method) for path, method, _ in operations(_load(SUPPLIER_API))}
    assert found == set(SUPPLIER_STATUSES)


@pytest.mark.parametrize(
    ("name", "path", "method", "expected"),
    [
        pytest.param(SUPPLIER_API, p, m, s, id=f"{SUPPLIER_API}:{m.upper()} {p}")
        for (p, m), s in SUPPLIER_STATUSES.items()
    ]
    + [
        pytest.param(UPDATES_API, p, m, s, id=f"{UPDATES_API}:{m.upper()} {p}")
        for (p, m), s in UPDATES_STATUSES.items()
    ],
)
def test_operation_status_codes(name: str, path: str, method: str, expected: set[str]) -> None:
    responses = _load(name)["paths"][path][method]["responses"]
    assert {str(status) for status in responses} == expected


@pytest.mark.parametrize(
    ("key", "header", "max_length", "pattern"),
    [
        ("XRequestId", "X-Request-ID", 100, None),
        ("XConversationId", "X-Conversation-ID", 100, None),
        ("Tenant", "Tenant", 50, "^[A-Za-z0-9_-]+$"),
    ],
)
def test_supplier_reusable_header_parameters(
    key: str, header: str, max_length: int, pattern: str | None
) -> None:
    parameter = _load(SUPPLIER_API)["components"]["parameters"][key]
    assert parameter["name"] == header
    assert parameter["in"] == "header"
    assert parameter["required"] is True
    schema = parameter["schema"]
    assert schema["type"] == "string"
    assert schema["minLength"] == 1
    assert schema["maxLength"] == max_length
    assert schema.get("pattern") == pattern


@pytest.mark.parametrize(("name", "path", "method"), _operation_cases((SUPPLIER_API,)))
def test_supplier_operation_requires_gateway_headers(name: str, path: str, method: str) -> None:
    document = _load(name)
    refs = [p.get("$ref") for p in document["paths"][path][method].get("parameters", [])]
    for key in ("XRequestId", "XConversationId", "Tenant"):
        assert f"#/components/parameters/{key}" in refs, f"{key} is not referenced"
    headers = {
        p["name"].lower(): p for p in operation_parameters(document, path, method) if p["in"] == "header"
    }
    for header in ("X-Request-ID", "X-Conversation-ID", "Tenant"):
        assert header.lower() in headers, f"{header} is not declared"
        assert headers[header.lower()].get("required") is True, f"{header} is not required"


@pytest.mark.parametrize(("name", "path", "method"), _operation_cases((SUPPLIER_API,)))
def test_supplier_stub_headers_on_async_posts(name: str, path: str, method: str) -> None:
    document = _load(name)
    refs = [p.get("$ref") for p in document["paths"][path][method].get("parameters", [])]
    is_async = method == "post" and path != "/appointments"
    for key in STUB_HEADER_REFS:
        declared = f"#/components/parameters/{key}" in refs
        assert declared is is_async, f"{key}: declared={declared}, asynchronous POST={is_async}"
    if is_async:
        for parameter in operation_parameters(document, path, method):
            if parameter["name"] in ("X-Scenario", "X-Problem-Code", "X-Kci-Delay"):
                assert parameter["in"] == "header"
                assert not parameter.get("required", False)


def test_supplier_stub_header_definitions() -> None:
    parameters = _load(SUPPLIER_API)["components"]["parameters"]
    assert parameters["XScenario"]["name"] == "X-Scenario"
    assert parameters["XProblemCode"]["name"] == "X-Problem-Code"
    assert parameters["XProblemCode"]["schema"] == {"$ref": "#/components/schemas/ProblemCode"}
    assert parameters["XKciDelay"]["name"] == "X-Kci-Delay"
    assert parameters["XKciDelay"]["schema"]["pattern"] == "^[0-9]+$"


@pytest.mark.parametrize(
    ("path", "name", "schema_ref"),
    [
        ("/service-availability", "address", "#/components/schemas/AddressIdentifier"),
        ("/available-appointments", "address", "#/components/schemas/AddressIdentifier"),
        (
            "/available-appointments",
            "serviceSpecification",
            "#/components/schemas/ServiceSpecificationRef",
        ),
    ],
)
def test_json_encoded_query_parameters_use_content(path: str, name: str, schema_ref: str) -> None:
    document = _load(SUPPLIER_API)
    parameter = next(
        p for p in operation_parameters(document, path, "get") if p["in"] == "query" and p["name"] == name
    )
    assert "schema" not in parameter
    assert parameter["required"] is True
    assert parameter["content"]["application/json"]["schema"] == {"$ref": schema_ref}


@pytest.mark.parametrize(
    ("path", "name", "required"),
    [
        ("/service-availability", "serviceTypes", False),
        ("/available-appointments", "classifications", False),
        ("/available-appointments", "appointmentFromDate", False),
        ("/available-appointments", "appointmentPurpose", True),
    ],
)
def test_plain_query_parameters(path: str, name: str, required: bool) -> None:
    document = _load(SUPPLIER_API)
    parameter = next(
        p for p in operation_parameters(document, path, "get") if p["in"] == "query" and p["name"] == name
    )
    assert "content" not in parameter
    assert bool(parameter.get("required", False)) is required
    schema = resolve_local(document, parameter["schema"])
    if schema.get("type") == "array":
        assert parameter["style"] == "form"
        assert parameter["explode"] is False
    if name == "appointmentFromDate":
        assert schema == {"type": "string", "format": "date"}
    if name == "appointmentPurpose":
        assert set(schema["enum"]) == {"PROVIDE", "REPAIR", "MODIFY"}


_PROVIDE = provide(1001, primaryContact={"name": "Alex Smith"}, requestedCompletionDate="2026-07-20")
_AVAILABLE = {
    "address": {"identifier": {"id": "100000000002", "type": "UPRN"}},
    "serviceSpecifications": [{"id": "FTTP"}],
    "siteInformation": {},
}

SUPPLIER_INVALID = [
    (
        "Error",
        {"uuid": "87432dfb-2e47-4532-a1b7-4b113d48867d", "code": "GATEWAY_FAULT", "messages": ["x"]},
        "gateway code",
    ),
    (
        "Error",
        {"uuid": "87432dfb-2e47-4532-a1b7-4b113d48867d", "code": "NOT_FOUND", "messages": []},
        "no messages",
    ),
    ("AddressIdentifier", {"id": "100000000002", "type": "POSTCODE"}, "unknown address type"),
    ("ServiceOrderRequest", {**_PROVIDE, "colour": "red"}, "unknown provide field"),
    ("ServiceOrderRequest", {**_PROVIDE, "orderType": "UPGRADE"}, "unknown order type"),
    (
        "ServiceOrderRequest",
        {k: v for k, v in _PROVIDE.items() if k != "primaryContact"},
        "no primary contact",
    ),
    (
        "ServiceOrderRequest",
        {k: v for k, v in _PROVIDE.items() if k != "requestedCompletionDate"},
        "NEW without appointment or date",
    ),
    (
        "ServiceOrderRequest",
        {**_PROVIDE, "orderType": "TAKEOVER"},
        "TAKEOVER without ONT_REFERENCE/ONT_PORT or LINE_ID",
    ),
    ("ServiceOrderRequest", {**_PROVIDE, "orderType": "SWAP"}, "SWAP without SERVICE_ID"),
    ("ServiceOrderRequest", {**_PROVIDE, "requestedCompletionDate": "20/07/2026"}, "not a date"),
    ("ServiceOrderRequest", {**_PROVIDE, "id": 0}, "gateway id below 1"),
    (
        "ServiceOrderRequest",
        {"id": 7, "orderType": "CEASE", "tenant": "TENANT1", "serviceId": "S1"},
        "cease without date",
    ),
    (
        "ServiceOrderRequest",
        {"id": 7, "orderType": "MODIFY", "tenant": "TENANT1", "serviceId": "S1"},
        "modify without serviceOrderItem",
    ),
    (
        "ServiceOrder",
        {
            "id": 1,
            "orderType": "CEASE",
            "tenant": "T",
            "supplierOrderReference": "R",
            "status": "IN_PROGRESS",
            "serviceId": "S1",
        },
        "IN_PROGRESS without dates",
    ),
    (
        "ServiceOrder",
        {
            "id": 1,
            "orderType": "CEASE",
            "tenant": "T",
            "supplierOrderReference": "R",
            "status": "COMPLETED",
            "serviceId": "S1",
        },
        "201 with a final status",
    ),
    (
        "ServiceAvailability",
        {**_AVAILABLE, "unavailabilityReasons": [{"code": "NO_COVERAGE", "text": "x"}]},
        "reasons with services",
    ),
    ("ServiceAvailability", {**_AVAILABLE, "serviceSpecifications": []}, "nothing available but no reasons"),
    (
        "ServiceAvailability",
        {k: v for k, v in _AVAILABLE.items() if k != "siteInformation"},
        "no siteInformation",
    ),
    ("OntPort", {"portNumber": 0}, "port number below 1"),
    (
        "Timeslot",
        {"timeslotStartDateTime": "2026-07-14T13:00:00", "timeslotEndDateTime": "2026-07-14T18:00:00+01:00"},
        "timestamp without offset",
    ),
    ("ServiceOrderAmendmentRequest", {"id": 1, "orderId": 2}, "amendment without a change"),
    (
        "ServiceOrderCancellationRequest",
        {"id": 1, "orderId": 2, "reasonCode": "BORED"},
        "unknown cancellation reason",
    ),
    (
        "ServiceProblemRequest",
        {
            "id": 1,
            "problemType": "OUTAGE",
            "problemText": "short",
            "serviceId": "S1",
            "serviceSpecification": {"id": "FTTP"},
        },
        "problem text too short",
    ),
]


@pytest.mark.parametrize(
    ("schema", "instance"),
    [pytest.param(schema, instance, id=f"{schema}: {label}") for schema, instance, label in SUPPLIER_INVALID],
)
def test_supplier_schemas_reject_invalid_instances(schema: str, instance: Any) -> None:
    assert schema_errors(SUPPLIER_API, f"/components/schemas/{schema}", instance)


def test_supplier_valid_instance_controls() -> None:
    """The bases of the negative cases are themselves valid, so each negative case tests one thing."""
    assert not schema_errors(SUPPLIER_API, "/components/schemas/ServiceOrderRequest", _PROVIDE)
    assert not schema_errors(SUPPLIER_API, "/components/schemas/ServiceAvailability", _AVAILABLE)


# --------------------------------------------------------------------------------------------
# Supplier Updates API specifics

REASON_CODES = {
    "CREATED",
    "ACKNOWLEDGED",
    "COMMITTED",
    "UPDATE",
    "ADDITIONAL",
    "WARNING",
    "DELAY",
    "RESUMED",
    "INFORMATION_REQUIRED",
    "REAPPOINT",
    "REAPPOINTED",
    "RESUBMIT",
    "AMENDED",
    "AMENDMENT_REJECTED",
    "CANCELLED",
    "CANCELLATION_REJECTED",
    "ORDER_REJECTED",
    "COMPLETED",
}


def test_updates_api_metadata() -> None:
    document = _load(UPDATES_API)
    assert document["info"]["version"] == "1.8"
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert {"bearerAuth": []} in document["security"]
    assert set(document["components"]["schemas"]["ReasonCode"]["enum"]) == REASON_CODES
    assert len(set(document["components"]["schemas"]["ProblemCode"]["enum"])) == 28
    supplier_problem_codes = _load(SUPPLIER_API)["components"]["schemas"]["ProblemCode"]["enum"]
    assert document["components"]["schemas"]["ProblemCode"]["enum"] == supplier_problem_codes


def test_updates_api_declares_exactly_the_expected_operations() -> None:
    found = {(path, method) for path, method, _ in operations(_load(UPDATES_API))}
    assert found == set(UPDATES_STATUSES)


def test_kcis_headers() -> None:
    document = _load(UPDATES_API)
    headers = {
        p["name"].lower(): p for p in operation_parameters(document, "/kcis", "post") if p["in"] == "header"
    }
    assert headers["x-request-id"].get("required") is True
    assert "x-conversation-id" in headers
    assert headers["x-conversation-id"].get("required", False) is False


def test_kcis_is_bearer_protected_and_token_endpoint_is_not() -> None:
    document = _load(UPDATES_API)
    kcis = document["paths"]["/kcis"]["post"]
    effective = kcis.get("security", document["security"])
    assert {} not in effective, "POST /kcis must not allow anonymous calls"
    token = document["paths"]["/auth/supplier/access-token"]["post"]
    assert {} in token["security"]
    assert "application/x-www-form-urlencoded" in token["requestBody"]["content"]


def test_kci_examples_cover_every_reason_code() -> None:
    media = _load(UPDATES_API)["paths"]["/kcis"]["post"]["requestBody"]["content"]["application/json"]
    examples = media["examples"]
    assert set(examples) == REASON_CODES
    for name, example in examples.items():
        assert example["value"]["reasonCode"] == name, f"example {name} has another reasonCode"


def test_kci_example_entities_match_one_branch() -> None:
    """Every KCI example names exactly one order entity (oneOf must be unambiguous)."""
    media = _load(UPDATES_API)["paths"]["/kcis"]["post"]["requestBody"]["content"]["application/json"]
    keys = {"provideServiceOrder", "modifyServiceOrder", "ceaseServiceOrder"}
    for name, example in media["examples"].items():
        assert len(keys & set(example["value"])) == 1, name


@pytest.mark.parametrize(
    ("branch", "entity"),
    [
        ("ProvideOrderKci", "provideServiceOrder"),
        ("ModifyOrderKci", "modifyServiceOrder"),
        ("CeaseOrderKci", "ceaseServiceOrder"),
    ],
)
def test_kci_branches_allow_the_envelope_and_their_own_entity_only(branch: str, entity: str) -> None:
    schemas = _load(UPDATES_API)["components"]["schemas"]
    envelope = set(schemas["KciEnvelope"]["properties"])
    schema = schemas[branch]
    assert schema["allOf"] == [{"$ref": "#/components/schemas/KciEnvelope"}]
    assert schema["required"] == [entity]
    assert set(schema["propertyNames"]["enum"]) == envelope | {entity}
    assert {"$ref": f"#/components/schemas/{branch}"} in schemas["Kci"]["oneOf"]


def _kci(reason: str, entity_key: str = "provideServiceOrder", **entity: Any) -> dict[str, Any]:
    return {
        "id": "5f0e8a7c-1b2d-4c3e-9f4a-0000000000ff",
        "sequenceNumber": 2,
        "issuedOn": "2026-07-02T10:15:22.044Z",
        "reasonCode": reason,
        entity_key: {"id": 1001, "supplierOrderReference": "SO-000001001", **entity},
    }


_KCI_DATES = {"committedDate": "2026-07-14T08:00:00+01:00", "targetDate": "2026-07-14T08:00:00+01:00"}

UPDATES_INVALID = [
    ("COMMITTED without dates", _kci("COMMITTED", status="IN_PROGRESS")),
    ("COMMITTED with only committedDate", _kci("COMMITTED", committedDate=_KCI_DATES["committedDate"])),
    ("COMMITTED with status HELD", _kci("COMMITTED", status="HELD", **_KCI_DATES)),
    ("DELAY without problemCode", _kci("DELAY", status="HELD")),
    ("WARNING without problemCode", _kci("WARNING")),
    ("REAPPOINT without problemCode", _kci("REAPPOINT", status="PENDING")),
    ("CANCELLED without problemCode", _kci("CANCELLED", status="CANCELLED")),
    ("INFORMATION_REQUIRED without text", _kci("INFORMATION_REQUIRED", status="PENDING")),
    ("ORDER_REJECTED without text", _kci("ORDER_REJECTED", status="REJECTED")),
    ("RESUBMIT without text", _kci("RESUBMIT")),
    ("AMENDED without amendment id", _kci("AMENDED")),
    ("AMENDMENT_REJECTED without amendment id", {**_kci("AMENDMENT_REJECTED"), "text": "no"}),
    ("CANCELLATION_REJECTED without cancellation id", {**_kci("CANCELLATION_REJECTED"), "text": "no"}),
    ("COMPLETED without completedDate", _kci("COMPLETED", status="COMPLETED")),
    ("REAPPOINTED without new appointment", _kci("REAPPOINTED", targetDate="2026-07-17T13:00:00+01:00")),
    (
        "ACKNOWLEDGED without supplier reference",
        {**_kci("ACKNOWLEDGED"), "provideServiceOrder": {"id": 1001, "status": "ACKNOWLEDGED"}},
    ),
    ("CREATED on a provide order", _kci("CREATED", status="ACKNOWLEDGED")),
    (
        "CREATED cease that is not unsolicited",
        _kci("CREATED", "ceaseServiceOrder", orderType="CEASE", serviceId="S1", status="ACKNOWLEDGED"),
    ),
    ("entity without id or reference", {**_kci("UPDATE"), "provideServiceOrder": {"status": "IN_PROGRESS"}}),
    ("two entities", {**_kci("UPDATE"), "ceaseServiceOrder": {"id": 1004}}),
    ("no entity", {k: v for k, v in _kci("UPDATE").items() if k != "provideServiceOrder"}),
    ("unknown envelope field", {**_kci("UPDATE"), "reason_code": "UPDATE"}),
    ("unknown reason code", _kci("TERMINATED")),
    ("gateway-only status", _kci("UPDATE", status="SENT_TO_SUPPLIER")),
    ("modify entity with provide order type", _kci("UPDATE", "modifyServiceOrder", orderType="NEW")),
    ("sequence number 0", {**_kci("UPDATE"), "sequenceNumber": 0}),
    ("KCI id not a UUID", {**_kci("UPDATE"), "id": "kci-1"}),
    ("supplierCode too long", {**_kci("UPDATE"), "supplierCode": "X" * 51}),
]


@pytest.mark.parametrize(
    "instance", [pytest.param(instance, id=label) for label, instance in UPDATES_INVALID]
)
def test_kci_schema_rejects_invalid_kcis(instance: dict[str, Any]) -> None:
    assert schema_errors(UPDATES_API, "/components/schemas/Kci", instance)


@pytest.mark.parametrize(
    "instance",
    [
        pytest.param(_kci("UPDATE"), id="UPDATE"),
        pytest.param(_kci("COMMITTED", status="IN_PROGRESS", **_KCI_DATES), id="COMMITTED"),
        pytest.param(
            _kci(
                "COMPLETED", "ceaseServiceOrder", orderType="CEASE", completedDate="2026-07-31T16:30:00+01:00"
            ),
            id="COMPLETED cease",
        ),
    ],
)
def test_kci_schema_accepts_valid_controls(instance: dict[str, Any]) -> None:
    assert not schema_errors(UPDATES_API, "/components/schemas/Kci", instance)


def test_token_schemas() -> None:
    schemas = _load(UPDATES_API)["components"]["schemas"]
    assert schemas["TokenRequest"]["properties"]["grant_type"]["enum"] == ["client_credentials"]
    assert set(schemas["TokenError"]["properties"]["error"]["enum"]) == {
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
    }
    ok = {"access_token": "t", "expires_in": 3600, "token_type": "Bearer"}
    assert not schema_errors(UPDATES_API, "/components/schemas/TokenResponse", ok)
    assert not schema_errors(UPDATES_API, "/components/schemas/TokenResponse", {**ok, "expires_in": "3600"})
    assert schema_errors(UPDATES_API, "/components/schemas/TokenResponse", {**ok, "expires_in": "soon"})
    assert schema_errors(UPDATES_API, "/components/schemas/TokenRequest", {"grant_type": "password"})


@pytest.mark.parametrize("name", DOCUMENTS)
def test_schemathesis_loads_every_operation(name: str) -> None:
    schemathesis = pytest.importorskip("schemathesis")
    loaded = schemathesis.openapi.from_path(str(OPENAPI_DIR / name))
    labels = [result.ok().label for result in loaded.get_all_operations()]
    expected = {SUPPLIER_API: SUPPLIER_STATUSES, UPDATES_API: UPDATES_STATUSES, AUTH_API: AUTH_STATUSES}[name]
    assert sorted(labels) == sorted(f"{method.upper()} {path}" for path, method in expected)
