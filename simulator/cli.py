"""``fibresim``: serve the simulator, check profiles, and (later) certify APIs."""

from __future__ import annotations

import argparse
import ssl
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from contracts.certification.cli import add_certify_command
from contracts.inputs import (
    InputError,
    SecretOption,
    add_secret_option,
    http_url,
    port_number,
    positive_int,
    read_bounded,
    secret_from,
)
from scenarios import bundled_profiles
from simulator.cli_checks import check_admin_exposure, check_listen
from simulator.domain.errors import ConfigurationError, FibresimError
from simulator.domain.profile import AUTH_MODES
from simulator.receiver_cli import add_receiver_command
from simulator.settings import Settings

if TYPE_CHECKING:
    from simulator.serving import Tls

KCI_CLIENT_SECRET = SecretOption(
    "--kci-client-secret", "FIBRESIM_KCI_CLIENT_SECRET", "client secret for --kci-token-url"
)
KCI_TOKEN = SecretOption(
    "--kci-token", "FIBRESIM_KCI_TOKEN", "a fixed bearer token for KCI delivery", metavar="TOKEN"
)
TOKEN_SIGNING_KEY = SecretOption(
    "--token-signing-key",
    "FIBRESIM_TOKEN_SIGNING_KEY",
    "HS256 key of the access tokens (default: a random key kept in the database)",
    metavar="KEY",
)
ADMIN_TOKEN = SecretOption(
    "--admin-token",
    "FIBRESIM_ADMIN_TOKEN",
    "require Authorization: Bearer TOKEN on /_admin (required when --host is not loopback)",
    metavar="TOKEN",
)
KCI_BASIC = SecretOption(
    "--kci-basic", "FIBRESIM_KCI_BASIC", "Basic auth for KCI delivery", metavar="USER:PASSWORD"
)


def _http_url(value: str | None, flag: str) -> str | None:
    return None if value is None else http_url(value, flag)


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings(
        profile=args.profile,
        database=args.db,
        clock=args.clock,
        clock_horizon=args.clock_horizon,
        max_body_bytes=args.max_body_bytes,
        kci_url=_http_url(args.kci_url, "--kci-url"),
        kci_token_url=_http_url(args.kci_token_url, "--kci-token-url"),
        kci_ca_bundle=args.kci_ca_bundle,
        kci_client_id=args.kci_client_id,
        kci_client_secret=secret_from(lambda name: getattr(args, name), KCI_CLIENT_SECRET),
        kci_bearer_token=secret_from(lambda name: getattr(args, name), KCI_TOKEN),
        kci_basic=secret_from(lambda name: getattr(args, name), KCI_BASIC),
        kci_concurrency=args.kci_concurrency,
        auth=args.auth,
        token_signing_key=secret_from(lambda name: getattr(args, name), TOKEN_SIGNING_KEY),
        admin_token=secret_from(lambda name: getattr(args, name), ADMIN_TOKEN),
        journal=args.journal,
        journal_max_rows=args.journal_max_rows,
    )
    chosen = [s for s in (settings.kci_token_url, settings.kci_bearer_token, settings.kci_basic) if s]
    if len(chosen) > 1:
        raise ConfigurationError("give one KCI authentication: --kci-token-url, --kci-token or --kci-basic")
    if chosen and not settings.kci_url:
        raise ConfigurationError("KCI authentication is set but --kci-url is not: where should KCIs go?")
    if settings.kci_basic is not None and ":" not in settings.kci_basic:
        raise ConfigurationError("--kci-basic: give USER:PASSWORD")
    return settings


def _tls(args: argparse.Namespace, auth: str, profile_ca: str | None) -> Tls | None:
    """The HTTPS settings the options ask for; mutual TLS needs a certificate, a key and a client CA."""
    from simulator.serving import Tls, ssl_context

    client_ca = args.tls_client_ca or (profile_ca if auth == "mtls" else None)
    if auth == "mtls" and not (args.tls_cert and args.tls_key and client_ca):
        raise ConfigurationError(
            "--auth mtls needs --tls-cert, --tls-key and a client CA "
            "(--tls-client-ca or the profile's auth/clientCa)"
        )
    if bool(args.tls_cert) != bool(args.tls_key):
        raise ConfigurationError("give --tls-cert and --tls-key together")
    if not args.tls_cert:
        if client_ca:
            raise ConfigurationError("--tls-client-ca needs --tls-cert and --tls-key")
        return None
    tls = Tls(args.tls_cert, args.tls_key, client_ca)
    # OpenSSL reads a PEM file until it ends: only regular files of bounded size reach it.
    try:
        for flag, path in (("--tls-cert", tls.cert), ("--tls-key", tls.key), ("--tls-client-ca", client_ca)):
            if path is not None:
                read_bounded(Path(path), what=flag)
    except InputError as error:
        raise ConfigurationError(f"cannot use the TLS files: {error}") from None
    try:
        ssl_context(tls)  # a missing or unreadable file is one line now, not a worker's traceback
    except (OSError, ssl.SSLError) as error:
        raise ConfigurationError(
            f"cannot use the TLS files: {getattr(error, 'strerror', None) or error}"
        ) from None
    return tls


def _serve(args: argparse.Namespace) -> int:
    import logging

    from simulator.application.context import Context
    from simulator.background import kci_auth, kci_verify
    from simulator.composition import create_app
    from simulator.domain.clock import clock_from_spec, parse_horizon
    from simulator.profiles import load_profile
    from simulator.storage import Database, shown_database

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from simulator.serving import default_workers, serve

    settings = _settings(args)
    # Check the options, the profile, the clock, the database and the address here, so a
    # mistake is reported plainly before any worker starts; the worker then builds its own
    # app (see simulator.serving).
    kci_auth(settings)
    kci_verify(settings)
    profile = load_profile(settings.profile)
    clock = clock_from_spec(settings.clock, parse_horizon(settings.clock_horizon))
    check_admin_exposure(args.host, settings.admin_token)
    auth = settings.auth or profile.auth.mode
    tls = _tls(args, auth, profile.auth.client_ca)
    check_listen(args.host, args.port)
    database = Database(settings.database)
    try:
        Context.open(profile, database, clock)
    finally:
        database.dispose()
    base = f"{'https' if tls else 'http'}://{_url_host(args.host)}:{args.port}"
    print(
        f"fibresim: {profile.name} on {base} "
        f"(database {shown_database(settings.database)}, clock {settings.clock}, auth {auth}, "
        f"admin API {'token required' if settings.admin_token else 'open'}, server {args.server}, "
        f"{1 if args.server == 'werkzeug' else args.workers or default_workers()} worker(s)); "
        f"dashboard: {base}{settings.admin_prefix.rstrip('/')}/ui/",
        flush=True,
    )
    serve(
        lambda: create_app(settings),
        args.host,
        args.port,
        server=args.server,
        workers=args.workers or default_workers(),
        threads=args.threads,
        tls=tls,
    )
    return 0


def _url_host(host: str) -> str:
    """``host`` as it goes in a URL: an IPv6 address in brackets."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _reset_db(args: argparse.Namespace) -> int:
    from simulator.storage import SCHEMA_VERSION, Database
    from simulator.storage.journal import reset_journal_database

    database = Database(args.db)
    try:
        database.reset_schema()
        reset_journal_database(database)
    finally:
        database.dispose()
    print(f"fibresim: {database.shown}: the simulator's tables are empty, at schema version {SCHEMA_VERSION}")
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


DB_HELP = (
    "SQLite file, ':memory:', or a postgresql://user:password@host/db URL (default: fibresim.sqlite3); "
    "the password is never printed"
)

_DEFAULTS = Settings()


def _add_setting(command: argparse.ArgumentParser, flag: str, text: str, **options: Any) -> None:
    """Add ``flag`` for the setting of its name: its default and the help's are the setting's."""
    default = getattr(_DEFAULTS, flag.removeprefix("--").replace("-", "_"))
    command.add_argument(flag, default=default, help=f"{text} (default: {default})", **options)


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
    serve.add_argument("--port", type=port_number, default=8080, help="port to listen on (default: 8080)")
    _add_setting(serve, "--profile", "bundled profile name or YAML path")
    serve.add_argument("--db", default="fibresim.sqlite3", help=DB_HELP)
    _add_setting(serve, "--clock", "real, manual, manual@2026-07-01T09:00:00Z or accelerated:<factor>")
    _add_setting(serve, "--clock-horizon", "the clock refuses to move past this date or date-time")
    _add_setting(
        serve, "--max-body-bytes", "largest request body accepted; larger ones get 413", type=positive_int
    )
    _add_setting(
        serve,
        "--journal",
        "which Supplier API requests the journal (/_admin/journal) keeps: all, errors (answers "
        "of 400 and above, dropped connections) or off",
        choices=("off", "errors", "all"),
    )
    _add_setting(
        serve,
        "--journal-max-rows",
        "the journal keeps the newest N requests, trimmed as it goes",
        type=positive_int,
    )
    serve.add_argument(
        "--kci-url",
        default=None,
        help="the gateway's Supplier Updates API base URL; KCIs are POSTed to URL/kcis",
    )
    _add_setting(
        serve,
        "--kci-concurrency",
        "KCIs in flight to the gateway at once, each of a different order; one order's KCIs "
        "always go one after another, in sequence",
        type=positive_int,
    )
    serve.add_argument(
        "--kci-token-url", default=None, help="OAuth2 client-credentials token URL for KCI delivery"
    )
    serve.add_argument("--kci-client-id", default=None, help="client id for --kci-token-url")
    serve.add_argument(
        "--kci-ca-bundle",
        metavar="PEM",
        default=None,
        help="check the gateway's HTTPS certificate against this CA bundle (default: the system's CAs)",
    )
    for secret in (KCI_CLIENT_SECRET, KCI_TOKEN, KCI_BASIC):
        add_secret_option(serve.add_argument, secret)
    serve.add_argument(
        "--auth",
        choices=AUTH_MODES,
        default=None,
        help="how Supplier API callers authenticate: none, oauth2 (bearer tokens from POST "
        "/auth/access-token), basic (against the profile's clients) or mtls (a client certificate; "
        "needs --tls-cert/--tls-key) (default: the profile's auth/mode, else none)",
    )
    for secret in (TOKEN_SIGNING_KEY, ADMIN_TOKEN):
        add_secret_option(serve.add_argument, secret)
    serve.add_argument("--tls-cert", metavar="PEM", default=None, help="serve HTTPS with this certificate")
    serve.add_argument("--tls-key", metavar="PEM", default=None, help="the private key of --tls-cert")
    serve.add_argument(
        "--tls-client-ca",
        metavar="PEM",
        default=None,
        help="require client certificates issued by this CA (mutual TLS; --auth mtls takes the "
        "profile's auth/clientCa when this is not given)",
    )
    serve.add_argument(
        "--server",
        choices=["granian", "gunicorn", "werkzeug"],
        default="granian",
        help="granian or gunicorn (worker processes, threads each) or Werkzeug's development server "
        "(one process) (default: granian)",
    )
    serve.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        help="worker processes; they share everything through the database (default: one per CPU)",
    )
    serve.add_argument(
        "--threads", type=positive_int, default=8, help="request threads per worker (default: 8)"
    )
    serve.set_defaults(run=_serve)

    reset = commands.add_parser(
        "reset-db",
        help="drop the simulator's tables and create them empty",
        description="Drop the simulator's tables in a database (whichever fibresim version wrote them; "
        "other tables are left alone) and create them empty at this version's schema. Use it when "
        "'fibresim serve' refuses a database written by another version.",
    )
    reset.add_argument("--db", default="fibresim.sqlite3", help=DB_HELP)
    reset.set_defaults(run=_reset_db)

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
    except (ConfigurationError, FibresimError, InputError) as error:
        # One line, however many problems the error lists (a profile may have several).
        head, *rest = [line.strip() for line in str(error).splitlines() if line.strip()] or ["failed"]
        print(f"fibresim: {head} {'; '.join(rest)}".rstrip(), file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
