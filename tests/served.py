"""Serve on loopback: a WSGI app on a thread (:func:`serve_wsgi`), or the simulator as a real process."""

from __future__ import annotations

import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import httpx
from werkzeug.serving import make_server

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serve_wsgi(app: WSGIApplication, ssl_context: ssl.SSLContext | None = None) -> Iterator[str]:
    """Serve ``app`` on a free port of 127.0.0.1 from a thread (HTTPS with ``ssl_context``);
    yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=ssl_context)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"{'https' if ssl_context else 'http'}://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextmanager
def served_simulator(
    *args: str, ready_path: str = "/_admin/health", port: int | None = None, cwd: Path | None = None
) -> Iterator[str]:
    """Start ``fibresim serve`` with ``args`` on a loopback port (in ``cwd``); yield its base URL."""
    with served_command("serve", *args, ready_path=ready_path, port=port, cwd=cwd) as base:
        yield base


@contextmanager
def served_command(
    command_name: str, *args: str, ready_path: str, port: int | None = None, cwd: Path | None = None
) -> Iterator[str]:
    """Start ``fibresim <command_name>`` (serve, receiver) on a loopback port; yield its base URL."""
    port = port or free_port()
    command = [
        sys.executable,
        "-m",
        "simulator.cli",
        command_name,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *args,
    ]
    # A file, not a pipe: a pipe nobody reads would fill up and stall the server.
    with tempfile.TemporaryFile(mode="w+") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, text=True, cwd=cwd)
        try:
            yield _wait_until_ready(process, log, f"http://127.0.0.1:{port}", ready_path)
        finally:
            stop(process)


def stop(process: subprocess.Popen[str], grace: float = 10) -> None:
    """Ask ``process`` to exit; kill it if it has not within ``grace`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_for(check: Callable[[], Any], seconds: float = 60) -> Any:
    """Poll ``check`` until it returns something truthy; bounded, then fail."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"nothing arrived within {seconds} seconds")


def _wait_until_ready(process: subprocess.Popen[str], log: IO[str], base: str, ready_path: str) -> str:
    deadline = time.monotonic() + 60  # a busy machine starting several workers
    while True:
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"fibresim exited with {process.returncode}:\n{log.read()}")
        try:
            if httpx.get(base + ready_path, timeout=1).status_code == 200:
                return base
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("the simulator did not answer within 60 seconds")
        time.sleep(0.1)
