"""``fibresim certify supplier`` and ``fibresim certify gateway``.

:func:`add_certify_command` registers both on the ``fibresim`` argparse subparsers; each
sets ``run`` to a function taking the parsed arguments and returning the exit code
(0 certified, 1 a required rule failed, 2 tool error or bad options).

``certify gateway`` takes the gateway's Supplier Updates API (``--kci-url``, for the GW
rules), a fibresim simulator the gateway has been calling (``--simulator``, for the GWI
rules of strict mode), or both.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from contracts.certification.errors import SetupError
from contracts.certification.options import (
    AUTH_OPTIONS,
    RUN_OPTIONS,
    SECRET_ENV,
    SUPPLIER_OPTIONS,
    TOKEN_ENV,
    add_argparse_options,
    auth_from,
    check_urls,
    seed_from,
    supplier_settings,
)
from contracts.certification.rules import Mode
from contracts.inputs import port_or_zero, positive_seconds

__all__ = ["SECRET_ENV", "TOKEN_ENV", "add_certify_command", "run_certify"]


def _common(parser: argparse.ArgumentParser) -> None:
    add_argparse_options(parser.add_argument_group("authentication (default: none)"), AUTH_OPTIONS)
    run = parser.add_argument_group("the run")
    add_argparse_options(run, RUN_OPTIONS)
    run.add_argument(
        "--strict", action="store_true", help="fail the run on skipped rules and advisory failures too"
    )
    run.add_argument("--list", action="store_true", help="list the selected rules and exit")
    run.add_argument(
        "--no-progress", action="store_true", help="no progress bar (it is off when not on a terminal)"
    )
    out = parser.add_argument_group("reports")
    out.add_argument("--junit", type=Path, metavar="PATH", help="write JUnit XML (one testcase per rule)")
    out.add_argument("--json", type=Path, metavar="PATH", help="write the result as JSON, evidence included")
    out.add_argument("--html", type=Path, metavar="PATH", help="write a single-file HTML report")


def add_certify_command(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``certify supplier`` and ``certify gateway`` on ``fibresim``'s subparsers."""
    certify = subparsers.add_parser(
        "certify",
        help="certify a supplier's Supplier API or a gateway's Supplier Updates API",
        description="Run the certification rules against a live API and report a verdict per rule.",
    )
    modes = certify.add_subparsers(dest="certify_mode", required=True, metavar="MODE")
    supplier = modes.add_parser(
        "supplier",
        help="certify a Supplier API (a supplier, or fibresim itself)",
        description="Contract, behaviour and KCI rules against a Supplier API base URL.",
    )
    supplier.add_argument("url", help="base URL of the Supplier API, e.g. http://127.0.0.1:8080")
    add_argparse_options(supplier, SUPPLIER_OPTIONS)
    _common(supplier)
    supplier.set_defaults(run=run_certify, certify_mode="supplier")
    gateway = modes.add_parser(
        "gateway",
        help="certify a gateway: its Supplier Updates API, and (strict mode) its calls to a simulator",
        description="Post valid, malformed, invalid, duplicate and out-of-order KCIs to a gateway "
        "(--kci-url); in strict mode (--simulator), check the calls the gateway made to a fibresim "
        "simulator against the Supplier API contract. Give either or both.",
    )
    gateway.add_argument(
        "--kci-url", help="base URL of the Supplier Updates API; KCIs go to URL/kcis (the GW rules)"
    )
    strict_mode = gateway.add_argument_group("strict mode: the gateway's calls to a simulator (GWI rules)")
    strict_mode.add_argument(
        "--simulator",
        metavar="URL",
        help="base URL of a fibresim simulator the gateway under test has been calling; "
        "its request journal (GET URL/_admin/journal) is checked against the Supplier API contract",
    )
    strict_mode.add_argument(
        "--tenant",
        help="check only the calls made for this tenant (by their Tenant header; calls without one are "
        "left out)",
    )
    strict_mode.add_argument(
        "--since",
        type=_instant,
        metavar="ISO-TIME",
        help="check only the calls that arrived at or after this time on the simulator's clock, "
        "e.g. 2026-07-01T09:00:00Z",
    )
    gateway.add_argument(
        "--order-id",
        type=int,
        action="append",
        default=[],
        metavar="ID",
        help="gateway order id the gateway knows, for the KCIs (repeatable; default: fresh ids)",
    )
    tenant_side = gateway.add_argument_group(
        "the tenant side: observe what the gateway forwards (GW-001, GW-004, GW-005 decide loss, "
        "duplicates and order on it)"
    )
    tenant_side.add_argument(
        "--tenant-updates-port",
        type=port_or_zero,
        metavar="PORT",
        help="play the tenant: serve a Tenant Updates API (POST /kcis) on 127.0.0.1:PORT (0: a free "
        "one, printed) and configure it on the gateway as the tenant's KCI URL",
    )
    tenant_side.add_argument(
        "--tenant-updates-wait",
        type=positive_seconds,
        default=10.0,
        metavar="SECONDS",
        help="how long to wait for a forwarded KCI (default: 10)",
    )
    _common(gateway)
    gateway.set_defaults(run=run_certify, certify_mode="gateway")
    parser: argparse.ArgumentParser = certify
    return parser


def _instant(text: str) -> datetime:
    """``--since``: an ISO-8601 date-time with a UTC offset (the journal's ``since`` needs one)."""
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO-8601 date-time") from None
    if instant.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no UTC offset (add Z or +01:00)")
    return instant


def settings_from(args: argparse.Namespace) -> Any:
    """The run's TargetSettings from the parsed arguments."""
    from contracts.certification.target import TargetSettings

    mode = Mode(args.certify_mode)
    values = vars(args)
    check_urls(values, {"url": "url", "kci_url": "--kci-url", "simulator": "--simulator"})
    if mode is Mode.SUPPLIER:
        return supplier_settings(args.url, values)
    if not (args.kci_url or args.simulator):
        raise SetupError(
            "give --kci-url (the gateway's Supplier Updates API), --simulator (a fibresim simulator "
            "the gateway has been calling, for strict mode), or both"
        )
    derived = f"{args.kci_url.rstrip('/')}/auth/supplier/access-token" if args.kci_url else None
    return TargetSettings(
        base_url=args.kci_url or "",
        mode=mode,
        tenant=args.tenant,
        auth=auth_from(values, derived),
        seed=seed_from(values),
        id_base=args.id_base,
        timeout=args.timeout,
        order_ids=tuple(args.order_id),
        simulator_url=args.simulator,
        since=args.since,
        deadline=args.deadline,
        tenant_updates_wait=args.tenant_updates_wait if args.tenant_updates_port is not None else 0.0,
    )


def run_certify(args: argparse.Namespace) -> int:
    """Run the certification the arguments describe; print, write the reports, return the exit code."""
    from rich.console import Console

    from contracts.certification.reports import console_summary, progress, write_reports
    from contracts.certification.rules import catalogue, select
    from contracts.certification.runner import certify

    console = Console()
    try:
        settings = settings_from(args)
        rules = select(catalogue(settings.mode), args.only)
        if args.list:
            for rule in rules:
                console.print(f"{rule.id}  {rule.title}", highlight=False, markup=False, soft_wrap=True)
            return 0
        if not rules:
            raise SetupError(f"no rule matches {', '.join(args.only)}")
        console.print(f"seed {settings.seed}", highlight=False)
        show = console.is_terminal and not args.no_progress
        with progress(console, len(rules), enabled=show, lines=not args.no_progress) as (
            on_start,
            on_result,
        ):
            result = certify(
                settings,
                patterns=args.only,
                kci_port=getattr(args, "kci_port", 0),
                tenant_port=getattr(args, "tenant_updates_port", None) or 0,
                announce=lambda line: console.print(line, highlight=False, markup=False, soft_wrap=True),
                on_start=on_start,
                on_result=on_result,
            )
        console_summary(result, console, strict=args.strict)
        write_reports(result, junit=args.junit, json_path=args.json, html=args.html, strict=args.strict)
    except SetupError as error:
        print(f"fibresim certify: {error}", file=sys.stderr)
        return 2
    return result.exit_code(args.strict)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m contracts.certification.cli supplier URL …``: the same as ``fibresim certify``."""
    parser = argparse.ArgumentParser(prog="fibresim")
    add_certify_command(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["certify", *(sys.argv[1:] if argv is None else argv)])
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
