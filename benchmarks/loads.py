"""wrk runs: one bounded run against one URL, its figures parsed from wrk_report.lua's JSON line."""

from __future__ import annotations

import json
import shlex
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent
REPORT = HERE / "wrk_report.lua"
BODIES = HERE / "wrk_bodies.lua"


@dataclass(frozen=True)
class Load:
    """How hard and how long wrk drives a server (the same for every run of one harness run)."""

    seconds: int = 10
    connections: int = 16
    threads: int = 1


@dataclass(frozen=True)
class Figures:
    """What wrk measured for one endpoint."""

    name: str
    rate: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    requests: int
    errors: int
    non2xx: int

    @property
    def failed(self) -> int:
        """Requests that got no answer, or an answer other than 2xx/3xx."""
        return self.errors + self.non2xx


#: Every wrk command run, in order, as a shell line (the report states them).
COMMANDS: list[str] = []


@contextmanager
def _script(bodies: Path | None) -> Iterator[Path]:
    """A Lua script: the report alone, or the body generator followed by the report."""
    if bodies is None:
        yield REPORT
        return
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(BODIES.read_text() + "\n" + REPORT.read_text())
    path = Path(handle.name)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def wrk(
    name: str,
    url: str,
    load: Load,
    headers: dict[str, str] | None = None,
    *,
    varied: tuple[str, str, Path, int] | None = None,
    seconds: int | None = None,
    connections: int | None = None,
) -> Figures:
    """Drive ``url`` with wrk for ``seconds`` (default ``load.seconds``); parse its figures.

    ``varied`` is ``(method, path, lines file, first id)``: each request is then a distinct
    one made by ``wrk_bodies.lua`` (a POST body, or a GET path, per line) instead of ``url``.
    """
    duration = seconds or load.seconds
    clients = connections or load.connections
    command = ["wrk", f"-t{load.threads}", f"-c{clients}", f"-d{duration}s", "--timeout", "5s"]
    for key, value in (headers or {}).items():
        command += ["-H", f"{key}: {value}"]
    arguments = [] if varied is None else ["--", varied[0], varied[1], str(varied[2]), str(varied[3])]
    # As stated in the report: the generated lines file by its name, the script by its sources.
    scripts = "benchmarks/wrk_report.lua" if varied is None else "benchmarks/wrk_bodies.lua+wrk_report.lua"
    # A credential is stated masked: the report is meant to be pasted into documents.
    stated = [part if not part.startswith("Authorization:") else "Authorization: ***" for part in command]
    stated = [*stated, "-s", scripts, url, *arguments]
    if varied is not None:
        stated[-2] = varied[2].name
    COMMANDS.append(f"{name}: {shlex.join(stated)}")
    with _script(varied[2] if varied else None) as script:
        full = [*command, "-s", str(script), url, *arguments]
        output = subprocess.run(full, capture_output=True, text=True, check=True, timeout=duration + 60)
    line = next(row for row in output.stdout.splitlines() if row.startswith("{"))
    raw = json.loads(line)
    seconds_run = raw["duration_us"] / 1e6
    return Figures(
        name,
        raw["requests"] / seconds_run,
        raw["p50_us"] / 1000,
        raw["p99_us"] / 1000,
        raw["max_us"] / 1000,
        raw["requests"],
        raw["errors"],
        raw["non2xx"],
    )


def combined(name: str, parts: list[Figures]) -> Figures:
    """Concurrent runs against several replicas as one: rates and counts add up, latencies
    are the worst of the parts (wrk reports no merged histogram)."""
    return Figures(
        name,
        sum(part.rate for part in parts),
        max(part.p50_ms for part in parts),
        max(part.p99_ms for part in parts),
        max(part.max_ms for part in parts),
        sum(part.requests for part in parts),
        sum(part.errors for part in parts),
        sum(part.non2xx for part in parts),
    )
