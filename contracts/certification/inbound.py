"""Gateway strict mode (GWI-…): the gateway's calls to a fibresim simulator, judged by the contract.

``fibresim certify gateway --simulator URL`` reads the simulator's request journal
(``GET URL/_admin/journal``, narrowed by ``--tenant`` and ``--since``) once per run and
checks the calls the gateway made against ``supplier-api.yaml`` and the reference: the
gateway headers (§2.2), unique request ids, the JSON-encoded query objects, the request
bodies, an order's tenant, the gateway ids (§2.4), and no call refused as malformed. A
violation lists the offending calls (journal entry, method, path, ``X-Request-ID`` and what
was wrong) as notes, and as exchanges for the HTML report.

The journal answers newest first, at most :data:`PAGE` entries a call, and has no paging
cursor. When the newest :data:`PAGE` do not reach back to the start of the window, the
newest :data:`PAGE` of each Supplier API operation are read as well, up to
:data:`MAX_ENTRIES` entries in all; every rule's evidence says what was examined.

A call answered by a fault rule the operator injected counts like any other call: clear
the fault rules first, or start the window after them with ``--since``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import parse_qs

from contracts import SUPPLIER_API
from contracts.certification.errors import RuleSkipped, RuleViolation, TargetError
from contracts.certification.evidence import Evidence, Exchange
from contracts.certification.rules import rule
from contracts.certification.schemas import ROOT, problems_at
from contracts.certification.target import JOURNAL_PATH, Target
from contracts.operations import Operation, Parameter, operation_index

__all__ = [
    "GATEWAY_ID_FIELDS",
    "MAX_ENTRIES",
    "PAGE",
    "InboundCall",
    "Journal",
    "journal",
    "operations",
]

PAGE = 1000
"""Entries per journal call: the most ``GET /_admin/journal`` gives (its ``limit`` maximum)."""
MAX_ENTRIES = 5000
"""Entries examined at most in one run, so a long-lived simulator's journal stays a bounded read."""
MAX_LISTED = 20
"""Offending calls listed per rule; the count says how many more there were."""
MAX_IN_MESSAGE = 3
GATEWAY_ID_FIELDS = ("id", "orderId", "appointmentReservationId", "serviceTestId", "serviceProblemId")
"""Body fields holding a gateway id (reference §2.4; the contract's integers from 1 to 2^53-1)."""
MAX_GATEWAY_ID = 2**53 - 1
# The simulator keeps a body over 16 KiB as text ending in this marker; its JSON cannot be judged.
_TRUNCATED = re.compile(r"…\[\d+ bytes, truncated\]$")
_JOURNALLED_HEADERS = ("X-Request-ID", "X-Conversation-ID", "Tenant")
_CACHE_KEY = "inbound.journal"


# --- the contract's operations, as far as the journal shows them ------------------------------------


def operations() -> Mapping[tuple[str, str], Operation]:
    """The Supplier API's operations by ``(METHOD, path)``, in the document's order."""
    return {operation.key: operation for operation in operation_index(SUPPLIER_API)}


def _json_queries(operation: Operation) -> tuple[Parameter, ...]:
    """The query parameters carried as JSON (``address``, ``serviceSpecification``)."""
    return tuple(p for p in operation.parameters if p.location == "query" and p.json_encoded)


def _journalled_headers(operation: Operation) -> tuple[Parameter, ...]:
    """The header parameters the journal keeps (the stub headers such as X-Scenario it does not)."""
    return tuple(p for p in operation.parameters if p.location == "header" and p.name in _JOURNALLED_HEADERS)


@cache
def _headers_off_contract() -> tuple[Parameter, ...]:
    """The headers §2.2 requires on every request, for a call to a path the contract lacks."""
    names = ("X-Request-ID", "X-Conversation-ID")
    found = {
        p.name: p
        for operation in operation_index(SUPPLIER_API)
        for p in operation.parameters
        if p.location == "header" and p.name in names
    }
    return tuple(found[name] for name in names)


# --- the journal ---------------------------------------------------------------------------------------


def _optional_text(raw: Mapping[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"{key} is {type(value).__name__}")


@dataclass(frozen=True, slots=True)
class InboundCall:
    """One journalled request of the gateway, as the simulator received and answered it."""

    id: int
    at: str
    method: str
    path: str
    query: str
    tenant: str | None
    request_id: str | None
    conversation_id: str | None
    body: Any
    status: int
    response: Any

    @classmethod
    def from_json(cls, raw: Any) -> InboundCall:
        """An entry of ``GET /_admin/journal``; anything else is a TargetError."""
        try:
            if not isinstance(raw, Mapping):
                raise TypeError("not an object")
            identity, status = raw["id"], raw["status"]
            if not (isinstance(identity, int) and isinstance(status, int)):
                raise TypeError("id and status must be integers")
            return cls(
                id=identity,
                at=str(raw.get("at", "")),
                method=str(raw["method"]).upper(),
                path=str(raw["path"]),
                query=str(raw.get("query") or ""),
                tenant=_optional_text(raw, "tenant"),
                request_id=_optional_text(raw, "requestId"),
                conversation_id=_optional_text(raw, "conversationId"),
                body=raw.get("body"),
                status=status,
                response=raw.get("response"),
            )
        except (KeyError, TypeError) as error:
            raise TargetError(
                f"GET {JOURNAL_PATH} answered something that is not a journal entry ({error}): "
                f"{str(raw)[:200]}"
            ) from None

    @property
    def operation(self) -> Operation | None:
        """The contract's operation this call was to, if any."""
        return operations().get((self.method, self.path))

    @property
    def short(self) -> str:
        """``#17 POST /service-orders``: the journal entry and the call."""
        return f"#{self.id} {self.method} {self.path}"

    @property
    def label(self) -> str:
        """``#17 POST /service-orders (X-Request-ID 6f1c…)``: how a report names the call."""
        return f"{self.short} (X-Request-ID {self.request_id or 'none'})"

    def header(self, name: str) -> str | None:
        """The value of a journalled header (``X-Request-ID``, ``X-Conversation-ID``, ``Tenant``)."""
        return {
            "X-Request-ID": self.request_id,
            "X-Conversation-ID": self.conversation_id,
            "Tenant": self.tenant,
        }.get(name)

    def exchange(self, simulator_url: str, note: str) -> Exchange:
        """The call as an exchange for a report (the journal keeps no other headers, no credentials)."""
        headers = [(name, value) for name in _JOURNALLED_HEADERS if (value := self.header(name)) is not None]
        return Exchange.create(
            self.method,
            f"{simulator_url}{self.path}" + (f"?{self.query}" if self.query else ""),
            request_headers=headers,
            request_body=_as_text(self.body),
            status=self.status or None,  # 0: a fault rule dropped the connection
            response_body=_as_text(self.response),
            note=note,
        )


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class Journal:
    """The calls read from the simulator's journal for this run, oldest first, and what was read."""

    calls: tuple[InboundCall, ...]
    where: str
    """``http://sim/_admin/journal (Tenant TENANT1, since …)``: the journal and its filters."""
    scope: str
    """One sentence on what was examined, for every rule's evidence."""


def _window(target: Target) -> tuple[dict[str, str], str]:
    settings = target.settings
    filters: dict[str, str] = {}
    said = []
    if settings.tenant:
        filters["tenant"] = settings.tenant
        said.append(f"Tenant {settings.tenant}")
    if settings.since is not None:
        filters["since"] = settings.since.isoformat()
        said.append(f"since {filters['since']}")
    where = f"{target.simulator_url}{JOURNAL_PATH}" + (f" ({', '.join(said)})" if said else "")
    return filters, where


def _page(target: Target, filters: Mapping[str, str], limit: int) -> list[InboundCall]:
    """The newest ``limit`` journal entries matching ``filters``."""
    answer = target.simulator_get(JOURNAL_PATH, {**filters, "limit": limit})
    where = f"GET {target.simulator_url}{JOURNAL_PATH}"
    if answer.status_code != 200:
        raise TargetError(f"{where} answered {answer.status_code}: {answer.text[:300]}")
    try:
        entries = answer.json()
    except ValueError:
        raise TargetError(f"{where} did not answer JSON: {answer.text[:200]}") from None
    if not isinstance(entries, list):
        raise TargetError(f"{where} did not answer a list of journal entries: {answer.text[:200]}")
    return [InboundCall.from_json(entry) for entry in entries]


def _read(target: Target) -> Journal:
    """The journal's calls in the run's window, at most MAX_ENTRIES (see the module docstring)."""
    filters, where = _window(target)
    newest = _page(target, filters, PAGE)
    found = {call.id: call for call in newest}
    unread: list[str] = []
    if len(newest) >= PAGE:
        # No cursor to page back with: the newest entries of each operation reach further back.
        for operation in operations().values():
            name = f"{operation.method} {operation.path}"
            room = MAX_ENTRIES - len(found)  # a page never takes the total past the bound
            if room <= 0:
                unread.append(name)
                continue
            limit = min(PAGE, room)
            page = _page(target, {**filters, "method": operation.method, "path": operation.path}, limit)
            found.update((call.id, call) for call in page)
            if len(page) >= limit:  # a full page: there may be older ones
                unread.append(name)
    calls = tuple(sorted(found.values(), key=lambda call: call.id))
    scope = f"examined {len(calls)} journalled call(s) at {where}"
    if len(newest) >= PAGE:
        older = ", ".join([*unread, "paths outside the contract"])
        scope += (
            f": the journal holds more than {PAGE} and has no paging cursor, so the newest {PAGE} and then "
            f"the newest {PAGE} of each operation were read (at most {MAX_ENTRIES}); older calls of "
            f"{older} were not examined"
        )
    return Journal(calls, where, scope)


def journal(target: Target) -> Journal:
    """The run's journal read, fetched once and shared by every inbound rule (cached on ``target``)."""
    cached = target.shared.get(_CACHE_KEY)
    if isinstance(cached, Journal):
        return cached
    if isinstance(cached, TargetError):
        raise cached  # one failed read is enough; every rule reports it without asking again
    try:
        read = _read(target)
    except TargetError as error:
        target.shared[_CACHE_KEY] = error
        raise
    target.shared[_CACHE_KEY] = read
    return read


# --- judging ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Offence:
    """One call that broke the rule, and how."""

    call: InboundCall
    problem: str

    @property
    def line(self) -> str:
        """The call and what was wrong, on one line."""
        return f"{self.call.label}: {self.problem}"


def _calls_to(target: Target, applies: Callable[[Operation], bool]) -> list[tuple[InboundCall, Operation]]:
    """The journalled calls to a contract operation for which ``applies`` holds, each with its operation."""
    return [
        (call, operation)
        for call in journal(target).calls
        if (operation := call.operation) is not None and applies(operation)
    ]


def _operation_verdict(
    target: Target,
    calls: Sequence[tuple[InboundCall, Operation]],
    problem: Callable[[InboundCall, Operation], str],
    *,
    what: str,
    broke: str,
    notes: Sequence[str] = (),
) -> Evidence:
    """:func:`_verdict` on ``calls``, each judged with its operation by ``problem`` ("" when it holds)."""
    offences = [Offence(call, found) for call, operation in calls if (found := problem(call, operation))]
    return _verdict(
        target, [call for call, _operation in calls], offences, what=what, broke=broke, notes=notes
    )


def _verdict(
    target: Target,
    checked: Sequence[InboundCall],
    offences: Iterable[Offence],
    *,
    what: str,
    broke: str,
    notes: Sequence[str] = (),
) -> Evidence:
    """Skip when nothing was checked, fail listing the offences, else the evidence of a pass."""
    read = journal(target)
    if not checked:
        raise RuleSkipped(f"the journal at {read.where} holds no {what}")
    listed = sorted(offences, key=lambda offence: offence.call.id)
    counted = [read.scope, f"{len(checked)} {what} checked", *notes]
    if not listed:
        return Evidence(notes=tuple(counted))
    shown = listed[:MAX_LISTED]
    lines = [offence.line for offence in shown]
    if len(listed) > len(shown):
        lines.append(f"… and {len(listed) - len(shown)} more")
    simulator = target.simulator_url or ""
    evidence = Evidence(
        tuple(offence.call.exchange(simulator, offence.problem) for offence in shown),
        tuple(counted + lines),
    )
    first = "; ".join(offence.line for offence in listed[:MAX_IN_MESSAGE])
    more = f"; … ({len(listed) - MAX_IN_MESSAGE} more)" if len(listed) > MAX_IN_MESSAGE else ""
    offending = len({offence.call.id for offence in listed})
    raise RuleViolation(f"{offending} of {len(checked)} {what} {broke}: {first}{more}", evidence)


def _schema_problems(pointer: str, instance: Any) -> str:
    # "(root)" only says the problem is with the whole value, which the caller names already.
    lines = [line.removeprefix(f"{ROOT}: ") for line in problems_at(SUPPLIER_API, pointer, instance, 3)]
    return "; ".join(line if len(line) <= 200 else line[:200] + "…" for line in lines)


def _discriminated(pointer: str, instance: Any) -> str:
    """The schema a ``oneOf`` body's discriminator picks (``orderType: NEW`` -> ProvideServiceOrder).

    Judged against its own branch, a body's problems are named ("primaryContact is a required
    property") instead of "not valid under any of the given schemas".
    """
    index = operation_index(SUPPLIER_API)
    schema = index.lookup(pointer)
    while isinstance(schema, Mapping) and "$ref" in schema and "discriminator" not in schema:
        schema = index.lookup(str(schema["$ref"]))
    discriminator = schema.get("discriminator") if isinstance(schema, Mapping) else None
    if not isinstance(discriminator, Mapping) or not isinstance(instance, Mapping):
        return pointer
    chosen = discriminator.get("mapping", {}).get(instance.get(discriminator.get("propertyName")))
    return str(chosen) if isinstance(chosen, str) else pointer


def _preview(text: str) -> str:
    return repr(text[:80] + ("…" if len(text) > 80 else ""))


def _header_problems(call: InboundCall) -> list[str]:
    operation = call.operation
    expected = _journalled_headers(operation) if operation is not None else _headers_off_contract()
    found = []
    for header in expected:
        value = call.header(header.name)
        if not value:
            if header.required:
                found.append(f"no {header.name}" if value is None else f"{header.name} is empty")
            continue
        wrong = _schema_problems(header.schema_pointer, value)
        if wrong:
            found.append(f"{header.name} {_preview(value)}: {wrong}")
    return found


def _query_problem(call: InboundCall, operation: Operation) -> str:
    given = parse_qs(call.query, keep_blank_values=True)
    found = []
    for parameter in _json_queries(operation):
        values = given.get(parameter.name, [])
        if not values:
            if parameter.required:
                found.append(f"query {parameter.name} is missing")
            continue
        if len(values) > 1:
            found.append(f"query {parameter.name} is given {len(values)} times")
            continue
        try:
            value = json.loads(values[0])
        except ValueError:
            found.append(f"query {parameter.name} {_preview(values[0])} is not JSON")
            continue
        wrong = _schema_problems(parameter.schema_pointer, value)
        if wrong:
            found.append(f"query {parameter.name} {_preview(values[0])}: {wrong}")
    return "; ".join(found)


def _is_truncated(body: Any) -> bool:
    return isinstance(body, str) and _TRUNCATED.search(body) is not None


def _body_problem(call: InboundCall, operation: Operation) -> str:
    body, schema = call.body, operation.body_schema
    if schema is None:
        return ""
    if body is None:
        return "no body" if operation.body_required else ""
    if isinstance(body, str):
        # The journal keeps a body that did not parse as its text (a JSON string lands here too).
        return f"the body is not a JSON object: {_preview(body)}"
    return _schema_problems(_discriminated(schema, body), body)


def _is_gateway_id(value: Any) -> bool:
    # The contract's integers: JSON Schema counts 7.0 as the integer 7, and so does this.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return float(value).is_integer() and 1 <= value <= MAX_GATEWAY_ID


def _differences(first: Mapping[str, Any], second: Mapping[str, Any]) -> str:
    keys = sorted(key for key in first.keys() | second.keys() if first.get(key) != second.get(key))
    return ", ".join(keys) if keys else "the Tenant header"


# --- the rules ----------------------------------------------------------------------------------------


@rule("GWI-001")
def calls_carry_the_gateway_headers(target: Target) -> Evidence:
    """Each header present, non-empty and valid against its parameter schema (Tenant's pattern)."""
    calls = journal(target).calls
    offences = [Offence(call, "; ".join(found)) for call in calls if (found := _header_problems(call))]
    return _verdict(
        target, calls, offences, what="calls", broke="lack a gateway header or carry one the contract refuses"
    )


@rule("GWI-002")
def request_ids_are_unique(target: Target) -> Evidence:
    """A request id seen on an earlier call is a violation (a retry is a new request, §2.2)."""
    calls = [call for call in journal(target).calls if call.request_id]
    first: dict[str, InboundCall] = {}
    offences = []
    for call in calls:
        earlier = first.setdefault(str(call.request_id), call)
        if earlier is not call:
            offences.append(Offence(call, f"X-Request-ID already sent on {earlier.short}"))
    return _verdict(
        target, calls, offences, what="calls with an X-Request-ID", broke="repeat an earlier X-Request-ID"
    )


@rule("GWI-003")
def query_objects_are_json_of_the_contract(target: Target) -> Evidence:
    """Each JSON-encoded query parameter present once (when required), parsed and schema-valid."""
    calls = _calls_to(target, lambda operation: bool(_json_queries(operation)))
    return _operation_verdict(
        target,
        calls,
        _query_problem,
        what="calls with JSON-encoded query parameters",
        broke="send a query object that is missing, not JSON or not of the contract's shape",
    )


@rule("GWI-004")
def request_bodies_are_valid(target: Target) -> Evidence:
    """Each call to an operation with a body: present when required, JSON, valid against its schema."""
    with_body = _calls_to(target, lambda operation: operation.body_schema is not None)
    calls = [(call, operation) for call, operation in with_body if not _is_truncated(call.body)]
    too_large = len(with_body) - len(calls)
    notes = [f"{too_large} body(ies) over the journal's 16 KiB not checked"] if too_large else []
    return _operation_verdict(
        target,
        calls,
        _body_problem,
        what="calls to operations with a request body",
        broke="send a body the contract refuses",
        notes=notes,
    )


@rule("GWI-005")
def an_orders_tenant_is_the_tenant_header(target: Target) -> Evidence:
    """Orders carrying both a tenant field and a Tenant header (GWI-001 and GWI-004 judge the others)."""
    checked = [
        call
        for call in journal(target).calls
        if (call.method, call.path) == ("POST", "/service-orders")
        and call.tenant
        and isinstance(call.body, Mapping)
        and isinstance(call.body.get("tenant"), str)
    ]
    offences = [
        Offence(call, f"tenant {call.body['tenant']!r} in the body, Tenant {call.tenant!r} in the header")
        for call in checked
        if call.body["tenant"] != call.tenant
    ]
    return _verdict(
        target,
        checked,
        offences,
        what="orders (POST /service-orders) with a tenant field and a Tenant header",
        broke="name another tenant in the body than in the Tenant header",
    )


@rule("GWI-006")
def gateway_ids_are_integers_and_never_reused(target: Target) -> Evidence:
    """Every id field an integer in range; a repeated ``id`` of one operation repeats the same request.

    The same id with the same body and Tenant is a retry; with anything else, a supplier
    de-duplicating by id would answer the new request with the old one's outcome.
    """
    checked = [
        call
        for call in journal(target).calls
        if call.operation is not None
        and call.operation.body_schema is not None
        and isinstance(call.body, Mapping)
    ]
    offences = []
    first: dict[tuple[str, int], tuple[str, InboundCall]] = {}
    for call in checked:
        body: Mapping[str, Any] = call.body
        for name in GATEWAY_ID_FIELDS:
            if name in body and not _is_gateway_id(body[name]):
                offences.append(Offence(call, f"{name} {body[name]!r} is not an integer from 1 to 2^53-1"))
        if not _is_gateway_id(body.get("id")):
            continue
        canonical = json.dumps([call.tenant, body], sort_keys=True)
        seen, earlier = first.setdefault((call.path, int(body["id"])), (canonical, call))
        if seen != canonical:
            differs = _differences(earlier.body, body)
            problem = f"id {body['id']} was sent on {earlier.short} with a different request ({differs})"
            offences.append(Offence(call, problem))
    return _verdict(
        target,
        checked,
        offences,
        what="calls with a JSON body",
        broke="send a gateway id that is not an integer from 1, or reuse one for a different request",
    )


@rule("GWI-007")
def no_call_was_refused_as_malformed(target: Target) -> Evidence:
    """Every 400 the simulator answered, with the messages it gave."""
    calls = journal(target).calls
    offences = [
        Offence(call, f"refused with 400: {_messages(call.response)}") for call in calls if call.status == 400
    ]
    return _verdict(target, calls, offences, what="calls", broke="were refused as malformed")


def _messages(response: Any) -> str:
    if isinstance(response, Mapping) and isinstance(response.get("messages"), list):
        return "; ".join(str(message) for message in response["messages"])[:500]
    return _as_text(response)[:300] or "(no body)"
