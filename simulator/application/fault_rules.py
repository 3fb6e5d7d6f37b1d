"""Use case: fault-injection rules, shared by every worker and replica through storage.

Rules are kept by a :class:`~simulator.application.ports.FaultRuleStore` (the database in a
running simulator). Each process keeps the rule list it last read, keyed by the store's
version, which moves whenever a rule is added, removed or runs out; a call no rule matches
costs no more than the request's one read of the shared state. A call that some rule
matches takes the store's lock, reads the rules' counters afresh and consumes a budget, so
two concurrent calls in two processes never both take the last unit of ``times: 1``.

A rule with a ``probability`` draws from ``random.Random(seed)``, one draw per matching
call, in order across all processes: the n-th matching call gets the n-th draw.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace

from simulator.application.ports import FaultRuleStore, FaultRuleUpdate
from simulator.domain.errors import NotFound
from simulator.domain.faults import FaultRule, FaultSpec


class _Draws:
    """The n-th draw of ``Random(seed)``, remembered so a run of draws costs one each."""

    def __init__(self) -> None:
        self._streams: dict[tuple[int, int], tuple[random.Random, int]] = {}
        self._lock = threading.Lock()

    def nth(self, rule_id: int, seed: int, n: int) -> float:
        with self._lock:
            stream, made = self._streams.get((rule_id, seed), (None, 0))
            if stream is None or made > n:
                stream, made = random.Random(seed), 0
            while made < n:  # the draws other processes made since this one last drew
                stream.random()
                made += 1
            value = stream.random()
            if len(self._streams) > 1000:
                self._streams.clear()
            self._streams[(rule_id, seed)] = (stream, n + 1)
            return value


class FaultRuleSet:
    """The fault rules of one simulator, whichever process asks."""

    def __init__(self, store: FaultRuleStore, version: Callable[[], int]) -> None:
        self._store = store
        self._version = version
        self._seen: tuple[int, list[FaultRule]] | None = None
        self._draws = _Draws()

    def _rules(self) -> list[FaultRule]:
        version = self._version()
        seen = self._seen
        if seen is None or seen[0] != version:
            seen = self._seen = (version, [r for r in self._store.listing() if r.remaining != 0])
        return seen[1]

    def __len__(self) -> int:
        """How many rules may still fire (as of the shared state the request read)."""
        return len(self._rules())

    def add(self, spec: FaultSpec) -> FaultRule:
        """Add a rule after the existing ones (its ``seed`` defaults to its id)."""
        return self._store.add(spec)

    def listing(self) -> list[FaultRule]:
        """Every rule, oldest first."""
        return self._store.listing()

    def remove(self, rule_id: int) -> None:
        """Remove one rule; :class:`NotFound` names the ids there are when it is not one."""
        if not self._store.remove(rule_id):
            ids = ", ".join(str(rule.id) for rule in self._store.listing()) or "none"
            raise NotFound(f"no fault rule {rule_id}; the rules are: {ids}")

    def clear(self) -> int:
        """Remove every rule; returns how many there were."""
        return self._store.clear()

    def take(self, method: str, path: str, tenant: str | None) -> FaultRule | None:
        """The first rule that fires on this call, its budget consumed; ``None`` when none does."""
        candidates = [r.id for r in self._rules() if r.spec.matches(method, path, tenant)]
        if not candidates:
            return None
        with self._store.updating() as update:
            for stored in update.get(candidates):
                if stored.remaining == 0:
                    continue
                rule, spec = stored, stored.spec
                # Drawn only for matching calls, so one rule's sequence does not depend on others.
                if spec.probability < 1.0:
                    drawn = self._draws.nth(rule.id, spec.seed or 0, rule.draws)
                    rule = replace(rule, draws=rule.draws + 1)
                    if drawn >= spec.probability:
                        update.save(rule)
                        continue
                remaining = None if rule.remaining is None else rule.remaining - 1
                fired = replace(rule, remaining=remaining, hits=rule.hits + 1)
                update.save(fired)
                return fired
        return None


class MemoryFaultRules:
    """A :class:`FaultRuleStore` in this process only (for an app built without a database)."""

    def __init__(self) -> None:
        self._rules: dict[int, FaultRule] = {}
        self._next_id = 1
        self._lock = threading.RLock()
        self.version = 0

    def listing(self) -> list[FaultRule]:
        """Every rule, oldest first."""
        with self._lock:
            return list(self._rules.values())

    def add(self, spec: FaultSpec) -> FaultRule:
        """Store a new rule."""
        with self._lock:
            rule_id, self._next_id = self._next_id, self._next_id + 1
            spec = replace(spec, seed=rule_id if spec.seed is None else spec.seed)
            rule = self._rules[rule_id] = FaultRule(rule_id, spec, spec.times, 0, 0)
            self.version += 1
            return rule

    def remove(self, rule_id: int) -> bool:
        """Remove one rule; whether it was there."""
        with self._lock:
            self.version += 1
            return self._rules.pop(rule_id, None) is not None

    def clear(self) -> int:
        """Remove every rule."""
        with self._lock:
            count = len(self._rules)
            self._rules.clear()
            self.version += 1
            return count

    @contextmanager
    def updating(self) -> Iterator[FaultRuleUpdate]:
        """The rules, under the store's lock."""
        with self._lock:
            yield _MemoryUpdate(self)


class _MemoryUpdate:
    def __init__(self, store: MemoryFaultRules) -> None:
        self._store = store

    def get(self, ids: list[int]) -> list[FaultRule]:
        return [self._store._rules[i] for i in ids if i in self._store._rules]

    def save(self, rule: FaultRule) -> None:
        self._store._rules[rule.id] = rule
        if rule.remaining == 0:
            self._store.version += 1
