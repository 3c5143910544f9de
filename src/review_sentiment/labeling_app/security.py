"""The labeling app's defences, kept apart from its pages: Host check, signed SameSite session,
per-session CSRF token, and a Content-Security-Policy that only runs the page's nonce'd script.

The app has no login, so these are what stop another site (or a DNS-rebinding page) from labeling
in someone's name.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import Response
from starlette.middleware.sessions import SessionMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

SESSION_COOKIE = "labeling_session"


def protect(app: FastAPI, *, secret_key: str, allowed_hosts: Sequence[str]) -> None:
    """Adds the security headers, the session cookie and the Host check to `app`; call last."""

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        request.state.nonce = secrets.token_urlsafe(16)
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = (
            f"default-src 'none'; script-src 'nonce-{request.state.nonce}'; style-src 'self'; "
            "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    # Added last = outermost: a foreign Host is refused before any session is read.
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret_key,
        session_cookie=SESSION_COOKIE,
        max_age=30 * 24 * 3600,
        same_site="strict",
    )
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use; every form carries it."""
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf(request: Request, token: str) -> None:
    """Refuses (403) a form whose token is not the session's."""
    expected = request.session.get("csrf")
    # A cross-site post has no session cookie (SameSite=Strict) and cannot read the token.
    if not expected or not secrets.compare_digest(expected.encode(), token.encode()):
        raise HTTPException(403, "refused: the form's CSRF token does not match this session")
