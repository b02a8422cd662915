"""Encryption at rest for the uploaded service-account key and a saved access token.

Fernet (AES-128-CBC + HMAC-SHA256) with a key derived from the app's secret key by HKDF, so the
database alone never reveals a credential. Changing ``TUNEDESK_SECRET_KEY`` makes saved
credentials unreadable; the Connection page then asks for them again.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.config import get_settings

# Separates this use of the secret key from any other (sessions sign with it too).
_INFO = b"tunedesk/genai/credentials/v1"


class UnreadableSecret(Exception):
    """The stored value was encrypted with another secret key, or was tampered with."""


def _fernet() -> Fernet:
    secret = get_settings().resolved_secret_key().encode()
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret)
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise UnreadableSecret() from None
