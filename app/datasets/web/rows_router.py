"""Fixing rows from the report: inline edit, exclude or include, keep one of a duplicate group,
resolve a conflict, redact personal data, ignore an unreadable row, and the bulk actions.

Each action answers an HTMX request with the refreshed report (summary and rows, so the counts
change at once) and a plain form with a redirect back to the same view of the report.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from app.datasets import service
from app.datasets.editing import bulk, conflicts, examples, fixes, redaction
from app.datasets.models import Dataset
from app.datasets.report import rows
from app.datasets.report.rows import Filters
from app.datasets.web import contexts
from app.db import SessionDep, discard_changes
from app.errors import ValidationFailed
from app.i18n import _, format_number, ngettext
from app.projects.dependencies import EditAccess, ViewAccess
from app.projects.permissions import Permission
from app.projects.service import ProjectContext
from app.web import flash, is_htmx, redirect, render

router = APIRouter(prefix="/projects/{project_id}/datasets/{dataset_id}")
View = Annotated[str, Form()]


def _filters(view: str) -> Filters:
    return Filters.parse(dict(parse_qsl(view[:2000])))


def _dataset(session: SessionDep, ctx: ProjectContext, dataset_id: int) -> Dataset:
    return service.get_dataset(session, project_id=ctx.project.id, dataset_id=dataset_id)


def _done(
    request: Request,
    session: SessionDep,
    ctx: ProjectContext,
    dataset: Dataset,
    view: str,
    message: str,
    level: str = "success",
) -> Response:
    """The refreshed report (HTMX) or a redirect to it."""
    flash(request, message, level)
    filters = _filters(view)
    if is_htmx(request) and request.headers.get("hx-target") == "report":
        context = contexts.report_context(session, request, ctx, dataset, filters)
        return render(request, "datasets/detail.html", context, block="report")
    query = filters.query()
    return redirect(
        request,
        f"/projects/{ctx.project.id}/datasets/{dataset.id}" + (f"?{query}" if query else ""),
    )


def _row_context(
    session: SessionDep,
    ctx: ProjectContext,
    dataset: Dataset,
    example_id: int,
    view: str,
    **extra: Any,
) -> dict[str, Any]:
    example = fixes.get_example(session, dataset, example_id)
    [row] = rows.row_views(session, dataset.id, [example])
    return {
        **contexts.common(),
        "ctx": ctx,
        "dataset": dataset,
        "row": row,
        "view": view,
        "can_edit": ctx.can(Permission.EDIT_EXAMPLES),
        "base_url": f"/projects/{ctx.project.id}/datasets/{dataset.id}",
        "breadcrumbs": contexts.dataset_crumbs(
            ctx, dataset, (_("Row %(row)s") % {"row": example.source_row or example.id}, None)
        ),
        "form": {},
        "errors": {},
        "editing": False,
        **extra,
    }


@router.get("/examples/{example_id}", name="datasets:row")
def row_page(
    request: Request,
    session: SessionDep,
    ctx: ViewAccess,
    dataset_id: int,
    example_id: int,
    view: Annotated[str, Query(max_length=2000)] = "",
) -> Response:
    dataset = _dataset(session, ctx, dataset_id)
    context = _row_context(session, ctx, dataset, example_id, view)
    return render(request, "datasets/row.html", context, block="row")


@router.get("/examples/{example_id}/edit", name="datasets:row_edit")
def edit_form(
    request: Request,
    session: SessionDep,
    ctx: EditAccess,
    dataset_id: int,
    example_id: int,
    view: Annotated[str, Query(max_length=2000)] = "",
) -> Response:
    dataset = _dataset(session, ctx, dataset_id)
    context = _row_context(session, ctx, dataset, example_id, view, editing=True)
    return render(request, "datasets/row.html", context, block="row")


@router.post("/examples/{example_id}", name="datasets:row_save")
def save_row(
    request: Request,
    session: SessionDep,
    ctx: EditAccess,
    dataset_id: int,
    example_id: int,
    view: View = "",
    roles: Annotated[list[str] | None, Form()] = None,
    texts: Annotated[list[str] | None, Form()] = None,
    system: Annotated[str | None, Form()] = None,
    tag: Annotated[str, Form()] = "",
    split: Annotated[str, Form()] = "",
) -> Response:
    dataset = _dataset(session, ctx, dataset_id)
    example = fixes.get_example(session, dataset, example_id)
    texts = texts or []
    roles = (roles or [])[: len(texts)]
    turns = [
        {"role": role, "text": text.replace("\r\n", "\n")}
        for role, text in zip(roles, texts, strict=True)
    ]
    if split not in ("", "train", "validation", "test"):
        split = ""
    change = examples.Change(
        system_instruction=system.replace("\r\n", "\n") if system is not None else None,
        turns=turns,
        tag=tag,
        split=split or None,
        clear_split=not split,
    )
    try:
        changed = fixes.edit(
            session, actor=ctx.user, dataset=dataset, example=example, change=change
        )
    except ValidationFailed as error:
        discard_changes(session)
        dataset = _dataset(session, ctx, dataset_id)
        form = {"roles": roles, "texts": texts, "system": system, "tag": tag, "split": split}
        context = _row_context(
            session, ctx, dataset, example_id, view, editing=True, form=form, errors=error.errors
        )
        headers = {"HX-Retarget": f"#row-{example_id}", "HX-Reswap": "outerHTML"}
        return render(
            request, "datasets/row.html", context, block="row", status_code=422, headers=headers
        )
    if not changed:
        return _done(request, session, ctx, dataset, view, _("Nothing was changed."), "info")
    message = (
        _("Row %(row)s saved; it still has errors.")
        if example.error_count
        else _("Row %(row)s saved and checked: no errors.")
    ) % {"row": example.source_row or example.id}
    return _done(request, session, ctx, dataset, view, message)


@router.post("/examples/{example_id}/exclude", name="datasets:row_exclude")
def exclude_row(
    request: Request,
    session: SessionDep,
    ctx: EditAccess,
    dataset_id: int,
    example_id: int,
    view: View = "",
) -> Response:
    dataset = _dataset(session, ctx, dataset_id)
    example = fixes.get_example(session, dataset, example_id)
    fixes.exclude(session, actor=ctx.user, dataset=dataset, example=example)
    message = _("Row %(row)s is excluded.") % {"row": example.source_row or example.id}
    return _done(request, session, ctx, dataset, view, message)


@router.post("/examples/{example_id}/include", name="datasets:row_include")
def include_row(
    request: Request,
    session: SessionDep,
    ctx: EditAccess,
    dataset_id: int,
    example_id: int,
    view: View = "",
) -> Response:
    dataset = _dataset(session, ctx, dataset_id)
    example = fixes.get_example(session, dataset, example_id)
    fixes.include(session, actor=ctx.user, dataset=dataset, example=example)
    message = _("Row %(row)s is included again.") % {"row": example.source_row or example.id}
    return _done(request, session, ctx, dataset, view, message)


@router.post("/examples/{example_id}/keep", name="datasets:row_keep")
def keep_row(
    request: Request,
    session: SessionDep,
    ctx: EditAccess,
    dataset_id: int,
    example_id: int,
    view: View = "",
) -> Response:
    dataset = _dataset(session, ctx, dataset_id)
    example = fixes.get_example(session, dataset, example_id)
    count = fixes.keep_one(session, actor=ctx.user, dataset=dataset, example=example)
    message = ngettext(
        "Row %(row)s is kept; %(count)s duplicate was excluded.",
        "Row %(row)s is kept; %(count)s duplicates were excluded.",
        count,
    ) % {"row": example.source_row or example.id, "count": count}
    return _done(request, session, ctx, dataset, view, message)


@router.post("/examples/{example_id}/redact", name="datasets:row_redact")
def redact_row(
    request: Request,
    session: SessionDep,
    ctx: EditAccess,
    dataset_id: int,
    example_id: int,
    view: View = "",
) -> Response:
    dataset = _dataset(session, ctx, dataset_id)
    example = fixes.get_example(session, dataset, example_id)
    count = redaction.redact(session, actor=ctx.user, dataset=dataset, example=example)
    message = ngettext(
        "%(count)s piece of personal data in row %(row)s was replaced by a placeholder.",
        "%(count)s pieces of personal data in row %(row)s were replaced by placeholders.",
        count,
    ) % {"count": count, "row": example.source_row or example.id}
    if not count:
        message = _("No personal data was found in this row any more.")
    return _done(request, session, ctx, dataset, view, message, "success" if count else "info")


@router.get("/examples/{example_id}/conflict", name="datasets:conflict")
def conflict_form(
    request: Request,
    session: SessionDep,
    ctx: EditAccess,
    dataset_id: int,
    example_id: int,
    view: Annotated[str, Query(max_length=2000)] = "",
) -> Response:
    dataset = _dataset(session, ctx, dataset_id)
    example = fixes.get_example(session, dataset, example_id)
    group = conflicts.conflict_group(session, dataset, example)
    context = _row_context(session, ctx, dataset, example_id, view)
    context["group"] = rows.row_views(session, dataset.id, group)
    context["same_question"] = len({e.prompt_hash for e in group}) == 1
    return render(request, "datasets/conflict.html", context, block="conflict")


@router.post("/examples/{example_id}/conflict", name="datasets:conflict_resolve")
def resolve_conflict(
    request: Request,
    session: SessionDep,
    ctx: EditAccess,
    dataset_id: int,
    example_id: int,
    view: View = "",
    chosen: Annotated[int, Form()] = 0,
    answer: Annotated[str, Form()] = "",
    others: Annotated[str, Form()] = "exclude",
) -> Response:
    dataset = _dataset(session, ctx, dataset_id)
    fixes.get_example(session, dataset, example_id)
    right = fixes.get_example(session, dataset, chosen or example_id)
    count = conflicts.resolve_conflict(
        session,
        actor=ctx.user,
        dataset=dataset,
        chosen=right,
        answer=answer.replace("\r\n", "\n"),
        others=others,
    )
    message = _("The conflict is resolved (%(count)s rows).") % {"count": format_number(count)}
    return _done(request, session, ctx, dataset, view, message)


@router.post("/unreadable/{finding_id}/dismiss", name="datasets:dismiss_row")
def dismiss(
    request: Request,
    session: SessionDep,
    ctx: EditAccess,
    dataset_id: int,
    finding_id: int,
    view: View = "",
) -> Response:
    dataset = _dataset(session, ctx, dataset_id)
    fixes.dismiss_row(session, actor=ctx.user, dataset=dataset, finding_id=finding_id)
    return _done(request, session, ctx, dataset, view, _("The row is ignored."))


@router.post("/bulk/exclude-errors", name="datasets:bulk_exclude_errors")
def bulk_exclude_errors(
    request: Request, session: SessionDep, ctx: EditAccess, dataset_id: int, view: View = ""
) -> Response:
    dataset = _dataset(session, ctx, dataset_id)
    count = bulk.exclude_errors(session, actor=ctx.user, dataset=dataset)
    message = ngettext(
        "%(count)s row with errors was excluded.",
        "%(count)s rows with errors were excluded.",
        count,
    ) % {"count": format_number(count)}
    return _done(request, session, ctx, dataset, view, message)


@router.post("/bulk/keep-first", name="datasets:bulk_keep_first")
def bulk_keep_first(
    request: Request, session: SessionDep, ctx: EditAccess, dataset_id: int, view: View = ""
) -> Response:
    dataset = _dataset(session, ctx, dataset_id)
    count = bulk.keep_first_duplicates(session, actor=ctx.user, dataset=dataset)
    message = ngettext(
        "The first row of every duplicate group is kept; %(count)s copy was excluded.",
        "The first row of every duplicate group is kept; %(count)s copies were excluded.",
        count,
    ) % {"count": format_number(count)}
    return _done(request, session, ctx, dataset, view, message)


@router.post("/bulk/redact", name="datasets:bulk_redact")
def bulk_redact(
    request: Request, session: SessionDep, ctx: EditAccess, dataset_id: int, view: View = ""
) -> Response:
    dataset = _dataset(session, ctx, dataset_id)
    count = bulk.redact_all(session, actor=ctx.user, dataset=dataset)
    message = ngettext(
        "%(count)s piece of personal data was replaced by a placeholder.",
        "%(count)s pieces of personal data were replaced by placeholders.",
        count,
    ) % {"count": format_number(count)}
    return _done(request, session, ctx, dataset, view, message)
