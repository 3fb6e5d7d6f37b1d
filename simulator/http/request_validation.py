"""Validate inbound requests against an OpenAPI 3.1 document.

The operations, their parameters and body schemas come from the document's
:class:`~contracts.operations.OperationIndex`. Validators are compiled once per operation
when the app starts; a request then costs
one dictionary lookup plus the JSON Schema checks of its own parameters and body.
Query parameters declared with ``content: application/json`` are JSON-decoded first
(the gateway sends ``address={"id": ..., "type": "UPRN"}``); arrays declared with
``style: form, explode: false`` are split on commas.

Every problem found is reported at once, each message naming the parameter or the
body field, as a 400 ``MALFORMED_REQUEST``. The checks run on ``jsonschema-rs``: the
same JSON Schema semantics at a few hundred nanoseconds a check, which keeps
validation off the hot path's bill.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import islice
from typing import Any, TypeVar

import jsonschema_rs
from werkzeug.datastructures import Headers

from contracts.operations import Operation, OperationIndex
from simulator.domain.errors import MalformedRequest
from simulator.http.request_body import parse_json, require_json

Validator = jsonschema_rs.Draft202012Validator


Checked = tuple[Any, tuple[str, ...]]
"""A parameter's decoded value and the problems found with it (none: the value is valid)."""

#: Query and path parameter texts whose check is remembered, per parameter (a load test cycling
#: through a pool of addresses larger than this would find none remembered), and the longest one.
REMEMBERED = 16_384
REMEMBERED_LENGTH = 1024


@dataclass(frozen=True, slots=True)
class _Parameter:
    name: str
    location: str
    required: bool
    check: Callable[[str], Checked]


def _checker(name: str, location: str, validator: Validator, decode: str) -> Callable[[str], Checked]:
    def check(raw: str) -> Checked:
        try:
            value = _decode(raw, decode)
        except ValueError as undecodable:
            return None, (f"{location} {name}: {undecodable}",)
        problems = tuple(
            f"{location} {name}{'' if not invalid.instance_path else f' ({_field_name(invalid)})'}: "
            f"{_message(invalid)}"
            for invalid in islice(validator.iter_errors(value), MAX_PROBLEMS)
        )
        return value, problems

    if location == "header":
        return check  # request and conversation ids differ on every call: nothing to remember
    # Decoding and checking a query value (an address above all) is most of a GET's
    # validation, and a load test asks about the same addresses again and again: remember
    # the outcome per text. The decoded value is then shared by the requests that sent that
    # text, so handlers treat query values as read-only (they only read them).
    return remembered_per_text(check)


_T = TypeVar("_T")


def remembered_per_text(function: Callable[[str], _T]) -> Callable[[str], _T]:
    """``function``, its results remembered for up to :data:`REMEMBERED` texts of at most
    :data:`REMEMBERED_LENGTH` characters (a longer text is worked out each time: a flood of
    large unique texts cannot fill memory)."""
    remembered = lru_cache(maxsize=REMEMBERED)(function)

    def once_per_text(raw: str) -> _T:
        return remembered(raw) if len(raw) <= REMEMBERED_LENGTH else function(raw)

    return once_per_text


@dataclass(frozen=True, slots=True)
class _Operation:
    parameters: tuple[_Parameter, ...]
    body: Validator | None
    body_required: bool


@dataclass(slots=True)
class ValidRequest:
    """What a validated request carried, decoded: query values and the JSON body."""

    query: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    path: dict[str, Any] = field(default_factory=dict)


def _field_name(error: Any) -> str:
    path = "/".join(str(p) for p in error.instance_path)
    return path or "(whole value)"


MAX_PROBLEMS = 20
"""Problems named per request: a body of a million wrong items gets a sample, not a million lines."""


def _message(error: Any) -> str:
    # jsonschema-rs quotes the offending value whole; keep its head and the verdict at the end.
    message: str = error.message
    if len(message) > 200:
        message = f"{message[:80]}…{message[-80:]}"
    # A oneOf/anyOf verdict names no field: name those its alternatives tripped on.
    context = getattr(error.kind, "context", None) or []
    fields = sorted({_field_name(sub) for group in context for sub in group if sub.instance_path})
    if fields:
        message += f" (look at {', '.join(fields[:8])})"
    return message


class RequestValidator:
    """Checks requests for every operation of one OpenAPI document, as its operation index lists them."""

    def __init__(self, index: OperationIndex) -> None:
        document = index.document
        # Every $ref in the document is local ("#/components/..."), so a root that carries
        # the paths and components lets each compiled validator resolve them by itself.
        self._root = {"paths": document.get("paths", {}), "components": document.get("components", {})}
        self._operations = {operation.key: self._compile(operation) for operation in index}

    def _validator(self, pointer: str) -> Validator:
        return Validator({**self._root, "$ref": pointer}, validate_formats=True)

    def _compile(self, operation: Operation) -> _Operation:
        parameters = tuple(
            _Parameter(
                name=parameter.name,
                location=parameter.location,
                required=parameter.required,
                check=_checker(
                    parameter.name,
                    parameter.location,
                    self._validator(parameter.schema_pointer),
                    "json" if parameter.json_encoded else _decoding(parameter.schema),
                ),
            )
            for parameter in operation.parameters
        )
        body = None if operation.body_schema is None else self._validator(operation.body_schema)
        return _Operation(parameters, body, operation.body_required)

    def validate(
        self,
        method: str,
        path: str,
        query: Mapping[str, str],
        headers: Mapping[str, str] | Headers,
        body: bytes | None = None,
        path_args: Mapping[str, str] | None = None,
    ) -> ValidRequest:
        """Check one request for the operation ``(method, path)`` of the document.

        ``path`` is the document's path template (``/service-orders``), not the URL;
        ``path_args`` are the values of its ``{placeholders}``.
        """
        operation = self._operations[(method.upper(), path)]
        problems: list[str] = []
        result = ValidRequest()
        for parameter in operation.parameters:
            raw = _source(parameter.location, query, headers, path_args).get(parameter.name)
            if raw is None:
                if parameter.required:
                    problems.append(f"{parameter.location} {parameter.name} is required")
                continue
            value, found = parameter.check(raw)
            if found:
                problems.extend(found)
            else:
                _destination(result, parameter.location)[parameter.name] = value
        if operation.body is not None:
            result.body = self._body(operation, body, headers.get("Content-Type"), problems)
        if problems:
            if len(problems) > MAX_PROBLEMS:
                problems[MAX_PROBLEMS:] = [f"… and {len(problems) - MAX_PROBLEMS} more problems"]
            raise MalformedRequest(*problems)
        return result

    @staticmethod
    def _body(
        operation: _Operation, body: bytes | None, content_type: str | None, problems: list[str]
    ) -> Any:
        if not body:
            if operation.body_required:
                problems.append("a JSON request body is required")
            return None
        require_json(content_type)  # 415, not one problem among others: nothing else applies
        try:
            document = parse_json(body)
        except MalformedRequest as error:
            problems.extend(error.messages)
            return None
        assert operation.body is not None
        problems.extend(
            f"body {_field_name(invalid)}: {_message(invalid)}"
            for invalid in islice(operation.body.iter_errors(document), MAX_PROBLEMS)
        )
        return document


def _source(
    location: str,
    query: Mapping[str, str],
    headers: Mapping[str, str] | Headers,
    path_args: Mapping[str, str] | None,
) -> Mapping[str, str] | Headers:
    if location == "header":
        return headers
    if location == "path":
        return path_args or {}
    return query


def _destination(result: ValidRequest, location: str) -> dict[str, Any]:
    if location == "header":
        return result.headers
    return result.path if location == "path" else result.query


def _decoding(schema: Mapping[str, Any]) -> str:
    kind = schema.get("type")
    if kind == "array":
        return "csv"
    if kind in {"integer", "number", "boolean"}:
        return str(kind)
    return "plain"


def _decode(raw: str, how: str) -> Any:
    if how == "json":
        try:
            return parse_json(raw.encode("utf-8", "surrogatepass"))
        except MalformedRequest as error:
            why = error.messages[0]
            if "not valid JSON" in why or "not UTF-8" in why:
                raise ValueError(f"{raw[:60]!r} is not JSON") from None
            raise ValueError(f"{raw[:60]!r}: {why.replace('the request body', 'the value')}") from None
    if how == "csv":
        return [item for item in raw.split(",") if item]
    if how == "integer":
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"{raw[:60]!r} is not an integer") from None
    if how == "number":
        try:
            return float(raw)
        except ValueError:
            raise ValueError(f"{raw[:60]!r} is not a number") from None
    if how == "boolean":
        if raw not in {"true", "false"}:
            raise ValueError(f"{raw[:60]!r} is not true or false")
        return raw == "true"
    return raw
