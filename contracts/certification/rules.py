"""The rule catalogue: one registry of rules, each with the same check signature.

A rule is a stable id (``AVL-003``), a title, where it comes from (the reference digest,
a seed sentence, or the contract), the layer it belongs to, the capability a target
must offer for it to run, whether it is required for certification, and a check::

    def check(target: Target) -> Evidence

A check returns its evidence when the rule holds, raises
:class:`~contracts.certification.errors.RuleViolation` when it does not, and
:class:`~contracts.certification.errors.RuleSkipped` when it cannot be checked on this
target. Transport trouble surfaces as :class:`~contracts.certification.errors.TargetError`.

A rule's description (title, reference, capability, layer) is its entry in
``rules.yaml``, the catalogue a supplier can read without reading code. Add a rule there,
then its check with ``@rule("<id>")`` in the module of its area (``behaviour/availability.py``
…); :func:`catalogue` imports every rule module and refuses an entry left without a check.
"""

from __future__ import annotations

import fnmatch
import importlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import yaml

from contracts.certification.errors import RuleSkipped, RuleViolation, TargetError
from contracts.certification.evidence import Evidence

if TYPE_CHECKING:
    from contracts.certification.target import Target

__all__ = [
    "Capability",
    "Check",
    "Layer",
    "Mode",
    "Rule",
    "RuleSkipped",
    "RuleViolation",
    "TargetError",
    "catalogue",
    "register",
    "rule",
    "run_order",
    "select",
]


class Layer(StrEnum):
    """How a rule looks at the target."""

    CONTRACT = "contract"  # generated requests, responses checked against the OpenAPI document
    BEHAVIOUR = "behaviour"  # hand-written scenarios tied to the reference
    KCI = "kci"  # the KCIs the supplier sent back
    GATEWAY = "gateway"  # the suite plays supplier against a gateway's Supplier Updates API


class Capability(StrEnum):
    """What a target offers; a rule runs only when its target offers the capability."""

    AVAILABILITY = "availability"
    APPOINTMENTS = "appointments"
    CLOCK = "clock"
    ORDERS = "orders"
    AMENDMENTS = "amendments"
    CANCELLATIONS = "cancellations"
    KCIS = "kcis"
    ASSURANCE = "assurance"  # service tests and service problems (T2R)
    INBOUND = "inbound"  # gateway mode: a fibresim simulator's journal of the gateway's calls to it
    AUTH = "auth"  # supplier mode: the operator gave credentials, so the target's refusals can be checked


class Mode(StrEnum):
    """What is being certified: a supplier's Supplier API, or a gateway's Supplier Updates API."""

    SUPPLIER = "supplier"
    GATEWAY = "gateway"


Check = Callable[["Target"], Evidence]

_LAYER_ORDER = tuple(Layer)
_FAMILY_ORDER = ("CON", "AUT", "AVL", "APT", "ORD", "AST", "KCI", "GW", "GWI")


@dataclass(frozen=True, slots=True)
class Rule:
    """One certification rule; see the module docstring for the check contract."""

    id: str
    title: str
    reference: str
    layer: Layer
    capability: Capability
    required: bool
    check: Check = field(compare=False, repr=False)
    needs: frozenset[Capability] = frozenset()
    """Capabilities needed on top of ``capability`` (an amendment needs an order first)."""

    @property
    def mode(self) -> Mode:
        """Which kind of target the rule certifies."""
        return Mode.GATEWAY if self.layer is Layer.GATEWAY else Mode.SUPPLIER

    @property
    def capabilities(self) -> frozenset[Capability]:
        """Every capability the target must offer for the rule to run."""
        return self.needs | {self.capability}

    @property
    def family(self) -> str:
        """The id's prefix: ``AVL`` for ``AVL-003``."""
        return self.id.split("-", 1)[0]


_REGISTRY: dict[str, Rule] = {}
_RULE_MODULES = (
    "contracts.certification.contract",
    "contracts.certification.behaviour.auth",
    "contracts.certification.behaviour.availability",
    "contracts.certification.behaviour.appointments",
    "contracts.certification.behaviour.orders",
    "contracts.certification.behaviour.assurance",
    "contracts.certification.kci_rules",
    "contracts.certification.gateway",
    "contracts.certification.gateway_streams",
    "contracts.certification.inbound",
)


def _origin(check: Check) -> tuple[str, str]:
    return getattr(check, "__module__", ""), getattr(check, "__qualname__", "")


def register(new: Rule) -> Rule:
    """Add ``new`` to the registry; two different rules under one id are a programming error.

    A module imported again (``importlib.reload``, pytester's in-process runs) registers
    the same rules again; they replace the earlier ones.
    """
    old = _REGISTRY.get(new.id)
    if old is not None and _origin(old.check) != _origin(new.check):
        raise ValueError(f"rule {new.id} is registered twice ({_origin(old.check)} and {_origin(new.check)})")
    _REGISTRY[new.id] = new
    return new


@cache
def _described() -> dict[str, dict[str, Any]]:
    """The catalogue's entries by rule id, as ``rules.yaml`` gives them."""
    entries: dict[str, dict[str, Any]] = yaml.safe_load(
        resources.files(__package__).joinpath("rules.yaml").read_text(encoding="utf-8")
    )
    return entries


def rule(rule_id: str) -> Callable[[Check], Check]:
    """Register the decorated check as rule ``rule_id``, described by its entry in ``rules.yaml``."""
    entry = _described().get(rule_id)
    if entry is None:
        raise ValueError(f"rule {rule_id} has a check but no entry in rules.yaml")

    def decorate(check: Check) -> Check:
        register(
            Rule(
                id=rule_id,
                title=entry["title"],
                reference=entry["reference"],
                layer=Layer(entry.get("layer", Layer.BEHAVIOUR)),
                capability=Capability(entry["capability"]),
                required=entry.get("required", True),
                check=check,
                needs=frozenset(Capability(name) for name in entry.get("needs", ())),
            )
        )
        return check

    return decorate


def _number(rule_id: str) -> int | None:
    tail = rule_id.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else None


def _display_key(position: int, candidate: Rule) -> tuple[int, int, int]:
    family = (
        _FAMILY_ORDER.index(candidate.family) if candidate.family in _FAMILY_ORDER else len(_FAMILY_ORDER)
    )
    number = _number(candidate.id)
    return (_LAYER_ORDER.index(candidate.layer), family, position if number is None else number)


def catalogue(mode: Mode | None = None) -> tuple[Rule, ...]:
    """Every rule (of ``mode``, when given), in catalogue order: by layer, family and number."""
    for module in _RULE_MODULES:
        importlib.import_module(module)
    unchecked = sorted(set(_described()) - set(_REGISTRY))
    if unchecked:
        raise ValueError(f"rules.yaml describes rules that have no check: {', '.join(unchecked)}")
    ordered = sorted(enumerate(_REGISTRY.values()), key=lambda item: _display_key(*item))
    return tuple(candidate for _, candidate in ordered if mode is None or candidate.mode is mode)


def run_order(rules: Iterable[Rule], layers: Sequence[Layer]) -> list[Rule]:
    """``rules`` in the order to run them: by ``layers``, then as declared in their module.

    Declaration order matters within an area: a rule that cancels the order another rule
    placed is declared after it, and one that needs the target's clock moved comes last.
    """
    position = {rule_id: index for index, rule_id in enumerate(_REGISTRY)}
    return sorted(rules, key=lambda r: (layers.index(r.layer), position.get(r.id, len(position))))


def select(rules: Sequence[Rule], patterns: Sequence[str]) -> tuple[Rule, ...]:
    """The rules whose id matches one of the shell-style ``patterns`` (all when none are given)."""
    if not patterns:
        return tuple(rules)
    wanted = [pattern.upper() for pattern in patterns]
    return tuple(r for r in rules if any(fnmatch.fnmatchcase(r.id.upper(), p) for p in wanted))
