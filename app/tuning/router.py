"""Tuning pages: the jobs of a project, the planner for a new job, a job's live page, the
experiment log, the budget, and the administrators' model catalog."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from babel import dates
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response, StreamingResponse

from app.auth.dependencies import AdminUser
from app.db import SessionDep, discard_changes
from app.errors import ValidationFailed
from app.i18n import _, format_currency, get_locale
from app.projects.dependencies import LaunchAccess, ManageAccess, ViewAccess
from app.tuning import (
    budget,
    catalog,
    checkpoints,
    control,
    experiments,
    pages,
    polling,
    service,
)
from app.tuning.forms import JobForm, JobFormFields, parse_choice
from app.tuning.models import JobState
from app.tuning.texts import format_day, state_label, state_tone
from app.web import flash, redirect, render

router = APIRouter()


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return str(
        dates.format_timedelta(timedelta(seconds=seconds), threshold=1.1, locale=get_locale())
    )


def _money(value: float | None, currency: str = "USD") -> str:
    return "—" if value is None else format_currency(value, currency or "USD")


TEMPLATE_GLOBALS = {
    "tuning_duration": _duration,
    "tuning_money": _money,
    "tuning_day": format_day,
    "tuning_state_label": state_label,
    "tuning_state_tone": state_tone,
    "retune_query": pages.retune_query,
}


@router.get("/projects/{project_id}/tuning", name="tuning:jobs")
def jobs_page(request: Request, session: SessionDep, ctx: ViewAccess, page: int = 1) -> Response:
    return render(request, "tuning/jobs.html", pages.jobs_context(session, ctx, page), block="jobs")


@router.get("/projects/{project_id}/tuning/new", name="tuning:new")
def new_job(request: Request, session: SessionDep, ctx: LaunchAccess) -> Response:
    form = JobForm.from_mapping(dict(request.query_params))
    return render(
        request, "tuning/new.html", pages.new_job_context(session, ctx, form), block="planner"
    )


@router.post("/projects/{project_id}/tuning", name="tuning:create")
def create_job(
    request: Request,
    session: SessionDep,
    ctx: LaunchAccess,
    fields: Annotated[JobFormFields, Form()],
) -> Response:
    form = JobForm.from_mapping(fields.model_dump())
    choice, errors = parse_choice(form)
    try:
        if errors or form.version_id() is None:
            raise ValidationFailed(
                errors or {"version": _("Choose the dataset version to tune on.")}
            )
        job = service.create_job(
            session,
            actor=ctx.user,
            project=ctx.project,
            version_id=form.version_id() or 0,
            model_id=form.base_model,
            choice=choice,
            display_name=form.name,
            leakage_acknowledged=form.acknowledge_leakage,
            parent_job_id=form.parent_id(),
            checkpoint_id=form.checkpoint or None,
        )
    except ValidationFailed as error:
        discard_changes(session)
        context = pages.new_job_context(session, ctx, form, error.errors)
        return render(request, "tuning/new.html", context, status_code=422)
    if job.state == JobState.AWAITING_APPROVAL:
        flash(request, _("The job waits for a manager's approval before it starts."), "warning")
    else:
        flash(request, _("Tuning job launched. This page follows it until it ends."))
    return redirect(request, f"/projects/{ctx.project.id}/tuning/{job.id}")


@router.get("/projects/{project_id}/tuning/experiments", name="tuning:experiments")
def experiment_log(
    request: Request,
    session: SessionDep,
    ctx: ViewAccess,
    sort: str = "created",
    order: Annotated[str, Query(alias="dir")] = "desc",
    page: int = 1,
    download: str = "",
) -> Response:
    """The log as a page, or the whole log as CSV with ``?download=csv``."""
    if download == "csv":
        filename = f"tunedesk-experiments-project-{ctx.project.id}.csv"
        return StreamingResponse(
            experiments.csv_lines(session, project_id=ctx.project.id),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    log = experiments.page(
        session, project_id=ctx.project.id, sort=sort, descending=order != "asc", number=page
    )
    context = {
        "ctx": ctx,
        "log": log,
        "catalog": catalog.current(session),
        "breadcrumbs": pages.crumbs(ctx, (_("Experiment log"), None)),
    }
    return render(request, "tuning/experiments.html", context)


@router.get("/projects/{project_id}/tuning/compare", name="tuning:compare")
def compare(
    request: Request,
    session: SessionDep,
    ctx: ViewAccess,
    job: Annotated[list[int] | None, Query()] = None,
) -> Response:
    """Two runs side by side; without two runs chosen, a form to choose them."""
    chosen = list(dict.fromkeys(job or []))[:2]
    rows = experiments.rows_for(session, project_id=ctx.project.id, job_ids=chosen)
    context: dict[str, object] = {
        "ctx": ctx,
        "rows": rows,
        "choices": experiments.recent(session, project_id=ctx.project.id),
        "breadcrumbs": pages.crumbs(
            ctx,
            (_("Experiment log"), f"/projects/{ctx.project.id}/tuning/experiments"),
            (_("Comparison"), None),
        ),
    }
    if len(rows) == 2:
        context["sides"] = [pages.job_view(session, row.job, with_events=False) for row in rows]
        context["scores"] = experiments.evaluation_scores(session, chosen)
    return render(request, "tuning/compare.html", context)


def _budget_context(session: SessionDep, ctx: ManageAccess, **extra: object) -> dict[str, object]:
    view = budget.view(session, project_id=ctx.project.id)
    context: dict[str, object] = {
        "ctx": ctx,
        "budget": view,
        "errors": {},
        "form": {
            "monthly_budget": "" if view.monthly_budget is None else f"{view.monthly_budget:g}",
            "approval_threshold": ""
            if view.approval_threshold is None
            else f"{view.approval_threshold:g}",
        },
        "breadcrumbs": pages.crumbs(ctx, (_("Budget"), None)),
    }
    context.update(extra)
    return context


@router.get("/projects/{project_id}/tuning/budget", name="tuning:budget")
def budget_page(request: Request, session: SessionDep, ctx: ManageAccess) -> Response:
    return render(request, "tuning/budget.html", _budget_context(session, ctx))


@router.post("/projects/{project_id}/tuning/budget", name="tuning:budget_save")
def save_budget(
    request: Request,
    session: SessionDep,
    ctx: ManageAccess,
    monthly_budget: Annotated[str, Form()] = "",
    approval_threshold: Annotated[str, Form()] = "",
) -> Response:
    try:
        budget.save(
            session,
            actor=ctx.user,
            project=ctx.project,
            monthly_budget=monthly_budget,
            approval_threshold=approval_threshold,
        )
    except ValidationFailed as error:
        discard_changes(session)
        form = {"monthly_budget": monthly_budget, "approval_threshold": approval_threshold}
        return render(
            request,
            "tuning/budget.html",
            _budget_context(session, ctx, form=form, errors=error.errors),
            status_code=422,
        )
    flash(request, _("Budget saved."))
    return redirect(request, f"/projects/{ctx.project.id}/tuning/budget")


@router.get("/projects/{project_id}/tuning/{job_id}", name="tuning:job")
def job_page(request: Request, session: SessionDep, ctx: ViewAccess, job_id: int) -> Response:
    job = service.get_job(session, project_id=ctx.project.id, job_id=job_id)
    view = pages.job_view(session, job)
    context = {
        "ctx": ctx,
        "view": view,
        "job": job,
        **pages.job_actions(ctx, job),
        "breadcrumbs": pages.crumbs(ctx, (job.display_name, None)),
    }
    return render(request, "tuning/job.html", context, block="live")


def _job_action(request: Request, ctx: ViewAccess, job_id: int, message: str) -> Response:
    flash(request, message)
    return redirect(request, f"/projects/{ctx.project.id}/tuning/{job_id}")


@router.post("/projects/{project_id}/tuning/{job_id}/cancel", name="tuning:cancel")
def cancel_job(request: Request, session: SessionDep, ctx: LaunchAccess, job_id: int) -> Response:
    job = service.get_job(session, project_id=ctx.project.id, job_id=job_id)
    control.cancel(session, actor=ctx.user, job=job, project=ctx.project)
    return _job_action(request, ctx, job_id, _("Cancellation requested."))


@router.post("/projects/{project_id}/tuning/{job_id}/approve", name="tuning:approve")
def approve_job(request: Request, session: SessionDep, ctx: ManageAccess, job_id: int) -> Response:
    job = service.get_job(session, project_id=ctx.project.id, job_id=job_id)
    control.approve(session, actor=ctx.user, job=job, project=ctx.project)
    return _job_action(request, ctx, job_id, _("Approved: the job is being launched."))


@router.post("/projects/{project_id}/tuning/{job_id}/decline", name="tuning:decline")
def decline_job(request: Request, session: SessionDep, ctx: ManageAccess, job_id: int) -> Response:
    job = service.get_job(session, project_id=ctx.project.id, job_id=job_id)
    control.decline(session, actor=ctx.user, job=job, project=ctx.project)
    return _job_action(request, ctx, job_id, _("Declined: the job will not run."))


@router.post("/projects/{project_id}/tuning/{job_id}/serve", name="tuning:serve_checkpoint")
def serve_checkpoint(
    request: Request,
    session: SessionDep,
    ctx: ManageAccess,
    job_id: int,
    checkpoint: Annotated[str, Form()] = "",
) -> Response:
    job = service.get_job(session, project_id=ctx.project.id, job_id=job_id)
    checkpoints.serve(
        session, actor=ctx.user, project=ctx.project, job=job, checkpoint_id=checkpoint.strip()
    )
    message = _("Checkpoint %(id)s is now the one the tuned model serves.") % {"id": checkpoint}
    return _job_action(request, ctx, job_id, message)


@router.post("/projects/{project_id}/tuning/{job_id}/refresh", name="tuning:refresh")
def refresh_job(request: Request, session: SessionDep, ctx: ViewAccess, job_id: int) -> Response:
    job = service.get_job(session, project_id=ctx.project.id, job_id=job_id)
    asked = polling.request_poll(session, job)
    message = _("Asking Vertex AI for news…") if asked else _("An update is already on its way.")
    return _job_action(request, ctx, job_id, message)


# --- Administration: the model catalog ----------------------------------------------------------


def _catalog_context(session: SessionDep, **extra: object) -> dict[str, object]:
    saved = catalog.override_text(session)
    problems: list[str] = []
    if saved is not None:
        try:
            catalog.parse_catalog(saved)
        except catalog.CatalogError as error:
            discard_changes(session)
            problems = error.problems
    context: dict[str, object] = {
        "catalog": catalog.current(session),
        "yaml_text": saved if saved is not None else catalog.shipped_text(),
        "overridden": saved is not None,
        "saved_problems": problems,
        "errors": [],
        "breadcrumbs": [(_("Administration"), "/admin/users"), (_("Tuning models"), None)],
    }
    context.update(extra)
    return context


@router.get("/admin/tuning-models", name="tuning:catalog")
def catalog_page(request: Request, session: SessionDep, admin: AdminUser) -> Response:
    return render(request, "tuning/catalog.html", _catalog_context(session))


@router.post("/admin/tuning-models", name="tuning:catalog_save")
def save_catalog(
    request: Request, session: SessionDep, admin: AdminUser, yaml_text: Annotated[str, Form()] = ""
) -> Response:
    try:
        catalog.save_override(session, actor=admin, text=yaml_text)
    except catalog.CatalogError as error:
        discard_changes(session)
        context = _catalog_context(session, yaml_text=yaml_text, errors=error.problems)
        return render(request, "tuning/catalog.html", context, status_code=422)
    flash(request, _("The model catalog was saved; new jobs use it within seconds."))
    return redirect(request, "/admin/tuning-models")


@router.post("/admin/tuning-models/reset", name="tuning:catalog_reset")
def reset_catalog(request: Request, session: SessionDep, admin: AdminUser) -> Response:
    catalog.reset_override(session, actor=admin)
    flash(request, _("The shipped model catalog is in force again."))
    return redirect(request, "/admin/tuning-models")
