"""Who may call: the token endpoint, bearer and Basic checks, and the admin token.

The Supplier API of a real supplier sits behind OAuth 2.0 client credentials (or Basic, or
mTLS); this module plays that part for the simulator:

* ``POST /auth/access-token`` (:func:`token_blueprint`) issues signed JWTs (HS256) to the
  profile's clients. Lifetimes follow the *simulator's* clock, so advancing the clock through
  the admin API expires tokens as it expires reservations.
* :func:`install_api_auth` checks every Supplier API call: ``oauth2`` wants a live token,
  ``basic`` a client's id and secret; a client restricted to some tenants gets 403 for a
  ``Tenant`` outside them.
* :func:`install_admin_token` guards ``/_admin`` with one fixed bearer token.

Every refusal is the API's error body (``NOT_AUTHORISED``) and never quotes a credential.
Errors of the token endpoint itself follow RFC 6749 section 5.2 (``{"error": ...}``).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import jwt
from flask import Blueprint, Flask, Response, jsonify, request
from flask.typing import ResponseReturnValue

from simulator.domain.clock import Clock
from simulator.domain.profile import ApiClient, AuthPolicy
from simulator.http.errors import error_response

TOKEN_PATH = "/auth/access-token"  # noqa: S105 - a path, not a password
ALGORITHM = "HS256"
REALM = "fibresim"
#: Verified tokens remembered per issuer (a load test's clients hold a handful at a time).
VERIFIED_KEPT = 4096


def new_signing_key() -> str:
    """A fresh random HS256 key (256 bits, URL-safe text)."""
    return secrets.token_urlsafe(32)


class InvalidToken(Exception):
    """A bearer token that is malformed, wrongly signed, for someone else, or expired."""


@dataclass(frozen=True)
class TokenIssuer:
    """Issues and verifies access tokens signed with ``key``, timed by ``clock``."""

    key: str = field(repr=False)
    clock: Clock
    lifetime_seconds: int = 3600
    audience: str = "fibresim-supplier-api"
    # Tokens whose signature checked out: token -> (client id, expiry).
    _verified: dict[str, tuple[str, int | float]] = field(default_factory=dict, repr=False, compare=False)

    def issue(self, client_id: str) -> str:
        """A token for ``client_id``, valid for ``lifetime_seconds`` of simulator time."""
        now = self.clock.now()
        claims = {
            "sub": client_id,
            "aud": self.audience,
            "iat": int(now.timestamp()),
            "exp": int((now + timedelta(seconds=self.lifetime_seconds)).timestamp()),
            "jti": str(uuid.uuid4()),
        }
        return jwt.encode(claims, self.key, algorithm=ALGORITHM)

    def verify(self, token: str) -> str:
        """The client id ``token`` was issued to; :class:`InvalidToken` saying why otherwise."""
        claims = self._verified.get(token)
        if claims is None:
            claims = self._decoded(token)
            if len(self._verified) >= VERIFIED_KEPT:
                self._verified.clear()
            self._verified[token] = claims
        client_id, expires = claims
        if self.clock.now().timestamp() >= expires:
            raise InvalidToken("the access token has expired")
        return client_id

    def _decoded(self, token: str) -> tuple[str, int | float]:
        """``(sub, exp)`` of a token signed with our key; checking a signature is most of a
        call's cost, so :meth:`verify` does it once per token and checks expiry every time."""
        try:
            # PyJWT would judge expiry by the wall clock; the simulator's clock decides instead.
            claims = jwt.decode(
                token,
                self.key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                options={"require": ["exp", "sub", "aud"], "verify_exp": False, "verify_iat": False},
            )
        except jwt.InvalidSignatureError:
            raise InvalidToken("the access token's signature is not ours") from None
        except jwt.InvalidTokenError:
            raise InvalidToken("the access token is malformed or not for this API") from None
        expires = claims["exp"]
        if not isinstance(expires, int | float):
            raise InvalidToken("the access token has expired")
        return str(claims["sub"]), expires


def check_secret(client: ApiClient | None, secret: str | None) -> bool:
    """Whether ``secret`` is ``client``'s, compared in constant time."""
    if client is None or secret is None:
        return False
    return hmac.compare_digest(client.secret.encode(), secret.encode())


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    response = jsonify(error=error, error_description=description)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    """``(id, secret)`` from ``Authorization: Basic …``; ``None`` when the header is not Basic."""
    scheme, _, value = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ("", "")  # Basic, but unreadable: no client has an empty id
    client_id, _, secret = decoded.partition(":")
    return client_id, secret


class _TokenRefusal(Exception):
    """A token request refused with an RFC 6749 error body."""

    def __init__(self, error: str, description: str, *, basic: bool = False) -> None:
        super().__init__(description)
        self.response = _oauth_error(error, description, 401 if basic and error == "invalid_client" else 400)
        if basic and error == "invalid_client":
            # RFC 6749 5.2: a client that used Basic gets 401 and the scheme to retry with.
            self.response.headers["WWW-Authenticate"] = f'Basic realm="{REALM}"'


def _requesting_client(policy: AuthPolicy) -> str:
    """The id of the client the current token request authenticates; ``_TokenRefusal`` if none."""
    if request.mimetype != "application/x-www-form-urlencoded":
        raise _TokenRefusal("invalid_request", "send the form as application/x-www-form-urlencoded")
    form = request.form
    grant = form.get("grant_type")
    if not grant:
        raise _TokenRefusal("invalid_request", "grant_type is required")
    if grant != "client_credentials":
        raise _TokenRefusal("unsupported_grant_type", "only grant_type client_credentials is supported")
    basic = _basic_credentials(request.headers.get("Authorization"))
    if basic is not None and ("client_secret" in form or "client_id" in form):
        raise _TokenRefusal("invalid_request", "give the client's credentials once: Basic or form")
    client_id, secret = basic if basic is not None else (form.get("client_id"), form.get("client_secret"))
    if not client_id or not secret:
        raise _TokenRefusal("invalid_client", "client authentication is required", basic=basic is not None)
    if not check_secret(policy.client(client_id), secret):
        raise _TokenRefusal("invalid_client", "unknown client or wrong secret", basic=basic is not None)
    return client_id


def token_endpoint(
    policy: Callable[[], AuthPolicy], issuer: Callable[[], TokenIssuer]
) -> Callable[[], ResponseReturnValue]:
    """The view of an OAuth 2.0 client-credentials token endpoint (RFC 6749 section 4.4)."""

    def access_token() -> ResponseReturnValue:
        try:
            client_id = _requesting_client(policy())
        except _TokenRefusal as refusal:
            return refusal.response
        token_issuer = issuer()
        response = jsonify(
            access_token=token_issuer.issue(client_id),
            expires_in=token_issuer.lifetime_seconds,
            token_type="Bearer",  # noqa: S106 - the OAuth token type, not a secret
        )
        response.headers["Cache-Control"] = "no-store"
        return response

    return access_token


def token_blueprint(policy: Callable[[], AuthPolicy], issuer: Callable[[], TokenIssuer]) -> Blueprint:
    """``POST /auth/access-token``, the simulator's token endpoint."""
    blueprint = Blueprint("auth", __name__)
    blueprint.add_url_rule(TOKEN_PATH, "access_token", token_endpoint(policy, issuer), methods=["POST"])
    return blueprint


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a Supplier API call may not proceed: answered with the API's error body."""

    status: int
    message: str
    challenge: str | None = None

    def response(self) -> Response:
        """The refusal as the API answers it."""
        response = error_response(self.status, "NOT_AUTHORISED", [self.message])
        if self.challenge is not None:
            response.headers["WWW-Authenticate"] = self.challenge
        return response


def _basic_caller(policy: AuthPolicy, header: str | None) -> ApiClient | Refusal:
    challenge = f'Basic realm="{REALM}"'
    basic = _basic_credentials(header)
    if basic is None:
        return Refusal(401, "credentials missing: send Authorization: Basic <client id:secret>", challenge)
    client = policy.client(basic[0])
    if client is None or not check_secret(client, basic[1]):
        return Refusal(401, "unknown client or wrong secret", challenge)
    return client


def _bearer_caller(policy: AuthPolicy, issuer: TokenIssuer, header: str | None) -> ApiClient | Refusal:
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return Refusal(
            401,
            f"access token missing: send Authorization: Bearer <token from POST {TOKEN_PATH}>",
            f'Bearer realm="{REALM}"',
        )
    invalid = f'Bearer realm="{REALM}", error="invalid_token"'
    try:
        client = policy.client(issuer.verify(token.strip()))
    except InvalidToken as error:
        return Refusal(401, str(error), invalid)
    if client is None:  # a client the profile no longer declares
        return Refusal(401, "the access token's client is not known", invalid)
    return client


def refusal(
    policy: AuthPolicy, issuer: TokenIssuer, authorization: str | None, tenant: str | None
) -> Refusal | None:
    """``None`` when a call with these ``Authorization`` and ``Tenant`` headers may proceed
    under ``policy``, else why not."""
    if policy.mode in {"none", "mtls"}:
        return None  # mtls: the TLS handshake already refused a client without a trusted certificate
    caller = (
        _basic_caller(policy, authorization)
        if policy.mode == "basic"
        else _bearer_caller(policy, issuer, authorization)
    )
    if isinstance(caller, Refusal):
        return caller
    if not caller.may_act_for(tenant):
        return Refusal(403, f"client {caller.id!r} may not act for tenant {tenant!r}")
    return None


def authorise_call(policy: AuthPolicy, issuer: TokenIssuer) -> Response | None:
    """``None`` when the current request may proceed under ``policy``, else the refusal."""
    found = refusal(policy, issuer, request.headers.get("Authorization"), request.headers.get("Tenant"))
    return None if found is None else found.response()


def install_api_auth(
    app: Flask, blueprint_name: str, policy: Callable[[], AuthPolicy], issuer: Callable[[], TokenIssuer]
) -> None:
    """Check every request to ``blueprint_name``'s routes against ``policy``."""

    @app.before_request
    def _authorise() -> Response | None:
        if request.blueprint != blueprint_name:
            return None
        return authorise_call(policy(), issuer())


def install_admin_token(app: Flask, blueprint_name: str, token: str) -> None:
    """Require ``Authorization: Bearer <token>`` on every route of ``blueprint_name``."""
    expected = token.encode()

    @app.before_request
    def _admin_only() -> Response | None:
        if request.blueprint != blueprint_name:
            return None
        scheme, _, given = (request.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected):
            return None
        return Refusal(
            401,
            "the admin API wants Authorization: Bearer <the admin token given at start>",
            f'Bearer realm="{REALM}-admin"',
        ).response()
