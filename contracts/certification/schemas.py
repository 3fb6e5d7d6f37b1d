r"""JSON Schema validators for the contract's schemas (Draft 2020-12, formats checked).

Each validator resolves ``$ref``\ s in the document's ``referencing`` registry, the one its
:func:`~contracts.operations.operation_index` holds, so a schema's ``$ref`` into the rest of
the document resolves as it does in the document.
A schema is named by its component (:func:`validator_for`) or by a JSON pointer to any
schema in the document, e.g. a query parameter's or a request body's (:func:`validator_at`).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jsonschema import Draft202012Validator

from contracts import SUPPLIER_API, SUPPLIER_UPDATES_API
from contracts.operations import json_pointer, operation_index

__all__ = [
    "SUPPLIER_API",
    "SUPPLIER_UPDATES_API",
    "json_pointer",
    "problems",
    "problems_at",
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
    lines = []
    for error in found[:limit]:
        where = "/".join(str(part) for part in error.absolute_path) or "(top)"
        lines.append(f"{where}: {error.message}")
    if len(found) > limit:
        lines.append(f"… and {len(found) - limit} more")
    return lines
