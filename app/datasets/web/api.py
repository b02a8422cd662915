"""The JSON API of datasets (/api/v1): create a dataset, upload a file (imported at once with
the given or guessed column mapping), follow the import, read the report — findings in the
shape ``tunedesk check --format json`` prints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, UploadFile
from pydantic import BaseModel, Field

from app.datasets import service
from app.datasets.intake import uploads
from app.datasets.models import Dataset, Upload
from app.datasets.report import documents
from app.db import SessionDep
from app.i18n import use_locale
from app.projects.dependencies import ApiEditAccess, ApiViewAccess

router = APIRouter(prefix="/api/v1/projects/{project_id}/datasets", tags=["datasets"])
Lang = Annotated[str, Query(pattern="^(en|ja)$", description="language of messages")]


class DatasetIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    description: str = ""


class DatasetOut(BaseModel):
    id: int
    name: str
    description: str
    column_mapping: dict[str, Any]
    near_duplicate_threshold: float
    check_status: str
    created_at: datetime

    @classmethod
    def of(cls, dataset: Dataset) -> DatasetOut:
        return cls(
            id=dataset.id,
            name=dataset.name,
            description=dataset.description,
            column_mapping=dataset.column_mapping or {},
            near_duplicate_threshold=dataset.near_duplicate_threshold,
            check_status=dataset.check_status,
            created_at=dataset.created_at,
        )


class UploadOut(BaseModel):
    id: int
    dataset_id: int
    file_name: str
    format: str
    encoding: str | None
    sheet: str | None
    split: str | None
    size_bytes: int
    sha256: str
    status: str = Field(description="received, queued, ingesting, ready, failed or discarded")
    phase: str | None = Field(description="reading, checking or saving while ingesting")
    progress: float = Field(description="0 to 1")
    rows_done: int
    mapping: dict[str, Any]
    counts: dict[str, Any]
    error: dict[str, Any] | None
    created_at: datetime
    finished_at: datetime | None

    @classmethod
    def of(cls, upload: Upload) -> UploadOut:
        return cls(
            id=upload.id,
            dataset_id=upload.dataset_id,
            file_name=upload.file_name,
            format=upload.format,
            encoding=upload.encoding,
            sheet=upload.sheet,
            split=upload.split,
            size_bytes=upload.size_bytes,
            sha256=upload.sha256,
            status=upload.status,
            phase=upload.phase,
            progress=upload.progress,
            rows_done=upload.rows_done,
            mapping=upload.mapping or {},
            counts=upload.counts or {},
            error=upload.error,
            created_at=upload.created_at,
            finished_at=upload.finished_at,
        )


@router.get("", response_model=list[DatasetOut], name="api:datasets")
def list_datasets(session: SessionDep, ctx: ApiViewAccess) -> list[DatasetOut]:
    """The project's datasets."""
    return [
        DatasetOut.of(row.dataset)
        for row in service.list_datasets(session, project_id=ctx.project.id)
    ]


@router.post("", response_model=DatasetOut, status_code=201, name="api:dataset_create")
def create_dataset(session: SessionDep, ctx: ApiEditAccess, body: DatasetIn) -> DatasetOut:
    dataset = service.create_dataset(
        session, actor=ctx.user, project=ctx.project, name=body.name, description=body.description
    )
    return DatasetOut.of(dataset)


@router.post(
    "/{dataset_id}/uploads", response_model=UploadOut, status_code=202, name="api:upload_create"
)
def upload_file(
    session: SessionDep,
    ctx: ApiEditAccess,
    dataset_id: int,
    file: Annotated[UploadFile, File(description="CSV, TSV, Excel (.xlsx) or JSONL")],
    input_column: Annotated[str, Form()] = "",
    output_column: Annotated[str, Form()] = "",
    system_column: Annotated[str, Form()] = "",
    split_column: Annotated[str, Form()] = "",
    tag_column: Annotated[str, Form()] = "",
    encoding: Annotated[str, Form(description="utf-8, cp932, euc_jp, utf-16; empty: detect")] = "",
    sheet: Annotated[str, Form()] = "",
    split: Annotated[str, Form(description="train, validation or test for the whole file")] = "",
) -> UploadOut:
    """Upload a file and queue its import. Columns not given come from the dataset's
    remembered mapping or are guessed from the header row; 422 when they cannot be."""
    dataset = service.get_dataset(session, project_id=ctx.project.id, dataset_id=dataset_id)
    upload = uploads.receive(
        session, actor=ctx.user, dataset=dataset, name=file.filename or "upload", stream=file.file
    )
    guessed = dict(upload.inspection.get("mapping") or {})
    given = {
        "input": input_column,
        "output": output_column,
        "system": system_column,
        "split": split_column,
        "tag": tag_column,
    }
    columns = {name: value or guessed.get(name) or "" for name, value in given.items()}
    choices = uploads.Choices(encoding=encoding, sheet=sheet, columns=columns, split=split)
    uploads.confirm(session, actor=ctx.user, dataset=dataset, upload=upload, choices=choices)
    return UploadOut.of(upload)


@router.get("/{dataset_id}/uploads/{upload_id}", response_model=UploadOut, name="api:upload")
def get_upload(
    session: SessionDep, ctx: ApiViewAccess, dataset_id: int, upload_id: int
) -> UploadOut:
    """An upload's status and progress (poll until ``ready`` or ``failed``)."""
    dataset = service.get_dataset(session, project_id=ctx.project.id, dataset_id=dataset_id)
    return UploadOut.of(service.get_upload(session, dataset=dataset, upload_id=upload_id))


@router.get("/{dataset_id}/uploads/{upload_id}/report", name="api:upload_report")
def upload_report(
    session: SessionDep, ctx: ApiViewAccess, dataset_id: int, upload_id: int, lang: Lang = "en"
) -> dict[str, Any]:
    """One file's findings, exactly as ``tunedesk check --format json`` prints them."""
    dataset = service.get_dataset(session, project_id=ctx.project.id, dataset_id=dataset_id)
    upload = service.get_upload(session, dataset=dataset, upload_id=upload_id)
    with use_locale(lang):
        return documents.upload_document(session, dataset, upload)


@router.get("/{dataset_id}/report", name="api:dataset_report")
def dataset_report(
    session: SessionDep, ctx: ApiViewAccess, dataset_id: int, lang: Lang = "en"
) -> dict[str, Any]:
    """The whole dataset's findings (every file); each finding also names its file and its
    related rows as "file, row N"."""
    dataset = service.get_dataset(session, project_id=ctx.project.id, dataset_id=dataset_id)
    with use_locale(lang):
        return documents.dataset_document(session, dataset)
