"""What can go wrong while certifying, kept in two families that never mix.

A *finding* is about the target: it broke a rule, or a rule cannot be checked on it.
A *tool error* is about the run itself: the target cannot be reached, an option or an
address file is wrong. Findings decide the verdict of one rule; a tool error stops the
rule (or the run) without blaming the target::

    CertificationError
    ├── Finding
    │   ├── RuleViolation      the target broke the rule (carries the evidence)
    │   │   └── AdvisoryViolation  it broke only a decision of ours beyond the reference
    │   ├── RuleSkipped        the rule was not run here (capability not offered, no address, …)
    │   └── NotDecidable       the rule ran, but the target offers no way to observe the outcome
    └── ToolError
        ├── TargetError        the target could not be reached or answered garbage at transport level
        └── SetupError         bad options, a bad address file, a port that cannot be bound
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from contracts.certification.evidence import Evidence

__all__ = [
    "AdvisoryViolation",
    "CertificationError",
    "Finding",
    "NotDecidable",
    "RuleSkipped",
    "RuleViolation",
    "SetupError",
    "TargetError",
    "ToolError",
]


class CertificationError(Exception):
    """Base of everything the certification suite raises on purpose."""


class Finding(CertificationError):
    """An outcome about the target: a violated rule or one that cannot be checked.

    ``message`` says what was found (or why the rule was not run); ``evidence``, when
    given, lists the exchanges that decided it.
    """

    def __init__(self, message: str, evidence: Evidence | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.evidence = evidence


class RuleViolation(Finding):
    """The target broke the rule; ``evidence`` lists the exchanges that decided it."""


class AdvisoryViolation(RuleViolation):
    """The target broke a decision our contract makes beyond the reference (an ``x-`` extension).

    It never fails certification by itself: the rule's verdict is an advisory failure,
    which counts only with ``--strict``.
    """


class RuleSkipped(Finding):
    """The rule was not run on this target; ``message`` says why.

    ``out_of_scope`` marks a rule whose capability the target does not offer: it is outside
    what is being certified, and shown as such, rather than a gap in the certification.
    """

    def __init__(self, reason: str, *, out_of_scope: bool = False) -> None:
        super().__init__(reason)
        self.out_of_scope = out_of_scope


class NotDecidable(Finding):
    """The rule ran but cannot be decided: the target offers no way to observe the outcome."""


class ToolError(CertificationError):
    """The run went wrong for a reason that is not the target's behaviour."""


class TargetError(ToolError):
    """The target could not be reached, timed out, or broke the HTTP exchange itself."""


class SetupError(ToolError):
    """Bad options, a bad address file, or a local resource that cannot be had."""
