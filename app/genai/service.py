"""Changing the Gemini connection (administrators only): settings, the service-account key, a
static access token. Every change is audited; credentials are encrypted before they are stored
and never written to the audit log, a log line or a page."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.auth import audit
from app.auth.models import User
from app.db import utcnow
from app.errors import ValidationFailed
from app.genai import connection
from app.genai.config import MODES
from app.genai.crypto import encrypt
from app.genai.models import SINGLETON_ID, GeminiConnection
from app.i18n import N_, _

MAX_KEY_BYTES = 64 * 1024
REQUIRED_KEY_FIELDS = ("type", "project_id", "private_key", "client_email", "token_uri")

AUDIT_ACTIONS = {
    "genai.settings_update": N_("Changed the Gemini connection"),
    "genai.settings_reset": N_("Reset the Gemini connection to the environment"),
    "genai.key_upload": N_("Uploaded a Google Cloud service-account key"),
    "genai.key_remove": N_("Removed the Google Cloud service-account key"),
    "genai.connection_test": N_("Tested the Gemini connection"),
    "genai.emulator_fault": N_("Queued an emulator fault"),
}


@dataclass(frozen=True)
class SettingsForm:
    mode: str
    project: str
    location: str
    bucket: str
    vertex_base_url: str
    storage_base_url: str
    access_token: str = ""  # empty: keep what is saved
    forget_token: bool = False


def _row(session: Session) -> GeminiConnection:
    row = connection.saved_row(session)
    if row is None:
        row = GeminiConnection(id=SINGLETON_ID)
        session.add(row)
    return row


def _clean(form: SettingsForm) -> dict[str, str]:
    bucket = form.bucket.strip().removeprefix("gs://").rstrip("/")
    return {
        "mode": form.mode.strip(),
        "project": form.project.strip(),
        "location": form.location.strip().lower(),
        "bucket": bucket,
        "vertex_base_url": form.vertex_base_url.strip().rstrip("/"),
        "storage_base_url": form.storage_base_url.strip().rstrip("/"),
    }


def _validate(values: Mapping[str, str], token: str) -> dict[str, str]:
    errors = {}
    if values["mode"] not in MODES:
        errors["mode"] = _("Choose the offline emulator or Google Cloud (Vertex AI).")
    vertex = values["mode"] == "vertex"
    checks = (
        (
            "project",
            connection.PROJECT_PATTERN,
            _(
                "Enter the Google Cloud project ID: 6 to 30 lowercase letters, digits and dashes, "
                "for example my-company-ai."
            ),
        ),
        (
            "location",
            connection.LOCATION_PATTERN,
            _("Enter a Vertex AI region such as us-central1, europe-west4 or asia-northeast1."),
        ),
        (
            "bucket",
            connection.BUCKET_PATTERN,
            _(
                "Enter the bucket name without gs://: lowercase letters, digits, dots, dashes and "
                "underscores, for example my-company-tuning."
            ),
        ),
    )
    for name, pattern, message in checks:
        invalid = bool(values[name]) and not pattern.match(values[name])
        if invalid or (vertex and not values[name]):
            errors[name] = message
    for name in ("vertex_base_url", "storage_base_url"):
        if values[name] and not connection.URL_PATTERN.match(values[name]):
            errors[name] = _(
                "Enter a full address starting with https:// (or http:// for a "
                "local proxy), or leave it empty to use Google's address."
            )
    if token and (len(token) > 4096 or any(ch.isspace() for ch in token)):
        errors["access_token"] = _("Paste the access token alone, without spaces or line breaks.")
    return errors


def save_settings(session: Session, *, actor: User, form: SettingsForm) -> None:
    """Save what differs from the environment; equal values go back to following it."""
    values = _clean(form)
    errors = _validate(values, form.access_token.strip())
    if errors:
        raise ValidationFailed(errors)
    row = _row(session)
    changed = []
    for name in connection.SETTING_FIELDS:
        value = None if values[name] == connection.environment_value(name) else values[name]
        column = connection.column_for(name)
        if getattr(row, column) != value:
            changed.append(name)
            setattr(row, column, value)
    if form.access_token.strip():
        row.access_token_encrypted = encrypt(form.access_token.strip())
        changed.append("access_token")
    elif form.forget_token and row.access_token_encrypted:
        row.access_token_encrypted = None
        changed.append("access_token")
    row.updated_at, row.updated_by_id = utcnow(), actor.id
    session.flush()
    connection.invalidate_cache()
    audit.record(
        session,
        actor=actor,
        action="genai.settings_update",
        object_type="gemini",
        summary=", ".join(changed) or "-",
        details={"changed": changed, "mode": values["mode"]},
    )


def reset_to_environment(session: Session, *, actor: User) -> None:
    """Forget saved settings and token (an uploaded key stays until removed)."""
    row = connection.saved_row(session)
    if row is not None:
        for name in connection.SETTING_FIELDS:
            setattr(row, connection.column_for(name), None)
        row.access_token_encrypted = None
        row.updated_at, row.updated_by_id = utcnow(), actor.id
        session.flush()
    connection.invalidate_cache()
    audit.record(session, actor=actor, action="genai.settings_reset", object_type="gemini")


def _parse_key(raw: bytes) -> dict[str, str]:
    problem = _(
        "This is not a service-account key file. In the Google Cloud console open IAM & "
        "Admin → Service accounts → your account → Keys → Add key → JSON, and upload the "
        "downloaded .json file."
    )
    if not raw.strip():
        raise ValidationFailed({"key_file": _("Choose the key file (.json) to upload.")})
    if len(raw) > MAX_KEY_BYTES:
        raise ValidationFailed({"key_file": problem})
    try:
        info = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValidationFailed({"key_file": problem}) from None
    if (
        not isinstance(info, dict)
        or info.get("type") != "service_account"
        or not all(isinstance(info.get(k), str) and info[k] for k in REQUIRED_KEY_FIELDS)
    ):
        raise ValidationFailed({"key_file": problem})
    return info


def save_service_account_key(session: Session, *, actor: User, raw: bytes) -> str:
    """Store the key encrypted; returns the service account's e-mail address."""
    from app.genai.client import check_service_account_info  # loads the Google SDKs

    info = _parse_key(raw)
    if not check_service_account_info(info):
        raise ValidationFailed(
            {
                "key_file": _(
                    "The key file's private key cannot be read. Download a new JSON key from "
                    "the Google Cloud console and upload that one."
                )
            }
        )
    row = _row(session)
    row.service_account_key_encrypted = encrypt(json.dumps(info))
    row.service_account_email = info["client_email"]
    row.key_uploaded_at = row.updated_at = utcnow()
    row.updated_by_id = actor.id
    if not row.vertex_project and not connection.environment_value("project"):
        row.vertex_project = info["project_id"]  # the key knows its project; save a step
    session.flush()
    connection.invalidate_cache()
    audit.record(
        session,
        actor=actor,
        action="genai.key_upload",
        object_type="gemini",
        summary=info["client_email"],
        details={"client_email": info["client_email"]},
    )
    return info["client_email"]


def remove_service_account_key(session: Session, *, actor: User) -> None:
    row = connection.saved_row(session)
    email = row.service_account_email if row else None
    if row is not None:
        row.service_account_key_encrypted = None
        row.service_account_email = None
        row.key_uploaded_at = None
        row.updated_at, row.updated_by_id = utcnow(), actor.id
        session.flush()
    connection.invalidate_cache()
    audit.record(
        session, actor=actor, action="genai.key_remove", object_type="gemini", summary=email or "-"
    )
