"""Layer 1: generated requests against each operation, responses checked against the contract.

Each operation of ``supplier-api.yaml`` is one rule (``CON-GET-/service-availability``).
Its check runs schemathesis' engine against the target's base URL for that operation
alone: the coverage phase (boundary values, missing required headers) and a bounded
fuzzing phase (``--max-examples``), seeded with the run's seed. The checks are: no server
error, documented status codes, documented content types, response bodies valid against
the response schema, missing required headers rejected, and schema-valid requests
accepted (2xx, or 401/403/404/422: a valid request may still break a business rule).

Decisions:

* The document declares OpenAPI links for the order flow (a reservation's 201 -> a provide
  order booking it -> an amendment or a cancellation of that order). The per-operation
  rules run each operation on its own; one more rule, ``CON-FLOWS``, runs only schemathesis'
  stateful phase, which follows those links as transitions, so generated sequences reach
  orders booked on real reservations and amendments and cancellations of real orders. Its
  checks are the response checks (no server error, documented statuses, content types and
  bodies); a schema-valid step may still break a business rule in a sequence, so
  acceptance of valid data is left to the per-operation rules.
* The examples phase is off: schemathesis 4 JSON-encodes a generated
  ``content: application/json`` query parameter twice there (the documents' examples are
  checked by the project's own tests).
* A ``414 URI Too Long`` or ``431 Request Header Fields Too Large`` is the target's HTTP
  server refusing an oversized generated request before the API sees it; it is noted in
  the evidence, not counted as a contract finding.
* Positive cases carry the run's tenant in ``Tenant``, so a supplier that only knows its
  onboarded tenants still gets requests it can serve.
* The gateway test-stub headers (``X-Scenario``, ``X-Problem-Code``, ``X-Kci-Delay``) are
  left out of the generated requests: they select behaviours of the gateway's (and
  fibresim's) stub suppliers and are no part of what a supplier must implement.
* Requests with methods an operation does not declare are not generated: whether a
  supplier answers them 405 is outside the contract.
* A response-schema finding that breaks only a decision our contract makes beyond the
  reference (a schema marked ``x-fibresim-decision``, e.g. the ``unavailabilityReasons``
  item shape the reference leaves undocumented) is an advisory failure: it never fails
  certification by itself, only with ``--strict``. A finding also breaking anything else
  fails the rule. Each finding names the JSON pointer of the failing value and the schema
  rule (keyword and expected value).
* A request missing a required header must be refused with 400 (reference §2.2 and §2.3:
  400 MALFORMED_REQUEST), not 403 or 422.
"""

from __future__ import annotations

import contextlib
import copy
from collections import Counter
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any
from urllib.parse import unquote

from contracts import SUPPLIER_API
from contracts.certification.errors import (
    AdvisoryViolation,
    RuleViolation,
    SetupError,
    TargetError,
    ToolError,
)
from contracts.certification.evidence import Evidence, Exchange
from contracts.certification.rules import Capability, Layer, Rule, register
from contracts.certification.schemas import instance_pointer, rule_of
from contracts.certification.target import Target
from contracts.operations import operation_index

__all__ = ["certifiable_document", "contract_rule_id", "run_operation"]

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "missing_required_header",
    "positive_data_acceptance",
)
FLOW_CHECKS = CHECKS[:4]  # the response checks
FLOW_STEPS = 6
FLOWS_RULE_ID = "CON-FLOWS"
_CONSTANTS_CACHE_SIZE = 1024
DECISION_MARKS = frozenset({"x-fibresim-decision", "x-fibresim-decisions"})
"""Schema extensions marking a decision of our contract beyond the reference."""
TRANSPORT_LIMIT_STATUSES = frozenset({414, 431})
MAX_FAILING_EXCHANGES = 3
MAX_MESSAGES = 3
"""Distinct messages listed per failing check (the rest are counted)."""
MAX_MESSAGE = 240

TEST_STUB_PARAMETERS = frozenset({"XScenario", "XProblemCode", "XKciDelay"})


@cache
def certifiable_document() -> dict[str, Any]:
    """The Supplier API document without the gateway test-stub headers (see the module docstring)."""
    index = operation_index(SUPPLIER_API)
    document = copy.deepcopy(dict(index.document))
    for operation in index:
        declared = document["paths"][operation.path][operation.method.lower()]
        declared["parameters"] = [
            parameter
            for parameter in declared.get("parameters", [])
            if parameter.get("$ref", "").rsplit("/", 1)[-1] not in TEST_STUB_PARAMETERS
        ]
    return document


def contract_rule_id(method: str, path: str) -> str:
    """``CON-GET-/service-availability``."""
    return f"CON-{method.upper()}-{path}"


def _config(target: Target, *, flows: bool = False) -> Any:
    """schemathesis' settings: one operation's phases, or (``flows``) the stateful phase alone."""
    from schemathesis.config import SchemathesisConfig

    checks: dict[str, Any] = {"enabled": False}
    for name in FLOW_CHECKS if flows else CHECKS:
        checks[name] = {"enabled": True}
    if not flows:
        checks["positive_data_acceptance"]["expected-statuses"] = ["2xx", "401", "403", "404", "422"]
        # A missing required gateway header is a malformed request: 400 (reference §2.2, §2.3),
        # not schemathesis' default of any 4xx (406 or 422 would let a wrong answer through).
        checks["missing_required_header"]["expected-statuses"] = ["400"]
    phases: dict[str, Any] = {
        "examples": {"enabled": False},
        "coverage": {"enabled": not flows, "unexpected-methods": []},
        "fuzzing": {"enabled": not flows},
        # Only the document's own links: inferred ones would chain calls the contract does not.
        "stateful": {"enabled": flows, "max-steps": FLOW_STEPS, "inference": {"algorithms": []}},
    }
    return SchemathesisConfig.from_dict(
        {
            "base-url": target.base_url,
            "seed": target.settings.seed,
            "cache": {"enabled": False},
            "headers": target.auth_headers(),
            "request-timeout": int(max(1, target.settings.timeout)),
            "generation": {
                "max-examples": target.settings.max_examples,
                "no-shrink": True,
                "database": "none",
            },
            "phases": phases,
            "checks": checks,
        }
    )


def _exchange(interaction: Any, note: str) -> Exchange:
    request, response = interaction.request, interaction.response
    headers = [(name, values[0]) for name, values in request.headers.items()]
    if response is None:
        return Exchange.create(
            request.method, request.uri, request_headers=headers, request_body=request.body or b""
        )
    return Exchange.create(
        request.method,
        request.uri,
        request_headers=headers,
        request_body=request.body or b"",
        status=response.status_code,
        response_headers=[(name, values[0]) for name, values in response.headers.items()],
        response_body=response.content or b"",
        seconds=response.elapsed,
        note=note,
    )


def failure_message(failure: Any) -> str:
    """A finding in one line; a response-schema one says where and which rule, as the validators do.

    ``/serviceSpecifications/0/id: 'x' is not one of ['FTTP'] (enum)``: the JSON pointer of the
    failing value in the response body, what is wrong, and the schema keyword with its expected value.
    """
    schema_path = getattr(failure, "schema_path", None)
    instance_path = getattr(failure, "instance_path", None)
    if schema_path is None or instance_path is None:
        message = str(getattr(failure, "message", "") or "")
        return message.splitlines()[0] if message else ""
    # The validator's own words, before schemathesis shortens them for its console.
    raw = getattr(failure, "_raw_message", None) or failure.validation_message or ""
    lines = str(raw).splitlines() or [""]
    text = lines[0] if len(lines[0]) <= MAX_MESSAGE else lines[0][: MAX_MESSAGE - 1] + "…"
    keyword = schema_path[-1] if schema_path else None
    expected = failure.schema.get(keyword) if isinstance(keyword, str) else None
    return f"{instance_pointer(instance_path)}: {text} {rule_of(keyword, expected, text)}".rstrip()


def _marked(schema: Any) -> bool:
    return isinstance(schema, dict) and any(key in DECISION_MARKS for key in schema)


def _resolve(root: Any, reference: str) -> Any:
    if not reference.startswith("#"):
        return None
    node = root
    for raw in reference.removeprefix("#").strip("/").split("/") if reference.strip("#/") else []:
        part = unquote(raw).replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def beyond_reference(failure: Any) -> bool:
    """Whether a response-schema finding breaks only a decision our contract makes beyond the reference.

    It does when the schema rule it broke sits in (or under) a schema marked ``x-fibresim-decision``
    (or ``-decisions``): the failing keyword's schema path is walked from the response schema,
    following ``$ref``, and any marked schema on the way makes the finding a decision's.
    """
    schema_path = getattr(failure, "schema_path", None)
    root = getattr(failure, "_root_schema", None)
    if not schema_path or not isinstance(root, dict):
        return False
    node: Any = root
    for part in schema_path:
        if _marked(node):
            return True
        if isinstance(node, dict) and part == "$ref" and isinstance(node.get("$ref"), str):
            node = _resolve(root, node["$ref"])
        elif isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            return False
        if isinstance(node, str) and part == "$ref":
            node = _resolve(root, node)
    return _marked(node)


class _Outcome:
    """What one engine run found, gathered from its events."""

    def __init__(self) -> None:
        self.cases = Counter[str]()
        self.statuses = Counter[int]()
        self.failures: dict[tuple[str, str], list[tuple[str, bool]]] = {}
        """(check, title) -> distinct (message, only a decision beyond the reference)."""
        self.failing: list[Exchange] = []
        self.tool_errors: list[str] = []
        self.unreachable: str | None = None

    def scenario(self, phase: str, recorder: Any) -> None:
        self.cases[phase] += len(recorder.cases)
        for interaction in recorder.interactions.values():
            if interaction.response is not None:
                self.statuses[interaction.response.status_code] += 1
        for case_id, nodes in recorder.checks.items():
            failed = [node for node in nodes if node.failure_info is not None]
            for node in failed:
                failure = node.failure_info.failure
                found = self.failures.setdefault((node.name, failure.title), [])
                finding = (failure_message(failure), beyond_reference(failure))
                if finding not in found:
                    found.append(finding)
            interaction = recorder.interactions.get(case_id)
            if failed and interaction is not None and len(self.failing) < MAX_FAILING_EXCHANGES:
                names = ", ".join(sorted({node.name for node in failed}))
                self.failing.append(_exchange(interaction, f"{phase}: {names}"))

    def error(self, label: str, title: str, value: BaseException) -> None:
        import requests

        if isinstance(value, requests.RequestException):
            self.unreachable = f"{label}: {type(value).__name__}: {value}"
        else:
            self.tool_errors.append(f"{label}: {title}: {value}")


def run_operation(target: Target, method: str, path: str) -> Evidence:
    """Run the contract checks for one operation; raise RuleViolation listing what failed."""
    return _run_schemathesis(target, lambda schema: schema.include(method=method.upper(), path=path))


def run_flows(target: Target) -> Evidence:
    """Run the stateful phase over the order flow's links; raise RuleViolation listing what failed."""
    return _run_schemathesis(target, lambda schema: schema.include(path=FLOW_PATHS), flows=True)


def _run_schemathesis(target: Target, narrow: Callable[[Any], Any], *, flows: bool = False) -> Evidence:
    try:
        import schemathesis
        from schemathesis.engine import events, from_schema
        from schemathesis.generation import GenerationMode
    except ImportError as error:  # pragma: no cover - schemathesis is a declared dependency
        raise SetupError(f"the contract layer needs schemathesis: {error}") from None

    loaded = schemathesis.openapi.from_dict(certifiable_document(), config=_config(target, flows=flows))
    schema = narrow(loaded)
    oversized: list[int] = []

    def map_case(_context: Any, case: Any) -> Any:
        meta = case.meta
        positive = meta is not None and meta.generation.mode == GenerationMode.POSITIVE
        if positive and target.tenant and case.headers is not None and "Tenant" in case.headers:
            case.headers["Tenant"] = target.tenant
        return case

    def filter_failure(_context: Any, _failure: Any, _case: Any, response: Any) -> bool:
        if response.status_code in TRANSPORT_LIMIT_STATUSES:
            oversized.append(response.status_code)
            return False
        return True

    schema.hook(map_case)
    schema.hook(filter_failure)
    outcome = _Outcome()
    with _no_local_constants():
        for event in from_schema(schema).execute():
            if isinstance(event, events.ScenarioFinished):
                outcome.scenario(event.phase.value, event.recorder)
            elif isinstance(event, events.NonFatalError):
                outcome.error(event.label, event.info.title, event.value)
            elif isinstance(event, events.FatalError):
                outcome.tool_errors.append(f"{type(event.exception).__name__}: {event.exception}")
    return _verdict(target, outcome, oversized)


@contextlib.contextmanager
def _no_local_constants() -> Iterator[None]:
    """Generate without Hypothesis' "local constants" (literals read from the loaded project code).

    Hypothesis mixes literals from the modules loaded so far into generated strings and numbers,
    so what a run sends would depend on which of the suite's (or a test runner's) modules happen
    to be imported: the same ``--seed`` would not give the same requests. The supplier is not
    our code, so its literals have nothing to find there. Left as is if Hypothesis changes.
    """
    try:
        from hypothesis.internal.conjecture import providers
    except ImportError:  # pragma: no cover - hypothesis comes with schemathesis
        yield
        return
    original = getattr(providers, "_get_local_constants", None)
    cache = getattr(providers, "CONSTANTS_CACHE", None)
    empty = getattr(providers, "_local_constants", None)
    if original is None or empty is None or cache is None:  # pragma: no cover - another Hypothesis
        yield
        return
    nothing = type(empty)()  # no constants of any kind
    # The drawn constants are cached per kind, so the run gets a cache of its own.
    providers._get_local_constants = lambda: nothing
    providers.CONSTANTS_CACHE = type(cache)(_CONSTANTS_CACHE_SIZE)
    try:
        yield
    finally:
        providers._get_local_constants = original
        providers.CONSTANTS_CACHE = cache


def _verdict(target: Target, outcome: _Outcome, oversized: list[int]) -> Evidence:
    if outcome.unreachable:
        raise TargetError(outcome.unreachable)
    if outcome.tool_errors:
        raise ToolError("schemathesis could not run: " + "; ".join(outcome.tool_errors[:3]))
    for exchange in outcome.failing:
        target.record(exchange)
    cases = ", ".join(f"{phase} {count}" for phase, count in sorted(outcome.cases.items()))
    statuses = ", ".join(f"{status}: {count}" for status, count in sorted(outcome.statuses.items()))
    notes = [f"generated requests: {cases or 'none'}", f"statuses seen: {statuses or 'none'}"]
    if oversized:
        notes.append(
            f"{len(oversized)} oversized generated request(s) refused by the HTTP server with "
            f"{sorted(set(oversized))}; not counted as findings"
        )
    if outcome.failures:
        decisive = _listing(outcome.failures, beyond=False)
        beyond = _listing(outcome.failures, beyond=True)
        if not decisive:
            raise AdvisoryViolation(
                f"contract checks failed only on a decision of our contract beyond the reference "
                f"(x-fibresim-decision; counts with --strict): {beyond}",
                target.evidence(*notes),
            )
        also = f"; beyond the reference (advisory): {beyond}" if beyond else ""
        raise RuleViolation(f"contract checks failed: {decisive}{also}", target.evidence(*notes))
    return target.evidence(*notes)


def _listing(failures: dict[tuple[str, str], list[tuple[str, bool]]], *, beyond: bool) -> str:
    """The failing checks with their distinct messages, of decisions beyond the reference or not."""
    parts = []
    for (check, title), findings in sorted(failures.items()):
        chosen = [message for message, decision in findings if decision is beyond]
        if not chosen:
            continue
        shown = [message for message in chosen if message][:MAX_MESSAGES]
        more = len([m for m in chosen if m]) - len(shown)
        listed = "; ".join(shown) + (f"; … and {more} more" if more > 0 else "")
        parts.append(f"{check}: {title} ({listed})".replace(" ()", ""))
    return "; ".join(parts)


def _check_for(method: str, path: str) -> Callable[[Target], Evidence]:
    def check(target: Target) -> Evidence:
        return run_operation(target, method, path)

    check.__name__ = f"contract_{method}_{path}".replace("/", "_").replace("-", "_")
    check.__doc__ = f"schemathesis checks for {method.upper()} {path}."
    return check


def _register_operations() -> None:
    for operation in operation_index(SUPPLIER_API):
        method, path = operation.method, operation.path
        register(
            Rule(
                id=contract_rule_id(method, path),
                title=f"{method} {path} answers generated requests as the contract says",
                reference=f"supplier-api.yaml {method} {path} ({operation.operation_id})",
                layer=Layer.CONTRACT,
                # The operation's x-fibresim-capability; T2R operations are ``assurance``.
                capability=Capability(operation.capability or Capability.ASSURANCE),
                required=True,
                check=_check_for(method.lower(), path),
            )
        )


_register_operations()

FLOW_PATHS = [
    "/appointments",
    "/service-orders",
    "/service-order-amendments",
    "/service-order-cancellations",
]
"""The operations the document's links chain: reservation -> order -> amendment / cancellation."""


def _flows(target: Target) -> Evidence:
    """schemathesis' stateful phase over the links of the order flow."""
    return run_flows(target)


register(
    Rule(
        id=FLOWS_RULE_ID,
        title="generated sequences chained by the contract's links answer as the contract says",
        reference="supplier-api.yaml links: reservation -> its order -> the amendment or cancellation",
        layer=Layer.CONTRACT,
        capability=Capability.ORDERS,
        needs=frozenset({Capability.APPOINTMENTS}),
        required=True,
        check=_flows,
    )
)
