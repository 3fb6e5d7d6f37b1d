"""Fault-injection rules as values: what a rule matches and does, and where its budget stands."""

from __future__ import annotations

from dataclasses import dataclass

ANY = "*"


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """What a rule matches and does, as validated from the admin request."""

    method: str = ANY
    path: str = ANY
    tenant: str | None = None
    status: int | None = None
    delay_ms: int = 0
    drop: bool = False
    times: int | None = None
    probability: float = 1.0
    seed: int | None = None
    retry_after: int | None = None
    message: str | None = None

    def matches(self, method: str, path: str, tenant: str | None) -> bool:
        """Whether a call ``method path`` by ``tenant`` is one this rule is about."""
        return (
            self.method in (ANY, method)
            and self.path in (ANY, path)
            and (self.tenant is None or self.tenant == tenant)
        )


@dataclass(frozen=True, slots=True)
class FaultRule:
    """A stored rule: its spec (``seed`` filled in), what is left of ``times``, how often it fired,
    and how many probability draws it has made (its draws are those of ``Random(seed)``, in order)."""

    id: int
    spec: FaultSpec
    remaining: int | None
    hits: int
    draws: int
