"""The review table (filters, bulk approve/reject), progress, and the project's review settings."""

from __future__ import annotations

import time
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.datasets.models import Dataset, Example, Upload
from app.db import SessionDep, discard_changes
from app.errors import ValidationFailed
from app.i18n import _, ngettext
from app.projects.dependencies import ManageAccess, ReviewAccess
from app.projects.models import Project, ProjectMember
from app.projects.service import ProjectContext
from app.review import bulk as bulk_service
from app.review import findings_view, progress, queue
from app.review import settings as review_settings
from app.review.models import Decision
from app.review.settings import LEASE_MINUTES_CHOICES
from app.web import flash, redirect, render

router = APIRouter()


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _date_or_none(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def parse_filter(params: dict[str, str]) -> queue.TableFilter:
    status = params.get("status", "pending")
    return queue.TableFilter(
        status=status if status in queue.STATUSES else "pending",
        code=params.get("code", "").strip()[:40],
        author_id=_int_or_none(params.get("author")),
        upload_id=_int_or_none(params.get("upload")),
        dataset_id=_int_or_none(params.get("dataset")),
        tag=params.get("tag", "").strip()[:100],
        origin=params.get("origin", "")
        if params.get("origin") in ("upload", "manual", "evaluation")
        else "",
        submitted_from=_date_or_none(params.get("from")),
        submitted_to=_date_or_none(params.get("to")),
        newest_first=params.get("order") == "newest",
    )


# Filter choices change rarely but cost a scan of the project's examples (distinct tags): they
# are kept for a minute per project (the key includes its creation time, so a reused id in a
# fresh database never sees another project's choices).
OPTIONS_TTL_SECONDS = 60.0
_options_cache: dict[tuple[int, str], tuple[float, dict[str, list[tuple[str, str]]]]] = {}


def _filter_options(session: Session, project: Project) -> dict[str, list[tuple[str, str]]]:
    key = (project.id, project.created_at.isoformat())
    cached = _options_cache.get(key)
    now = time.monotonic()
    if cached and cached[0] > now:
        return cached[1]
    options = _load_filter_options(session, project.id)
    _options_cache[key] = (now + OPTIONS_TTL_SECONDS, options)
    return options


def _load_filter_options(session: Session, project_id: int) -> dict[str, list[tuple[str, str]]]:
    """Choices for the filter bar: people, datasets, uploads and tags of this project."""
    authors = session.execute(
        select(User.id, User.name)
        .join(ProjectMember, ProjectMember.user_id == User.id)
        .where(ProjectMember.project_id == project_id)
        .order_by(User.name)
    ).all()
    datasets = session.execute(
        select(Dataset.id, Dataset.name)
        .where(Dataset.project_id == project_id)
        .order_by(Dataset.id)
    ).all()
    uploads = session.execute(
        select(Upload.id, Upload.file_name)
        .join(Dataset, Dataset.id == Upload.dataset_id)
        .where(Dataset.project_id == project_id)
        .order_by(Upload.id.desc())
        .limit(200)
    ).all()
    tags = session.scalars(
        select(Example.tag)
        .where(Example.project_id == project_id, Example.tag.is_not(None))
        .distinct()
        .order_by(Example.tag)
        .limit(200)
    ).all()
    return {
        "authors": [(str(i), n) for i, n in authors],
        "datasets": [(str(i), n) for i, n in datasets],
        "uploads": [(str(i), f"#{i} {n}") for i, n in uploads],
        "tags": [(t, t) for t in tags if t],
    }


@router.get("/projects/{project_id}/review/table", name="review:table")
def table(
    request: Request,
    session: SessionDep,
    ctx: ReviewAccess,
    after: int | None = None,
    before: int | None = None,
) -> Response:
    spec = parse_filter(dict(request.query_params))
    page = queue.table_page(
        session, project_id=ctx.project.id, spec=spec, after=after, before=before
    )
    names = dict(
        session.execute(
            select(User.id, User.name).where(
                User.id.in_({e.author_id for e in page.examples if e.author_id})
            )
        ).all()
    )
    return render(
        request,
        "review/table.html",
        {
            "ctx": ctx,
            "spec": spec,
            "page": page,
            "names": names,
            "options": _filter_options(session, ctx.project),
            "finding_codes": findings_view.filter_choices(),
            "rules": review_settings.rules_for(session, ctx.project.id),
            "breadcrumbs": ctx.crumbs(
                (_("Review"), f"/projects/{ctx.project.id}/review"), (_("Table"), None)
            ),
        },
        block="results",
    )


def _bulk_message(result: bulk_service.BulkResult, decision: Decision) -> tuple[str, str]:
    n = len(result.decided)
    if decision == Decision.APPROVE:
        message = ngettext("%(num)s example approved.", "%(num)s examples approved.", n) % {
            "num": n
        }
        if result.waiting:
            waiting = len(result.waiting)
            message += " " + ngettext(
                "%(num)s of them needs another reviewer's approval.",
                "%(num)s of them need another reviewer's approval.",
                waiting,
            ) % {"num": waiting}
    else:
        message = ngettext(
            "%(num)s example returned to its author.",
            "%(num)s examples returned to their authors.",
            n,
        ) % {"num": n}
    notes = []
    if result.own:
        notes.append(_("%(n)s are your own (another reviewer decides)") % {"n": len(result.own)})
    if result.conflicts:
        notes.append(
            _("%(n)s conflict with approved answers (open them one by one)")
            % {"n": len(result.conflicts)}
        )
    if result.moved:
        notes.append(_("%(n)s were decided or changed meanwhile") % {"n": len(result.moved)})
    if notes:
        message += " " + _("Not decided: %(list)s.") % {"list": "; ".join(notes)}
    return message, "warning" if notes else "success"


@router.post("/projects/{project_id}/review/bulk", name="review:bulk")
def bulk(
    request: Request,
    session: SessionDep,
    ctx: ReviewAccess,
    selected: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies defaults
    decision: Annotated[str, Form()] = "approve",
    reason: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
) -> Response:
    """Approve or return the selected examples of the table (each under the usual rules)."""
    chosen = Decision.REJECT if decision == "reject" else Decision.APPROVE
    if not back.startswith(f"/projects/{ctx.project.id}/review/"):
        back = f"/projects/{ctx.project.id}/review/table"
    selection = bulk_service.parse_selection(selected)
    if not selection:
        flash(request, _("Select at least one example first."), "warning")
        return redirect(request, back)
    try:
        result = bulk_service.bulk_decide(
            session,
            actor=ctx.user,
            project=ctx.project,
            selection=selection,
            decision=chosen,
            reason=reason,
        )
    except ValidationFailed as error:
        discard_changes(session)
        flash(request, error.message, "error")
        return redirect(request, back)
    message, level = _bulk_message(result, chosen)
    flash(request, message, level)
    return redirect(request, back)


@router.get("/projects/{project_id}/review/progress", name="review:progress")
def progress_page(request: Request, session: SessionDep, ctx: ReviewAccess) -> Response:
    return render(
        request,
        "review/progress.html",
        {
            "ctx": ctx,
            "progress": progress.project_progress(session, project_id=ctx.project.id),
            "breadcrumbs": ctx.crumbs(
                (_("Review"), f"/projects/{ctx.project.id}/review"), (_("Progress"), None)
            ),
        },
    )


def _settings_page(
    request: Request,
    ctx: ProjectContext,
    form: dict[str, object],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "review/settings.html",
        {
            "ctx": ctx,
            "form": form,
            "errors": errors,
            "lease_options": [
                (str(m), ngettext("%(num)s minute", "%(num)s minutes", m) % {"num": m})
                for m in LEASE_MINUTES_CHOICES
            ],
            "breadcrumbs": ctx.crumbs(
                (_("Review"), f"/projects/{ctx.project.id}/review"),
                (_("Review settings"), None),
            ),
        },
        status_code=status_code,
    )


@router.get("/projects/{project_id}/review/settings", name="review:settings")
def settings_form(request: Request, session: SessionDep, ctx: ManageAccess) -> Response:
    rules = review_settings.rules_for(session, ctx.project.id)
    form: dict[str, object] = {
        "approvals_required": str(rules.approvals_required),
        "auto_assign": rules.auto_assign,
        "lease_minutes": str(rules.lease_minutes),
    }
    return _settings_page(request, ctx, form, {})


@router.post("/projects/{project_id}/review/settings", name="review:settings_save")
def save_settings(
    request: Request,
    session: SessionDep,
    ctx: ManageAccess,
    approvals_required: Annotated[str, Form()] = "",
    auto_assign: Annotated[bool, Form()] = False,
    lease_minutes: Annotated[str, Form()] = "10",
) -> Response:
    try:
        review_settings.update_rules(
            session,
            actor=ctx.user,
            project=ctx.project,
            approvals_required=approvals_required,
            auto_assign=auto_assign,
            lease_minutes=lease_minutes,
        )
    except ValidationFailed as error:
        discard_changes(session)
        form: dict[str, object] = {
            "approvals_required": approvals_required,
            "auto_assign": auto_assign,
            "lease_minutes": lease_minutes,
        }
        return _settings_page(request, ctx, form, error.errors, status_code=422)
    flash(request, _("Review settings saved."))
    return redirect(request, f"/projects/{ctx.project.id}/review/settings")
