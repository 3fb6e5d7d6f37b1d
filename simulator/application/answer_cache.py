"""Answers computed once and reused until what they depend on changes.

A key names everything an answer depends on, including the shared version of the data
behind it (``inventory`` for availability, ``capacity`` for slots: see
``simulator.application.shared_state``). A write bumps the version in its own transaction,
so the next request in any process builds a new key and never sees a stale answer; old
keys simply stop being asked for. The cache is bounded: when it is full it starts afresh.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

LIMIT = 20_000


class AnswerCache:
    """A bounded map from keys to answers (safe across threads: single dict operations only)."""

    def __init__(self, limit: int = LIMIT) -> None:
        self._answers: dict[Hashable, Any] = {}
        self._limit = limit

    def get(self, key: Hashable) -> Any:
        """The answer stored under ``key``, or ``None``."""
        return self._answers.get(key)

    def put(self, key: Hashable, answer: Any) -> None:
        """Keep ``answer`` under ``key``."""
        if len(self._answers) >= self._limit:
            self._answers = {}  # a long run over many addresses: start afresh, bounded
        self._answers[key] = answer
