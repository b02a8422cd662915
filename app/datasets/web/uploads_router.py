"""Uploading into a dataset: the file, the mapping step (format, encoding, sheet, columns, with a
preview), then the import's progress, which polls itself until the import ends."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response

from app.datasets import service
from app.datasets.intake import uploads
from app.datasets.models import UploadStatus
from app.datasets.report import rows
from app.datasets.report.rows import Filters
from app.datasets.web import contexts
from app.db import SessionDep, discard_changes
from app.errors import ValidationFailed
from app.i18n import _, format_number
from app.projects.dependencies import EditAccess, ViewAccess
from app.web import flash, redirect, render

router = APIRouter(prefix="/projects/{project_id}/datasets/{dataset_id}/uploads")


@router.post("", name="datasets:upload_add")
def add_file(
    request: Request,
    session: SessionDep,
    ctx: EditAccess,
    dataset_id: int,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    dataset = service.get_dataset(session, project_id=ctx.project.id, dataset_id=dataset_id)
    base = f"/projects/{ctx.project.id}/datasets/{dataset.id}"
    try:
        if file is None or not file.filename:
            raise ValidationFailed({"file": _("Choose a file to upload.")})
        upload = uploads.receive(
            session, actor=ctx.user, dataset=dataset, name=file.filename, stream=file.file
        )
    except ValidationFailed as error:
        discard_changes(session)
        dataset = service.get_dataset(session, project_id=ctx.project.id, dataset_id=dataset_id)
        context = contexts.report_context(session, request, ctx, dataset, Filters())
        context["upload_errors"] = error.errors
        return render(request, "datasets/detail.html", context, status_code=422)
    return redirect(request, f"{base}/uploads/{upload.id}")


def _choices(
    encoding: str, sheet: str, split: str, columns: dict[str, str] | None
) -> uploads.Choices:
    return uploads.Choices(encoding=encoding, sheet=sheet, columns=columns, split=split)


def _columns(
    input_column: str, output_column: str, system_column: str, split_column: str, tag_column: str
) -> dict[str, str]:
    return {
        "input": input_column,
        "output": output_column,
        "system": system_column,
        "split": split_column,
        "tag": tag_column,
    }


@router.get("/{upload_id}", name="datasets:upload")
def upload_page(
    request: Request, session: SessionDep, ctx: ViewAccess, dataset_id: int, upload_id: int
) -> Response:
    dataset = service.get_dataset(session, project_id=ctx.project.id, dataset_id=dataset_id)
    upload = service.get_upload(session, dataset=dataset, upload_id=upload_id)
    base = f"/projects/{ctx.project.id}/datasets/{dataset.id}"
    polling = request.headers.get("hx-target") == "progress"
    if polling and upload.status == UploadStatus.READY:
        counts = upload.counts or {}
        flash(
            request,
            _("%(file)s is imported: %(rows)s rows, %(usable)s usable.")
            % {
                "file": upload.file_name,
                "rows": format_number(counts.get("rows", 0)),
                "usable": format_number(counts.get("usable", 0)),
            },
        )
        return redirect(request, base)
    context = contexts.upload_context(ctx, dataset, upload)
    if upload.status == UploadStatus.FAILED:
        context["report"] = rows.upload_findings(session, upload)
    return render(request, "datasets/upload.html", context, block="progress" if polling else None)


@router.post("/{upload_id}/preview", name="datasets:upload_preview")
def preview(
    request: Request,
    session: SessionDep,
    ctx: EditAccess,
    dataset_id: int,
    upload_id: int,
    encoding: Annotated[str, Form()] = "",
    sheet: Annotated[str, Form()] = "",
    split: Annotated[str, Form()] = "",
    input_column: Annotated[str, Form()] = "",
    output_column: Annotated[str, Form()] = "",
    system_column: Annotated[str, Form()] = "",
    split_column: Annotated[str, Form()] = "",
    tag_column: Annotated[str, Form()] = "",
    changed: Annotated[str, Form()] = "",
) -> Response:
    """Inspect again with the form's settings (a new encoding or sheet re-guesses the columns)."""
    dataset = service.get_dataset(session, project_id=ctx.project.id, dataset_id=dataset_id)
    upload = service.get_upload(session, dataset=dataset, upload_id=upload_id)
    columns = None
    if changed not in ("encoding", "sheet"):
        columns = _columns(input_column, output_column, system_column, split_column, tag_column)
    errors: dict[str, str] = {}
    try:
        uploads.change_settings(
            session,
            actor=ctx.user,
            dataset=dataset,
            upload=upload,
            choices=_choices(encoding, sheet, split, columns),
        )
    except ValidationFailed as error:
        discard_changes(session)
        errors = error.errors
    context = contexts.upload_context(ctx, dataset, upload, errors=errors)
    return render(request, "datasets/upload.html", context, block="mapping")


@router.post("/{upload_id}/import", name="datasets:upload_import")
def start_import(
    request: Request,
    session: SessionDep,
    ctx: EditAccess,
    dataset_id: int,
    upload_id: int,
    encoding: Annotated[str, Form()] = "",
    sheet: Annotated[str, Form()] = "",
    split: Annotated[str, Form()] = "",
    input_column: Annotated[str, Form()] = "",
    output_column: Annotated[str, Form()] = "",
    system_column: Annotated[str, Form()] = "",
    split_column: Annotated[str, Form()] = "",
    tag_column: Annotated[str, Form()] = "",
) -> Response:
    dataset = service.get_dataset(session, project_id=ctx.project.id, dataset_id=dataset_id)
    upload = service.get_upload(session, dataset=dataset, upload_id=upload_id)
    columns = _columns(input_column, output_column, system_column, split_column, tag_column)
    try:
        uploads.confirm(
            session,
            actor=ctx.user,
            dataset=dataset,
            upload=upload,
            choices=_choices(encoding, sheet, split, columns),
        )
    except ValidationFailed as error:
        discard_changes(session)
        upload = service.get_upload(session, dataset=dataset, upload_id=upload_id)
        context = contexts.upload_context(ctx, dataset, upload, errors=error.errors)
        return render(request, "datasets/upload.html", context, block="mapping", status_code=422)
    upload_url = f"/projects/{ctx.project.id}/datasets/{dataset.id}/uploads/{upload.id}"
    return redirect(request, upload_url)


@router.post("/{upload_id}/discard", name="datasets:upload_discard")
def discard(
    request: Request, session: SessionDep, ctx: EditAccess, dataset_id: int, upload_id: int
) -> Response:
    dataset = service.get_dataset(session, project_id=ctx.project.id, dataset_id=dataset_id)
    upload = service.get_upload(session, dataset=dataset, upload_id=upload_id)
    uploads.discard(session, actor=ctx.user, dataset=dataset, upload=upload)
    flash(request, _("The file %(file)s was dropped.") % {"file": upload.file_name})
    return redirect(request, f"/projects/{ctx.project.id}/datasets/{dataset.id}")
