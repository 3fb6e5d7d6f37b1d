"""Processes the harness starts and always stops: fibresim, the baselines, and their memory.

Every server listens on 127.0.0.1 on a free port, logs to a temporary file (a pipe nobody
reads would stall it), and is terminated, then killed if it lingers, when its ``with``
block ends, whatever happened inside it.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import IO

import httpx
import psutil

from tests.served import free_port


class ServerUnavailable(RuntimeError):
    """A server could not be started as asked (an option this version lacks, a crash)."""


@dataclass(frozen=True)
class ServerOptions:
    """The server settings every measured server shares in one run."""

    server: str = "granian"
    workers: int | None = None  # None: the server's own default
    threads: int = 8

    def fibresim_args(self) -> list[str]:
        """These settings as ``fibresim serve`` options."""
        args = ["--server", self.server, "--threads", str(self.threads)]
        if self.workers is not None:
            args += ["--workers", str(self.workers)]
        return args

    def describe(self) -> str:
        """One line for the report."""
        workers = "its default worker count" if self.workers is None else f"{self.workers} worker(s)"
        return f"{self.server}, {workers}, {self.threads} threads"


@cache
def serve_help() -> str:
    """``fibresim serve --help``: what this version's server options are."""
    return subprocess.run(
        [sys.executable, "-m", "simulator.cli", "serve", "--help"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout


def unsupported(options: ServerOptions) -> str | None:
    """Why ``fibresim serve`` cannot run with ``options`` in this version, or ``None``."""
    text = serve_help()
    if options.workers is not None and "--workers" not in text:
        return "fibresim serve has no --workers option in this version"
    if options.server not in text:
        return f"fibresim serve does not offer --server {options.server} in this version"
    return None


@dataclass
class Running:
    """A started server: its base URL, its process, and how long it took to answer."""

    base: str
    process: subprocess.Popen[str]
    started_in: float
    log: list[str] = field(default_factory=list)

    def worker_rss_mb(self) -> list[float]:
        """Resident memory of each process that serves requests, in MiB.

        A server with worker processes (gunicorn's arbiter, granian's main process) is
        measured by its children; a server that serves from one process, by that process.
        """
        try:
            root = psutil.Process(self.process.pid)
            children = root.children(recursive=True)
            serving = children or [root]
            return [item.memory_info().rss / 2**20 for item in serving]
        except psutil.Error:
            return []


@contextmanager
def started(command: list[str], ready_path: str, *, timeout: float = 180) -> Iterator[Running]:
    """Run ``command`` (which must listen on the port in ``{port}``) until its ready path answers."""
    port = free_port()
    argv = [part.replace("{port}", str(port)) for part in command]
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile(mode="w+") as log:
        began = time.monotonic()
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, text=True)
        try:
            _wait_until_ready(process, log, base + ready_path, began + timeout)
            yield Running(base, process, time.monotonic() - began)
        finally:
            _stop(process)


def _wait_until_ready(process: subprocess.Popen[str], log: IO[str], url: str, deadline: float) -> None:
    while True:
        if process.poll() is not None:
            log.seek(0)
            lines = [line for line in log.read().splitlines() if line.strip()]
            raise ServerUnavailable(f"exited with {process.returncode}: {' | '.join(lines[-3:])}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise ServerUnavailable(f"{url} did not answer in time")
        time.sleep(0.05)


def _stop(process: subprocess.Popen[str]) -> None:
    """Stop the server and every worker it started, so that the next measurement runs alone."""
    try:
        workers = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        workers = []
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
    _, alive = psutil.wait_procs(workers, timeout=20)
    for worker in alive:  # a worker still busy after its server went: it would skew what follows
        worker.kill()
    psutil.wait_procs(alive, timeout=10)


def fibresim(options: ServerOptions, *args: str, timeout: float = 180) -> AbstractContextManager[Running]:
    """``fibresim serve`` with the shared server settings and ``args``."""
    command = [sys.executable, "-m", "simulator.cli", "serve", "--host", "127.0.0.1", "--port", "{port}"]
    return started([*command, *options.fibresim_args(), *args], "/_admin/health", timeout=timeout)


def baseline(app: str, options: ServerOptions) -> AbstractContextManager[Running]:
    """``benchmarks.baseline_apps`` ``app`` (bare or flask) with the shared server settings."""
    command = [sys.executable, "-m", "benchmarks.baseline_apps", app, "--port", "{port}"]
    command += ["--server", options.server, "--threads", str(options.threads)]
    if options.workers is not None:
        command += ["--workers", str(options.workers)]
    return started(command, "/")
