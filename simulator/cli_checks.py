"""Checks of command-line values shared by ``fibresim serve`` and ``fibresim receiver``.

The ``argparse`` number types live in :mod:`contracts.inputs` (the certify command uses them
too). :func:`check_listen` finds out before a server starts whether it could listen, so a
taken port or an unknown host is one line instead of a server's retries and traceback.
"""

from __future__ import annotations

import ipaddress
import socket

from simulator.domain.errors import ConfigurationError


def check_listen(host: str, port: int) -> None:
    """Raise a one-line ``ConfigurationError`` unless a server could listen on ``host:port`` now."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (OSError, UnicodeError) as error:
        raise ConfigurationError(f"cannot listen on {host}:{port}: unknown host ({_why(error)})") from None
    family, kind, protocol, _name, address = found[0]
    with socket.socket(family, kind, protocol) as probe:
        # As the servers do, so a port in TIME_WAIT after a restart is not reported as taken.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            raise ConfigurationError(f"cannot listen on {host}:{port}: {_why(error)}") from None


def _why(error: Exception) -> str:
    return getattr(error, "strerror", None) or str(error) or type(error).__name__


def is_loopback(host: str) -> bool:
    """Whether ``host`` names only this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    if host.lower() in {"localhost", "localhost."}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name that may resolve anywhere: treated as exposed


def check_admin_exposure(host: str, admin_token: str | None) -> None:
    """Refuse to serve the admin API beyond loopback without an admin token.

    The admin API moves the clock, injects faults and resets state: on a reachable address
    it must not be open. On loopback it may be (the quick start).
    """
    if admin_token is None and not is_loopback(host):
        raise ConfigurationError(
            f"--host {host} exposes the admin API: give --admin-token-file, $FIBRESIM_ADMIN_TOKEN or "
            "--admin-token, or listen on 127.0.0.1"
        )
