"""The operations of each bundled OpenAPI document, read once: the one index every consumer uses.

:func:`operation_index` loads a document (``supplier-api.yaml``, ``admin-api.yaml`` …) and
lists its operations by ``(METHOD, path)``, each with its ``operationId``, parameters, request
body schema and response schemas. Schemas are named by JSON pointer into the document
(``#/components/parameters/Address/content/application~1json/schema``), so a validator built
over the whole document resolves their ``$ref``\\ s as the document does; the ``$ref``\\ s of
OpenAPI objects (parameters, request bodies, responses) are followed with ``referencing``.

Two vendor extensions on an operation are read here and nowhere else:

* ``x-fibresim-implemented``: whether the simulator serves the operation (the others answer
  501); the registry of implemented operations is :meth:`OperationIndex.implemented`;
* ``x-fibresim-capability``: the certification capability the operation belongs to
  (``availability``, ``orders`` … ``assurance``).

The simulator's request validation, its fault rules' path check, the certification contract
and inbound layers and the tests all read operations from here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Any
from urllib.parse import quote

from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from contracts import load_document

__all__ = [
    "HTTP_METHODS",
    "Operation",
    "OperationIndex",
    "Parameter",
    "json_pointer",
    "operation_index",
]

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
"""The keys of an OpenAPI path item that are operations (the rest are shared fields)."""

IMPLEMENTED = "x-fibresim-implemented"
CAPABILITY = "x-fibresim-capability"


def json_pointer(*parts: str) -> str:
    """``#/paths/~1service-orders/post``: a JSON pointer fragment, each part escaped.

    Escaped twice over: ``~`` and ``/`` as JSON Pointer says, then what a URI fragment may not
    hold (``{orderKey}`` is ``%7BorderKey%7D``), so every validator library reads it the same.
    """
    return "#/" + "/".join(quote(part.replace("~", "~0").replace("/", "~1"), safe="~") for part in parts)


@dataclass(frozen=True, slots=True)
class Parameter:
    """A parameter of an operation, and where its schema is in the document."""

    name: str
    location: str
    """``query``, ``header``, ``path`` or ``cookie``."""
    required: bool
    schema_pointer: str
    """JSON pointer of the parameter's schema (its ``content`` schema for a JSON-encoded one)."""
    schema: Mapping[str, Any]
    """The schema itself, its own ``$ref`` followed (nested ones are left as they are)."""
    json_encoded: bool = False
    """Declared with ``content: application/json`` (sent as JSON text in the query string)."""


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation of a document."""

    method: str
    """Upper case: ``GET``, ``POST`` …"""
    path: str
    """The document's path template (``/service-orders``, ``/orders/{orderKey}``)."""
    operation_id: str
    parameters: tuple[Parameter, ...]
    body_schema: str | None
    """JSON pointer of the ``application/json`` request body's schema, when there is one."""
    body_required: bool
    responses: Mapping[str, str | None]
    """Status (``"201"``, ``"4XX"``, ``"default"``) -> JSON pointer of its JSON body's schema, or None."""
    implemented: bool
    capability: str | None
    body_examples: Mapping[str, Any]
    """The JSON request body's named examples (``name -> value``)."""

    @property
    def key(self) -> tuple[str, str]:
        """``("POST", "/service-orders")``."""
        return (self.method, self.path)


class OperationIndex:
    """The operations of one OpenAPI document, in the document's order."""

    def __init__(self, name: str, document: Mapping[str, Any]) -> None:
        self.name = name
        self.document = document
        self.uri = f"urn:fibresim:{name}"
        resource: Resource[Any] = DRAFT202012.create_resource(document)
        self.registry: Registry[Any] = Registry().with_resource(self.uri, resource)
        self._resolver = self.registry.resolver(base_uri=self.uri)
        operations: dict[tuple[str, str], Operation] = {}
        for path, item in document.get("paths", {}).items():
            shared = [
                (json_pointer("paths", path, "parameters", str(i)), p)
                for i, p in enumerate(item.get("parameters", []))
            ]
            for method in HTTP_METHODS:
                if method in item:
                    operation = self._operation(path, method, item[method], shared)
                    operations[operation.key] = operation
        self._operations = MappingProxyType(operations)

    def __iter__(self) -> Iterator[Operation]:
        return iter(self._operations.values())

    def __len__(self) -> int:
        return len(self._operations)

    def __contains__(self, key: object) -> bool:
        return key in self._operations

    def get(self, method: str, path: str) -> Operation:
        """The operation ``method path``; ``KeyError`` when the document has none."""
        return self._operations[(method.upper(), path)]

    def lookup(self, pointer: str) -> Any:
        """The node at ``pointer`` (``#/components/…``), as it stands (a ``$ref`` is not followed)."""
        return self._resolver.lookup(pointer).contents

    def resolve(self, pointer: str) -> Any:
        """The node at ``pointer`` (``#/components/…``), following ``$ref`` until a non-reference."""
        node = self._resolver.lookup(pointer).contents
        while isinstance(node, Mapping) and "$ref" in node:
            node = self._resolver.lookup(node["$ref"]).contents
        return node

    def paths(self) -> dict[str, frozenset[str]]:
        """Each path of the document and the methods (upper case) it offers."""
        found: dict[str, set[str]] = {}
        for operation in self:
            found.setdefault(operation.path, set()).add(operation.method)
        return {path: frozenset(methods) for path, methods in found.items()}

    def implemented(self) -> tuple[Operation, ...]:
        """The operations the simulator serves (``x-fibresim-implemented: true``)."""
        return tuple(operation for operation in self if operation.implemented)

    def capabilities(self) -> tuple[str, ...]:
        """The capabilities of the implemented operations, in the document's order."""
        return tuple(dict.fromkeys(op.capability for op in self.implemented() if op.capability))

    # --- reading one operation --------------------------------------------------------------

    def _followed(self, raw: Mapping[str, Any], pointer: str) -> tuple[Mapping[str, Any], str]:
        """An OpenAPI object and its pointer, its ``$ref`` (if any) followed."""
        while "$ref" in raw:
            pointer = str(raw["$ref"])
            raw = self._resolver.lookup(pointer).contents
        return raw, pointer

    def _parameter(self, raw: Mapping[str, Any], pointer: str) -> Parameter:
        spec, pointer = self._followed(raw, pointer)
        content = spec.get("content")
        if content:
            media = next(iter(content))
            schema_pointer = f"{pointer}/content/{json_pointer(media).removeprefix('#/')}/schema"
        else:
            media, schema_pointer = "", f"{pointer}/schema"
        return Parameter(
            name=str(spec["name"]),
            location=str(spec["in"]),
            required=bool(spec.get("required", False)),
            schema_pointer=schema_pointer,
            schema=self.resolve(schema_pointer),
            json_encoded=media.endswith("json"),
        )

    def _operation(
        self, path: str, method: str, raw: Mapping[str, Any], shared: list[tuple[str, Any]]
    ) -> Operation:
        own = [
            (json_pointer("paths", path, method, "parameters", str(i)), p)
            for i, p in enumerate(raw.get("parameters", []))
        ]
        # Path-level parameters come first; an operation's own one of the same name and place wins.
        parameters: dict[tuple[str, str], Parameter] = {}
        for pointer, declared in [*shared, *own]:
            parameter = self._parameter(declared, pointer)
            parameters[(parameter.location, parameter.name)] = parameter
        body_schema, body_required, examples = None, False, {}
        if "requestBody" in raw:
            body, body_pointer = self._followed(
                raw["requestBody"], json_pointer("paths", path, method, "requestBody")
            )
            body_required = bool(body.get("required", False))
            if "application/json" in body.get("content", {}):
                body_schema = f"{body_pointer}/content/application~1json/schema"
                named = body["content"]["application/json"].get("examples", {})
                examples = {name: example.get("value") for name, example in named.items()}
        responses: dict[str, str | None] = {}
        for status, declared in raw.get("responses", {}).items():
            response, pointer = self._followed(
                declared, json_pointer("paths", path, method, "responses", status)
            )
            has_json = "application/json" in response.get("content", {})
            responses[str(status)] = f"{pointer}/content/application~1json/schema" if has_json else None
        return Operation(
            method=method.upper(),
            path=path,
            operation_id=str(raw.get("operationId", f"{method}{path}")),
            parameters=tuple(parameters.values()),
            body_schema=body_schema,
            body_required=body_required,
            responses=MappingProxyType(responses),
            implemented=bool(raw.get(IMPLEMENTED, False)),
            capability=raw.get(CAPABILITY),
            body_examples=MappingProxyType(examples),
        )


@cache
def operation_index(name: str) -> OperationIndex:
    """The operation index of a bundled document (``SUPPLIER_API`` …), built once per process."""
    return OperationIndex(name, load_document(name))
