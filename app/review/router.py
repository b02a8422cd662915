"""Review queue pages: the landing page, one example at a time as a card, decisions, skipping."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from app.datasets.models import Example, ExampleStatus
from app.db import SessionDep, discard_changes
from app.errors import ValidationFailed
from app.i18n import _
from app.projects.dependencies import ReviewAccess
from app.projects.service import ProjectContext
from app.review import decisions, pages, progress, queue
from app.review.decisions import ConflictingAnswers
from app.review.settings import rules_for
from app.web import flash, redirect, render

router = APIRouter()
TEMPLATE_GLOBALS = {
    "review_count_cap": queue.COUNT_CAP,
    "review_code_count_scan": queue.CODE_COUNT_SCAN,
}


def _base(ctx: ProjectContext) -> str:
    return f"/projects/{ctx.project.id}/review"


@router.get("/projects/{project_id}/review", name="review:home")
def home(request: Request, session: SessionDep, ctx: ReviewAccess) -> Response:
    rules = rules_for(session, ctx.project.id)
    return render(
        request,
        "review/home.html",
        {
            "ctx": ctx,
            "rules": rules,
            "my_day": progress.my_day(
                session, project_id=ctx.project.id, reviewer=ctx.user, rules=rules
            ),
            "counts": progress.status_counts(session, project_id=ctx.project.id),
            "oldest": progress.oldest_waiting(session, project_id=ctx.project.id),
            "breadcrumbs": ctx.crumbs((_("Review"), None)),
        },
    )


def serve_next(
    request: Request, session: SessionDep, ctx: ProjectContext, *, after: int | None = None
) -> Response:
    """Serve (and lease) the next example; back to the landing page when none waits."""
    example = queue.claim_next(
        session,
        project_id=ctx.project.id,
        reviewer=ctx.user,
        rules=rules_for(session, ctx.project.id),
        after=after,
    )
    if example is None:
        flash(request, _("Nothing else is waiting for you. Well done!"), "info")
        return redirect(request, _base(ctx))
    return redirect(request, f"{_base(ctx)}/examples/{example.id}")


@router.post("/projects/{project_id}/review/start", name="review:start")
def start(request: Request, session: SessionDep, ctx: ReviewAccess) -> Response:
    """Start (or resume) reviewing: the first example waiting for this reviewer."""
    return serve_next(request, session, ctx)


def _render_card(
    request: Request,
    session: SessionDep,
    ctx: ProjectContext,
    example: Example,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    view = pages.card_view(session, ctx, example)
    view.errors = errors or {}
    view.form = form or {}
    return render(
        request,
        "review/card.html",
        {
            "ctx": ctx,
            "card": view,
            "breadcrumbs": ctx.crumbs(
                (_("Review"), _base(ctx)), (_("Example #%(id)s") % {"id": example.id}, None)
            ),
        },
        status_code=status_code,
    )


@router.get("/projects/{project_id}/review/examples/{example_id}", name="review:card")
def card(request: Request, session: SessionDep, ctx: ReviewAccess, example_id: int) -> Response:
    example = decisions.get_example(session, project_id=ctx.project.id, example_id=example_id)
    return _render_card(request, session, ctx, example)


@router.post("/projects/{project_id}/review/examples/{example_id}/approve", name="review:approve")
def approve(
    request: Request,
    session: SessionDep,
    ctx: ReviewAccess,
    example_id: int,
    revision: Annotated[int, Form()],
) -> Response:
    try:
        outcome = decisions.approve(
            session, actor=ctx.user, project=ctx.project, example_id=example_id, revision=revision
        )
    except ConflictingAnswers as conflict:
        discard_changes(session)
        example = decisions.get_example(session, project_id=ctx.project.id, example_id=example_id)
        return _render_card(
            request, session, ctx, example, errors={"conflict": conflict.message}, status_code=409
        )
    if outcome.status == ExampleStatus.APPROVED:
        flash(request, _("Example #%(id)s approved.") % {"id": example_id})
    else:
        flash(
            request,
            _(
                "Your approval of #%(id)s is recorded (%(n)s of %(required)s). It now goes to "
                "another reviewer."
            )
            % {"id": example_id, "n": outcome.approvals, "required": outcome.required},
        )
    return serve_next(request, session, ctx, after=example_id)


@router.post("/projects/{project_id}/review/examples/{example_id}/reject", name="review:reject")
def reject(
    request: Request,
    session: SessionDep,
    ctx: ReviewAccess,
    example_id: int,
    revision: Annotated[int, Form()],
    reason: Annotated[str, Form()] = "",
) -> Response:
    try:
        decisions.reject(
            session,
            actor=ctx.user,
            project=ctx.project,
            example_id=example_id,
            revision=revision,
            reason=reason,
        )
    except ValidationFailed as error:
        discard_changes(session)
        example = decisions.get_example(session, project_id=ctx.project.id, example_id=example_id)
        return _render_card(
            request,
            session,
            ctx,
            example,
            errors=error.errors,
            form={"reason": reason},
            status_code=422,
        )
    flash(request, _("Example #%(id)s was returned to its author.") % {"id": example_id})
    return serve_next(request, session, ctx, after=example_id)


@router.post("/projects/{project_id}/review/examples/{example_id}/skip", name="review:skip")
def skip(request: Request, session: SessionDep, ctx: ReviewAccess, example_id: int) -> Response:
    example = decisions.get_example(session, project_id=ctx.project.id, example_id=example_id)
    queue.skip(session, example=example, reviewer=ctx.user)
    flash(request, _("Skipped #%(id)s for now.") % {"id": example_id}, "info")
    return serve_next(request, session, ctx, after=example_id)


@router.post("/projects/{project_id}/review/examples/{example_id}/resolve", name="review:resolve")
def resolve(
    request: Request,
    session: SessionDep,
    ctx: ReviewAccess,
    example_id: int,
    other: Annotated[int, Form()],
    revision: Annotated[int, Form()],
) -> Response:
    """Keep this example's answer: the approved one with the other answer goes back to its
    author, then this example is approved."""
    try:
        outcome = decisions.keep_answer(
            session,
            actor=ctx.user,
            project=ctx.project,
            example_id=example_id,
            revision=revision,
            other_id=other,
        )
    except ConflictingAnswers as conflict:
        discard_changes(session)
        example = decisions.get_example(session, project_id=ctx.project.id, example_id=example_id)
        return _render_card(
            request, session, ctx, example, errors={"conflict": conflict.message}, status_code=409
        )
    if outcome.status == ExampleStatus.APPROVED:
        message = _(
            "Conflict resolved: #%(other)s went back to its author and #%(id)s is approved."
        )
    else:
        message = _(
            "Conflict resolved: #%(other)s went back to its author; #%(id)s now needs another "
            "reviewer's approval."
        )
    flash(request, message % {"other": other, "id": example_id})
    return serve_next(request, session, ctx, after=example_id)
