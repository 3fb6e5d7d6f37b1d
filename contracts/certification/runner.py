"""Running rules against a target and keeping the verdicts.

:func:`run_rule` turns one check's outcome into a :class:`RuleResult`;
:func:`run_suite` runs a selection in run order and returns a :class:`SuiteResult` in
catalogue order. Run order: the behaviour scenarios first, so they meet the target as
configured; then the KCI layer, once the orders it listens for have been placed and
before generated orders add to the stream; the contract layer's generated requests last.
:func:`certify` is the whole session the CLI and the pytest plugin share: build the
target, start the KCI receiver when the KCI layer is on, run, close.

Exit codes (:meth:`SuiteResult.exit_code`): 0 when every required rule that ran
passed; 1 when a required rule failed (with ``strict``, also any skip or advisory
failure); 2 when a tool error (target unreachable, bad setup) left a rule unchecked.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

import httpx

from contracts.certification.errors import RuleSkipped, RuleViolation, ToolError
from contracts.certification.evidence import Evidence
from contracts.certification.receiver import KciReceiver
from contracts.certification.rules import Layer, Mode, Rule, catalogue, run_order, select
from contracts.certification.target import Target, TargetSettings

__all__ = ["RUN_ORDER", "RuleResult", "SuiteResult", "Verdict", "certify", "run_rule", "run_suite"]

RUN_ORDER = (Layer.BEHAVIOUR, Layer.KCI, Layer.CONTRACT, Layer.GATEWAY)


class Verdict(StrEnum):
    """What became of a rule."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    ERROR = "error"  # a tool error: the rule could not be checked


@dataclass(frozen=True, slots=True)
class RuleResult:
    """One rule's verdict, why, and the evidence."""

    rule: Rule
    verdict: Verdict
    message: str = ""
    evidence: Evidence = field(default_factory=Evidence)
    seconds: float = 0.0

    @property
    def decisive_failure(self) -> bool:
        """A failure of a required rule."""
        return self.verdict is Verdict.FAILED and self.rule.required


@dataclass(frozen=True, slots=True)
class SuiteResult:
    """A whole run: what was asked, of whom, and every verdict."""

    mode: Mode
    target: str
    seed: int
    capabilities: tuple[str, ...]
    capability_source: str
    catalogue_size: int
    results: tuple[RuleResult, ...]
    patterns: tuple[str, ...] = ()
    started: str = ""
    seconds: float = 0.0
    receiver_url: str | None = None

    def count(self, verdict: Verdict) -> int:
        """How many rules got ``verdict``."""
        return sum(1 for result in self.results if result.verdict is verdict)

    @property
    def ran(self) -> int:
        """Rules whose check ran to a verdict about the target or hit a tool error."""
        return len(self.results) - self.count(Verdict.SKIPPED)

    @property
    def advisory_failures(self) -> int:
        """Failed rules that are not required for certification."""
        return sum(1 for r in self.results if r.verdict is Verdict.FAILED and not r.rule.required)

    def skip_reasons(self) -> dict[str, list[str]]:
        """Why rules were skipped: reason -> rule ids."""
        reasons: dict[str, list[str]] = {}
        for result in self.results:
            if result.verdict is Verdict.SKIPPED:
                reasons.setdefault(result.message, []).append(result.rule.id)
        return reasons

    def counts(self) -> dict[str, int]:
        """The headline numbers."""
        return {
            "rules": self.catalogue_size,
            "selected": len(self.results),
            "ran": self.ran,
            "passed": self.count(Verdict.PASSED),
            "failed": self.count(Verdict.FAILED),
            "failedAdvisory": self.advisory_failures,
            "skipped": self.count(Verdict.SKIPPED),
            "errors": self.count(Verdict.ERROR),
        }

    def exit_code(self, strict: bool = False) -> int:
        """0 certified, 1 a required rule failed (or, strict, anything short of a pass), 2 tool error."""
        if self.count(Verdict.ERROR):
            return 2
        if any(result.decisive_failure for result in self.results):
            return 1
        if strict and (self.count(Verdict.SKIPPED) or self.advisory_failures):
            return 1
        return 0


def run_rule(rule: Rule, target: Target) -> RuleResult:
    """Check one rule against ``target`` and classify the outcome."""
    started = time.monotonic()
    missing = rule.capabilities - target.capabilities
    if missing:
        return RuleResult(rule, Verdict.SKIPPED, target.missing_reason(missing))
    with target.recording():
        try:
            evidence = rule.check(target)
            verdict, message = Verdict.PASSED, ""
        except RuleViolation as violation:
            evidence = target.evidence().merged(violation.evidence)
            verdict, message = Verdict.FAILED, violation.message
        except RuleSkipped as skipped:
            evidence, verdict, message = target.evidence(), Verdict.SKIPPED, skipped.reason
        except ToolError as error:
            evidence, verdict, message = target.evidence(), Verdict.ERROR, str(error)
        except Exception as error:  # a bug in a check must not hide the other rules' verdicts
            detail = "".join(traceback.format_exception_only(type(error), error)).strip()
            evidence = target.evidence(traceback.format_exc(limit=6))
            verdict, message = Verdict.ERROR, f"internal error in the check: {detail}"
    return RuleResult(rule, verdict, message, evidence, round(time.monotonic() - started, 3))


def run_suite(
    target: Target,
    rules: Sequence[Rule],
    *,
    mode: Mode = Mode.SUPPLIER,
    patterns: Sequence[str] = (),
    on_start: Callable[[Rule], None] | None = None,
    on_result: Callable[[RuleResult], None] | None = None,
) -> SuiteResult:
    """Run ``rules`` against ``target`` (in run order) and collect the verdicts (in catalogue order)."""
    started = datetime.now(UTC)  # noqa: TID251 - a report's timestamp is wall-clock time
    clock = time.monotonic()
    try:
        target.check_reachable()
        unreachable = None
        capabilities = target.capabilities
    except ToolError as error:
        unreachable, capabilities = str(error), frozenset()
    results: dict[str, RuleResult] = {}
    for rule in run_order(rules, RUN_ORDER):
        if on_start is not None:
            on_start(rule)
        if unreachable is not None:
            result = RuleResult(rule, Verdict.ERROR, unreachable)
        else:
            result = run_rule(rule, target)
        results[rule.id] = result
        if on_result is not None:
            on_result(result)
    return SuiteResult(
        mode=mode,
        target=target.base_url,
        seed=target.settings.seed,
        capabilities=tuple(sorted(c.value for c in capabilities)),
        capability_source=target.capability_source or "(not determined)",
        catalogue_size=len(catalogue(mode)),
        results=tuple(results[rule.id] for rule in rules),
        patterns=tuple(patterns),
        started=started.isoformat(timespec="seconds"),
        seconds=round(time.monotonic() - clock, 3),
        receiver_url=target.kci_receiver.url if target.kci_receiver else None,
    )


def certify(
    settings: TargetSettings,
    *,
    patterns: Sequence[str] = (),
    kci_port: int = 0,
    announce: Callable[[str], None] = print,
    on_start: Callable[[Rule], None] | None = None,
    on_result: Callable[[RuleResult], None] | None = None,
    transport: httpx.BaseTransport | None = None,
    simulator_transport: httpx.BaseTransport | None = None,
) -> SuiteResult:
    """A whole certification session for ``settings`` (see the module docstring).

    ``transport`` and ``simulator_transport`` replace the network for the target and for the
    simulator whose journal the inbound rules read (tests serve both in-process).
    """
    rules = select(catalogue(settings.mode), patterns)
    receiver = None
    if settings.mode is Mode.SUPPLIER and settings.kci_wait > 0:
        receiver = KciReceiver(kci_port).start()
        announce(
            f"KCI receiver listening on {receiver.url}: configure it as the supplier's Supplier Updates URL"
        )
    try:
        with Target(settings, transport=transport, simulator_transport=simulator_transport) as target:
            target.kci_receiver = receiver
            return run_suite(
                target, rules, mode=settings.mode, patterns=patterns, on_start=on_start, on_result=on_result
            )
    finally:
        if receiver is not None:
            receiver.stop()
