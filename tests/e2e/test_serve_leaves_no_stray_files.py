"""``fibresim serve`` on its defaults writes its database in the current folder and nothing else."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.served import served_simulator


def test_serve_on_its_defaults_leaves_only_its_database_behind(tmp_path: Path) -> None:
    with served_simulator("--clock", "manual", cwd=tmp_path) as base:
        assert httpx.get(f"{base}/_admin/health").status_code == 200
    left = {path.name for path in tmp_path.iterdir()}
    # SQLite may keep its -wal and -shm beside the file, the workers share a -generation
    # number there, and the journal has a -requests file of its own (all git-ignored); nothing
    # else is written.
    assert {"fibresim.sqlite3", "fibresim.sqlite3-requests"} <= left
    assert left <= {
        f"fibresim.sqlite3{companion}"
        for companion in ("", "-wal", "-shm", "-generation", "-requests", "-requests-wal", "-requests-shm")
    }
