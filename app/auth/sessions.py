"""Signed session cookies and the CSRF token kept in them.

The cookie holds a small signed JSON object (user id, session epoch, CSRF token, flash
messages). It is HttpOnly, SameSite=Lax, and Secure in production. Signing uses the secret key;
nothing in it is secret, but nothing in it can be forged.
"""

from __future__ import annotations

import hmac
import json
import secrets
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.i18n import LOCALES, negotiate, use_locale

COOKIE_NAME = "tunedesk_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="tunedesk.session")


def encode_session(secret_key: str, data: dict[str, Any]) -> str:
    return _serializer(secret_key).dumps(data)


def decode_session(secret_key: str, cookie: str, max_age: int) -> dict[str, Any]:
    try:
        data = _serializer(secret_key).loads(cookie, max_age=max_age)
    except (BadSignature, json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


class SessionMiddleware:
    """Loads ``scope["session"]`` from the cookie and writes it back only when it changed."""

    def __init__(self, app: ASGIApp, *, secret_key: str, max_age: int, secure: bool) -> None:
        self.app = app
        self.secret_key = secret_key
        self.max_age = max_age
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        cookie = HTTPConnection(scope).cookies.get(COOKIE_NAME)
        initial = decode_session(self.secret_key, cookie, self.max_age) if cookie else {}
        scope["session"] = dict(initial)

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                session = scope["session"]
                if session != initial:
                    headers = MutableHeaders(scope=message)
                    headers.append("Set-Cookie", self._cookie_header(session))
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _cookie_header(self, session: dict[str, Any]) -> str:
        flags = "Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if self.secure else "")
        if not session:
            return f"{COOKIE_NAME}=; Max-Age=0; {flags}"
        value = encode_session(self.secret_key, session)
        return f"{COOKIE_NAME}={value}; Max-Age={self.max_age}; {flags}"


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


def rotate_csrf_token(request: Request) -> None:
    request.session["csrf"] = secrets.token_urlsafe(32)


def csrf_matches(request: Request, submitted: str | None) -> bool:
    expected = request.session.get("csrf")
    return bool(expected and submitted) and hmac.compare_digest(str(expected), str(submitted))


class LocaleMiddleware:
    """Fix the request's language before anything runs (dependencies run in worker threads, so a
    language chosen there would not reach the route): the account's choice kept in the session,
    else the ``lang`` cookie of a visitor, else the browser's ``Accept-Language``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        chosen = scope.get("session", {}).get("locale") or connection.cookies.get("lang")
        with use_locale(chosen or negotiate(connection.headers.get("accept-language"))):
            await self.app(scope, receive, send)


def remember_locale(request: Request, locale: str | None) -> None:
    """Keep the account's language in the session (None: follow the browser)."""
    if locale in LOCALES:
        request.session["locale"] = locale
    else:
        request.session.pop("locale", None)
