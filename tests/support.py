"""Helpers shared by tests: service requirements, logging in, HTMX requests, HTML parsing."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from app.auth.models import User
from app.auth.sessions import COOKIE_NAME, CSRF_HEADER, encode_session
from app.config import get_settings

STRICT = os.environ.get("TUNEDESK_STRICT") == "1"
CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None
)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def require(condition: bool, reason: str) -> None:
    """Skip with a reason when a service is missing; in strict mode (CI) fail instead."""
    if condition:
        return
    if STRICT:
        pytest.fail(f"TUNEDESK_STRICT=1 and a required service is missing: {reason}")
    pytest.skip(reason)


def login(client: TestClient, user: User) -> str:
    """Give the client a session for ``user`` (as the login page would); returns the CSRF token."""
    token = secrets.token_urlsafe(16)
    cookie = encode_session(
        get_settings().resolved_secret_key(),
        {"uid": user.id, "epoch": user.session_epoch, "csrf": token},
    )
    client.cookies.delete(COOKIE_NAME)  # a cookie set by an earlier response would shadow ours
    client.cookies.set(COOKIE_NAME, cookie)
    client.headers[CSRF_HEADER] = token
    return token


def anonymous_csrf(client: TestClient) -> str:
    """A CSRF token for a visitor without an account (from the login page's session)."""
    token = secrets.token_urlsafe(16)
    cookie = encode_session(get_settings().resolved_secret_key(), {"csrf": token})
    client.cookies.delete(COOKIE_NAME)
    client.cookies.set(COOKIE_NAME, cookie)
    return token


def htmx_headers(target: str = "main") -> dict[str, str]:
    return {"HX-Request": "true", "HX-Target": target}


def get_page(client: TestClient, url: str, htmx: bool, **kwargs: Any) -> httpx.Response:
    """GET a page as a plain request or as an HTMX navigation, and check the shape matches."""
    headers = htmx_headers() if htmx else {}
    response = client.get(url, headers=headers, **kwargs)
    if response.status_code == 200 and response.headers.get("content-type", "").startswith(
        "text/html"
    ):
        assert response.headers.get("vary") == "HX-Request", f"{url} lacks Vary: HX-Request"
        has_shell = "<html" in response.text
        assert has_shell != htmx, f"{url}: {'fragment' if htmx else 'full page'} expected"
    return response


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def text_of(response: httpx.Response) -> str:
    return " ".join(soup(response).get_text(" ").split())


def toasts(response: httpx.Response) -> list[str]:
    return [
        " ".join(t.get_text(" ").split()).rstrip("×").strip()
        for t in soup(response).select(".toast span")
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(
    condition: Callable[[], Any],
    *,
    timeout: float = 20,
    interval: float = 0.1,
    message: str = "condition",
) -> Any:
    """Poll until ``condition()`` is truthy; returns its value or fails after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)
