"""Validate a stream of KCIs as a gateway receives them (usable on its own).

``validate_kci_stream(kcis)`` takes KCI bodies in arrival order and returns one
:class:`StreamViolation` per problem, each naming its rule, the order and the sequence
number::

    from contracts.certification.kci_stream import validate_kci_stream

    for finding in validate_kci_stream(received):
        if not finding.info:
            print(finding)

The rules (§2.4, §6 and §7 of the reference):

* KCI-001 each KCI is valid against ``supplier-updates-api.yaml#/components/schemas/Kci``;
* KCI-002 KCI ids are unique; a re-delivery of the same id with the same body is a
  duplicate, reported as *info* and ignored afterwards;
* KCI-003 per order, sequence numbers start at 1 and rise without gaps or repeats
  (arrival out of order is *info*: the gateway buffers and re-orders);
* KCI-004 the order moves only along the legal transitions of
  :mod:`contracts.model.order_states`, starting from ``RECEIVED``; the entity's
  ``status`` is the status the KCI claims;
* KCI-005 each reason code carries the fields it requires (``missing_fields``);
* KCI-006 ``committedDate`` never changes once set, unless an AMENDED KCI came between;
* KCI-007 each KCI identifies its order by the gateway ``id`` or ``supplierOrderReference``.

Service test and service problem KCIs (``serviceTest``, ``serviceProblem``) share KCI-002,
KCI-003 and KCI-007 (the reference's rules for every entity, §6.1); their schema, transitions
and fields rest on reason codes the project chose (the reference gives none), so they are
reported apart, as KCI-009, KCI-010 and KCI-011 (see :mod:`contracts.certification.t2r_stream`).
KCI-012 judges statuses alone: nothing follows a KCI that reported a terminal status.

Decisions:

* An order is keyed by its gateway ``id``; a KCI that carries only the
  ``supplierOrderReference`` joins the order another KCI of the stream tied to that
  reference, else it is keyed by the reference (an unsolicited cease has no gateway id).
* Orders answered ``201`` send no ACKNOWLEDGED KCI. ``initial_statuses`` (gateway id ->
  status of the 201 answer) says where such an order starts; without it, a first KCI that
  is illegal from RECEIVED but legal after a 201 ACKNOWLEDGED or IN_PROGRESS answer is
  accepted, with an info finding saying what was assumed.
* An amendment or cancellation answered 202 moves the order to PENDING_AMENDMENT or
  PENDING_CANCELLATION without a KCI. When a KCI is legal only after such a request
  (AMENDED from IN_PROGRESS, say), the request is assumed, with an info finding.
* After an illegal transition the walk continues from the status the KCI claims, so one
  mistake is reported once.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contracts.certification.schemas import ROOT, SUPPLIER_UPDATES_API, problems
from contracts.certification.t2r_stream import T2R_PREFIXES, t2r_key, walk_t2r
from contracts.model.order_states import (
    WAITING_STATUSES,
    IllegalTransition,
    OrderState,
    OrderStatus,
    ReasonCode,
    RequestReceived,
    advance,
    missing_fields,
)

__all__ = [
    "ENTITY_KEYS",
    "STREAM_RULES",
    "T2R_STREAM_RULES",
    "T2R_TERMINAL_RULE",
    "StreamViolation",
    "entity_of",
    "order_key",
    "validate_kci_stream",
]

STREAM_RULES: Mapping[str, str] = {
    "KCI-001": "every KCI is valid against the contract's Kci schema",
    "KCI-002": "KCI ids are unique (a re-delivery repeats the same body)",
    "KCI-003": "per order, sequence numbers start at 1 and rise without gaps or repeats",
    "KCI-004": "an order's status moves only along the legal transitions",
    "KCI-005": "each reason code carries the fields it requires",
    "KCI-006": "committedDate never changes once set, unless an amendment was applied",
    "KCI-007": "every KCI identifies its order by gateway id or supplierOrderReference",
}
T2R_STREAM_RULES: Mapping[str, str] = {
    "KCI-009": "every service test and service problem KCI is valid against the contract's T2R KCI schemas",
    "KCI-010": "a test's or problem's status moves only along the legal transitions",
    "KCI-011": "each test and problem reason code carries the fields it requires",
}
T2R_TERMINAL_RULE = ("KCI-012", "a service test or problem reports nothing after a terminal status")
"""The one T2R stream rule that rests on the reference alone: statuses, not reason codes (required)."""
"""Findings on test and problem KCIs that rest on the project's chosen reason codes (advisory)."""
ENTITY_KEYS = ("provideServiceOrder", "modifyServiceOrder", "ceaseServiceOrder")
T2R_KEYS = ("serviceTest", "serviceProblem")
"""Entities of service test and service problem KCIs, walked by :mod:`contracts.certification.t2r_stream`."""
_BRANCHES = dict(
    zip(
        ENTITY_KEYS + T2R_KEYS,
        ("ProvideOrderKci", "ModifyOrderKci", "CeaseOrderKci", "ServiceTestKci", "ServiceProblemKci"),
        strict=True,
    )
)
_IDENTIFIERS = "id or supplierOrderReference"
_SYNC_STARTS = (
    (OrderState(OrderStatus.ACKNOWLEDGED), "201 ACKNOWLEDGED"),
    (OrderState(OrderStatus.IN_PROGRESS), "201 IN_PROGRESS"),
)


@dataclass(frozen=True, slots=True)
class StreamViolation:
    """One problem (or, with ``info``, one remark) about a KCI of the stream."""

    rule_id: str
    message: str
    order: str | None = None
    sequence_number: int | None = None
    kci_id: str | None = None
    index: int | None = None
    """Position of the KCI in the stream as given (0-based)."""
    info: bool = False

    def __str__(self) -> str:
        where = [
            f"order {self.order}" if self.order else "",
            f"seq {self.sequence_number}" if self.sequence_number else "",
        ]
        prefix = " ".join(part for part in where if part)
        kind = "info" if self.info else "violation"
        return f"{self.rule_id} {kind}{f' ({prefix})' if prefix else ''}: {self.message}"


def entity_of(kci: Any) -> Mapping[str, Any] | None:
    """The order entity of a KCI (whichever of the three entity keys is present)."""
    if not isinstance(kci, Mapping):
        return None
    for key in ENTITY_KEYS:
        value = kci.get(key)
        if isinstance(value, Mapping):
            return value
    return None


def order_key(entity: Mapping[str, Any] | None, aliases: Mapping[str, Any] | None = None) -> str | None:
    """``id 1001`` or ``ref SO-1``: how the stream names an order (``None`` when it cannot be named)."""
    if entity is None:
        return None
    if entity.get("id") is not None:
        return f"id {entity['id']}"
    reference = entity.get("supplierOrderReference")
    if not reference:
        return None
    if aliases and reference in aliases:
        return f"id {aliases[reference]}"
    return f"ref {reference}"


def _sequence(kci: Mapping[str, Any]) -> int | None:
    value = kci.get("sequenceNumber")
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else None


def _schema_problems(kci: Any) -> list[str]:
    if not isinstance(kci, Mapping):
        return [f"{ROOT}: the KCI is not a JSON object (type: 'object')"]
    present = [key for key in ENTITY_KEYS + T2R_KEYS if key in kci]
    if len(present) != 1:
        keys = ", ".join(ENTITY_KEYS + T2R_KEYS)
        return [f"{ROOT}: exactly one of {keys} is required, found {len(present)} (oneOf)"]
    return problems(SUPPLIER_UPDATES_API, _BRANCHES[present[0]], dict(kci))


class _Walk:
    """Validates one stream; collects findings."""

    def __init__(self, initial_statuses: Mapping[Any, str]) -> None:
        self.findings: list[StreamViolation] = []
        self.initial = {str(key): value for key, value in initial_statuses.items()}
        self.aliases: dict[str, Any] = {}

    def add(
        self, rule_id: str, message: str, kci: Any = None, index: int | None = None, **extra: Any
    ) -> None:
        if isinstance(kci, Mapping):
            extra.setdefault("kci_id", str(kci.get("id")) if kci.get("id") is not None else None)
            extra.setdefault("sequence_number", _sequence(kci))
            extra.setdefault("order", order_key(entity_of(kci), self.aliases))
        self.findings.append(StreamViolation(rule_id, message, index=index, **extra))

    def unique(self, kcis: Sequence[Any]) -> list[tuple[int, Mapping[str, Any]]]:
        """KCI-002 then KCI-001; the KCIs worth following further (a repeated id is judged once)."""
        seen: dict[str, str] = {}
        kept = []
        for index, kci in enumerate(kcis):
            kci_id = kci.get("id") if isinstance(kci, Mapping) else None
            body = json.dumps(kci, sort_keys=True, default=str)
            if isinstance(kci_id, str) and kci_id in seen:
                if seen[kci_id] == body:
                    message = f"KCI {kci_id} delivered again with the same body (duplicate, ignored)"
                    self.add("KCI-002", message, kci, index, info=True)
                else:
                    self.add("KCI-002", f"KCI id {kci_id} reused for a different KCI", kci, index)
                continue
            if isinstance(kci_id, str):
                seen[kci_id] = body
            schema_rule = "KCI-009" if isinstance(kci, Mapping) and t2r_key(kci) is not None else "KCI-001"
            for problem in _schema_problems(kci):
                self.add(schema_rule, problem, kci, index)
            if isinstance(kci, Mapping):
                kept.append((index, kci))
        return kept

    def identify(
        self, kept: list[tuple[int, Mapping[str, Any]]]
    ) -> dict[str, list[tuple[int, Mapping[str, Any]]]]:
        """KCI-007, and the KCIs grouped by order."""
        self.aliases = {}
        for _index, kci in kept:
            entity = entity_of(kci)
            if entity and entity.get("id") is not None and entity.get("supplierOrderReference"):
                self.aliases.setdefault(str(entity["supplierOrderReference"]), entity["id"])
        orders: dict[str, list[tuple[int, Mapping[str, Any]]]] = defaultdict(list)
        for index, kci in kept:
            t2r = t2r_key(kci)
            if t2r is not None:
                if t2r:
                    orders[t2r].append((index, kci))
                else:
                    self.add(
                        "KCI-007",
                        "the KCI names no test or problem with id or supplier reference",
                        kci,
                        index,
                    )
                continue
            key = order_key(entity_of(kci), self.aliases)
            if key is None:
                self.add("KCI-007", f"the KCI names no order entity with {_IDENTIFIERS}", kci, index)
                continue
            orders[key].append((index, kci))
        return orders

    def sequences(
        self, key: str, items: list[tuple[int, Mapping[str, Any]]]
    ) -> list[tuple[int, Mapping[str, Any]]]:
        """KCI-003; the order's KCIs sorted by sequence number."""
        numbered = [(index, kci) for index, kci in items if _sequence(kci) is not None]
        by_number: dict[int, list[tuple[int, Mapping[str, Any]]]] = defaultdict(list)
        for index, kci in numbered:
            by_number[_sequence(kci) or 0].append((index, kci))
        for number, same in sorted(by_number.items()):
            if len(same) > 1:
                ids = ", ".join(str(kci.get("id")) for _i, kci in same)
                self.add(
                    "KCI-003",
                    f"sequence number {number} is used by {len(same)} KCIs ({ids})",
                    same[1][1],
                    same[1][0],
                    order=key,
                )
        if by_number:
            missing = sorted(set(range(1, max(by_number) + 1)) - set(by_number))
            if missing:
                shown = ", ".join(map(str, missing[:10]))
                self.add(
                    "KCI-003",
                    f"sequence number(s) {shown} never arrived",
                    order=key,
                    sequence_number=missing[0],
                )
        arrival = [_sequence(kci) or 0 for _index, kci in numbered]
        if arrival != sorted(arrival):
            self.add(
                "KCI-003",
                f"arrived out of order ({arrival}); the gateway re-orders by sequence number",
                order=key,
                info=True,
            )
        return sorted(numbered, key=lambda item: (_sequence(item[1]) or 0, item[0]))

    def transitions(self, key: str, ordered: list[tuple[int, Mapping[str, Any]]]) -> None:
        """KCI-004, KCI-005 and KCI-006 along one order's KCIs."""
        start = self.initial.get(key.removeprefix("id ")) if key.startswith("id ") else None
        state = (
            OrderState(OrderStatus(start)) if start in set(OrderStatus) else OrderState(OrderStatus.RECEIVED)
        )
        committed: datetime | None = None
        amended = False
        for position, (index, kci) in enumerate(ordered):
            reason = kci.get("reasonCode")
            if reason not in set(ReasonCode):
                continue  # KCI-001 already names an unknown reason code
            entity = entity_of(kci) or {}
            self.required(reason, kci, entity, index)
            state = self.step(
                state, ReasonCode(reason), kci, entity, index, first=position == 0 and start is None
            )
            amended = amended or reason == ReasonCode.AMENDED
            committed, amended = self.commitment(committed, amended, kci, entity, index)

    def required(self, reason: str, kci: Mapping[str, Any], entity: Mapping[str, Any], index: int) -> None:
        missing = [label for label in missing_fields(reason, kci, entity) if label != _IDENTIFIERS]
        if missing:
            self.add("KCI-005", f"{reason} lacks {', '.join(missing)}", kci, index)

    def step(
        self,
        state: OrderState,
        reason: ReasonCode,
        kci: Mapping[str, Any],
        entity: Mapping[str, Any],
        index: int,
        *,
        first: bool,
    ) -> OrderState:
        raw = entity.get("status")
        claimed = OrderStatus(raw) if raw in set(OrderStatus) - {OrderStatus.RECEIVED} else None
        if raw is not None and claimed is None:
            self.add("KCI-004", f"status {raw!r} is not a status a supplier sets", kci, index)
        try:
            return advance(state, reason, status=claimed)
        except IllegalTransition as error:
            problem = str(error)
        for assumed, after in self._explanations(state, first):
            try:
                following = advance(assumed, reason, status=claimed)
            except IllegalTransition:
                continue
            self.add("KCI-004", f"{reason} is legal only {after}; assumed so", kci, index, info=True)
            return following
        self.add("KCI-004", problem, kci, index)
        if claimed is None:
            return state
        if claimed in WAITING_STATUSES:
            settled = state.previous if state.status in WAITING_STATUSES else state.status
            return OrderState(claimed, settled)
        return OrderState(claimed)

    @staticmethod
    def _explanations(state: OrderState, first: bool) -> list[tuple[OrderState, str]]:
        """States the order may really be in, though no KCI said so.

        A 201 answer (before the first KCI only), then tenant requests answered 202: each
        alone and every combination.
        """
        bases = [(state, "")]
        if first and state.status is OrderStatus.RECEIVED:
            bases += [(start, f"a {answer} answer to the order") for start, answer in _SYNC_STARTS]
        found = [(start, f"after {words}") for start, words in bases[1:]]
        requests = (
            ((RequestReceived.AMENDMENT,), "an amendment answered 202"),
            (
                (RequestReceived.AMENDMENT, RequestReceived.CANCELLATION),
                "an amendment and a cancellation answered 202",
            ),
            ((RequestReceived.CANCELLATION,), "a cancellation answered 202"),
        )
        for base, answered in bases:
            for triggers, words in requests:
                try:
                    assumed = base
                    for trigger in triggers:
                        assumed = advance(assumed, trigger)
                except IllegalTransition:
                    continue
                found.append((assumed, f"after {answered + ', then ' if answered else ''}{words}"))
        return found

    def commitment(
        self,
        committed: datetime | None,
        amended: bool,
        kci: Mapping[str, Any],
        entity: Mapping[str, Any],
        index: int,
    ) -> tuple[datetime | None, bool]:
        try:
            stated = datetime.fromisoformat(str(entity["committedDate"]))
        except (KeyError, ValueError):
            return committed, amended
        if committed is None or stated == committed:
            return stated if committed is None else committed, amended
        if amended:
            return stated, False  # a tenant-driven change may move the commitment once
        self.add(
            "KCI-006",
            f"committedDate changed from {committed.isoformat()} to {stated.isoformat()} "
            "without an amendment",
            kci,
            index,
        )
        return committed, amended


def validate_kci_stream(
    kcis: Sequence[Mapping[str, Any]], *, initial_statuses: Mapping[Any, str] | None = None
) -> list[StreamViolation]:
    """Every problem (and info remark) in ``kcis``, by the KCI it concerns; see the module docstring.

    Findings about a whole order (a missing sequence number) come after those about one KCI.
    """
    walk = _Walk(initial_statuses or {})
    kept = walk.unique(kcis)
    for key, items in walk.identify(kept).items():
        ordered = walk.sequences(key, items)
        if key.startswith(T2R_PREFIXES):
            for rule_id, message, kci, index in walk_t2r(key, ordered):
                walk.add(rule_id, message, kci, index, order=key)
        else:
            walk.transitions(key, ordered)
    return sorted(walk.findings, key=lambda finding: (finding.index is None, finding.index or 0))
