"""Certify a served simulator from a test: one fresh simulator, one KCI port, ``fibresim certify``."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contracts.certification.cli import add_certify_command
from tests.served import free_port, served_simulator


@dataclass(frozen=True)
class ServedForCertification:
    """A simulator on a fresh SQLite file whose KCIs go to ``kci_port``, where certify listens."""

    base: str
    kci_port: int
    folder: Path

    def certify(self, report: str, *extra: str) -> tuple[int, dict[str, Any]]:
        """Run ``fibresim certify supplier`` on the demo addresses; its exit code and JSON report."""
        parser = argparse.ArgumentParser(prog="fibresim")
        add_certify_command(parser.add_subparsers(dest="command", required=True))
        path = self.folder / report
        args = parser.parse_args(
            [
                "certify",
                "supplier",
                self.base,
                "--addresses",
                "simulator-demo",
                "--kci-port",
                str(self.kci_port),
                "--no-progress",
                "--json",
                str(path),
                *extra,
            ]
        )
        code: int = args.run(args)
        return code, json.loads(path.read_text())


@contextmanager
def simulator_for_certification(
    folder: Path, name: str = "s", *serve_args: str
) -> Iterator[ServedForCertification]:
    """Serve a simulator (manual clock) on ``folder/name.sqlite3`` whose KCIs go to a free port."""
    port = free_port()
    simulator = ("--db", str(folder / f"{name}.sqlite3"), "--clock", "manual@2026-07-01T09:00:00Z")
    with served_simulator(*simulator, "--kci-url", f"http://127.0.0.1:{port}", *serve_args) as base:
        yield ServedForCertification(base, port, folder)
