"""Dataset pages: the project's datasets (with the samples in the empty state), a dataset's
report, its settings, change log and downloads. Uploads: :mod:`app.datasets.web.uploads_router`;
row fixes: :mod:`app.datasets.web.rows_router`."""

from __future__ import annotations

from pathlib import PurePath
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response, StreamingResponse

from app.datasets import service
from app.datasets.editing import change_log
from app.datasets.intake import samples, storage, uploads
from app.datasets.report import downloads
from app.datasets.report.rows import Filters
from app.datasets.web import contexts
from app.db import SessionDep, discard_changes
from app.errors import ValidationFailed
from app.i18n import _
from app.projects.dependencies import EditAccess, ViewAccess
from app.web import flash, redirect, render

router = APIRouter(prefix="/projects/{project_id}/datasets")
REPORT_BLOCKS = ("report", "summary", "rows")


@router.get("", name="datasets:list")
def dataset_list(request: Request, session: SessionDep, ctx: ViewAccess) -> Response:
    return render(request, "datasets/list.html", contexts.list_context(session, ctx))


def _file_of(file: UploadFile | None) -> UploadFile:
    if file is None or not file.filename:
        raise ValidationFailed({"file": _("Choose a file to upload.")})
    return file


@router.post("", name="datasets:create")
def create_dataset(
    request: Request,
    session: SessionDep,
    ctx: EditAccess,
    name: Annotated[str, Form()] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """A new dataset from its first file: the mapping step comes next."""
    form = {"name": name}
    try:
        chosen = _file_of(file)
        default_name = PurePath(storage.clean_name(chosen.filename or "")).stem
        dataset = service.create_dataset(
            session, actor=ctx.user, project=ctx.project, name=name or default_name
        )
        upload = uploads.receive(
            session, actor=ctx.user, dataset=dataset, name=chosen.filename or "", stream=chosen.file
        )
    except ValidationFailed as error:
        discard_changes(session)
        context = contexts.list_context(session, ctx, form=form, errors=error.errors)
        return render(request, "datasets/list.html", context, status_code=422)
    base = f"/projects/{ctx.project.id}/datasets/{dataset.id}"
    return redirect(request, f"{base}/uploads/{upload.id}")


@router.post("/samples/{sample_id}", name="datasets:load_sample")
def load_sample(request: Request, session: SessionDep, ctx: EditAccess, sample_id: str) -> Response:
    dataset = samples.load(session, actor=ctx.user, project=ctx.project, sample_id=sample_id)
    upload_ids = [u.id for u in service.uploads_of(session, dataset_id=dataset.id)]
    flash(request, _("The sample “%(name)s” is being imported.") % {"name": dataset.name})
    base = f"/projects/{ctx.project.id}/datasets/{dataset.id}"
    return redirect(request, f"{base}/uploads/{upload_ids[0]}" if upload_ids else base)


@router.get("/{dataset_id}", name="datasets:detail")
def dataset_detail(
    request: Request, session: SessionDep, ctx: ViewAccess, dataset_id: int
) -> Response:
    dataset = service.get_dataset(session, project_id=ctx.project.id, dataset_id=dataset_id)
    filters = Filters.parse(request.query_params)
    context = contexts.report_context(session, request, ctx, dataset, filters)
    target = request.headers.get("hx-target", "")
    headers = {}
    if target == "summary" and not context["checking"]:
        headers["HX-Trigger"] = "datasets-rechecked"  # the rows refresh too (datasets.js)
    block = target if target in REPORT_BLOCKS else None
    return render(request, "datasets/detail.html", context, block=block, headers=headers)


@router.post("/{dataset_id}/settings", name="datasets:settings")
def save_settings(
    request: Request,
    session: SessionDep,
    ctx: EditAccess,
    dataset_id: int,
    name: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    threshold: Annotated[str, Form()] = "",
) -> Response:
    dataset = service.get_dataset(session, project_id=ctx.project.id, dataset_id=dataset_id)
    base = f"/projects/{ctx.project.id}/datasets/{dataset.id}"
    try:
        service.update_settings(
            session,
            actor=ctx.user,
            dataset=dataset,
            name=name,
            description=description,
            threshold=threshold,
        )
    except ValidationFailed as error:
        discard_changes(session)
        dataset = service.get_dataset(session, project_id=ctx.project.id, dataset_id=dataset_id)
        context = contexts.report_context(session, request, ctx, dataset, Filters())
        context.update(
            settings_form={"name": name, "description": description, "threshold": threshold},
            settings_errors=error.errors,
        )
        return render(request, "datasets/detail.html", context, status_code=422)
    flash(request, _("The dataset settings were saved."))
    return redirect(request, base)


@router.get("/{dataset_id}/history", name="datasets:history")
def history(
    request: Request,
    session: SessionDep,
    ctx: ViewAccess,
    dataset_id: int,
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
) -> Response:
    dataset = service.get_dataset(session, project_id=ctx.project.id, dataset_id=dataset_id)
    log = change_log.browse(session, dataset_id=dataset.id, page=page)
    return render(
        request,
        "datasets/history.html",
        {
            **contexts.common(),
            "ctx": ctx,
            "dataset": dataset,
            "log": log,
            "file_names": {
                u.id: u.file_name for u in service.uploads_of(session, dataset_id=dataset.id)
            },
            "action_label": change_log.action_label,
            "diff": change_log.diff,
            "why_text": change_log.why_text,
            "base_url": f"/projects/{ctx.project.id}/datasets/{dataset.id}",
            "breadcrumbs": contexts.dataset_crumbs(ctx, dataset, (_("Change log"), None)),
        },
    )


@router.get("/{dataset_id}/findings.csv", name="datasets:findings_csv")
def findings_csv(
    request: Request, session: SessionDep, ctx: ViewAccess, dataset_id: int
) -> StreamingResponse:
    dataset = service.get_dataset(session, project_id=ctx.project.id, dataset_id=dataset_id)
    return downloads.findings_csv_response(dataset)


@router.get("/{dataset_id}/cleaned.jsonl", name="datasets:cleaned")
def cleaned_jsonl(
    request: Request, session: SessionDep, ctx: ViewAccess, dataset_id: int
) -> StreamingResponse:
    dataset = service.get_dataset(session, project_id=ctx.project.id, dataset_id=dataset_id)
    return downloads.cleaned_jsonl_response(dataset)
