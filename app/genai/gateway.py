"""The Gemini gateway: the only way TuneDesk talks to Vertex AI and Cloud Storage.

Typed functions, TuneDesk's own return types (``app.genai.types``) and errors
(``app.genai.errors``). Every function takes an optional ``config``; without one it uses the
connection in force (``app.genai.connection.current_config``). Safe to call from several threads
and from Celery workers: the SDK clients are shared per process (``app.genai.client``).

Tuning jobs:   upload_training_file → launch_tuning → get_tuning (poll) / list_tunings (find
               by label after a crash) / cancel_tuning; read_metrics for charts.
               Continuous tuning: launch_tuning(pre_tuned_model=…, checkpoint_id=…).
Checkpoints:   get_default_checkpoint / set_default_checkpoint (models.get / models.update).
Generation:    generate, count_tokens (``app.genai.generation``); a tuned model on the host that
               serves it with the advised thinking: ``app.genai.serving.ask_tuned``.
Diagnostics:   check_connection (``app.genai.check``).
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from google.genai import types as genai_types

from app.genai import convert
from app.genai.check import check_connection
from app.genai.common import check_labels, clients, context_for, http_options, resolve
from app.genai.config import ConnectionConfig
from app.genai.errors import PermanentGeminiError
from app.genai.generation import count_tokens, generate
from app.genai.metrics import read_metrics
from app.genai.retry import call_with_retries
from app.genai.types import ADAPTER_SIZES, RemoteTuningJob, UploadedFile

# tunings.tune() warns once per process that the SDK's tuning API is experimental; TuneDesk
# pins the SDK's major version and tests the wire format, so the warning is noise in logs.
warnings.filterwarnings("ignore", message="The SDK's tuning implementation is experimental")

OBJECT_PREFIX = "tunedesk/"
LIST_PAGE_SIZE = 100
# Cloud Storage resumable uploads send chunks in multiples of 256 KiB.
CHUNK_UNIT = 256 * 1024
# --- Training files -------------------------------------------------------------------------


def _object_name(name: str) -> str:
    if (
        not name
        or name.startswith("/")
        or ".." in name.split("/")
        or any(ch in name for ch in "\r\n#[]*?")
        or len(name) > 900
    ):
        raise ValueError(f"object name {name!r} is not a safe Cloud Storage object name")
    return name if name.startswith(OBJECT_PREFIX) else OBJECT_PREFIX + name


def upload_training_file(
    data: bytes | Path,
    *,
    object_name: str,
    content_type: str = "application/jsonl",
    chunk_size: int | None = None,
    config: ConnectionConfig | None = None,
) -> UploadedFile:
    """Upload a JSONL file to the configured bucket under ``tunedesk/``; returns its gs:// URI.

    Uploading the same name again replaces the object, so a retried upload is harmless. Files up
    to 8 MiB go in one request; larger ones (or any, with ``chunk_size``, a multiple of 256 KiB)
    are sent in resumable chunks.
    """
    if chunk_size is not None and (chunk_size <= 0 or chunk_size % CHUNK_UNIT):
        raise ValueError("chunk_size must be a positive multiple of 256 KiB")
    config = resolve(config)
    name = _object_name(object_name)
    context = context_for(config, operation="upload", what=f"gs://{config.bucket}/{name}")
    shared = clients(config, context)

    def attempt(timeout: float) -> Any:
        blob = shared.storage.bucket(config.bucket).blob(name, chunk_size=chunk_size)
        if chunk_size is not None:
            # A stream of unknown size always goes resumable, in chunks of ``chunk_size``.
            with data.open("rb") if isinstance(data, Path) else io.BytesIO(data) as stream:
                blob.upload_from_file(
                    stream, content_type=content_type, timeout=timeout, retry=None
                )
        elif isinstance(data, Path):
            blob.upload_from_filename(
                str(data), content_type=content_type, timeout=timeout, retry=None
            )
        else:
            blob.upload_from_string(data, content_type=content_type, timeout=timeout, retry=None)
        return blob

    blob = call_with_retries(attempt, policy=config.retry, what="upload", context=context)
    size = (
        blob.size
        if blob.size is not None
        else (data.stat().st_size if isinstance(data, Path) else len(data))
    )
    return UploadedFile(
        uri=f"gs://{config.bucket}/{name}",
        bucket=config.bucket,
        name=name,
        size=int(size),
        md5_hash=blob.md5_hash or "",
    )


def delete_file(uri: str, *, config: ConnectionConfig | None = None) -> None:
    """Delete a file this gateway uploaded (``gs://bucket/name``); a missing file is fine."""
    config = resolve(config)
    bucket, _sep, name = uri.removeprefix("gs://").partition("/")
    context = context_for(config, operation="delete", what=uri)
    shared = clients(config, context)

    def attempt(timeout: float) -> None:
        blob = shared.storage.bucket(bucket).blob(name)
        try:
            blob.delete(timeout=timeout, retry=None)
        except Exception as error:
            if getattr(error, "code", None) != 404:
                raise

    call_with_retries(attempt, policy=config.retry, what="delete", context=context)


# --- Tuning jobs ----------------------------------------------------------------------------


def _tuning_config(
    *,
    display_name: str,
    description: str | None,
    validation_uri: str | None,
    epochs: int | None,
    learning_rate_multiplier: float | None,
    adapter_size: int | None,
    labels: Mapping[str, str] | None,
    base_model: str,
    checkpoint_id: str | None = None,
) -> genai_types.CreateTuningJobConfig:
    adapter = None
    if adapter_size is not None:
        adapter = convert.ADAPTER_SIZE_ENUMS.get(adapter_size)
        if adapter is None:
            raise PermanentGeminiError(
                "adapter_size",
                {"size": adapter_size, "model": base_model, "choices": list(ADAPTER_SIZES)},
            )
    return genai_types.CreateTuningJobConfig(
        tuned_model_display_name=display_name[:128],
        description=description or None,
        validation_dataset=(
            genai_types.TuningValidationDataset(gcs_uri=validation_uri) if validation_uri else None
        ),
        epoch_count=epochs,
        learning_rate_multiplier=learning_rate_multiplier,
        adapter_size=adapter,
        labels=check_labels(labels or {}) or None,
        # Read by tunings.tune() with getattr() only when the base is a tuned model's resource
        # name: google-genai 3.4 silently drops it from a dict config, so this must stay a
        # CreateTuningJobConfig object (tunings.py, tune(); vertex-2026.md §4).
        pre_tuned_model_checkpoint_id=checkpoint_id,
    )


def launch_tuning(
    *,
    base_model: str,
    training_uri: str,
    display_name: str,
    validation_uri: str | None = None,
    epochs: int | None = None,
    learning_rate_multiplier: float | None = None,
    adapter_size: int | None = None,
    labels: Mapping[str, str] | None = None,
    description: str | None = None,
    pre_tuned_model: str | None = None,
    checkpoint_id: str | None = None,
    config: ConnectionConfig | None = None,
) -> RemoteTuningJob:
    """Create a supervised tuning job; ``None`` hyperparameters let Vertex choose.

    Continuous tuning: with ``pre_tuned_model`` (``projects/…/models/ID@VERSION``, a tuned
    model) the job continues from that model's ``checkpoint_id`` (None: its default checkpoint)
    instead of ``base_model``; the request then carries ``preTunedModel`` and no ``baseModel``.

    Never creates two jobs: a failure that might have reached Vertex (timeout, 500) is raised
    at once as ``TransientGeminiError`` with ``maybe_created`` set; look the job up with
    ``list_tunings(labels=…)`` before launching again.
    """
    config = resolve(config)
    context = context_for(
        config, operation="launch", model=base_model, adapter_size=adapter_size, what=display_name
    )
    source = pre_tuned_model or base_model
    if pre_tuned_model is not None and not pre_tuned_model.startswith("projects/"):
        raise ValueError("pre_tuned_model must be a tuned model's resource name (projects/…)")
    tuning = _tuning_config(
        display_name=display_name,
        description=description,
        validation_uri=validation_uri,
        epochs=epochs,
        learning_rate_multiplier=learning_rate_multiplier,
        adapter_size=adapter_size,
        labels=labels,
        base_model=base_model,
        checkpoint_id=checkpoint_id if pre_tuned_model else None,
    )
    shared = clients(config, context)

    def attempt(timeout: float) -> genai_types.TuningJob:
        return shared.genai.tunings.tune(
            base_model=source,
            training_dataset=genai_types.TuningDataset(gcs_uri=training_uri),
            config=tuning.model_copy(update={"http_options": http_options(timeout)}),
        )

    job = call_with_retries(
        attempt, policy=config.retry, what="launch tuning", context=context, creates=True
    )
    return convert.tuning_job(job)


def get_tuning(name: str, *, config: ConnectionConfig | None = None) -> RemoteTuningJob:
    config = resolve(config)
    context = context_for(config, operation="get", what=name)
    shared = clients(config, context)

    def attempt(timeout: float) -> genai_types.TuningJob:
        return shared.genai.tunings.get(
            name=name, config=genai_types.GetTuningJobConfig(http_options=http_options(timeout))
        )

    return convert.tuning_job(
        call_with_retries(attempt, policy=config.retry, what="get tuning", context=context)
    )


def label_filter(labels: Mapping[str, str]) -> str:
    """Vertex list filter for labels (AIP-160): ``labels.k="v" AND labels.k2="v2"``."""
    return " AND ".join(f'labels.{key}="{value}"' for key, value in check_labels(labels).items())


def list_tunings(
    *,
    labels: Mapping[str, str] | None = None,
    limit: int = 500,
    config: ConnectionConfig | None = None,
) -> list[RemoteTuningJob]:
    """Tuning jobs of the project, newest first, optionally only those carrying ``labels``.

    The label filter is sent to Vertex and also applied here, so a server that ignores it cannot
    return somebody else's job.
    """
    config = resolve(config)
    wanted = check_labels(labels or {})
    context = context_for(config, operation="list", what="tuning jobs")
    shared = clients(config, context)

    def attempt(timeout: float) -> list[genai_types.TuningJob]:
        listing = genai_types.ListTuningJobsConfig(
            page_size=LIST_PAGE_SIZE,
            filter=label_filter(wanted) or None,
            http_options=http_options(timeout),
        )
        found = []
        for job in shared.genai.tunings.list(config=listing):
            if all((job.labels or {}).get(k) == v for k, v in wanted.items()):
                found.append(job)
                if len(found) >= limit:
                    break
        return found

    jobs = call_with_retries(attempt, policy=config.retry, what="list tunings", context=context)
    return [convert.tuning_job(job) for job in jobs]


def cancel_tuning(name: str, *, config: ConnectionConfig | None = None) -> None:
    """Ask Vertex to stop a job (it goes through CANCELLING to CANCELLED)."""
    config = resolve(config)
    context = context_for(config, operation="cancel", what=name)
    shared = clients(config, context)

    def attempt(timeout: float) -> None:
        shared.genai.tunings.cancel(
            name=name, config=genai_types.CancelTuningJobConfig(http_options=http_options(timeout))
        )

    call_with_retries(attempt, policy=config.retry, what="cancel tuning", context=context)


def get_default_checkpoint(model: str, *, config: ConnectionConfig | None = None) -> str | None:
    """The checkpoint a tuned model serves by default (``models.get`` → defaultCheckpointId)."""
    config = resolve(config)
    context = context_for(config, operation="get", what=model)
    shared = clients(config, context)

    def attempt(timeout: float) -> genai_types.Model:
        return shared.genai.models.get(
            model=model, config=genai_types.GetModelConfig(http_options=http_options(timeout))
        )

    found = call_with_retries(attempt, policy=config.retry, what="get model", context=context)
    return found.default_checkpoint_id


def set_default_checkpoint(
    model: str, checkpoint_id: str, *, config: ConnectionConfig | None = None
) -> str | None:
    """Make ``checkpoint_id`` the checkpoint ``model`` serves (one ``models.update`` with
    ``default_checkpoint_id``; Vertex then points the tuning job's endpoint at it). Returns the
    default checkpoint Vertex reports afterwards. Safe to repeat: it sets, never toggles."""
    config = resolve(config)
    context = context_for(config, operation="update", what=model)
    shared = clients(config, context)

    def attempt(timeout: float) -> genai_types.Model:
        return shared.genai.models.update(
            model=model,
            config=genai_types.UpdateModelConfig(
                default_checkpoint_id=checkpoint_id, http_options=http_options(timeout)
            ),
        )

    updated = call_with_retries(
        attempt, policy=config.retry, what="set default checkpoint", context=context
    )
    return updated.default_checkpoint_id


__all__ = [
    "cancel_tuning",
    "check_connection",
    "count_tokens",
    "delete_file",
    "generate",
    "get_default_checkpoint",
    "get_tuning",
    "launch_tuning",
    "list_tunings",
    "read_metrics",
    "set_default_checkpoint",
    "upload_training_file",
]
