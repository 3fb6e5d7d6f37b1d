"""JSON Schema validators for the contract's schemas (Draft 2020-12, formats checked).

The OpenAPI document is registered whole with a ``referencing`` registry, so a
schema's ``$ref`` into the rest of the document resolves as it does in the document.
A schema is named by its component (:func:`validator_for`) or by a JSON pointer to any
schema in the document, e.g. a query parameter's or a request body's (:func:`validator_at`).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from contracts import SUPPLIER_API, SUPPLIER_UPDATES_API, load_document

__all__ = [
    "SUPPLIER_API",
    "SUPPLIER_UPDATES_API",
    "json_pointer",
    "problems",
    "problems_at",
    "validator_at",
    "validator_for",
]


def json_pointer(*parts: str) -> str:
    """``#/paths/~1service-orders/post``: a JSON pointer fragment with each part escaped."""
    return "#/" + "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


def _uri(document: str) -> str:
    return f"urn:fibresim:{document}"


@cache
def _registry(document: str) -> Registry[Any]:
    # One registry per document: every validator of the document resolves its $refs in it.
    registry: Registry[Any] = Registry().with_resource(
        _uri(document), DRAFT202012.create_resource(load_document(document))
    )
    return registry


@cache
def validator_at(document: str, pointer: str) -> Draft202012Validator:
    """A validator for the schema at ``pointer`` (``#/components/…``) of a bundled OpenAPI document."""
    return Draft202012Validator(
        {"$ref": f"{_uri(document)}{pointer}"},
        registry=_registry(document),
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
