"""What the admin pages show: the connection as saved, where each value comes from, and the
credentials status. Never includes a credential: only whether one is set and for whom."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.config import get_settings
from app.genai import connection
from app.genai.config import ConnectionConfig, build_config, emulator_url
from app.i18n import _

ENV_NAMES = {
    "mode": "TUNEDESK_GEMINI_MODE",
    "project": "TUNEDESK_VERTEX_PROJECT",
    "location": "TUNEDESK_VERTEX_LOCATION",
    "bucket": "TUNEDESK_VERTEX_BUCKET",
    "vertex_base_url": "TUNEDESK_VERTEX_BASE_URL",
    "storage_base_url": "TUNEDESK_STORAGE_BASE_URL",
}


@dataclass(frozen=True)
class CredentialsStatus:
    summary: str
    kind: str  # badge colour: success, info, warning, error
    key_email: str | None
    key_uploaded_at: datetime | None
    token_saved: bool
    problems: tuple[str, ...]


def _credentials(config: ConnectionConfig, saved: connection.SavedConnection) -> CredentialsStatus:
    row = saved.row
    problems = []
    if "service_account_key" in saved.problems:
        problems.append(
            _(
                "The uploaded key can no longer be read because TuneDesk's secret key "
                "changed. Upload the key again."
            )
        )
    if "access_token" in saved.problems:
        problems.append(
            _(
                "The saved access token can no longer be read because TuneDesk's "
                "secret key changed. Enter it again."
            )
        )
    email = row.service_account_email if row and row.service_account_key_encrypted else None
    if config.is_emulator:
        summary, kind = _("Not needed: the offline emulator accepts any request."), "info"
    elif config.credentials_source == "token":
        summary, kind = _("A fixed access token (for a proxy or private endpoint)."), "success"
    elif config.credentials_source == "service_account":
        summary, kind = (
            _("The uploaded service-account key of %(email)s.") % {"email": email},
            "success",
        )
    else:
        summary, kind = (
            _("The server's Application Default Credentials (no key uploaded)."),
            ("warning"),
        )
    return CredentialsStatus(
        summary=summary,
        kind="error" if problems else kind,
        key_email=email,
        key_uploaded_at=row.key_uploaded_at if email and row else None,
        token_saved=bool(row and row.access_token_encrypted),
        problems=tuple(problems),
    )


def _sources(saved: connection.SavedConnection) -> dict[str, str]:
    labels = {"saved": _("Saved on this page"), "default": _("Default")}
    result = {}
    for name, source in connection.sources(saved).items():
        result[name] = labels.get(source) or _("From the environment (%(name)s)") % {
            "name": ENV_NAMES[name]
        }
    return result


def form_values(saved: connection.SavedConnection) -> dict[str, str]:
    """The values the form shows: saved, else environment (without emulator defaults)."""
    values = {}
    for name in connection.SETTING_FIELDS:
        override = getattr(saved.overrides, name)
        values[name] = override if override is not None else connection.environment_value(name)
    return values


def connection_context(session: Session, **extra: Any) -> dict[str, Any]:
    saved = connection.load_saved(session)
    config = build_config(get_settings(), saved.overrides)
    context: dict[str, Any] = {
        "config": config,
        "credentials": _credentials(config, saved),
        "sources": _sources(saved),
        "form": form_values(saved),
        "errors": {},
        "emulator_url": emulator_url(get_settings()),
        "report": None,
        "updated_at": saved.row.updated_at if saved.row else None,
        "breadcrumbs": [(_("Administration"), None), (_("Connection"), None)],
    }
    context.update(extra)
    return context
