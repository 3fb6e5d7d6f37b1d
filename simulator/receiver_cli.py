"""``fibresim receiver``: a local stand-in for the gateway's Supplier Updates API.

It serves :func:`simulator.receiver.create_receiver_app` and prints one line per
``POST /kcis``: when, the answer, the order, the sequence number, the reason code and the
order's status (plus ``duplicate`` and any stream notes). ``python -m
simulator.receiver_cli --port 9090`` runs it without the ``fibresim`` entry point.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from contracts.inputs import (
    InputError,
    SecretOption,
    add_secret_option,
    http_url,
    non_negative_int,
    port_number,
    positive_int,
    secret_from,
)
from simulator.cli_checks import check_listen
from simulator.domain.errors import ConfigurationError

if TYPE_CHECKING:
    from rich.text import Text

    from simulator.receiver import ReceivedRequest

_ORDER_ENTITIES = ("provideServiceOrder", "modifyServiceOrder", "ceaseServiceOrder")

CLIENT_SECRET = SecretOption(
    "--client-secret",
    "FIBRESIM_RECEIVER_CLIENT_SECRET",
    "client secret the token endpoint accepts (default: supplier-client-secret)",
)


def add_receiver_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``receiver`` on the ``fibresim`` command line (``subparsers`` of the top parser)."""
    command = subparsers.add_parser(
        "receiver",
        help="receive KCIs as the gateway's Supplier Updates API would",
        description=(
            "Serve POST /kcis (validated against the contract) and the token endpoint, print each "
            "KCI as it arrives, and offer /_receiver to list KCIs and inject failures."
        ),
    )
    command.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    command.add_argument("--port", type=port_number, default=9090, help="port to listen on (default: 9090)")
    command.add_argument(
        "--require-token",
        action="store_true",
        help="refuse KCIs without a bearer token from POST /auth/supplier/access-token",
    )
    command.add_argument(
        "--fail-first",
        type=non_negative_int,
        default=0,
        metavar="N",
        help="answer the first N KCIs with 503 (default: 0)",
    )
    command.add_argument(
        "--client-id", default="supplier-client-id", help="client id the token endpoint accepts"
    )
    add_secret_option(command.add_argument, CLIENT_SECRET)
    command.add_argument(
        "--token-ttl",
        type=positive_int,
        default=3600,
        metavar="SECONDS",
        help="token lifetime (default: 3600)",
    )
    command.add_argument(
        "--tenant-updates-url",
        type=_url,
        metavar="URL",
        help="forward each order's KCIs, in sequence and once each, to this Tenant Updates API "
        "(URL/kcis), as a gateway does; `fibresim certify gateway --tenant-updates-port` listens there",
    )
    command.add_argument("--tls-cert", metavar="PEM", default=None, help="serve HTTPS with this certificate")
    command.add_argument("--tls-key", metavar="PEM", default=None, help="the private key of --tls-cert")
    command.add_argument(
        "--server",
        choices=["werkzeug", "gunicorn"],
        default="werkzeug",
        help="Werkzeug's server (no extra install) or gunicorn (default: werkzeug)",
    )
    command.set_defaults(run=_run)


def _url(text: str) -> str:
    try:
        return http_url(text, "--tenant-updates-url").rstrip("/")
    except InputError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from simulator.receiver import ReceiverSettings, create_receiver_app
    from simulator.serving import Tls, serve

    console = Console(highlight=False, soft_wrap=True)  # one line per KCI, however long
    secret = secret_from(lambda name: getattr(args, name), CLIENT_SECRET)
    settings = ReceiverSettings(
        require_token=args.require_token,
        client_id=args.client_id,
        token_ttl_seconds=args.token_ttl,
        fail_first=args.fail_first,
        tenant_updates_url=args.tenant_updates_url,
    )
    if secret is not None:
        settings = replace(settings, client_secret=secret)
    if bool(args.tls_cert) != bool(args.tls_key):
        raise ConfigurationError("give --tls-cert and --tls-key together")
    tls = Tls(args.tls_cert, args.tls_key) if args.tls_cert and args.tls_key else None
    check_listen(args.host, args.port)
    app = create_receiver_app(settings, on_request=lambda entry: console.print(describe(entry)))
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # our own line per KCI replaces its access log
    token = "bearer token required" if settings.require_token else "no token required"
    console.print(
        f"fibresim receiver: Supplier Updates API on {'https' if tls else 'http'}://{args.host}:{args.port}"
        f"/kcis ({token}; "
        f"failures injected: {settings.fail_first}; admin on {settings.admin_prefix})"
        + (f"; forwarding to the tenant at {args.tenant_updates_url}/kcis" if args.tenant_updates_url else "")
    )
    # In-memory state; the forwarder's thread starts on first use, in the serving process.
    serve(lambda: app, args.host, args.port, server=args.server, tls=tls)
    return 0


def describe(entry: ReceivedRequest) -> Text:
    """One line about one ``POST /kcis``: the answer, and for an accepted KCI what it says."""
    from rich.text import Text

    line = Text(entry.at.strftime("%H:%M:%S "))
    line.append(str(entry.status), style="green" if entry.status < 300 else "red")
    kci = entry.kci
    if kci is None:
        line.append("  " + "; ".join(entry.messages))
        return line
    line.append(f"  order {_order_label(kci.body, kci.order_key)}  #{kci.sequence_number}  ")
    line.append(kci.reason_code, style="bold")
    line.append(f"  {kci.order_status or '-'}")
    if kci.duplicate:
        line.append("  duplicate", style="yellow")
    for note in kci.notes:
        line.append(f"  ({note})", style="yellow")
    return line


def _order_label(body: dict[str, object], key: str) -> str:
    entity = next((body[name] for name in _ORDER_ENTITIES if isinstance(body.get(name), dict)), {})
    reference = entity.get("supplierOrderReference") if isinstance(entity, dict) else None
    return key if reference in {None, key} else f"{key}/{reference}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the receiver without the ``fibresim`` entry point: ``python -m simulator.receiver_cli``."""
    top = argparse.ArgumentParser(prog="python -m simulator.receiver_cli")
    commands = top.add_subparsers(dest="command", required=True)
    add_receiver_command(commands)
    args = top.parse_args(["receiver", *(sys.argv[1:] if argv is None else argv)])
    try:
        code: int = args.run(args)
    except (ConfigurationError, InputError) as error:
        print(f"fibresim receiver: {error}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
