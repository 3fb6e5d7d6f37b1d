"""Authentication rules (AUT-*): a Supplier API refuses callers without valid credentials.

They run only when the operator gave credentials (capability ``auth``): a target that
accepts a call without them would otherwise be indistinguishable from one that is open by
design. Each rule first makes the same call *with* the operator's credentials, so a target
that refuses everything is not mistaken for one that checks.

Forged tokens are made here with the standard library: a JWT signed with a key the target
never had (its ``exp`` in the past, so it is expired as well as forged), and the operator's own
token with its last characters changed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Iterable, Mapping

import httpx

from contracts.certification.behaviour.support import address_query, expect_error_code
from contracts.certification.errors import NotDecidable, RuleSkipped
from contracts.certification.evidence import Evidence
from contracts.certification.rules import Capability, rule
from contracts.certification.target import Target
from contracts.oauth2 import BearerToken

AUTH = Capability.AUTH
_ANY_ADDRESS = {"id": "100000000001", "type": "UPRN"}


def _address(target: Target) -> Mapping[str, str]:
    place = target.addresses.get("covered") or target.addresses.get("no_coverage")
    return place.address if place is not None else _ANY_ADDRESS


def _call(target: Target, authorization: str | None, note: str, tenant: str | None = None) -> httpx.Response:
    """``GET /service-availability`` with ``authorization``: ``None`` sends the operator's
    credentials, ``""`` no ``Authorization`` header at all."""
    headers = target.headers(tenant=tenant)
    if authorization:
        headers["Authorization"] = authorization
    return target.get(
        "/service-availability",
        params=address_query(_address(target)),
        headers=headers,
        send_auth=authorization is None,
        note=note,
    )


def _control(target: Target) -> None:
    """The same call with the operator's credentials must not be refused, or nothing can be told."""
    response = _call(target, None, "with the operator's credentials (control)")
    if response.status_code in {401, 403}:
        raise NotDecidable(
            f"the call with the credentials given is refused too ({response.status_code}): "
            "check --token / --client-id",
            target.evidence(),
        )


def _refused(target: Target, attempts: Iterable[tuple[str, str]], statuses: set[int]) -> Evidence:
    """After the control call, each ``(what, Authorization)`` attempt must be refused with ``statuses``."""
    _control(target)
    for what, authorization in attempts:
        # A 403 carries no code of its own in the reference (§2.3); the contract asks for NOT_AUTHORISED.
        expect_error_code(
            target, _call(target, authorization, what), statuses, f"a call {what}", code="NOT_AUTHORISED"
        )
    return target.evidence()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forged_jwt(subject: str = "fibresim-certification") -> str:
    """A well-formed HS256 JWT, expired an hour ago, signed with a random key nobody holds."""
    now = int(time.time())
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = _b64(json.dumps({"sub": subject, "iat": now - 7200, "exp": now - 3600}).encode())
    signature = hmac.new(secrets.token_bytes(32), f"{header}.{claims}".encode(), hashlib.sha256).digest()
    return f"{header}.{claims}.{_b64(signature)}"


def tampered(token: str) -> str:
    """``token`` with its last two characters changed (a JWT's signature no longer matches)."""
    ending = "AA" if token[-2:] != "AA" else "BB"
    return token[:-2] + ending


@rule("AUT-001")
def calls_need_credentials(target: Target) -> Evidence:
    """No ``Authorization`` header, then one that is not a credential at all."""
    return _refused(target, (("without Authorization", ""), ("with Authorization: Bearer", "Bearer")), {401})


@rule("AUT-002")
def forged_tokens_are_refused(target: Target) -> Evidence:
    """A JWT signed with another key and expired, and (with a bearer token) the operator's, tampered."""
    attempts = [("with a forged, expired JWT", f"Bearer {forged_jwt()}")]
    auth = target.settings.auth
    if isinstance(auth, BearerToken):
        attempts.append(("with the operator's token tampered", tampered(auth.header)))
    return _refused(target, attempts, {401})


@rule("AUT-003")
def other_tenants_tokens_are_refused(target: Target) -> Evidence:
    """The ``--other-tenant-token`` sent with ``Tenant`` set to the run's tenant."""
    token = target.settings.other_tenant_token
    if not token:
        raise RuleSkipped(
            "needs --other-tenant-token: a bearer token of a client that may not act for the run's tenant"
        )
    what = f"with another tenant's client's token for tenant {target.tenant}"
    return _refused(target, [(what, f"Bearer {token}")], {401, 403})
