"""The SDK clients, built once per process and configuration and shared by every thread.

google-genai's client is thread-safe (one httpx2 connection pool, credentials behind a lock), so
concurrent evaluations reuse one. Clients are rebuilt when the configuration changes (an admin
saved new settings) and after a fork (a Celery worker child must not share its parent's
connections). Always constructed with explicit ``project=`` and ``location=``: with a custom base
URL and no project, the SDK would silently drop the path and credentials ("proxy mode").
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
from dataclasses import dataclass, field

import google.auth
import google.auth.credentials
import google.oauth2.credentials
import google.oauth2.service_account
from google import genai
from google.auth.transport.requests import AuthorizedSession
from google.cloud import storage
from google.genai import types as genai_types

from app.genai.config import ConnectionConfig

SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)


@dataclass
class Clients:
    config: ConnectionConfig
    credentials: google.auth.credentials.Credentials
    genai: genai.Client
    _storage: storage.Client | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def storage(self) -> storage.Client:
        with self._lock:  # built on first use: most processes never upload
            if self._storage is None:
                options = (
                    {"api_endpoint": self.config.storage_base_url}
                    if self.config.storage_base_url
                    else None
                )
                self._storage = storage.Client(
                    project=self.config.project,
                    credentials=self.credentials,
                    client_options=options,
                )
            return self._storage

    def rest_session(self) -> AuthorizedSession:
        """A requests session that signs calls with the same credentials (metrics routes)."""
        return AuthorizedSession(self.credentials)


def build_credentials(config: ConnectionConfig) -> google.auth.credentials.Credentials:
    """A static token (emulator, proxies), the uploaded key, or Application Default Credentials."""
    if config.access_token:
        # No expiry, so google-auth never tries to refresh it.
        return google.oauth2.credentials.Credentials(token=config.access_token)
    if config.service_account_info:
        info = json.loads(config.service_account_info)
        return google.oauth2.service_account.Credentials.from_service_account_info(
            info, scopes=SCOPES
        )
    credentials, _project = google.auth.default(scopes=SCOPES)
    return credentials


def check_service_account_info(info: dict[str, str]) -> bool:
    """Whether google-auth can load this key (a readable private key, the fields it needs)."""
    try:
        google.oauth2.service_account.Credentials.from_service_account_info(info, scopes=SCOPES)
    except (ValueError, TypeError, KeyError):
        return False
    return True


def _build(config: ConnectionConfig) -> Clients:
    credentials = build_credentials(config)
    options = genai_types.HttpOptions(
        base_url=config.vertex_base_url or None,
        timeout=int(config.retry.timeout * 1000),  # milliseconds
    )
    client = genai.Client(
        enterprise=True,
        project=config.project,
        location=config.location,
        credentials=credentials,
        http_options=options,
    )
    return Clients(config=config, credentials=credentials, genai=client)


_lock = threading.Lock()
# (pid, fingerprint of the configuration without its location) → clients by location: the
# region, and ``us``/``eu`` where tuned 3.x models answer. Rebuilt after a fork or a change.
_current: tuple[int, str, dict[str, Clients]] | None = None


def clients_for(config: ConnectionConfig) -> Clients:
    """The shared clients for ``config`` (and its location) in this process."""
    global _current
    key = (os.getpid(), dataclasses.replace(config, location="").fingerprint())
    with _lock:
        if _current is None or (_current[0], _current[1]) != key:
            # The previous clients are left to the garbage collector: another thread may still
            # be finishing a call with them.
            _current = (*key, {})
        by_location = _current[2]
        if config.location not in by_location:
            by_location[config.location] = _build(config)
        return by_location[config.location]


def forget_clients() -> None:
    global _current
    with _lock:
        _current = None
