"""The certification options, declared once for the CLI and the pytest plugin.

Each :class:`Option` is one declaration; :func:`add_argparse_options` registers it as
``--name`` on ``fibresim certify``, :func:`add_pytest_options` as ``--fibresim-name`` on
pytest, with the same type, default and help. :func:`supplier_settings` turns the parsed
values (by ``dest``) into the run's :class:`~contracts.certification.target.TargetSettings`,
so both entry points certify a supplier the same way: the same authentication (a bearer token
or client credentials), tenant, address file, capabilities, seed (random and printed unless
given) and KCI wait and port.
"""

from __future__ import annotations

import argparse
import os
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from contracts.certification.errors import SetupError
from contracts.certification.rules import Capability, Mode
from contracts.inputs import (
    InputError,
    SecretOption,
    http_url,
    non_negative_seconds,
    port_or_zero,
    positive_int,
    positive_seconds,
    secret_from,
)
from contracts.oauth2 import BearerToken, ClientCredentials, NoAuth

if TYPE_CHECKING:  # the CLI does not load pytest
    import pytest

__all__ = [
    "AUTH_OPTIONS",
    "RUN_OPTIONS",
    "SECRET_ENV",
    "SUPPLIER_OPTIONS",
    "TOKEN_ENV",
    "Option",
    "add_argparse_options",
    "add_pytest_options",
    "auth_from",
    "seed_from",
    "supplier_settings",
]

TOKEN_ENV = "FIBRESIM_CERTIFY_TOKEN"  # noqa: S105 - the name of a variable, not a secret
SECRET_ENV = "FIBRESIM_CERTIFY_CLIENT_SECRET"  # noqa: S105 - the name of a variable, not a secret


@dataclass(frozen=True, slots=True)
class Option:
    """One option: ``--name`` on the CLI, ``--fibresim-name`` on pytest."""

    name: str
    help: str
    type: Callable[[str], Any] | None = None
    default: Any = None
    action: str | None = None
    """``append`` (repeatable) or ``store_true``; ``None`` takes one value."""
    metavar: str | None = None
    env: str | None = None
    """An environment variable that supplies the default (read when the options are registered)."""

    @property
    def dest(self) -> str:
        """The attribute the value lands in: ``kci-wait`` -> ``kci_wait``."""
        return self.name.replace("-", "_")

    def keywords(self) -> dict[str, Any]:
        """The ``add_argument`` / ``addoption`` keywords, the same for both."""
        default = os.environ.get(self.env, self.default) if self.env else self.default
        help_text = f"{self.help} (default: ${self.env})" if self.env else self.help
        keywords: dict[str, Any] = {"help": help_text, "default": [] if self.action == "append" else default}
        if self.action:
            keywords["action"] = self.action
        if self.type is not None:
            keywords["type"] = self.type
        if self.metavar and self.action != "store_true":
            keywords["metavar"] = self.metavar
        return keywords


TOKEN = SecretOption("--token", TOKEN_ENV, "send Authorization: Bearer TOKEN", metavar="TOKEN")
CLIENT_SECRET = SecretOption("--client-secret", SECRET_ENV, "client secret for the client-credentials grant")
OTHER_TENANT_TOKEN = SecretOption(
    "--other-tenant-token",
    "FIBRESIM_CERTIFY_OTHER_TENANT_TOKEN",
    "a bearer token of a client that may not act for --tenant (checks that the target refuses it)",
    metavar="TOKEN",
)


def _secret_options(secret: SecretOption) -> tuple[Option, Option]:
    """A secret as an option and its ``-file`` twin; ``$ENV`` is read by ``secret_from``."""
    name = secret.flag.lstrip("-")
    return (
        Option(
            name,
            f"{secret.help}; visible to other users in ps, so prefer {secret.file_flag} or ${secret.env}",
            metavar=secret.metavar,
        ),
        Option(
            f"{name}-file",
            f"read {secret.flag} from a file (its content, without the trailing newline)",
            metavar="PATH",
        ),
    )


AUTH_OPTIONS = (
    *_secret_options(TOKEN),
    Option("token-url", "OAuth 2.0 token endpoint for the client-credentials grant", metavar="URL"),
    Option("client-id", "client id for the client-credentials grant"),
    *_secret_options(CLIENT_SECRET),
    Option("scope", "scope to ask the token endpoint for"),
    *_secret_options(OTHER_TENANT_TOKEN),
)
"""How to authenticate to the target (default: no credentials)."""

RUN_OPTIONS = (
    Option(
        "only",
        "run only the rules whose id matches (shell pattern, e.g. 'AVL-*'; repeatable)",
        action="append",
        metavar="PATTERN",
    ),
    Option("seed", "seed for every random choice (default: random, printed)", type=int),
    Option(
        "id-base", "first gateway id to use (default: derived from the time, so reruns never clash)", type=int
    ),
    Option("timeout", "seconds per request (default: 10)", type=positive_seconds, default=10.0),
    Option(
        "deadline",
        "longest the whole run may take; past it the rest is not run and the exit code is 2 (default: none)",
        type=non_negative_seconds,
        default=0.0,
        metavar="SECONDS",
    ),
)
"""What any run takes."""

SUPPLIER_OPTIONS = (
    Option("tenant", "tenant code to send (default: the address file's, else TENANT1)"),
    Option(
        "addresses", "test addresses by role: a YAML file or a bundled name (simulator-demo)", metavar="FILE"
    ),
    Option(
        "capability",
        "declare what the target offers instead of discovering it "
        f"({', '.join(c.value for c in Capability)}, all; repeatable)",
        action="append",
        metavar="NAME",
    ),
    Option(
        "max-examples",
        "generated requests per operation in the fuzzing phase (default: 20)",
        type=positive_int,
        default=20,
    ),
    Option(
        "max-wait",
        "seconds a rule may wait in real time, e.g. for a reservation to expire (default: 0)",
        type=non_negative_seconds,
        default=0.0,
    ),
    Option(
        "kci-wait",
        "seconds to wait for the supplier's KCIs after the order rules; 0 skips them",
        type=non_negative_seconds,
        default=0.0,
    ),
    Option(
        "no-kcis",
        "the supplier sends no KCIs: the KCI rules are not run and the report says "
        "'not certified for kcis' (without it, a supplier taking orders owes KCIs)",
        action="store_true",
    ),
    Option(
        "kci-port",
        "port of the KCI receiver on 127.0.0.1 (default: a free one, printed)",
        type=port_or_zero,
        default=0,
    ),
)
"""What certifying a supplier takes, besides authentication and the run options."""


def add_argparse_options(group: argparse._ActionsContainer, options: Iterable[Option]) -> None:
    """Register ``options`` as ``--name`` on an argparse parser or argument group."""
    for option in options:
        group.add_argument(f"--{option.name}", dest=option.dest, **option.keywords())


def add_pytest_options(group: pytest.OptionGroup, options: Iterable[Option]) -> None:
    """Register ``options`` as ``--fibresim-name`` on a pytest option group."""
    for option in options:
        group.addoption(f"--fibresim-{option.name}", dest=f"fibresim_{option.dest}", **option.keywords())


def seed_from(values: Mapping[str, Any]) -> int:
    """The given seed, else a random one (which the caller prints, so the run can be repeated)."""
    seed = values.get("seed")
    return int(seed) if seed is not None else random.SystemRandom().randrange(2**31)


def auth_from(values: Mapping[str, Any], derived_token_url: str | None = None) -> Any:
    """The credentials the options describe: a bearer token, client credentials, or none.

    ``derived_token_url`` stands in for ``--token-url`` when it is not given (gateway mode
    derives it from the gateway's URL).
    """
    try:
        token = secret_from(values.get, TOKEN)
        client_secret = secret_from(values.get, CLIENT_SECRET)
        if values.get("token_url"):
            http_url(values["token_url"], "--token-url")
    except InputError as error:
        raise SetupError(str(error)) from None
    if token:
        return BearerToken(token)
    if values.get("client_id") or values.get("token_url"):
        token_url = values.get("token_url") or derived_token_url
        if not (values.get("client_id") and client_secret and token_url):
            raise SetupError("client credentials need --client-id, --client-secret and --token-url")
        return ClientCredentials(token_url, values["client_id"], client_secret, values.get("scope"))
    return NoAuth()


def check_urls(values: Mapping[str, Any], names: Mapping[str, str]) -> None:
    """Refuse a URL option that is not an http(s) URL with a host, naming the option."""
    for dest, flag in names.items():
        if values.get(dest):
            try:
                http_url(values[dest], flag)
            except InputError as error:
                raise SetupError(str(error)) from None


def supplier_settings(base_url: str, values: Mapping[str, Any]) -> Any:
    """The TargetSettings of a supplier run, from the option values by ``dest``."""
    from contracts.certification.addresses import load_address_book
    from contracts.certification.target import TargetSettings, parse_capabilities

    capabilities = values.get("capability") or []
    try:
        other_tenant_token = secret_from(values.get, OTHER_TENANT_TOKEN)
    except InputError as error:
        raise SetupError(str(error)) from None
    return TargetSettings(
        base_url=base_url,
        mode=Mode.SUPPLIER,
        tenant=values.get("tenant"),
        auth=auth_from(values),
        addresses=load_address_book(values.get("addresses")),
        capabilities=parse_capabilities(capabilities) if capabilities else None,
        seed=seed_from(values),
        id_base=values.get("id_base"),
        timeout=values.get("timeout", 10.0),
        max_examples=values.get("max_examples", 20),
        max_wait=values.get("max_wait", 0.0),
        kci_wait=values.get("kci_wait", 0.0),
        deadline=values.get("deadline", 0.0),
        sends_kcis=not values.get("no_kcis", False),
        other_tenant_token=other_tenant_token,
    )
