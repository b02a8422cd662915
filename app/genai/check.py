"""The Connection page's **Test connection**: every step TuneDesk needs, in plain language.

1. settings: project, region and bucket are set;
2. credentials: a token can be obtained (and for whom);
3. bucket: TuneDesk can write (and delete) a small file in the bucket;
4. vertex: Vertex AI answers a token count for a model;
then the steps a higher domain registered (``check_steps.add_step``: the model catalog adds
"region": does the configured region tune the default model, and where will tuned models
answer).
A failed credentials step skips the two remote steps; the bucket and Vertex steps are
independent of each other, so one report shows everything that needs fixing.
"""

from __future__ import annotations

import dataclasses
import uuid

import google.auth.transport.requests

from app.genai import check_steps
from app.genai.classify import classify
from app.genai.client import build_credentials
from app.genai.common import require_settings, resolve
from app.genai.config import ConnectionConfig, RetryPolicy
from app.genai.errors import GeminiError
from app.genai.generation import count_tokens
from app.genai.types import CheckStep, ConnectionReport
from app.i18n import _

CHECK_MODEL = "gemini-3.5-flash"  # callers pass the catalog's default model
CHECK_TEXT = "Hello from TuneDesk"
# People wait on the page: fewer, shorter attempts than background work gets.
CHECK_RETRY = RetryPolicy(attempts=2, initial_delay=0.5, max_delay=2, total_seconds=30, timeout=15)


def _skipped(key: str) -> CheckStep:
    return CheckStep(key, None, _("Not checked, because an earlier step failed."))  # type: ignore[arg-type]


def _settings_step(config: ConnectionConfig) -> CheckStep:
    try:
        require_settings(config)
    except GeminiError as error:
        return CheckStep("settings", False, error.user_message, error.raw)
    if config.is_emulator:
        message = _("Offline emulator at %(url)s (project %(project)s, bucket %(bucket)s).")
        return CheckStep(
            "settings",
            True,
            message
            % {"url": config.vertex_base_url, "project": config.project, "bucket": config.bucket},
        )
    message = _("Google Cloud project %(project)s, region %(location)s, bucket %(bucket)s.")
    return CheckStep(
        "settings",
        True,
        message % {"project": config.project, "location": config.location, "bucket": config.bucket},
    )


def _credentials_step(config: ConnectionConfig) -> CheckStep:
    try:
        credentials = build_credentials(config)
        if not credentials.valid:
            credentials.refresh(google.auth.transport.requests.Request())
    except Exception as raised:
        error = classify(raised, {"operation": "credentials"})
        return CheckStep("credentials", False, error.user_message, error.raw)
    if config.is_emulator:
        return CheckStep("credentials", True, _("The emulator needs no Google credentials."))
    if config.credentials_source == "token":
        return CheckStep("credentials", True, _("A fixed access token is used."))
    account = getattr(credentials, "service_account_email", None) or _("unknown account")
    if config.credentials_source == "service_account":
        message = _("Signed in as %(account)s with the uploaded service-account key.")
    else:
        message = _("Signed in with Application Default Credentials (%(account)s).")
    return CheckStep("credentials", True, message % {"account": account})


def _bucket_step(config: ConnectionConfig) -> CheckStep:
    from app.genai.gateway import delete_file, upload_training_file

    try:
        uploaded = upload_training_file(
            b"TuneDesk connection check\n",
            object_name=f"connection-check/{uuid.uuid4().hex}.txt",
            content_type="text/plain",
            config=config,
        )
        delete_file(uploaded.uri, config=config)
    except GeminiError as error:
        return CheckStep("bucket", False, error.user_message, error.raw)
    message = _("TuneDesk can write files to gs://%(bucket)s.")
    return CheckStep("bucket", True, message % {"bucket": config.bucket})


def _vertex_step(config: ConnectionConfig, model: str) -> CheckStep:
    try:
        tokens = count_tokens(model=model, text=CHECK_TEXT, config=config)
    except GeminiError as error:
        return CheckStep("vertex", False, error.user_message, error.raw)
    message = _("Vertex AI answered: “%(text)s” is %(tokens)s tokens for %(model)s.")
    return CheckStep(
        "vertex", True, message % {"text": CHECK_TEXT, "tokens": tokens, "model": model}
    )


def check_connection(
    *, config: ConnectionConfig | None = None, model: str | None = None
) -> ConnectionReport:
    """Run every step and report each one; never raises for a connection problem."""
    config = dataclasses.replace(resolve(config), retry=CHECK_RETRY)
    registered = check_steps.check_model
    model = model or (registered[0]() if registered else CHECK_MODEL)
    report = _core_steps(config, model)
    extra = (step(config) for step in check_steps.extra_steps)
    return ConnectionReport((*report.steps, *extra))


def _core_steps(config: ConnectionConfig, model: str) -> ConnectionReport:
    settings = _settings_step(config)
    if not settings.ok:
        return ConnectionReport(
            (settings, _skipped("credentials"), _skipped("bucket"), _skipped("vertex"))
        )
    credentials = _credentials_step(config)
    if not credentials.ok:
        return ConnectionReport((settings, credentials, _skipped("bucket"), _skipped("vertex")))
    return ConnectionReport(
        (settings, credentials, _bucket_step(config), _vertex_step(config, model))
    )
