"""Same seed, same run: two runs with ``--seed`` against fresh simulators send the same requests.

The simulator's journal (``GET /_admin/journal``) of each run is compared request by request,
in order: method, path, query, tenant and body. Only the ids that must be new on every run
are set aside: gateway ids (derived from the time unless ``--id-base``), request and
conversation ids, and the supplier references and uuids built from them; each is replaced by
the order of its first appearance, so the same id used twice must still be used twice.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.self_certification import simulator_for_certification

pytestmark = pytest.mark.e2e

# Every behaviour and KCI rule, and the generated requests of two operations (all of them would
# overflow the journal's one page of 1000 entries).
PATTERNS = ("AVL-*", "APT-*", "ORD-*", "KCI-*", "CON-GET-/service-availability", "CON-POST-/service-orders")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
LONG_NUMBER = re.compile(r"(?<![0-9])[0-9]{8,10}(?![0-9])")  # gateway ids (ms clock modulo 10^9)
ADDRESS_IDS = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")  # UPRNs: kept, they are the run's choice


class _Renamer:
    """Replaces each new-per-run id by its first-appearance index (``<id 3>``)."""

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}

    def _name(self, match: re.Match[str]) -> str:
        return self.seen.setdefault(match.group(0), f"<id {len(self.seen)}>")

    def __call__(self, text: str) -> str:
        return LONG_NUMBER.sub(self._name, UUID.sub(self._name, text))


def _journal(base: str) -> list[dict[str, Any]]:
    entries = httpx.get(f"{base}/_admin/journal", params={"limit": 1000}, timeout=30).json()
    assert len(entries) < 1000, "the journal was cut; run fewer requests"
    return list(reversed(entries))  # newest first -> in the order sent


def _requests(entries: list[dict[str, Any]]) -> list[str]:
    rename = _Renamer()
    sent = []
    for entry in entries:
        target = f"{entry['method']} {entry['path']}?{entry.get('query') or ''}"
        sent.append(rename(f"{target} [{entry.get('tenant')}] {entry.get('body') or ''}"))
    return sent


def _run(tmp_path: Path, name: str) -> list[str]:
    # One worker: the journal lists one process's requests in the order they arrived; entries
    # of several workers interleave in the order their batches were written.
    with simulator_for_certification(tmp_path, name, "--workers", "1") as served:
        code, document = served.certify(
            f"{name}.json",
            *("--seed", "1234", "--max-examples", "5", "--kci-wait", "15"),
            *(arg for pattern in PATTERNS for arg in ("--only", pattern)),
        )
        assert code == 0, document["skipReasons"]
        return _requests(_journal(served.base))


def test_two_runs_with_the_same_seed_send_the_same_requests_in_the_same_order(tmp_path: Path) -> None:
    first, second = _run(tmp_path, "first"), _run(tmp_path, "second")
    assert len(first) > 50
    differences = [(n, a, b) for n, (a, b) in enumerate(zip(first, second, strict=False)) if a != b]
    for n, a, b in differences[:3]:
        print(f"#{n}\n{a!r}\n{b!r}")
    assert not differences[:3], [n for n, _a, _b in differences]
    assert len(first) == len(second)
