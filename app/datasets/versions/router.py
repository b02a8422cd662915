"""Dataset version pages: the list, creating one (with the leakage check), a version's page with
its diff, its examples, and downloads."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, Response, StreamingResponse

from app.datasets.models import Dataset
from app.datasets.versions import diff, downloads, queries, service
from app.datasets.versions.leakage import KIND_LABELS
from app.datasets.versions.splits import SplitRule
from app.db import SessionDep, discard_changes
from app.errors import NotFound, ValidationFailed
from app.i18n import _
from app.projects.dependencies import VersionAccess, ViewAccess
from app.projects.service import ProjectContext
from app.web import flash, redirect, render

router = APIRouter()
DEFAULT_PILOT = 100


def _base(ctx: ProjectContext) -> str:
    return f"/projects/{ctx.project.id}/versions"


@router.get("/projects/{project_id}/versions", name="versions:list")
def list_page(request: Request, session: SessionDep, ctx: ViewAccess) -> Response:
    return render(
        request,
        "versions/list.html",
        {
            "ctx": ctx,
            "rows": queries.list_versions(session, project_id=ctx.project.id),
            "breadcrumbs": ctx.crumbs((_("Versions"), None)),
        },
    )


def _form_defaults() -> dict[str, str]:
    return {
        "kind": "full",
        "pilot_size": str(DEFAULT_PILOT),
        "seed": str(SplitRule().seed),
        "validation_percent": "10",
        "note": "",
        "dataset_id": "",
    }


def _new_page(
    request: Request,
    session: SessionDep,
    ctx: ProjectContext,
    form: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    choices = queries.dataset_choices(session, project_id=ctx.project.id)
    if not form.get("dataset_id") and choices:
        form["dataset_id"] = str(max(choices, key=lambda c: c.approved).dataset.id)
    return render(
        request,
        "versions/new.html",
        {
            "ctx": ctx,
            "form": form,
            "errors": errors,
            "choices": choices,
            "breadcrumbs": ctx.crumbs((_("Versions"), _base(ctx)), (_("New version"), None)),
        },
        status_code=status_code,
    )


@router.get("/projects/{project_id}/versions/new", name="versions:new")
def new_page(request: Request, session: SessionDep, ctx: VersionAccess) -> Response:
    return _new_page(request, session, ctx, _form_defaults(), {})


def parse_request(form: dict[str, str]) -> service.VersionRequest:
    """The version form as a request; every problem is reported against its field."""
    errors: dict[str, str] = {}
    pilot_size = None
    if form.get("kind") == "pilot":
        raw = form.get("pilot_size", "").strip()
        if not raw.isdigit() or not 1 <= int(raw) <= 100_000:
            errors["pilot_size"] = _("Enter a number of examples, for example 100.")
        else:
            pilot_size = int(raw)
    seed_raw = form.get("seed", "").strip()
    if not seed_raw.isdigit() or len(seed_raw) > 9:
        errors["seed"] = _("Enter a whole number of at most 9 digits.")
    percent = form.get("validation_percent", "").strip()
    if not percent.isdigit() or not 0 <= int(percent) <= 50:
        errors["validation_percent"] = _("Enter a share between 0 and 50 percent.")
    if len(form.get("note", "")) > 2000:
        errors["note"] = _("Keep the note under 2,000 characters.")
    if errors:
        raise ValidationFailed(errors)
    rule = SplitRule(validation_ratio=int(percent) / 100, seed=int(seed_raw))
    return service.VersionRequest(note=form.get("note", ""), pilot_size=pilot_size, rule=rule)


def _dataset(session: SessionDep, ctx: ProjectContext, raw: str) -> Dataset:
    dataset = session.get(Dataset, int(raw)) if raw.isdigit() else None
    if dataset is None or dataset.project_id != ctx.project.id:
        raise ValidationFailed({"dataset_id": _("Choose one of the project's datasets.")})
    return dataset


def _form(
    dataset_id: str, note: str, kind: str, pilot_size: str, seed: str, validation_percent: str
) -> dict[str, str]:
    return {
        "dataset_id": dataset_id,
        "note": note,
        "kind": kind,
        "pilot_size": pilot_size,
        "seed": seed,
        "validation_percent": validation_percent,
    }


FormField = Annotated[str, Form()]


@router.post("/projects/{project_id}/versions/check", name="versions:check")
def check(
    request: Request,
    session: SessionDep,
    ctx: VersionAccess,
    dataset_id: FormField = "",
    note: FormField = "",
    kind: FormField = "full",
    pilot_size: FormField = "",
    seed: FormField = "",
    validation_percent: FormField = "10",
) -> Response:
    """Plan the version and list overlaps between the splits before anything is frozen."""
    form = _form(dataset_id, note, kind, pilot_size, seed, validation_percent)
    try:
        dataset = _dataset(session, ctx, dataset_id)
        plan = service.plan_version(session, dataset=dataset, request=parse_request(form))
    except ValidationFailed as error:
        discard_changes(session)
        return _new_page(request, session, ctx, form, error.errors, status_code=422)
    report = service.check_leakage(session, plan=plan)
    return render(
        request,
        "versions/check.html",
        {
            "ctx": ctx,
            "form": form,
            "dataset": dataset,
            "plan": plan,
            "report": report,
            "kind_labels": KIND_LABELS,
            "breadcrumbs": ctx.crumbs((_("Versions"), _base(ctx)), (_("New version"), None)),
        },
    )


@router.post("/projects/{project_id}/versions", name="versions:create")
def create(
    request: Request,
    session: SessionDep,
    ctx: VersionAccess,
    dataset_id: FormField = "",
    note: FormField = "",
    kind: FormField = "full",
    pilot_size: FormField = "",
    seed: FormField = "",
    validation_percent: FormField = "10",
    acknowledge: Annotated[bool, Form()] = False,
    fingerprint: FormField = "",
) -> Response:
    form = _form(dataset_id, note, kind, pilot_size, seed, validation_percent)
    try:
        dataset = _dataset(session, ctx, dataset_id)
        version = service.create_version(
            session,
            actor=ctx.user,
            dataset=dataset,
            request=parse_request(form),
            acknowledge_leakage=acknowledge,
            seen_leakage=fingerprint or None,
        )
    except ValidationFailed as error:
        discard_changes(session)
        return _new_page(request, session, ctx, form, error.errors, status_code=422)
    except service.LeakageFound as found:
        discard_changes(session)
        flash(request, found.message, "error")
        return check(
            request, session, ctx, dataset_id, note, kind, pilot_size, seed, validation_percent
        )
    flash(
        request,
        _("Version %(number)s of %(dataset)s was created.")
        % {"number": version.number, "dataset": dataset.name},
    )
    return redirect(request, f"{_base(ctx)}/{version.id}")


@router.get("/projects/{project_id}/versions/{version_id}", name="versions:detail")
def detail(request: Request, session: SessionDep, ctx: ViewAccess, version_id: int) -> Response:
    version = queries.get_version(session, project_id=ctx.project.id, version_id=version_id)
    previous = diff.previous_version(session, version)
    row = queries.version_row(session, version)
    return render(
        request,
        "versions/detail.html",
        {
            "ctx": ctx,
            "row": row,
            "version": version,
            "diff": diff.diff_versions(session, version=version, previous=previous),
            "histogram": queries.histogram_rows(version),
            "kind_labels": KIND_LABELS,
            "breadcrumbs": ctx.crumbs(
                (_("Versions"), _base(ctx)),
                (
                    _("%(dataset)s v%(number)s")
                    % {"dataset": row.dataset, "number": version.number},
                    None,
                ),
            ),
        },
    )


@router.get("/projects/{project_id}/versions/{version_id}/examples", name="versions:examples")
def examples(
    request: Request,
    session: SessionDep,
    ctx: ViewAccess,
    version_id: int,
    split: str = "train",
    page: int = 1,
) -> Response:
    version = queries.get_version(session, project_id=ctx.project.id, version_id=version_id)
    row = queries.version_row(session, version)
    return render(
        request,
        "versions/examples.html",
        {
            "ctx": ctx,
            "row": row,
            "version": version,
            "listing": queries.examples_page(session, version=version, split=split, page=page),
            "breadcrumbs": ctx.crumbs(
                (_("Versions"), _base(ctx)),
                (
                    _("%(dataset)s v%(number)s")
                    % {"dataset": row.dataset, "number": version.number},
                    f"{_base(ctx)}/{version.id}",
                ),
                (_("Examples"), None),
            ),
        },
    )


@router.get(
    "/projects/{project_id}/versions/{version_id}/download/{split}.jsonl",
    name="versions:download",
)
def download(
    session: SessionDep, ctx: ViewAccess, version_id: int, split: str, format: str = "vertex"
) -> Response:
    """A split as Vertex JSONL (the exact file tuning uploads, with its sha256) or OpenAI JSONL."""
    version = queries.get_version(session, project_id=ctx.project.id, version_id=version_id)
    if split not in version.files:
        raise NotFound(_("This version has no %(split)s examples.") % {"split": split})
    row = queries.version_row(session, version)
    if format == "openai":
        name = downloads.download_name(row, split, "jsonl", "openai")
        return StreamingResponse(
            downloads.openai_jsonl(version.id, split),
            media_type="application/jsonl; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    info = version.files[split]
    return FileResponse(
        service.file_path(version, split),
        media_type="application/jsonl; charset=utf-8",
        filename=downloads.download_name(row, split, "jsonl"),
        headers={"X-Content-SHA256": info["sha256"], "ETag": f'"{info["sha256"]}"'},
    )


@router.get(
    "/projects/{project_id}/versions/{version_id}/download.csv", name="versions:download_csv"
)
def download_csv(
    session: SessionDep, ctx: ViewAccess, version_id: int, split: str = "all"
) -> Response:
    """Every example of the version (or one split) as a spreadsheet-safe CSV."""
    version = queries.get_version(session, project_id=ctx.project.id, version_id=version_id)
    row = queries.version_row(session, version)
    splits = queries.SPLIT_ORDER if split not in queries.SPLIT_ORDER else (split,)
    name = downloads.download_name(row, split if split in splits else "all", "csv")
    return StreamingResponse(
        downloads.csv_file(version.id, splits),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
