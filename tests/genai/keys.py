"""A real (throwaway) service-account key file for tests: google-auth must be able to load it."""

from __future__ import annotations

import json
from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

CLIENT_EMAIL = "tunedesk-tuner@acme-prod.iam.gserviceaccount.com"
PRIVATE_KEY_ID = "0123456789abcdef0123456789abcdef01234567"


@lru_cache
def private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def key_file(token_uri: str = "https://oauth2.googleapis.com/token") -> bytes:
    return json.dumps(
        {
            "type": "service_account",
            "project_id": "acme-prod",
            "private_key_id": PRIVATE_KEY_ID,
            "private_key": private_key_pem(),
            "client_email": CLIENT_EMAIL,
            "client_id": "109876543210987654321",
            "token_uri": token_uri,
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        }
    ).encode()


def secret_fragments() -> list[str]:
    """Pieces of the key that must never appear anywhere (the PEM body, line by line)."""
    lines = [line for line in private_key_pem().splitlines() if "PRIVATE KEY" not in line]
    return [PRIVATE_KEY_ID, *lines[1:4]]
