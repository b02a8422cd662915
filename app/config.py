"""Settings: every knob of TuneDesk, read from the environment (prefix ``TUNEDESK_``).

Two conventional names are also honoured without the prefix: ``DATABASE_URL`` and ``REDIS_URL``
(what hosting platforms and docker compose set). Every field here is listed in README's
configuration table; ``tests/test_docs.py`` fails when one is missing.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Secret values that appear in tutorials and templates; a production deployment using one of
# them would let anyone forge session cookies.
PLACEHOLDER_SECRETS = frozenset(
    {"", "changeme", "changethis", "change-me", "secret", "dev", "development", "test", "tunedesk"}
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TUNEDESK_", extra="ignore", populate_by_name=True)

    env: Literal["development", "production"] = "development"
    # Where TuneDesk keeps its own files: the SQLite database, the embedded broker, the generated
    # secret key, uploaded files and the emulator's state.
    var_dir: Path = PROJECT_ROOT / "var"

    database_url: str = Field(
        default="", validation_alias=AliasChoices("TUNEDESK_DATABASE_URL", "DATABASE_URL")
    )
    redis_url: str = Field(
        default="", validation_alias=AliasChoices("TUNEDESK_REDIS_URL", "REDIS_URL")
    )
    # Explicit broker; empty means Redis when REDIS_URL is set, else the serverless SQLite broker.
    broker_url: str = ""
    # Queue name; separate test runs and deployments sharing one Redis use different names.
    task_queue: str = "tunedesk"

    secret_key: str = ""
    # Sessions last this long without activity before the user must log in again.
    session_max_age_hours: int = 24 * 14
    # Only send the session cookie over HTTPS (always on in production).
    cookie_secure: bool = False

    max_upload_mb: int = Field(default=50, ge=1, le=2048)
    # Failed logins per account and address before the login is locked for a while.
    login_max_failures: int = Field(default=5, ge=1)
    login_lockout_minutes: int = Field(default=15, ge=1)

    default_locale: Literal["en", "ja"] = "en"
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"

    # Gemini: the offline emulator (default) or real Vertex AI.
    gemini_mode: Literal["emulator", "vertex"] = "emulator"
    vertex_project: str = ""
    vertex_location: str = "us-central1"
    vertex_bucket: str = ""
    vertex_base_url: str = ""
    storage_base_url: str = ""
    vertex_access_token: str = ""
    emulator_host: str = "127.0.0.1"
    emulator_port: int = 8765
    # Seconds of emulated tuning per real second; larger runs jobs faster in demos and tests.
    emulator_time_scale: float = Field(default=1.0, gt=0)
    # Evaluation runs: model calls in flight at once per run (keep under the project's quota).
    eval_concurrency: int = Field(default=8, ge=1, le=64)

    # Outgoing mail for notifications; empty host means in-app notifications only.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = "tunedesk@localhost"
    smtp_starttls: bool = True

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, value: str) -> str:
        # Hosting platforms hand out postgres:// URLs; SQLAlchemy needs the driver spelled out.
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        return value

    @model_validator(mode="after")
    def _refuse_placeholder_secret_in_production(self) -> Settings:
        if self.env == "production" and self.secret_key.strip().lower() in PLACEHOLDER_SECRETS:
            raise ValueError(
                "TUNEDESK_SECRET_KEY is missing or a known placeholder; production needs a long "
                "random value, for example from: "
                "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        return self

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite:///{self.var_dir / 'tunedesk.sqlite3'}"

    @property
    def celery_broker_url(self) -> str:
        if self.broker_url:
            return self.broker_url
        if self.redis_url:
            return self.redis_url
        return f"sqla+sqlite:///{self.var_dir / 'broker.sqlite3'}"

    @property
    def uses_embedded_broker(self) -> bool:
        return self.celery_broker_url.startswith("sqla+")

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def secure_cookies(self) -> bool:
        return self.cookie_secure or self.is_production

    def ensure_var_dir(self) -> Path:
        self.var_dir.mkdir(parents=True, exist_ok=True)
        return self.var_dir

    def resolved_secret_key(self) -> str:
        """The configured key, or one generated once and kept in ``var/secret_key``."""
        if self.secret_key:
            return self.secret_key
        path = self.ensure_var_dir() / "secret_key"
        if not path.exists():
            # Write aside, then link into place: when web, worker and beat start together exactly
            # one key wins and nobody ever reads a half-written file.
            draft = path.with_name(f".secret_key.{os.getpid()}")
            draft.write_text(secrets.token_urlsafe(48))
            draft.chmod(0o600)
            try:
                os.link(draft, path)
            except FileExistsError:
                pass
            finally:
                draft.unlink()
        return path.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()
