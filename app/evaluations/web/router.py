"""Evaluation pages: the project's evaluations, the compare screen (a run's page), blind votes,
"Fix this answer", the golden set and its scorecard over time, and the result downloads."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from app.db import SessionDep, discard_changes
from app.errors import ValidationFailed
from app.evaluations import fixes, golden, service, texts, votes
from app.evaluations.models import EvalItem, Evaluation
from app.evaluations.web import exports, forms, pages, results
from app.i18n import _
from app.projects.dependencies import EvaluateAccess, ManageAccess, ViewAccess, VoteAccess
from app.review.example_form import ExampleFormFields
from app.web import flash, redirect, render

router = APIRouter()

TextList = Annotated[list[str], Form()]
FormText = Annotated[str, Form()]


@router.get("/projects/{project_id}/evaluations", name="evaluations:list")
def evaluations_page(
    request: Request, session: SessionDep, ctx: ViewAccess, page: int = 1
) -> Response:
    context = pages.list_context(session, ctx, page)
    return render(request, "evaluations/list.html", context, block="evaluations")


@router.get("/projects/{project_id}/evaluations/new", name="evaluations:new")
def new_evaluation(request: Request, session: SessionDep, ctx: EvaluateAccess) -> Response:
    """The form; HTMX re-renders its ``planner`` block (with the estimate) on every change."""
    context = pages.new_context(session, ctx, dict(request.query_params))
    return render(request, "evaluations/new.html", context, block="planner")


@router.post("/projects/{project_id}/evaluations", name="evaluations:create")
def create_evaluation(
    request: Request,
    session: SessionDep,
    ctx: EvaluateAccess,
    fields: Annotated[forms.EvalFormFields, Form()],
) -> Response:
    data = {**fields.model_dump(), "submitted": "1"}
    spec, errors = forms.to_spec(forms.EvalForm.from_mapping(data))
    try:
        if spec is None:
            raise ValidationFailed(errors)
        evaluation = service.create_evaluation(
            session, project=ctx.project, actor=ctx.user, spec=spec
        )
    except ValidationFailed as error:
        discard_changes(session)
        context = pages.new_context(session, ctx, data, error.errors)
        return render(request, "evaluations/new.html", context, status_code=422)
    flash(request, _("Evaluation started. This page follows it until the comparison is ready."))
    return redirect(request, f"/projects/{ctx.project.id}/evaluations/{evaluation.id}")


@router.get("/projects/{project_id}/evaluations/scorecard", name="evaluations:scorecard")
def scorecard_page(request: Request, session: SessionDep, ctx: ViewAccess) -> Response:
    info = golden.golden_info(session, project_id=ctx.project.id)
    points = golden.timeline(session, project_id=ctx.project.id, golden=info) if info else []
    context = {
        "ctx": ctx,
        "golden": info,
        "points": points,
        "chart": golden.chart_data(points),
        "choices": golden.version_choices(session, project_id=ctx.project.id),
        "errors": {},
        "breadcrumbs": pages.crumbs(ctx, (_("Scorecard over time"), None)),
    }
    return render(request, "evaluations/scorecard.html", context)


@router.post("/projects/{project_id}/evaluations/golden", name="evaluations:golden")
def set_golden_set(
    request: Request, session: SessionDep, ctx: ManageAccess, version_id: FormText = ""
) -> Response:
    try:
        chosen = int(version_id) if version_id.strip().isdigit() else 0
        version = golden.set_golden(session, actor=ctx.user, project=ctx.project, version_id=chosen)
    except ValidationFailed as error:
        discard_changes(session)
        flash(request, error.message, "error")
        return redirect(request, f"/projects/{ctx.project.id}/evaluations/scorecard")
    flash(request, _("Version %(number)s is now the golden set.") % {"number": version.number})
    return redirect(request, f"/projects/{ctx.project.id}/evaluations/scorecard")


@router.get("/projects/{project_id}/evaluations/{evaluation_id}", name="evaluations:run")
def run_page(
    request: Request,
    session: SessionDep,
    ctx: ViewAccess,
    evaluation_id: int,
    show: str = "",
    tag: str = "",
    page: str = "1",
) -> Response:
    """The compare screen. HTMX asks for ``live`` (polling) or ``items`` (filters, pages)."""
    evaluation = results.get_evaluation(
        session, project_id=ctx.project.id, evaluation_id=evaluation_id
    )
    filters = results.ItemFilters.parse(show, tag, page)
    context = pages.run_context(session, ctx, evaluation, filters)
    block = "items" if request.headers.get("hx-target") == "eval-items" else "live"
    return render(request, "evaluations/run.html", context, block=block)


@router.post("/projects/{project_id}/evaluations/{evaluation_id}/cancel", name="evaluations:cancel")
def cancel_run(
    request: Request, session: SessionDep, ctx: EvaluateAccess, evaluation_id: int
) -> Response:
    evaluation = results.get_evaluation(
        session, project_id=ctx.project.id, evaluation_id=evaluation_id
    )
    service.cancel_evaluation(session, evaluation=evaluation, actor=ctx.user)
    flash(request, _("Evaluation cancelled. The answers already given are kept."))
    return redirect(request, f"/projects/{ctx.project.id}/evaluations/{evaluation_id}")


@router.post("/projects/{project_id}/evaluations/{evaluation_id}/resume", name="evaluations:resume")
def resume_run(
    request: Request, session: SessionDep, ctx: EvaluateAccess, evaluation_id: int
) -> Response:
    evaluation = results.get_evaluation(
        session, project_id=ctx.project.id, evaluation_id=evaluation_id
    )
    service.resume_evaluation(session, evaluation=evaluation, actor=ctx.user)
    flash(request, _("Evaluation resumed: questions already answered are not asked again."))
    return redirect(request, f"/projects/{ctx.project.id}/evaluations/{evaluation_id}")


@router.get("/projects/{project_id}/evaluations/{evaluation_id}/export", name="evaluations:export")
def export_results(
    session: SessionDep, ctx: ViewAccess, evaluation_id: int, format: str = "csv"
) -> Response:
    evaluation = results.get_evaluation(
        session, project_id=ctx.project.id, evaluation_id=evaluation_id
    )
    return exports.response(evaluation, "jsonl" if format == "jsonl" else "csv")


# --- Blind votes -----------------------------------------------------------------------------


def _ballot_page(
    request: Request, session: SessionDep, ctx: VoteAccess, evaluation_id: int, item_id: int | None
) -> Response:
    evaluation = results.get_evaluation(
        session, project_id=ctx.project.id, evaluation_id=evaluation_id
    )
    pair = votes.voting_pair(session, evaluation)
    item = (
        votes.next_item(session, evaluation, pair, ctx.user.id)
        if item_id is None
        else votes.votable_item(session, evaluation, pair, item_id)
    )
    context = {
        "ctx": ctx,
        "evaluation": evaluation,
        "ballot": votes.ballot(session, pair=pair, item=item, voter_id=ctx.user.id)
        if item
        else None,
        "progress": votes.progress(session, evaluation, pair, ctx.user.id),
        "choices": texts.vote_choices(),
        "breadcrumbs": pages.crumbs(
            ctx,
            (evaluation.name, f"/projects/{ctx.project.id}/evaluations/{evaluation.id}"),
            (_("Blind vote"), None),
        ),
    }
    return render(request, "evaluations/vote.html", context, block="ballot")


@router.get("/projects/{project_id}/evaluations/{evaluation_id}/vote", name="evaluations:vote")
def vote_page(
    request: Request, session: SessionDep, ctx: VoteAccess, evaluation_id: int
) -> Response:
    """The next question this reviewer has not voted on."""
    return _ballot_page(request, session, ctx, evaluation_id, None)


@router.get(
    "/projects/{project_id}/evaluations/{evaluation_id}/vote/{item_id}",
    name="evaluations:ballot",
)
def ballot_page(
    request: Request, session: SessionDep, ctx: VoteAccess, evaluation_id: int, item_id: int
) -> Response:
    """One question: blind before this reviewer's vote, revealed after it."""
    return _ballot_page(request, session, ctx, evaluation_id, item_id)


@router.post("/projects/{project_id}/evaluations/{evaluation_id}/vote", name="evaluations:cast")
def cast_vote(
    request: Request,
    session: SessionDep,
    ctx: VoteAccess,
    evaluation_id: int,
    item_id: FormText = "",
    choice: FormText = "",
    comment: FormText = "",
) -> Response:
    evaluation = results.get_evaluation(
        session, project_id=ctx.project.id, evaluation_id=evaluation_id
    )
    pair = votes.voting_pair(session, evaluation)
    base = f"/projects/{ctx.project.id}/evaluations/{evaluation.id}/vote"
    try:
        vote = votes.record_vote(
            session,
            evaluation=evaluation,
            pair=pair,
            item_id=int(item_id) if item_id.isdigit() else 0,
            voter=ctx.user,
            choice=choice,
            comment=comment,
        )
    except ValidationFailed as error:
        discard_changes(session)
        flash(request, error.message, "error")
        return redirect(request, f"{base}/{item_id}" if item_id.isdigit() else base)
    flash(request, _("Vote saved."))
    return redirect(request, f"{base}/{vote.item_id}")


# --- Fix this answer -------------------------------------------------------------------------


def _fix_context(
    session: SessionDep,
    ctx: EvaluateAccess,
    evaluation_id: int,
    item_id: int,
    candidate: str,
) -> dict[str, object]:
    evaluation = results.get_evaluation(
        session, project_id=ctx.project.id, evaluation_id=evaluation_id
    )
    item = fixes.get_item(session, evaluation=evaluation, item_id=item_id)
    chosen, output = fixes.answer_of(
        session, item=item, candidate_id=int(candidate) if candidate.isdigit() else None
    )
    return {
        "ctx": ctx,
        "evaluation": evaluation,
        "item": item,
        "candidate": chosen,
        "output": output,
        "form": fixes.initial_form(session, evaluation=evaluation, item=item, output=output),
        "errors": {},
        "existing": fixes.fixes_of(session, item_id=item.id),
        "breadcrumbs": pages.crumbs(
            ctx,
            (evaluation.name, f"/projects/{ctx.project.id}/evaluations/{evaluation.id}"),
            (_("Fix this answer"), None),
        ),
    }


@router.get(
    "/projects/{project_id}/evaluations/{evaluation_id}/items/{item_id}/fix",
    name="evaluations:fix",
)
def fix_page(
    request: Request,
    session: SessionDep,
    ctx: EvaluateAccess,
    evaluation_id: int,
    item_id: int,
    candidate: str = "",
) -> Response:
    context = _fix_context(session, ctx, evaluation_id, item_id, candidate)
    return render(request, "evaluations/fix.html", context)


@router.post(
    "/projects/{project_id}/evaluations/{evaluation_id}/items/{item_id}/fix",
    name="evaluations:fix_save",
)
def save_fix(
    request: Request,
    session: SessionDep,
    ctx: EvaluateAccess,
    evaluation_id: int,
    item_id: int,
    fields: Annotated[ExampleFormFields, Form()],
    candidate: FormText = "",
) -> Response:
    context = _fix_context(session, ctx, evaluation_id, item_id, candidate)
    form = fields.to_form()
    evaluation, item = context["evaluation"], context["item"]
    assert isinstance(evaluation, Evaluation) and isinstance(item, EvalItem)
    try:
        example = fixes.save_fix(session, ctx=ctx, evaluation=evaluation, item=item, form=form)
    except ValidationFailed as error:
        discard_changes(session)
        context.update(form=form, errors=error.errors)
        return render(request, "evaluations/fix.html", context, status_code=422)
    flash(
        request,
        _("Example #%(id)s was saved and is waiting in the review queue.") % {"id": example.id},
    )
    return redirect(request, f"/projects/{ctx.project.id}/evaluations/{evaluation_id}")
