"""JSON Schema validators for the contract's components (Draft 2020-12, formats checked).

The OpenAPI document is registered whole with a ``referencing`` registry, so a
component's ``$ref`` into the rest of the document resolves as it does in the document.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from contracts import SUPPLIER_API, SUPPLIER_UPDATES_API, load_document

__all__ = ["SUPPLIER_API", "SUPPLIER_UPDATES_API", "problems", "validator_for"]


@cache
def validator_for(document: str, component: str) -> Draft202012Validator:
    """A validator for ``#/components/schemas/<component>`` of a bundled OpenAPI document."""
    uri = f"urn:fibresim:{document}"
    registry: Registry[Any] = Registry().with_resource(
        uri, DRAFT202012.create_resource(load_document(document))
    )
    return Draft202012Validator(
        {"$ref": f"{uri}#/components/schemas/{component}"},
        registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def problems(document: str, component: str, instance: Any, limit: int = 5) -> list[str]:
    """Why ``instance`` is not a valid ``component``, one line per problem (empty when valid)."""
    validator = validator_for(document, component)
    found = sorted(validator.iter_errors(instance), key=lambda error: list(map(str, error.absolute_path)))
    lines = []
    for error in found[:limit]:
        where = "/".join(str(part) for part in error.absolute_path) or "(top)"
        lines.append(f"{where}: {error.message}")
    if len(found) > limit:
        lines.append(f"… and {len(found) - limit} more")
    return lines
