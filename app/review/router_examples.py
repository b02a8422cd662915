"""Writing examples: an expert's own examples (returned ones first), adding one by hand, fixing
and resubmitting; a reviewer's edit; every example's history and its similar approved ones."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from app.datasets.models import Example, ExampleStatus
from app.db import SessionDep, discard_changes
from app.errors import ValidationFailed
from app.i18n import _
from app.projects.dependencies import EditAccess, ReviewAccess, ViewAccess
from app.projects.permissions import Permission
from app.projects.service import ProjectContext
from app.review import authoring, decisions, example_form, history, pages, similar
from app.review.example_form import ExampleFormFields
from app.review.router import serve_next
from app.web import flash, redirect, render

router = APIRouter()

TextList = Annotated[list[str], Form()]
FormText = Annotated[str, Form()]


def _mine(ctx: ProjectContext) -> str:
    return f"/projects/{ctx.project.id}/my-examples"


@router.get("/projects/{project_id}/my-examples", name="mine:list")
def my_examples(
    request: Request, session: SessionDep, ctx: EditAccess, status: str = "pending"
) -> Response:
    status = status if status in ("pending", "approved", "all") else "pending"
    return render(
        request,
        "review/mine.html",
        {
            "ctx": ctx,
            "status": status,
            "returned": authoring.returned_to(
                session, project_id=ctx.project.id, author_id=ctx.user.id
            ),
            "examples": authoring.my_examples(
                session, project_id=ctx.project.id, author_id=ctx.user.id, status=status
            ),
            "counts": authoring.my_counts(
                session, project_id=ctx.project.id, author_id=ctx.user.id
            ),
            "breadcrumbs": ctx.crumbs((_("My examples"), None)),
        },
    )


def _form_page(
    request: Request,
    session: SessionDep,
    ctx: ProjectContext,
    template: str,
    form: example_form.ExampleForm,
    errors: dict[str, str],
    *,
    example: Example | None = None,
    status_code: int = 200,
) -> Response:
    returned = (
        history.last_rejection(session, example_id=example.id)
        if example is not None and example.status == ExampleStatus.REJECTED
        else None
    )
    title = _("Add an example") if example is None else _("Example #%(id)s") % {"id": example.id}
    return render(
        request,
        template,
        {
            "ctx": ctx,
            "form": form,
            "errors": errors,
            "example": example,
            "returned": returned,
            "datasets": authoring.project_datasets(session, project_id=ctx.project.id),
            "tags": authoring.project_tags(session, project_id=ctx.project.id),
            "breadcrumbs": ctx.crumbs((_("My examples"), _mine(ctx)), (title, None)),
        },
        status_code=status_code,
    )


@router.get("/projects/{project_id}/my-examples/new", name="mine:new")
def new_example(request: Request, session: SessionDep, ctx: EditAccess) -> Response:
    return _form_page(
        request, session, ctx, "review/mine_form.html", example_form.ExampleForm(), {}
    )


@router.post("/projects/{project_id}/my-examples", name="mine:create")
def create_example(
    request: Request,
    session: SessionDep,
    ctx: EditAccess,
    fields: Annotated[ExampleFormFields, Form()],
) -> Response:
    form = fields.to_form()
    try:
        example = authoring.add_example(session, actor=ctx.user, project=ctx.project, form=form)
    except ValidationFailed as error:
        discard_changes(session)
        return _form_page(
            request, session, ctx, "review/mine_form.html", form, error.errors, status_code=422
        )
    flash(request, _("Example #%(id)s was added and is waiting for review.") % {"id": example.id})
    if fields.then == "another":
        return redirect(request, f"{_mine(ctx)}/new")
    return redirect(request, _mine(ctx))


@router.get("/projects/{project_id}/my-examples/{example_id}/edit", name="mine:edit")
def edit_mine(request: Request, session: SessionDep, ctx: EditAccess, example_id: int) -> Response:
    example = authoring.authored_example(session, ctx=ctx, example_id=example_id)
    return _form_page(
        request,
        session,
        ctx,
        "review/mine_form.html",
        example_form.ExampleForm.of(example),
        {},
        example=example,
    )


@router.post("/projects/{project_id}/my-examples/{example_id}/edit", name="mine:save")
def save_mine(
    request: Request,
    session: SessionDep,
    ctx: EditAccess,
    example_id: int,
    revision: Annotated[int, Form()],
    fields: Annotated[ExampleFormFields, Form()],
) -> Response:
    example = authoring.authored_example(session, ctx=ctx, example_id=example_id)
    form = fields.to_form()
    was_returned = example.status == ExampleStatus.REJECTED
    try:
        authoring.save_by_author(
            session, actor=ctx.user, example=example, revision=revision, form=form
        )
    except ValidationFailed as error:
        discard_changes(session)
        return _form_page(
            request,
            session,
            ctx,
            "review/mine_form.html",
            form,
            error.errors,
            example=example,
            status_code=422,
        )
    if was_returned:
        flash(request, _("Example #%(id)s was resubmitted for review.") % {"id": example_id})
    else:
        flash(request, _("Example #%(id)s was saved and waits for review.") % {"id": example_id})
    return redirect(request, _mine(ctx))


@router.get("/projects/{project_id}/review/examples/{example_id}/edit", name="review:edit")
def edit_as_reviewer(
    request: Request, session: SessionDep, ctx: ReviewAccess, example_id: int
) -> Response:
    example = decisions.get_example(session, project_id=ctx.project.id, example_id=example_id)
    return _form_page(
        request,
        session,
        ctx,
        "review/edit.html",
        example_form.ExampleForm.of(example),
        {},
        example=example,
    )


@router.post("/projects/{project_id}/review/examples/{example_id}/edit", name="review:edit_save")
def save_as_reviewer(
    request: Request,
    session: SessionDep,
    ctx: ReviewAccess,
    example_id: int,
    revision: Annotated[int, Form()],
    fields: Annotated[ExampleFormFields, Form()],
) -> Response:
    """Save a reviewer's correction as a new revision; "save and approve" decides it too."""
    example = decisions.get_example(session, project_id=ctx.project.id, example_id=example_id)
    form = fields.to_form()
    try:
        approved = authoring.correct(
            session,
            actor=ctx.user,
            project=ctx.project,
            example=example,
            revision=revision,
            form=form,
            then_approve=fields.then == "approve",
        )
    except ValidationFailed as error:
        discard_changes(session)
        return _form_page(
            request,
            session,
            ctx,
            "review/edit.html",
            form,
            error.errors,
            example=example,
            status_code=422,
        )
    if fields.then == "approve" and not approved:
        # The correction stands (a new revision); the card shows the conflict to resolve.
        flash(
            request,
            _(
                "Saved, but not approved: an approved example answers the same "
                "question differently."
            ),
            "warning",
        )
        return redirect(request, f"/projects/{ctx.project.id}/review/examples/{example_id}")
    flash(
        request,
        _("Your changes to #%(id)s were saved as revision %(n)s.")
        % {"id": example_id, "n": example.revision},
    )
    if fields.then == "approve":
        return serve_next(request, session, ctx, after=example_id)
    return redirect(request, f"/projects/{ctx.project.id}/review/examples/{example_id}")


@router.get("/projects/{project_id}/review/examples/{example_id}/history", name="review:history")
def history_page(
    request: Request, session: SessionDep, ctx: ViewAccess, example_id: int
) -> Response:
    example = decisions.get_example(session, project_id=ctx.project.id, example_id=example_id)
    return render(
        request,
        "review/history.html",
        {
            "ctx": ctx,
            "example": example,
            "source": pages.source_of(session, example),
            "entries": history.timeline(session, example=example),
            "revision_kinds": history.REVISION_KINDS,
            "breadcrumbs": ctx.crumbs(
                (
                    _("Example #%(id)s") % {"id": example.id},
                    f"/projects/{ctx.project.id}/review/examples/{example.id}"
                    if ctx.can(Permission.REVIEW)
                    else None,
                ),
                (_("History"), None),
            ),
        },
    )


@router.get("/projects/{project_id}/review/examples/{example_id}/similar", name="review:similar")
def similar_page(
    request: Request, session: SessionDep, ctx: ViewAccess, example_id: int
) -> Response:
    example = decisions.get_example(session, project_id=ctx.project.id, example_id=example_id)
    return render(
        request,
        "review/similar.html",
        {
            "ctx": ctx,
            "example": example,
            "similar": similar.similar_approved(session, example=example),
            "breadcrumbs": ctx.crumbs((_("Similar approved examples"), None)),
        },
        block="similar",
    )
