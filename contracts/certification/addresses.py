"""Test addresses: which of the target's addresses plays which role in the rules.

A supplier knows its own estate; the suite does not. The operator names addresses by
role in a YAML file (``--addresses FILE``, or a bundled name such as
``simulator-demo``)::

    tenant: TENANT1            # the tenant to send (overridden by --tenant)
    otherTenant: TENANT2       # a second tenant the supplier knows, for cross-tenant rules
    roles:
      no_coverage:   {address: {id: "100000000001", type: UPRN}}
      covered:       {address: {id: "100000000002", type: UPRN}, specifications: {FTTP: ["1", "2"]}}
      single_service_live:
        address: {id: "100000000003", type: UPRN}
        tenant: TENANT1          # who owns the live line
        serviceId: S100000000003-1
        lineId: L100000000003    # optional: the line existingLines must report (or ontReference)
    completedOrder: {orderId: 1001, tenant: TENANT1}   # optional, for ORD-006

A role may instead give a *pool* of addresses, so the suite can run again and again
against the same supplier instance (a run leaves a live line where it completed an order)::

      covered:
        specifications: {FTTP: ["1", "2", "3", "4"]}     # defaults for every pool member
        pool:
          - {address: {id: "200000000002", type: UPRN}}
          - {address: {id: "200000000004", type: UPRN}}

Each run takes, per role, the first pool member that is unused: one whose observed state
still matches its role (the target's check, :class:`RunAddresses`); an address a previous
run has used up (a covered address now showing a live line) is passed over. When every
member is used up the rules needing the role are not run and say that the pool ran out.

A rule whose role is missing is skipped and says which role it needed. The file is
validated on load; a bad one is refused with every problem named by its field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from contracts.certification.errors import RuleSkipped, SetupError
from contracts.inputs import InputError, load_yaml, schema_message

__all__ = [
    "ROLES",
    "AddressBook",
    "CompletedOrder",
    "RunAddresses",
    "TestAddress",
    "bundled_address_files",
    "load_address_book",
]

ROLES: Mapping[str, str] = {
    "no_coverage": "an address the supplier does not cover",
    "covered": "a covered address with nothing live, where a new line can be ordered",
    "single_service_live": "a single-service address with a live line (give its owning tenant and serviceId)",
    "multi_service_live": "a multi-service address with a live line and room for another",
    "multi_spec": "a covered address offering several service specifications",
    "unknown": "an address the supplier has never heard of",
    "live_service": (
        "a live service of the run's tenant that tests and problems may be raised on "
        "(give its serviceId and specification)"
    ),
}
"""The roles rules ask for, and what each must be."""

_NON_EMPTY_STRING = {"type": "string", "minLength": 1}
_ADDRESS = {
    "type": "object",
    "required": ["id", "type"],
    "additionalProperties": False,
    "properties": {
        "id": _NON_EMPTY_STRING,
        "type": {"enum": ["UPRN", "NAD", "DistrictCode", "ROBT", "LINE_ID"]},
    },
}
_FIELDS: dict[str, Any] = {
    "tenant": _NON_EMPTY_STRING,
    "serviceId": _NON_EMPTY_STRING,
    "lineId": _NON_EMPTY_STRING,
    "ontReference": _NON_EMPTY_STRING,
    "specification": _NON_EMPTY_STRING,
    "specifications": {
        "type": "object",
        "additionalProperties": {"type": "array", "items": {"type": "string"}, "minItems": 1},
    },
    "note": {"type": "string"},
}
_MEMBER = {
    "type": "object",
    "required": ["address"],
    "additionalProperties": False,
    "properties": {"address": _ADDRESS, **_FIELDS},
}
_ROLE = {
    "type": "object",
    "oneOf": [{"required": ["address"]}, {"required": ["pool"]}],
    "additionalProperties": False,
    "properties": {
        "pool": {"type": "array", "minItems": 1, "items": _MEMBER},
        "address": _ADDRESS,
        **_FIELDS,
    },
}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["roles"],
    "additionalProperties": False,
    "properties": {
        "tenant": _NON_EMPTY_STRING,
        "otherTenant": _NON_EMPTY_STRING,
        "roles": {
            "type": "object",
            "additionalProperties": False,
            "properties": dict.fromkeys(ROLES, _ROLE),
        },
        "completedOrder": {
            "type": "object",
            "required": ["orderId"],
            "additionalProperties": False,
            "properties": {
                "orderId": {"type": "integer", "minimum": 1},
                "tenant": _NON_EMPTY_STRING,
                "supplierOrderReference": _NON_EMPTY_STRING,
            },
        },
    },
}
_VALIDATOR = Draft202012Validator(SCHEMA)


@dataclass(frozen=True, slots=True)
class TestAddress:
    """An address playing a role, with what the operator knows about it."""

    __test__ = False  # not a pytest test class, despite the name

    role: str
    address: Mapping[str, str]
    tenant: str | None = None
    service_id: str | None = None
    specification: str | None = None
    line_id: str | None = None
    """The live line's ``lineId`` (``existingLines[].lineId``), when the operator knows it."""
    ont_reference: str | None = None
    """The live line's ONT (``existingLines[].ont.ontReference``), when the operator knows it."""
    specifications: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    note: str = ""

    @property
    def label(self) -> str:
        """``covered (UPRN 100000000002)``."""
        return f"{self.role} ({self.address['type']} {self.address['id']})"


@dataclass(frozen=True, slots=True)
class CompletedOrder:
    """An order the target has completed, for the rule that tries to cancel one."""

    order_id: int
    tenant: str | None = None
    supplier_order_reference: str | None = None


@dataclass(frozen=True, slots=True)
class AddressBook:
    """The roles an operator filled in; an empty book skips every address rule."""

    roles: Mapping[str, TestAddress] = field(default_factory=dict)
    """The first address of each role (its pool's first member)."""
    pools: Mapping[str, tuple[TestAddress, ...]] = field(default_factory=dict)
    """Every address of each role, in the file's order (one for the single-address form)."""
    tenant: str | None = None
    other_tenant: str | None = None
    completed_order: CompletedOrder | None = None
    source: str = "(none)"

    def get(self, role: str) -> TestAddress | None:
        """The address for ``role``, if the file names one."""
        return self.roles.get(role)

    def require(self, role: str) -> TestAddress:
        """The address for ``role``; skips the rule when the file names none."""
        found = self.roles.get(role)
        if found is None:
            raise self.missing(role)
        return found

    def pool(self, role: str) -> tuple[TestAddress, ...]:
        """Every address of ``role`` (empty when the file names none)."""
        return self.pools.get(role) or ((self.roles[role],) if role in self.roles else ())

    def missing(self, role: str) -> RuleSkipped:
        """Why a rule needing ``role`` cannot run: the file names no such address."""
        return RuleSkipped(
            f"needs a {role!r} address ({ROLES.get(role, role)}); add it under roles: in the "
            f"address file (given: {self.source})"
        )


Fits = Callable[[TestAddress], str | None]
"""A target's check of a pool member: why it no longer plays its role (``None``: it does)."""


class RunAddresses:
    """One run's addresses: per role, the first pool member that still plays its role.

    The choice is made on a role's first use and kept for the run. ``fits`` observes a
    member (e.g. asks for its availability) and says why it is used up; members it passes
    over are named when the pool runs out, which skips the rule (not run, blocking).
    """

    def __init__(self, book: AddressBook, fits: Fits) -> None:
        self.book = book
        self._fits = fits
        self._chosen: dict[str, TestAddress | RuleSkipped] = {}

    @property
    def tenant(self) -> str | None:
        return self.book.tenant

    @property
    def other_tenant(self) -> str | None:
        return self.book.other_tenant

    @property
    def completed_order(self) -> CompletedOrder | None:
        return self.book.completed_order

    @property
    def source(self) -> str:
        return self.book.source

    def _choose(self, role: str) -> TestAddress | RuleSkipped:
        members = self.book.pool(role)
        if not members:
            return self.book.missing(role)
        passed_over = []
        for member in members:
            why = self._fits(member)
            if why is None:
                return member
            passed_over.append(f"{member.address['type']} {member.address['id']}: {why}")
        return RuleSkipped(
            f"the {role!r} pool has run out: all {len(members)} address(es) are used up "
            f"({'; '.join(passed_over[:3])}{'; …' if len(passed_over) > 3 else ''}); add unused "
            f"ones under roles: {role}: pool: in the address file (given: {self.source})"
        )

    def get(self, role: str) -> TestAddress | None:
        """The run's address for ``role``, or ``None`` when there is none to use."""
        chosen = self._chosen.get(role) or self._chosen.setdefault(role, self._choose(role))
        return chosen if isinstance(chosen, TestAddress) else None

    def require(self, role: str) -> TestAddress:
        """The run's address for ``role``; skips the rule (saying why) when there is none."""
        self.get(role)
        chosen = self._chosen[role]
        if isinstance(chosen, RuleSkipped):
            raise RuleSkipped(chosen.message)
        return chosen


def bundled_address_files() -> list[str]:
    """Names of the address files shipped with the suite (``simulator-demo`` …)."""
    folder = resources.files(__package__) / "addresses"
    return sorted(item.name.removesuffix(".yaml") for item in folder.iterdir() if item.name.endswith(".yaml"))


def _resolve(name_or_path: str) -> Path:
    candidate = Path(name_or_path)
    if candidate.suffix in {".yaml", ".yml"} or candidate.exists():
        return candidate
    if name_or_path in bundled_address_files():
        return Path(str(resources.files(__package__) / "addresses" / f"{name_or_path}.yaml"))
    known = ", ".join(bundled_address_files())
    raise SetupError(f"address file {name_or_path!r} not found (bundled ones: {known})")


def _where(path: Any) -> str:
    return "/".join(str(part) for part in path) or "(top)"


def parse_address_book(raw: Any, source: str) -> AddressBook:
    """Validate ``raw`` (parsed YAML) and build the book; every problem is named by its field."""
    problems = sorted(_VALIDATOR.iter_errors(raw), key=lambda error: list(map(str, error.absolute_path)))
    if problems:
        listed = "; ".join(f"{_where(p.absolute_path)}: {schema_message(p)}" for p in problems)
        raise SetupError(f"address file {source}: {listed}")
    pools = {
        role: tuple(_member(role, {**entry, **member}) for member in entry.get("pool") or [entry])
        for role, entry in raw["roles"].items()
    }
    completed = raw.get("completedOrder")
    return AddressBook(
        roles={role: members[0] for role, members in pools.items()},
        pools=pools,
        tenant=raw.get("tenant"),
        other_tenant=raw.get("otherTenant"),
        completed_order=(
            CompletedOrder(
                completed["orderId"], completed.get("tenant"), completed.get("supplierOrderReference")
            )
            if completed
            else None
        ),
        source=source,
    )


def _member(role: str, entry: Mapping[str, Any]) -> TestAddress:
    return TestAddress(
        role=role,
        address=dict(entry["address"]),
        tenant=entry.get("tenant"),
        service_id=entry.get("serviceId"),
        specification=entry.get("specification"),
        line_id=entry.get("lineId"),
        ont_reference=entry.get("ontReference"),
        specifications={spec: tuple(values) for spec, values in entry.get("specifications", {}).items()},
        note=entry.get("note", ""),
    )


def load_address_book(name_or_path: str | None) -> AddressBook:
    """The address book in a YAML file or a bundled one; ``None`` gives an empty book.

    The file must be a regular file of at most ``contracts.inputs.MAX_FILE_BYTES``; a YAML error
    names its line and column.
    """
    if name_or_path is None:
        return AddressBook()
    path = _resolve(name_or_path)
    try:
        raw = load_yaml(path, what="address file")
    except InputError as error:
        raise SetupError(str(error)) from None
    return parse_address_book(raw, str(path) if path.is_absolute() else name_or_path)
