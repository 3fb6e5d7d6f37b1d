"""Running rules against a target and keeping the verdicts.

:func:`run_rule` turns one check's outcome into a :class:`RuleResult`;
:func:`run_suite` runs a selection in run order and returns a :class:`SuiteResult` in
catalogue order. Run order: the behaviour scenarios first, so they meet the target as
configured; then the KCI layer, once the orders it listens for have been placed and
before generated orders add to the stream; the contract layer's generated requests last.
:func:`certify` is the whole session the CLI and the pytest plugin share: build the
target, start the KCI receiver when the KCI layer is on, run, close.

Verdicts are defined once, here (:class:`Verdict`), and every report and the pytest
plugin read them from :class:`RuleResult`:

=================  ==============================================================
passed             the rule held
failed             a required rule was broken
advisory failure   an advisory rule was broken, or a required one broke only a
                   decision of our contract beyond the reference
not run            the rule was not run; ``message`` says why. When its capability
                   is not offered the rule is *out of scope* (``out_of_scope``)
not decidable      the rule ran, but the target offers no way to observe the outcome
error              a tool error (target unreachable, bad setup): the run is incomplete
=================  ==============================================================

Certified means every required rule in scope passed: "not run" (in scope) and
"not decidable" on a required rule are never counted as passed. Exit codes
(:meth:`SuiteResult.exit_code`): 0 certified; 1 not certified (with ``strict``, also
any advisory failure or rule not run); 2 could not run (a tool error).
"""

from __future__ import annotations

import contextlib
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

import httpx

from contracts.certification.errors import (
    AdvisoryViolation,
    NotDecidable,
    RuleSkipped,
    RuleViolation,
    TargetError,
    ToolError,
)
from contracts.certification.evidence import Evidence
from contracts.certification.receiver import KciReceiver
from contracts.certification.rules import Layer, Mode, Rule, catalogue, run_order, select
from contracts.certification.target import Target, TargetSettings

__all__ = [
    "EXIT_CERTIFIED",
    "EXIT_COULD_NOT_RUN",
    "EXIT_NOT_CERTIFIED",
    "RUN_ORDER",
    "RuleResult",
    "SuiteResult",
    "Verdict",
    "certify",
    "run_rule",
    "run_suite",
]

EXIT_CERTIFIED, EXIT_NOT_CERTIFIED, EXIT_COULD_NOT_RUN = 0, 1, 2
STOPPED_MESSAGE = "not run: the run stopped before this rule (see why the run could not go on)"

RUN_ORDER = (Layer.BEHAVIOUR, Layer.KCI, Layer.CONTRACT, Layer.GATEWAY)


class Verdict(StrEnum):
    """What became of a rule (see the module docstring)."""

    PASSED = "passed"
    FAILED = "failed"
    ADVISORY_FAILURE = "advisory failure"
    NOT_RUN = "not run"
    NOT_DECIDABLE = "not decidable"
    ERROR = "error"  # a tool error: the rule could not be checked
    SKIPPED = "not run"  # an alias of NOT_RUN, for callers of the older name

    @property
    def label(self) -> str:
        """How reports name the verdict."""
        return "could not run (tool error)" if self is Verdict.ERROR else self.value


@dataclass(frozen=True, slots=True)
class RuleResult:
    """One rule's verdict, why, and the evidence."""

    rule: Rule
    verdict: Verdict
    message: str = ""
    evidence: Evidence = field(default_factory=Evidence)
    seconds: float = 0.0
    out_of_scope: bool = False
    """Not run because the target does not offer the rule's capability (outside the certification)."""

    @property
    def decisive_failure(self) -> bool:
        """A failure of a required rule."""
        return self.verdict is Verdict.FAILED and self.rule.required

    @property
    def blocks_certification(self) -> bool:
        """A required rule in scope that did not pass (failed, not run, not decidable, error)."""
        if self.verdict is Verdict.PASSED or self.out_of_scope:
            return False
        return self.rule.required and self.verdict is not Verdict.ADVISORY_FAILURE


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
    stopped: str | None = None
    """Why the run stopped early (target unreachable, deadline passed); said once by the reports."""

    def count(self, verdict: Verdict) -> int:
        """How many rules got ``verdict``."""
        return sum(1 for result in self.results if result.verdict is verdict)

    @property
    def ran(self) -> int:
        """Rules whose check ran to a verdict about the target or hit a tool error."""
        return len(self.results) - self.count(Verdict.NOT_RUN)

    @property
    def advisory_failures(self) -> int:
        """Advisory failures: reported, deciding nothing unless strict."""
        return self.count(Verdict.ADVISORY_FAILURE)

    def skip_reasons(self) -> dict[str, list[str]]:
        """Why rules were not run (or could not be decided): reason -> rule ids."""
        reasons: dict[str, list[str]] = {}
        for result in self.results:
            if result.verdict in {Verdict.NOT_RUN, Verdict.NOT_DECIDABLE}:
                reasons.setdefault(result.message, []).append(result.rule.id)
        return reasons

    def scope(self) -> tuple[list[str], list[str]]:
        """Capabilities certified (every required rule of theirs passed) and those not certified."""
        verdicts: dict[str, bool] = {}
        for result in self.results:
            if result.out_of_scope or not result.rule.required:
                continue
            for capability in (result.rule.capability.value,):
                verdicts[capability] = verdicts.get(capability, True) and not result.blocks_certification
        offered = set(self.capabilities)
        out_of_scope = {r.rule.capability.value for r in self.results if r.out_of_scope} - offered
        certified = sorted(c for c, ok in verdicts.items() if ok)
        return certified, sorted({c for c, ok in verdicts.items() if not ok} | out_of_scope)

    @property
    def certified(self) -> bool:
        """Every required rule in scope passed, and nothing stopped the run."""
        return self.exit_code() == EXIT_CERTIFIED

    def counts(self) -> dict[str, int]:
        """The headline numbers."""
        return {
            "rules": self.catalogue_size,
            "selected": len(self.results),
            "ran": self.ran,
            "passed": self.count(Verdict.PASSED),
            "failed": self.count(Verdict.FAILED),
            "failedAdvisory": self.advisory_failures,
            "notRun": self.count(Verdict.NOT_RUN),
            "notRunOutOfScope": sum(1 for r in self.results if r.out_of_scope),
            "notDecidable": self.count(Verdict.NOT_DECIDABLE),
            "errors": self.count(Verdict.ERROR),
        }

    def exit_code(self, strict: bool = False) -> int:
        """0 certified, 1 not certified (strict: anything short of a pass), 2 could not run."""
        if self.count(Verdict.ERROR):
            return EXIT_COULD_NOT_RUN
        if any(result.blocks_certification for result in self.results):
            return EXIT_NOT_CERTIFIED
        if strict and any(result.verdict is not Verdict.PASSED for result in self.results):
            return EXIT_NOT_CERTIFIED
        return EXIT_CERTIFIED


def run_rule(rule: Rule, target: Target) -> RuleResult:
    """Check one rule against ``target`` and classify the outcome."""
    started = time.monotonic()
    missing = rule.capabilities - target.capabilities
    if missing:
        return RuleResult(rule, Verdict.NOT_RUN, target.missing_reason(missing), out_of_scope=True)
    out_of_scope = False
    with target.recording():
        try:
            evidence = rule.check(target)
            verdict, message = Verdict.PASSED, ""
        except RuleViolation as violation:
            evidence = target.evidence().merged(violation.evidence)
            advisory = isinstance(violation, AdvisoryViolation) or not rule.required
            verdict = Verdict.ADVISORY_FAILURE if advisory else Verdict.FAILED
            message = violation.message
        except RuleSkipped as skipped:
            evidence, verdict, message = target.evidence(), Verdict.NOT_RUN, skipped.message
            out_of_scope = skipped.out_of_scope
        except NotDecidable as undecided:
            evidence = target.evidence().merged(undecided.evidence)
            verdict, message = Verdict.NOT_DECIDABLE, undecided.message
        except ToolError as error:
            evidence, verdict, message = target.evidence(), Verdict.ERROR, str(error)
        except Exception as error:  # a bug in a check must not hide the other rules' verdicts
            detail = "".join(traceback.format_exception_only(type(error), error)).strip()
            evidence = target.evidence(traceback.format_exc(limit=6))
            verdict, message = Verdict.ERROR, f"internal error in the check: {detail}"
    return RuleResult(rule, verdict, message, evidence, round(time.monotonic() - started, 3), out_of_scope)


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
        stopped = None
        capabilities = target.capabilities
    except ToolError as error:
        stopped, capabilities = str(error), frozenset()
    results: dict[str, RuleResult] = {}
    for rule in run_order(rules, RUN_ORDER):
        if stopped is None and target.past_deadline():
            stopped = f"the run's deadline ({target.settings.deadline:g}s) passed"
        if stopped is not None:
            # The cause is said once, by the run (SuiteResult.stopped); each rule points to it.
            result = RuleResult(rule, Verdict.ERROR, STOPPED_MESSAGE)
        else:
            if on_start is not None:
                on_start(rule)
            result = run_rule(rule, target)
            stopped = _why_stop(target, result)
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
        stopped=stopped,
    )


def _why_stop(target: Target, result: RuleResult) -> str | None:
    """After a tool error, whether the target is gone (or the deadline passed): then stop the run."""
    if result.verdict is not Verdict.ERROR:
        return None
    if target.past_deadline():
        return f"the run's deadline ({target.settings.deadline:g}s) passed"
    try:
        target.check_reachable()
    except TargetError as error:
        return str(error)
    return None


def certify(
    settings: TargetSettings,
    *,
    patterns: Sequence[str] = (),
    kci_port: int = 0,
    tenant_port: int = 0,
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
    supplier_side = settings.mode is Mode.SUPPLIER and settings.kci_wait > 0
    tenant_side = settings.mode is Mode.GATEWAY and settings.tenant_updates_wait > 0
    with contextlib.ExitStack() as stack:
        receiver = stack.enter_context(KciReceiver(kci_port)) if supplier_side else None
        if receiver is not None:
            announce(
                f"KCI receiver listening on {receiver.url}: "
                "configure it as the supplier's Supplier Updates URL"
            )
        tenant = stack.enter_context(KciReceiver(tenant_port)) if tenant_side else None
        if tenant is not None:
            announce(
                f"Tenant Updates receiver listening on {tenant.url}: configure it on the gateway as the "
                "Tenant Updates URL of the tenant whose orders the KCIs are about"
            )
        target = stack.enter_context(
            Target(settings, transport=transport, simulator_transport=simulator_transport)
        )
        target.kci_receiver = receiver
        target.tenant_receiver = tenant
        target.notify = announce
        return run_suite(
            target, rules, mode=settings.mode, patterns=patterns, on_start=on_start, on_result=on_result
        )
