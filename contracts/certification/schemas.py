r"""JSON Schema validators for the contract's schemas (Draft 2020-12, formats checked).

Each validator resolves ``$ref``\ s in the document's ``referencing`` registry, the one its
:func:`~contracts.operations.operation_index` holds, so a schema's ``$ref`` into the rest of
the document resolves as it does in the document.
A schema is named by its component (:func:`validator_for`) or by a JSON pointer to any
schema in the document, e.g. a query parameter's or a request body's (:func:`validator_at`).

Every problem is said the same way (:func:`describe`): the JSON pointer of the failing
value, what is wrong with it, and the schema rule it broke with the rule's expected value::

    /serviceSpecifications/0/id: 'x' is not one of ['FTTP', 'FTTP-PRO'] (enum)
    /timeslot: 'timeslotEndDateTime' is a required property (required)
    /id: 0 is less than the minimum of 1 (minimum: 1)
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

from contracts import SUPPLIER_API, SUPPLIER_UPDATES_API
from contracts.inputs import schema_message
from contracts.operations import json_pointer, operation_index

__all__ = [
    "SUPPLIER_API",
    "SUPPLIER_UPDATES_API",
    "describe",
    "instance_pointer",
    "json_pointer",
    "problems",
    "problems_at",
    "rule_of",
    "validator_at",
    "validator_for",
]


@cache
def validator_at(document: str, pointer: str) -> Draft202012Validator:
    """A validator for the schema at ``pointer`` (``#/components/…``) of a bundled OpenAPI document."""
    index = operation_index(document)
    return Draft202012Validator(
        {"$ref": f"{index.uri}{pointer}"},
        registry=index.registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def validator_for(document: str, component: str) -> Draft202012Validator:
    """A validator for ``#/components/schemas/<component>`` of a bundled OpenAPI document."""
    return validator_at(document, json_pointer("components", "schemas", component))


def problems(document: str, component: str, instance: Any, limit: int = 5) -> list[str]:
    """Why ``instance`` is not a valid ``component``, one line per problem (empty when valid)."""
    return problems_at(document, json_pointer("components", "schemas", component), instance, limit)


def problems_at(document: str, pointer: str, instance: Any, limit: int = 5) -> list[str]:
    """Why ``instance`` is not valid against the schema at ``pointer``, one line per problem."""
    validator = validator_at(document, pointer)
    found = sorted(validator.iter_errors(instance), key=lambda error: list(map(str, error.absolute_path)))
    lines = [describe(error) for error in found[:limit]]
    if len(found) > limit:
        lines.append(f"… and {len(found) - limit} more")
    return lines


_SUBSCHEMA_KEYWORDS = frozenset(
    {"properties", "items", "not", "oneOf", "anyOf", "allOf", "if", "then", "$ref"}
)
ROOT = "(root)"
"""How :func:`instance_pointer` names the whole value (its RFC 6901 pointer is the empty string)."""
_SHOWN = 120
"""How much of an expected value a message repeats (a long ``enum`` is cut)."""


def instance_pointer(path: Iterable[Any]) -> str:
    """The JSON pointer (RFC 6901) of a value, ``/serviceSpecifications/0/id``; the whole value is (root)."""
    parts = [str(part).replace("~", "~0").replace("/", "~1") for part in path]
    return "/" + "/".join(parts) if parts else ROOT


def rule_of(keyword: Any, expected: Any, message: str) -> str:
    """``(enum)`` when ``message`` already shows the expected value, else ``(minimum: 1)``."""
    if keyword is None:
        return ""
    if keyword == "required":  # the message names the missing property
        return "(required)"
    shown = repr(expected)
    if isinstance(expected, (dict, list, bool)) and keyword in {
        "properties",
        "items",
        "not",
        "oneOf",
        "anyOf",
        "allOf",
    }:
        return f"({keyword})"
    if shown in message or (isinstance(expected, str) and expected in message):
        return f"({keyword})"
    if len(shown) > _SHOWN:
        shown = shown[: _SHOWN - 1] + "…"
    return f"({keyword}: {shown})"


def describe(error: ValidationError) -> str:
    """``/serviceSpecifications/0/id: 'x' is not one of [...] (enum)``: where, what, which rule."""
    message = schema_message(error)
    rule = rule_of(error.validator, error.validator_value, message)
    return f"{instance_pointer(error.absolute_path)}: {message} {rule}".rstrip()
