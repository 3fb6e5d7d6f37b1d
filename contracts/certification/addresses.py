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

A rule whose role is missing is skipped and says which role it needed. The file is
validated on load; a bad one is refused with every problem named by its field.
"""

from __future__ import annotations

from collections.abc import Mapping
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
}
"""The roles rules ask for, and what each must be."""

_ADDRESS = {
    "type": "object",
    "required": ["id", "type"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "minLength": 1},
        "type": {"enum": ["UPRN", "NAD", "DistrictCode", "ROBT", "LINE_ID"]},
    },
}
_ROLE = {
    "type": "object",
    "required": ["address"],
    "additionalProperties": False,
    "properties": {
        "address": _ADDRESS,
        "tenant": {"type": "string", "minLength": 1},
        "serviceId": {"type": "string", "minLength": 1},
        "lineId": {"type": "string", "minLength": 1},
        "ontReference": {"type": "string", "minLength": 1},
        "specification": {"type": "string", "minLength": 1},
        "specifications": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        },
        "note": {"type": "string"},
    },
}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["roles"],
    "additionalProperties": False,
    "properties": {
        "tenant": {"type": "string", "minLength": 1},
        "otherTenant": {"type": "string", "minLength": 1},
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
                "tenant": {"type": "string", "minLength": 1},
                "supplierOrderReference": {"type": "string", "minLength": 1},
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
            raise RuleSkipped(
                f"needs a {role!r} address ({ROLES.get(role, role)}); add it under roles: in the "
                f"address file (given: {self.source})"
            )
        return found


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
    roles = {
        role: TestAddress(
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
        for role, entry in raw["roles"].items()
    }
    completed = raw.get("completedOrder")
    return AddressBook(
        roles=roles,
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
