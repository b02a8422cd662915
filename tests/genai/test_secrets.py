"""The uploaded service-account key (and a saved access token) never appear in a page, a log
line or an API response, in plain text or encrypted; the database holds only ciphertext."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.genai import connection
from app.genai.crypto import decrypt, encrypt
from app.genai.models import GeminiConnection
from tests.emulator_fixture import EmulatorServer
from tests.factories import create_user
from tests.genai.keys import key_file, secret_fragments
from tests.support import free_port, htmx_headers, login

TOKEN = "ya29.super-secret-proxy-token-0123456789"
PAGES = [
    "/admin/connection",
    "/admin/emulator",
    "/admin/audit",
    "/admin/system",
    "/admin/users",
    "/notifications",
    "/",
]


def _leaks(text: str, secrets: list[str]) -> list[str]:
    return [secret for secret in secrets if secret in text]


def test_credentials_never_leave_the_database(
    client: TestClient,
    session: Session,
    emulator: EmulatorServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    emulator.use(monkeypatch)
    admin = create_user(session, is_admin=True)
    login(client, admin)
    # The key's token endpoint refuses connections, so signing in fails: the error path must not
    # leak either.
    bad_token_uri = f"http://127.0.0.1:{free_port()}/token"
    upload = {"key_file": ("k.json", key_file(bad_token_uri))}
    responses = [
        client.post("/admin/connection/key", files=upload),
        client.post(
            "/admin/connection",
            data={
                "mode": "vertex",
                "project": "acme-prod",
                "location": "us-central1",
                "bucket": "acme-tuning",
                "vertex_base_url": emulator.url,
                "storage_base_url": emulator.url,
                "access_token": TOKEN,
            },
        ),
    ]
    row = session.scalar(select(GeminiConnection))
    assert row is not None
    assert row.access_token_encrypted
    assert row.service_account_key_encrypted
    assert TOKEN not in row.access_token_encrypted
    assert decrypt(row.access_token_encrypted) == TOKEN
    secrets = [
        TOKEN,
        row.access_token_encrypted,
        row.service_account_key_encrypted,
        *secret_fragments(),
    ]

    # With the token in force, then with the key (the token forgotten).
    responses.append(client.post("/admin/connection/test"))
    responses.append(
        client.post(
            "/admin/connection",
            data={
                "mode": "vertex",
                "project": "acme-prod",
                "location": "us-central1",
                "bucket": "acme-tuning",
                "vertex_base_url": emulator.url,
                "storage_base_url": emulator.url,
                "forget_token": "true",
            },
        )
    )
    assert connection.current_config().credentials_source == "service_account"
    responses.append(client.post("/admin/connection/test"))
    responses.append(client.post("/admin/connection/test", headers=htmx_headers("connection-test")))
    for url in PAGES:
        responses.append(client.get(url))
        responses.append(client.get(url, headers=htmx_headers()))
    responses.append(client.get("/api/v1/openapi.json"))
    responses.append(client.get("/readyz"))

    for response in responses:
        assert response.status_code < 500, response.request.url
        assert _leaks(response.text, secrets) == [], response.request.url
        assert _leaks(str(response.headers), secrets) == []
    logged = "\n".join(record.getMessage() + str(record.__dict__) for record in caplog.records)
    assert _leaks(logged, secrets) == []
    out, err = capfd.readouterr()
    assert _leaks(out + err, secrets) == []
    check = client.post("/admin/connection/test", headers=htmx_headers("connection-test")).text
    assert "Google Cloud is busy or cannot be reached right now." in check  # the token endpoint


def test_encryption_depends_on_the_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.config import get_settings
    from app.genai.crypto import UnreadableSecret

    sealed = encrypt("the key")
    assert sealed != encrypt("the key")  # a fresh IV each time
    monkeypatch.setenv("TUNEDESK_SECRET_KEY", "another-secret-key-that-is-long-enough-98765")
    get_settings.cache_clear()
    try:
        with pytest.raises(UnreadableSecret):
            decrypt(sealed)
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert decrypt(sealed) == "the key"


def test_a_key_sealed_with_an_old_secret_asks_to_upload_again(
    client: TestClient, session: Session, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.use(monkeypatch)
    admin = create_user(session, is_admin=True)
    login(client, admin)
    session.add(
        GeminiConnection(
            id=1,
            service_account_key_encrypted="gAAAAAnot-a-valid-token",
            service_account_email="old@acme.iam.gserviceaccount.com",
        )
    )
    session.commit()
    text = client.get("/admin/connection").text
    assert "The uploaded key can no longer be read" in text
    assert "gAAAAAnot-a-valid-token" not in text
