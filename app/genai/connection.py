"""The Gemini connection settings: environment, overridden by what an administrator saved.

``current_config()`` is what the gateway uses in web and worker processes. It is cached for a few
seconds, so a busy evaluation does not read the database for every call, and a change saved on
the Connection page reaches the workers within ``CACHE_SECONDS``.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.config import get_settings
from app.db import new_session
from app.genai.config import MODES, ConnectionConfig, Mode, Overrides, build_config
from app.genai.crypto import UnreadableSecret, decrypt
from app.genai.models import SINGLETON_ID, GeminiConnection

logger = logging.getLogger("tunedesk.genai")
CACHE_SECONDS = 5.0
SETTING_FIELDS = ("mode", "project", "location", "bucket", "vertex_base_url", "storage_base_url")
_COLUMNS = {
    "mode": "mode",
    "project": "vertex_project",
    "location": "vertex_location",
    "bucket": "vertex_bucket",
    "vertex_base_url": "vertex_base_url",
    "storage_base_url": "storage_base_url",
}
_ENVIRONMENT = {
    "mode": "gemini_mode",
    "project": "vertex_project",
    "location": "vertex_location",
    "bucket": "vertex_bucket",
    "vertex_base_url": "vertex_base_url",
    "storage_base_url": "storage_base_url",
}
PROJECT_PATTERN = re.compile(r"^(?:[a-z][a-z0-9-]{4,28}[a-z0-9]|\d{6,20})$")
LOCATION_PATTERN = re.compile(r"^(?:[a-z]+-[a-z]+\d+|global|us|eu)$")
BUCKET_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$")
URL_PATTERN = re.compile(r"^https?://[^\s/?#]+(?:/[^\s?#]*)?$")

_cache_lock = threading.Lock()
_cache: tuple[float, ConnectionConfig] | None = None


@dataclass(frozen=True)
class SavedConnection:
    """The saved row, decrypted; ``problems`` lists credentials that could not be decrypted."""

    row: GeminiConnection | None
    overrides: Overrides
    problems: tuple[str, ...]


def saved_row(session: Session) -> GeminiConnection | None:
    return session.get(GeminiConnection, SINGLETON_ID)


def _decrypted(value: str | None, label: str, problems: list[str]) -> str | None:
    if value is None:
        return None
    try:
        return decrypt(value)
    except UnreadableSecret:
        problems.append(label)
        return None


def load_saved(session: Session) -> SavedConnection:
    row = saved_row(session)
    if row is None:
        return SavedConnection(None, Overrides(), ())
    problems: list[str] = []
    mode = row.mode if row.mode in MODES else None
    overrides = Overrides(
        mode=mode,
        project=row.vertex_project,
        location=row.vertex_location,
        bucket=row.vertex_bucket,
        vertex_base_url=row.vertex_base_url,
        storage_base_url=row.storage_base_url,
        access_token=_decrypted(row.access_token_encrypted, "access_token", problems),
        service_account_info=_decrypted(
            row.service_account_key_encrypted, "service_account_key", problems
        ),
    )
    return SavedConnection(row, overrides, tuple(problems))


def config_from_session(session: Session) -> ConnectionConfig:
    return build_config(get_settings(), load_saved(session).overrides)


def current_config() -> ConnectionConfig:
    """The configuration in force (cached for ``CACHE_SECONDS``)."""
    global _cache
    with _cache_lock:
        if _cache is not None and time.monotonic() - _cache[0] < CACHE_SECONDS:
            return _cache[1]
    try:
        with new_session() as session:
            config = config_from_session(session)
    except SQLAlchemyError:
        # Before the first migration (or with the database down) the environment still
        # describes the connection; the failing database shows up everywhere else.
        logger.warning("could not read the saved Gemini connection; using the environment")
        config = build_config(get_settings())
    with _cache_lock:
        _cache = (time.monotonic(), config)
    return config


def invalidate_cache() -> None:
    global _cache
    with _cache_lock:
        _cache = None


def effective_mode() -> Mode:
    return current_config().mode


def sources(saved: SavedConnection) -> dict[str, str]:
    """Where each setting comes from: "saved", "environment" or "default"."""
    settings = get_settings()
    defaults = type(settings).model_fields
    result = {}
    for name in SETTING_FIELDS:
        if getattr(saved.overrides, name) is not None:
            result[name] = "saved"
            continue
        env_name = _ENVIRONMENT[name]
        value = getattr(settings, env_name)
        result[name] = "default" if value == defaults[env_name].default else "environment"
    return result


def environment_value(name: str) -> str:
    return str(getattr(get_settings(), _ENVIRONMENT[name]))


def column_for(name: str) -> str:
    return _COLUMNS[name]
