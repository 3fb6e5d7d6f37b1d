"""``fibresim``: serve the simulator, check profiles, and (later) certify APIs."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from contracts.certification.cli import add_certify_command
from scenarios import bundled_profiles
from simulator.domain.errors import ConfigurationError, FibresimError
from simulator.receiver_cli import add_receiver_command
from simulator.settings import Settings


def _serve(args: argparse.Namespace) -> int:
    import logging

    from simulator.application.context import Context
    from simulator.domain.clock import clock_from_spec, parse_horizon
    from simulator.http.app import create_app
    from simulator.profiles import load_profile
    from simulator.storage import Database

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from simulator.serving import serve

    settings = Settings(
        profile=args.profile,
        database=args.db,
        clock=args.clock,
        clock_horizon=args.clock_horizon,
        max_body_bytes=args.max_body_bytes,
        kci_url=args.kci_url,
        kci_token_url=args.kci_token_url,
        kci_client_id=args.kci_client_id,
        kci_client_secret=args.kci_client_secret,
        kci_bearer_token=args.kci_token,
        kci_basic=args.kci_basic,
    )
    # Check the profile, the clock and the database here, so a mistake is reported plainly
    # before any worker starts; the worker then builds its own app (see simulator.serving).
    profile = load_profile(settings.profile)
    clock = clock_from_spec(settings.clock, parse_horizon(settings.clock_horizon))
    database = Database(settings.database)
    Context.open(profile, database, clock)
    database.dispose()
    print(
        f"fibresim: {profile.name} on http://{args.host}:{args.port} "
        f"(database {settings.database}, clock {settings.clock})",
        flush=True,
    )
    serve(lambda: create_app(settings), args.host, args.port, server=args.server, threads=args.threads)
    return 0


def _check_profile(args: argparse.Namespace) -> int:
    from simulator.profiles import load_profile

    profile = load_profile(args.profile)
    estate = profile.estate.size if profile.estate else 0
    print(
        f"{args.profile}: {profile.name} ({profile.code}), "
        f"{len(profile.catalogue.specifications)} service specifications, "
        f"{len(profile.sites)} addresses and an estate of {estate}: valid"
    )
    return 0


def _list_profiles(_args: argparse.Namespace) -> int:
    for name in bundled_profiles():
        print(name)
    return 0


_DEFAULTS = Settings()


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def parser() -> argparse.ArgumentParser:
    """The command-line interface, one subcommand per task."""
    top = argparse.ArgumentParser(
        prog="fibresim",
        description="A fake fibre supplier for the Fibre Gateway Supplier API, and its contract tests.",
    )
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        help="run the simulated supplier",
        description="Serve the Supplier API and the admin API (/_admin) of a simulated supplier.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on (default: 8080)")
    serve.add_argument("--profile", default="demo", help="bundled profile name or YAML path (default: demo)")
    serve.add_argument(
        "--db",
        default="fibresim.sqlite3",
        help="SQLite file, ':memory:', or a postgresql:// URL (default: fibresim.sqlite3)",
    )
    serve.add_argument(
        "--clock",
        default="real",
        help="real, manual, manual@2026-07-01T09:00:00Z or accelerated:<factor> (default: real)",
    )
    serve.add_argument(
        "--clock-horizon",
        default=_DEFAULTS.clock_horizon,
        help="the clock refuses to move past this date or date-time (default: 2100-01-01T00:00:00Z)",
    )
    serve.add_argument(
        "--max-body-bytes",
        type=_positive,
        default=_DEFAULTS.max_body_bytes,
        help="largest request body accepted; larger ones get 413 (default: 1048576)",
    )
    serve.add_argument(
        "--kci-url",
        default=None,
        help="the gateway's Supplier Updates API base URL; KCIs are POSTed to URL/kcis",
    )
    serve.add_argument(
        "--kci-token-url", default=None, help="OAuth2 client-credentials token URL for KCI delivery"
    )
    serve.add_argument("--kci-client-id", default=None, help="client id for --kci-token-url")
    serve.add_argument("--kci-client-secret", default=None, help="client secret for --kci-token-url")
    serve.add_argument("--kci-token", default=None, help="a fixed bearer token for KCI delivery")
    serve.add_argument(
        "--kci-basic", default=None, metavar="USER:PASSWORD", help="Basic auth for KCI delivery"
    )
    serve.add_argument(
        "--server",
        choices=["gunicorn", "werkzeug"],
        default="gunicorn",
        help="gunicorn (one process, threads) or Werkzeug's development server (default: gunicorn)",
    )
    serve.add_argument("--threads", type=int, default=8, help="request threads (default: 8)")
    serve.set_defaults(run=_serve)

    check = commands.add_parser(
        "check-profile",
        help="validate a supplier profile",
        description="Load a profile and report every problem in it, each naming its field.",
    )
    check.add_argument("profile", help="bundled profile name or YAML path")
    check.set_defaults(run=_check_profile)

    listing = commands.add_parser("profiles", help="list the bundled supplier profiles")
    listing.set_defaults(run=_list_profiles)

    add_receiver_command(commands)
    add_certify_command(commands)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``fibresim`` console script."""
    args = parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except (ConfigurationError, FibresimError) as error:
        print(f"fibresim: {error}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
