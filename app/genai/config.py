"""Where and how the gateway reaches Gemini: one immutable ``ConnectionConfig``.

It is built from ``app.config.Settings`` (environment) with the values an administrator saved on
the Connection page laid over it. Two modes:
- ``emulator`` (default): the local Vertex emulator; base URLs default to
  ``http://{emulator_host}:{emulator_port}``, a placeholder project, bucket and bearer token;
- ``vertex``: real Google Cloud; Google's regional endpoints unless a base URL is overridden
  (proxies, private endpoints), credentials from a static token, the uploaded service-account key,
  or Application Default Credentials, in that order.
This module imports no Google SDK, so pages and services can read the configuration cheaply.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields
from typing import Literal

from app.config import Settings

Mode = Literal["emulator", "vertex"]
MODES: tuple[Mode, ...] = ("emulator", "vertex")
EMULATOR_PROJECT = "tunedesk-local"
EMULATOR_BUCKET = "tunedesk-emulator"
# The emulator wants a bearer token like Google does, but any value is accepted.
EMULATOR_TOKEN = "tunedesk-emulator-token"


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries of transient failures (408, 429, 5xx, timeouts, lost connections)."""

    attempts: int = 4  # including the first
    initial_delay: float = 1.0  # seconds before the first retry; doubles each time, with jitter
    max_delay: float = 30.0  # no single wait is longer (a longer Retry-After is capped)
    total_seconds: float = 180.0  # a call never takes longer than this, retries included
    timeout: float = 60.0  # one attempt's timeout


@dataclass(frozen=True)
class ConnectionConfig:
    mode: Mode
    project: str
    location: str
    bucket: str
    vertex_base_url: str = ""  # empty: Google's endpoint for the location
    storage_base_url: str = ""  # empty: https://storage.googleapis.com
    access_token: str = field(default="", repr=False)
    service_account_info: str = field(default="", repr=False)  # the key file's JSON
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    @property
    def is_emulator(self) -> bool:
        return self.mode == "emulator"

    @property
    def credentials_source(self) -> Literal["token", "service_account", "adc"]:
        if self.access_token:
            return "token"
        if self.service_account_info:
            return "service_account"
        return "adc"

    @property
    def effective_vertex_url(self) -> str:
        """Where Vertex requests go (for display and for the REST calls the SDK cannot make)."""
        from app.genai.serving import host_for

        return host_for(self.location, self.vertex_base_url)

    @property
    def effective_storage_url(self) -> str:
        return self.storage_base_url or "https://storage.googleapis.com"

    def fingerprint(self) -> str:
        """Identifies the clients this configuration needs (secrets included, only hashed)."""
        digest = hashlib.sha256()
        for item in fields(self):
            digest.update(f"{item.name}={getattr(self, item.name)!r}\n".encode())
        return digest.hexdigest()


@dataclass(frozen=True)
class Overrides:
    """What an administrator saved; ``None`` means "use the environment"."""

    mode: Mode | None = None
    project: str | None = None
    location: str | None = None
    bucket: str | None = None
    vertex_base_url: str | None = None
    storage_base_url: str | None = None
    access_token: str | None = field(default=None, repr=False)
    service_account_info: str | None = field(default=None, repr=False)


def emulator_url(settings: Settings) -> str:
    host = settings.emulator_host
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"  # listening everywhere; connect locally
    return f"http://{host}:{settings.emulator_port}"


def _pick(saved: str | None, environment: str) -> str:
    return (environment if saved is None else saved).strip()


def build_config(
    settings: Settings, overrides: Overrides | None = None, retry: RetryPolicy | None = None
) -> ConnectionConfig:
    saved = overrides or Overrides()
    mode: Mode = saved.mode or settings.gemini_mode
    project = _pick(saved.project, settings.vertex_project)
    bucket = _pick(saved.bucket, settings.vertex_bucket)
    token = _pick(saved.access_token, settings.vertex_access_token)
    vertex_url = _pick(saved.vertex_base_url, settings.vertex_base_url).rstrip("/")
    storage_url = _pick(saved.storage_base_url, settings.storage_base_url).rstrip("/")
    if mode == "emulator":
        vertex_url = vertex_url or emulator_url(settings)
        storage_url = storage_url or emulator_url(settings)
        project, bucket = project or EMULATOR_PROJECT, bucket or EMULATOR_BUCKET
        token = token or EMULATOR_TOKEN
    return ConnectionConfig(
        mode=mode,
        project=project,
        location=_pick(saved.location, settings.vertex_location) or "us-central1",
        bucket=bucket,
        vertex_base_url=vertex_url,
        storage_base_url=storage_url,
        access_token=token,
        service_account_info=saved.service_account_info or "",
        retry=retry or RetryPolicy(),
    )


def missing_settings(config: ConnectionConfig) -> list[str]:
    """Names of settings Vertex needs but that are empty (always none in emulator mode)."""
    return [name for name in ("project", "location", "bucket") if not getattr(config, name)]
