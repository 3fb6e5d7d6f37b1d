"""Signing in to the dashboard, and CSRF protection of its forms.

A browser cannot send the admin API's bearer token, so when the simulator runs with
``--admin-token`` the dashboard asks for that token once and keeps the sign-in in Flask's
signed session cookie. The cookie holds a fingerprint of the token, not the token: changing
the token signs every browser out. The session key is derived from the simulator's stored
token-signing key (``fibresim_meta``), so every worker of a gunicorn server and every restart
agree on it without another secret to configure; it is never logged.

Every form posts a CSRF token (Flask-WTF's ``CSRFProtect``, checked for the dashboard's
routes only: the Supplier API and the admin API are called by programs with their own
credentials, not by browsers carrying a cookie).
"""

from __future__ import annotations

import hashlib
import hmac

from flask import Flask, Request, Response, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from flask_wtf.csrf import CSRFProtect

CSRF = "fibresim.dashboard_csrf"
SIGNED_IN = "admin"


def session_key(signing_key: str) -> bytes:
    """The dashboard's session key, derived from (and never equal to) the token-signing key."""
    return hmac.new(signing_key.encode(), b"fibresim dashboard sessions", hashlib.sha256).digest()


def token_fingerprint(secret_key: bytes, admin_token: str) -> str:
    """What the session keeps to say "signed in with this token": a keyed hash of it."""
    return hmac.new(secret_key, admin_token.encode(), hashlib.sha256).hexdigest()


class BrowserSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, free for requests that carry no cookie (every API call).

    Flask builds the cookie signer on every request before it looks for the cookie; the
    Supplier API's callers never send one, so they get an empty session straight away and
    nothing is written back unless a handler used it.
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """The browser's session; an empty one, at no cost, when there is no cookie."""
        if "HTTP_COOKIE" not in request.environ:
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Write the session back (nothing to do for one nobody touched)."""
        if session or session.modified or session.accessed:
            super().save_session(app, session, response)


def install_sessions(app: Flask, signing_key: str) -> CSRFProtect:
    """Give ``app`` its session key and a CSRF protector the dashboard calls for its own forms."""
    app.secret_key = session_key(signing_key)
    app.session_interface = BrowserSessions()
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_NAME="fibresim_session",
        # Only the dashboard's forms are checked (it calls protect()); the APIs take no cookies.
        WTF_CSRF_CHECK_DEFAULT=False,
        # A developer keeps the page open all day: a token lives as long as the browser session.
        WTF_CSRF_TIME_LIMIT=None,
    )
    csrf = CSRFProtect(app)
    app.extensions[CSRF] = csrf
    return csrf


def signed_in(app: Flask, admin_token: str | None) -> bool:
    """Whether this browser may use the dashboard (always, when the admin API is open)."""
    if admin_token is None:
        return True
    expected = token_fingerprint(app.secret_key, admin_token)  # type: ignore[arg-type]
    return hmac.compare_digest(str(session.get(SIGNED_IN, "")), expected)


def sign_in(app: Flask, admin_token: str | None, given: str) -> bool:
    """Sign this browser in when ``given`` is the admin token; whether it was."""
    if admin_token is None:
        return True
    if not hmac.compare_digest(given.strip().encode(), admin_token.encode()):
        return False
    session.clear()  # a fresh session (and CSRF token) on sign-in
    session[SIGNED_IN] = token_fingerprint(app.secret_key, admin_token)  # type: ignore[arg-type]
    return True


def sign_out() -> None:
    """Forget this browser's sign-in."""
    session.clear()
