"""Layer 3: the KCIs the supplier sent to the suite's receiver (KCI-…).

The first KCI rule to run waits for the supplier's KCIs, once per run: up to
``--kci-wait`` seconds, ending early when every order the suite placed has reached a
terminal status, or has had at least one KCI and the stream has been quiet for a few
seconds. While it waits on a target with the clock API it moves that clock forward a
minute at a time, so scripted KCIs fall due. Every KCI rule then reads its own findings
from one run of :func:`~contracts.certification.kci_stream.validate_kci_stream`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from contracts.certification.errors import NotDecidable, RuleSkipped, RuleViolation, TargetError
from contracts.certification.evidence import Evidence
from contracts.certification.kci_stream import (
    STREAM_RULES,
    T2R_STREAM_RULES,
    T2R_TERMINAL_RULE,
    StreamViolation,
    entity_of,
    validate_kci_stream,
)
from contracts.certification.receiver import ReceivedKci
from contracts.certification.rules import Capability, Layer, Rule, register, rule
from contracts.certification.target import Target

__all__ = ["RAISED_PROBLEMS", "collected_kcis", "problem_id", "stream_findings"]

RAISED_PROBLEMS = "raised_problems"
"""``target.shared`` key: the service problems the run raised and accepted, by id, with their answer."""


def problem_id(body: Any) -> Any:
    """The gateway id of the service problem a KCI is about (``None`` for other KCIs)."""
    entity = body.get("serviceProblem") if isinstance(body, dict) else None
    return entity.get("id") if isinstance(entity, dict) else None


POLL_SECONDS = 0.25
QUIET_SECONDS = 2.0
PROGRESS_SECONDS = 5.0
CLOCK_STEP = timedelta(minutes=1)
TERMINAL_REASONS = frozenset({"COMPLETED", "CANCELLED", "ORDER_REJECTED"})
MAX_EVIDENCE_KCIS = 10
REFERENCES = {
    "KCI-001": "supplier-updates-api.yaml #/components/schemas/Kci",
    "KCI-002": "reference §2.6 and §6.1 (KCI id unique; a re-delivery keeps its id)",
    "KCI-003": "reference §6.1 (sequenceNumber >= 1 orders the KCIs of one entity)",
    "KCI-004": "reference §6.2 and §7 (reason code -> status); simulator/domain/order_states.py",
    "KCI-005": "reference §6.2 (what each reason code requires)",
    "KCI-006": "reference §6.2 (committedDate is set once, changes only on a tenant-driven change)",
    "KCI-007": "reference §2.4 (every KCI carries the gateway id or the supplier reference)",
    "KCI-009": (
        "supplier-updates-api.yaml ServiceTestKci and ServiceProblemKci; advisory: their reason codes are "
        "the contract's choice (x-fibresim-chosen), the reference gives none for tests and problems"
    ),
    "KCI-010": (
        "reference §5 (test and problem statuses); contracts/model/service_test_states.py and "
        "service_problem_states.py; advisory: the reason codes driving them are the contract's choice"
    ),
    "KCI-011": (
        "supplier-updates-api.yaml ServiceTestKci and ServiceProblemKci (what each x-fibresim-chosen "
        "reason code requires); advisory"
    ),
    T2R_TERMINAL_RULE[0]: (
        "reference §6.2 (CANCELLED and COMPLETED are terminal, as are the rejections) and §5 (test and "
        "problem statuses REJECTED, COMPLETED, CANCELLED); judged on statuses only, whatever the reason codes"
    ),
}


def _orders_settled(target: Target, received: Sequence[ReceivedKci], quiet: bool) -> bool:
    """Whether every order the suite placed is terminal, or has been answered and the stream is quiet."""
    reasons: dict[Any, set[str]] = {}
    for item in received:
        entity = entity_of(item.body)
        if entity is not None and isinstance(item.body, dict):
            reasons.setdefault(entity.get("id"), set()).add(str(item.body.get("reasonCode")))
    placed = list(target.placed_orders)
    raised = list(target.shared.get(RAISED_PROBLEMS, {}))
    heard = {problem_id(item.body) for item in received}
    if any(problem not in heard for problem in raised):
        return False  # a problem the suite raised has had no KCI yet
    if all(reasons.get(order) and reasons[order] & TERMINAL_REASONS for order in placed):
        return bool(placed)
    return quiet and all(reasons.get(order) for order in placed)


def collected_kcis(target: Target) -> list[ReceivedKci]:
    """The KCIs of this run, waited for on first use (see the module docstring)."""
    if "kcis" in target.shared:
        cached: list[ReceivedKci] = target.shared["kcis"]
        return cached
    wait = target.settings.kci_wait
    if wait <= 0 or target.kci_receiver is None:
        raise RuleSkipped(
            "the KCI layer is off: give --kci-wait SECONDS and point the supplier at the receiver"
        )
    deadline = time.monotonic() + target.remaining(wait)
    moves_clock = target.offers(Capability.CLOCK)
    notes: list[str] = target.shared.setdefault("kci_notes", [])
    said = time.monotonic()
    while time.monotonic() < deadline:  # bounded by --kci-wait and --deadline
        received = target.received_kcis()
        if time.monotonic() - said >= PROGRESS_SECONDS:
            said = time.monotonic()
            target.notify(
                f"waiting for KCIs at {target.kci_receiver.url}: {len(received)} received, "
                f"{deadline - said:.0f}s left"
            )
        last = max((item.arrived for item in received), default=0.0)
        if _orders_settled(target, received, quiet=time.monotonic() - last >= QUIET_SECONDS):
            break
        if moves_clock:
            try:
                target.advance_clock(CLOCK_STEP)
            except TargetError as error:  # keep listening: what arrived can still be judged
                notes.append(f"stopped moving the target's clock: {error}")
                moves_clock = False
        time.sleep(POLL_SECONDS)
    target.shared["kcis"] = target.received_kcis()
    return list(target.shared["kcis"])


def stream_findings(target: Target) -> list[StreamViolation]:
    """The validator's findings on this run's KCIs (computed once)."""
    if "kci_findings" not in target.shared:
        received = collected_kcis(target)
        initial = {
            order: answer.split(" ", 1)[1]
            for order, answer in target.placed_orders.items()
            if answer.startswith("201 ") and " " in answer
        }
        target.shared["kci_findings"] = validate_kci_stream(
            [item.body for item in received], initial_statuses=initial
        )
    findings: list[StreamViolation] = target.shared["kci_findings"]
    return findings


def _evidence(
    target: Target, received: Sequence[ReceivedKci], indexes: Sequence[int], notes: list[str]
) -> Evidence:
    url = f"{target.kci_receiver.url if target.kci_receiver else ''}/kcis"
    chosen = [received[i] for i in indexes if 0 <= i < len(received)][:MAX_EVIDENCE_KCIS]
    for item in chosen:
        target.record(item.exchange(url, 204 if not isinstance(item.body, str) else 400))
    return target.evidence(*notes)


def _stream_check(rule_id: str) -> Callable[[Target], Evidence]:
    def check(target: Target) -> Evidence:
        received = collected_kcis(target)
        if not received:
            url = target.kci_receiver.url if target.kci_receiver else "(no receiver)"
            raise NotDecidable(
                f"no KCIs arrived at {url} within {target.settings.kci_wait:g}s, so there is no stream "
                "to judge (KCI-008 says whether that is a failure)"
            )
        mine = [f for f in stream_findings(target) if f.rule_id == rule_id]
        infos = [str(f) for f in mine if f.info]
        violations = [f for f in mine if not f.info]
        notes = [f"{len(received)} KCI(s) received", *target.shared.get("kci_notes", []), *infos[:10]]
        indexes = [f.index for f in violations if f.index is not None]
        if violations:
            listed = "; ".join(str(v) for v in violations[:5])
            more = f" (and {len(violations) - 5} more)" if len(violations) > 5 else ""
            raise RuleViolation(
                f"{len(violations)} violation(s): {listed}{more}", _evidence(target, received, indexes, notes)
            )
        return target.evidence(*notes)

    check.__name__ = f"kci_stream_{rule_id.replace('-', '_').lower()}"
    return check


# The stream rules, by the entities they judge: (rules, required, the capability that makes them).
_STREAM_RULE_GROUPS: tuple[tuple[Mapping[str, str], bool, Capability], ...] = (
    (STREAM_RULES, True, Capability.ORDERS),
    (T2R_STREAM_RULES, False, Capability.ASSURANCE),
    (dict([T2R_TERMINAL_RULE]), True, Capability.ASSURANCE),
)
for _rules, _required, _entities in _STREAM_RULE_GROUPS:
    for _rule_id, _title in _rules.items():
        register(
            Rule(
                id=_rule_id,
                title=_title,
                reference=REFERENCES[_rule_id],
                layer=Layer.KCI,
                capability=Capability.KCIS,
                required=_required,
                check=_stream_check(_rule_id),
                needs=frozenset({_entities}),
            )
        )


@rule("KCI-008")
def orders_hear_back(target: Target) -> Evidence:
    """Each order answered 202 got a KCI within the wait, and the orders placed got KCIs at all."""
    placed = dict(target.placed_orders)
    if not placed:
        raise RuleSkipped("the run placed no order that the target accepted (see the ORD rules)")
    received = collected_kcis(target)
    heard = {entity.get("id") for item in received if (entity := entity_of(item.body)) is not None}
    listed = ", ".join(f"{order} ({answer})" for order, answer in placed.items())
    wait = f"{target.settings.kci_wait:g}s"
    silent: list[str] = [
        str(order) for order, answer in placed.items() if answer.startswith("202") and order not in heard
    ]
    problems_heard = {problem_id(item.body) for item in received}
    raised: dict[int, str] = target.shared.get(RAISED_PROBLEMS, {})
    silent += [f"problem {p}" for p, answer in raised.items() if answer == "202" and p not in problems_heard]
    if silent:
        raise RuleViolation(
            f"no KCI within {wait} for order(s) or problem(s) answered 202: {', '.join(map(str, silent))}",
            target.evidence(f"orders placed: {listed}"),
        )
    if not heard & set(placed):
        raise RuleViolation(
            f"orders were placed and accepted ({listed}) but no KCI about any of them arrived within "
            f"{wait} ({len(received)} KCI(s) received in all)",
            target.evidence(f"orders placed: {listed}"),
        )
    answered_later = [p for p, answer in raised.items() if answer == "202"]
    about_problems = (
        f"; problems answered 202: {', '.join(map(str, answered_later))}" if answered_later else ""
    )
    return target.evidence(
        f"orders placed: {listed}; KCIs about {len(heard & set(placed))} of them{about_problems}"
    )
