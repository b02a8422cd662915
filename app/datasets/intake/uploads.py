"""An upload's life before ingestion: stored → inspected (the mapping step) → confirmed (queued
for the worker) or discarded.

Confirming remembers the column mapping on the dataset, so the next file with the same columns
needs no choices; ingestion itself is :mod:`app.datasets.intake.ingest`, in a Celery task.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth import audit
from app.auth.models import User
from app.config import get_settings
from app.datasets.editing import change_log
from app.datasets.intake import inspection, storage
from app.datasets.intake.inspection import ENCODINGS
from app.datasets.models import Dataset, Upload, UploadStatus
from app.datasets.quality import findings
from app.datasets.reading.column_mapping import FIELDS, REQUIRED, ColumnMapping
from app.datasets.records import Finding
from app.db import utcnow
from app.errors import Conflict, ValidationFailed
from app.i18n import _
from app.worker import enqueue_after_commit

INGEST_TASK = "datasets.ingest_upload"
SPLITS = ("train", "validation", "test")


@dataclass(frozen=True, slots=True)
class Choices:
    """The mapping step's form: encoding ("" = detected), sheet, columns per field ("" = none)
    and the split of the whole file ("" = per row)."""

    encoding: str = ""
    sheet: str = ""
    columns: dict[str, str] | None = None
    split: str = ""


def _remembered(dataset: Dataset) -> ColumnMapping | None:
    mapping = ColumnMapping.from_dict(dataset.column_mapping or {})
    return mapping if mapping.input and mapping.output else None


def _same_file(session: Session, dataset: Dataset, sha256: str) -> Upload | None:
    return session.scalar(
        select(Upload)
        .where(
            Upload.dataset_id == dataset.id,
            Upload.sha256 == sha256,
            Upload.status.in_((UploadStatus.READY, UploadStatus.QUEUED, UploadStatus.INGESTING)),
        )
        .order_by(Upload.id)
        .limit(1)
    )


def receive(
    session: Session, *, actor: User, dataset: Dataset, name: str, stream: BinaryIO
) -> Upload:
    """Store an uploaded file and inspect it for the mapping step."""
    file_name = storage.clean_name(name)
    stored = storage.save_stream(stream, name=file_name, limit=get_settings().max_upload_bytes)
    upload = Upload(
        dataset_id=dataset.id,
        file_name=file_name,
        format="",
        sha256=stored.sha256,
        size_bytes=stored.size,
        stored_path=stored.relative_path,
        mapping={},
        status=UploadStatus.RECEIVED,
        uploaded_by_id=actor.id,
        counts={},
    )
    _inspect(upload, dataset, Choices())
    same = _same_file(session, dataset, stored.sha256)
    if same is not None:
        upload.inspection["same_file"] = {"upload_id": same.id, "file_name": same.file_name}
    session.add(upload)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="dataset.upload",
        object_type="upload",
        object_id=upload.id,
        project_id=dataset.project_id,
        summary=f"{dataset.name}: {file_name}",
        details={"bytes": stored.size, "sha256": stored.sha256},
    )
    return upload


def _inspect(upload: Upload, dataset: Dataset, choices: Choices) -> None:
    encoding = choices.encoding or (upload.inspection or {}).get("detected_encoding")
    mapping = _mapping_of(choices.columns) if choices.columns is not None else None
    path = storage.absolute(upload.stored_path)
    settings = inspection.Settings(encoding or None, choices.sheet or None, mapping)
    result = inspection.inspect(path, upload.file_name, settings, remembered=_remembered(dataset))
    if not choices.sheet and result["blocking"] and len(result["sheet_names"]) > 1:
        result = _usable_sheet(path, upload.file_name, result, dataset) or result
    detected = (upload.inspection or {}).get("detected_encoding") or (
        result["encoding"] if not choices.encoding else None
    )
    result["detected_encoding"] = detected
    result["encoding_choice"] = choices.encoding
    result["split"] = choices.split
    same = (upload.inspection or {}).get("same_file")
    if same:
        result["same_file"] = same
    upload.inspection = result
    upload.format = result["format"] or ""
    upload.encoding = result["encoding"]
    upload.sheet = result["sheet"]
    upload.split = choices.split or None


def _usable_sheet(
    path: Any, file_name: str, first: dict[str, Any], dataset: Dataset
) -> dict[str, Any] | None:
    """A workbook saved with a cover sheet open: the first sheet that can be imported."""
    for sheet in first["sheet_names"]:
        if sheet == first["sheet"]:
            continue
        result = inspection.inspect(
            path, file_name, inspection.Settings(sheet=sheet), remembered=_remembered(dataset)
        )
        if not result["blocking"]:
            result["sheet_chosen_for_you"] = True
            return result
    return None


def _mapping_of(columns: dict[str, str]) -> ColumnMapping:
    return ColumnMapping.from_dict({name: columns.get(name) or None for name in FIELDS})


def _validate_choices(choices: Choices) -> None:
    errors: dict[str, str] = {}
    if choices.encoding and choices.encoding not in ENCODINGS:
        errors["encoding"] = _("Choose one of the listed encodings.")
    if choices.split and choices.split not in SPLITS:
        errors["split"] = _("Choose one of the listed parts.")
    if errors:
        raise ValidationFailed(errors)


def change_settings(
    session: Session, *, actor: User, dataset: Dataset, upload: Upload, choices: Choices
) -> Upload:
    """Inspect again with other settings (encoding, sheet, columns): the preview follows."""
    _require_received(upload)
    _validate_choices(choices)
    _inspect(upload, dataset, choices)
    audit.record(
        session,
        actor=actor,
        action="dataset.upload_settings",
        object_type="upload",
        object_id=upload.id,
        project_id=dataset.project_id,
        details={"encoding": choices.encoding, "sheet": choices.sheet, "split": choices.split},
    )
    return upload


def _require_received(upload: Upload) -> None:
    if upload.status != UploadStatus.RECEIVED:
        raise Conflict(_("This file is already being imported or was dropped."))


def blocking_messages(upload: Upload) -> dict[str, str]:
    """Why this file cannot be imported as it is set up (by form field)."""
    found: list[Finding] = inspection.stored_findings(upload.inspection or {})
    errors = [f for f in found if f.severity == "error" and findings.scope_of(f.code) == "file"]
    if not errors:
        return {}
    return {"__all__": " ".join(f"{findings.message(f)} {findings.hint(f)}" for f in errors)}


def _column_errors(upload: Upload, columns: dict[str, str]) -> dict[str, str]:
    if upload.format == "jsonl":
        return {}
    errors: dict[str, str] = {}
    for name in REQUIRED:
        if not columns.get(name):
            errors[name] = (
                _("Choose the column with the questions.")
                if name == "input"
                else _("Choose the column with the ideal answers.")
            )
    chosen = [value for value in columns.values() if value]
    if len(chosen) != len(set(chosen)):
        errors["__all__"] = _("Each column can be used for one field only.")
    return errors


def confirm(
    session: Session, *, actor: User, dataset: Dataset, upload: Upload, choices: Choices
) -> Upload:
    """The user confirmed the mapping: remember it and queue the import."""
    _require_received(upload)
    _validate_choices(choices)
    columns = choices.columns or {}
    if errors := _column_errors(upload, columns):
        raise ValidationFailed(errors)
    _inspect(upload, dataset, choices)
    if errors := blocking_messages(upload):
        raise ValidationFailed(errors)
    mapping: dict[str, Any] = dict(upload.inspection.get("mapping") or {})
    upload.mapping = mapping
    if upload.format != "jsonl":
        dataset.column_mapping = mapping
    upload.status = UploadStatus.QUEUED
    upload.queued_at = utcnow()
    upload.phase = None
    upload.progress = 0.0
    enqueue_after_commit(session, INGEST_TASK, upload.id)
    change_log.record(
        session,
        dataset=dataset,
        actor=actor,
        action="upload",
        upload_id=upload.id,
        after={"file": upload.file_name, "mapping": mapping, "split": upload.split},
    )
    audit.record(
        session,
        actor=actor,
        action="dataset.import",
        object_type="upload",
        object_id=upload.id,
        project_id=dataset.project_id,
        summary=f"{dataset.name}: {upload.file_name}",
        details={"mapping": mapping, "encoding": upload.encoding, "sheet": upload.sheet},
    )
    return upload


def discard(session: Session, *, actor: User, dataset: Dataset, upload: Upload) -> None:
    """Drop a file before importing it."""
    _require_received(upload)
    upload.status = UploadStatus.DISCARDED
    upload.inspection = inspection.stripped(upload.inspection or {})
    storage.delete_after_commit(session, upload.stored_path)
    audit.record(
        session,
        actor=actor,
        action="dataset.discard_upload",
        object_type="upload",
        object_id=upload.id,
        project_id=dataset.project_id,
        summary=f"{dataset.name}: {upload.file_name}",
    )
