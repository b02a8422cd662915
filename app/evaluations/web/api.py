"""Evaluations over the JSON API (/api/v1): list, create (same checks as the form), get with the
summary, items with outputs and scores, a blind vote, and the votes summary."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from app.db import SessionDep, discard_changes
from app.errors import ValidationFailed
from app.evaluations import service, votes
from app.evaluations.models import EvalItem, EvalOutput, Evaluation
from app.evaluations.schemas import EvaluationSpec
from app.evaluations.texts import error_text, status_label
from app.evaluations.web import results
from app.projects.dependencies import ApiEvaluateAccess, ApiViewAccess, ApiVoteAccess

router = APIRouter(prefix="/api/v1", tags=["evaluations"])
MAX_PAGE = 200


class CandidateOut(BaseModel):
    id: int
    position: int
    role: str | None
    kind: str
    label: str
    base_model: str
    tuning_job_id: int | None
    checkpoint_id: str | None
    few_shot_k: int | None
    summary: dict[str, Any]


class EvaluationOut(BaseModel):
    id: int
    project_id: int
    name: str
    test_version_id: int
    training_version_id: int | None
    judge_model: str | None
    include_leaks: bool
    status: str
    status_label: str
    outputs_done: int
    outputs_total: int
    judged_done: int
    judged_total: int
    estimate: dict[str, Any]
    summary: dict[str, Any]
    verdict: str | None
    error: str | None
    candidates: list[CandidateOut]
    created_at: datetime
    finished_at: datetime | None
    url: str


class OutputOut(BaseModel):
    candidate_id: int
    status: str
    text: str
    scores: dict[str, Any]
    overall: float | None


class ItemOut(BaseModel):
    id: int
    position: int
    tag: str | None
    system_instruction: str
    turns: list[dict[str, str]]
    reference: str
    leak: str | None
    excluded: bool
    judge_winner: str | None
    judge: dict[str, Any] | None
    outputs: list[OutputOut]


class VoteIn(BaseModel):
    """``choice`` is ``a``, ``b``, ``tie`` or ``both_bad`` for the sides ``GET …/ballot`` showed."""

    item_id: int
    choice: str
    comment: str = Field(default="", max_length=2000)


class VoteOut(BaseModel):
    item_id: int
    choice: str
    a_candidate_id: int
    b_candidate_id: int


class BallotOut(BaseModel):
    """A blind ballot: the two answers in this voter's order, without model names."""

    item_id: int
    prompt: str
    reference: str
    answer_a: str
    answer_b: str


class ShareOut(BaseModel):
    value: float | None
    low: float | None
    high: float | None
    n: int


class VotesSummaryOut(BaseModel):
    votes: int
    voters: int
    items: int
    wins: int
    losses: int
    ties: int
    both_bad: int
    tuned_better: ShareOut
    tuned_worse: ShareOut
    judge_agreement: float | None
    judge_kappa: float | None
    judge_agreement_n: int


def evaluation_out(session: SessionDep, evaluation: Evaluation) -> EvaluationOut:
    return evaluations_out(session, [evaluation])[0]


def evaluations_out(session: SessionDep, evaluations: list[Evaluation]) -> list[EvaluationOut]:
    """Runs as the API shows them, in a fixed number of queries whatever their number."""
    views = results.summary_views(session, evaluations)
    return [_out(evaluation, views[evaluation.id]) for evaluation in evaluations]


def _out(evaluation: Evaluation, view: results.SummaryView) -> EvaluationOut:
    summary = view if evaluation.summary else None
    return EvaluationOut(
        id=evaluation.id,
        project_id=evaluation.project_id,
        name=evaluation.name,
        test_version_id=evaluation.test_version_id,
        training_version_id=evaluation.training_version_id,
        judge_model=evaluation.judge_model,
        include_leaks=evaluation.include_leaks,
        status=evaluation.status,
        status_label=status_label(evaluation.status),
        outputs_done=evaluation.outputs_done,
        outputs_total=evaluation.outputs_total,
        judged_done=evaluation.judged_done,
        judged_total=evaluation.judged_total,
        estimate=evaluation.estimate or {},
        summary=evaluation.summary or {},
        verdict=summary.verdict if summary and summary.verdict_source != "none" else None,
        error=error_text(evaluation.error) or None,
        candidates=[
            CandidateOut.model_validate(card.candidate, from_attributes=True)
            for card in view.scorecards
        ],
        created_at=evaluation.created_at,
        finished_at=evaluation.finished_at,
        url=f"/projects/{evaluation.project_id}/evaluations/{evaluation.id}",
    )


@router.get(
    "/projects/{project_id}/evaluations",
    response_model=list[EvaluationOut],
    name="api:evaluations",
)
def list_evaluations(
    session: SessionDep,
    ctx: ApiViewAccess,
    limit: int = Query(50, ge=1, le=MAX_PAGE),
    offset: int = Query(0, ge=0),
) -> list[EvaluationOut]:
    """The project's evaluations, newest first."""
    rows = session.scalars(
        select(Evaluation)
        .where(Evaluation.project_id == ctx.project.id)
        .order_by(Evaluation.created_at.desc(), Evaluation.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return evaluations_out(session, list(rows))


@router.post(
    "/projects/{project_id}/evaluations",
    response_model=EvaluationOut,
    status_code=201,
    name="api:evaluations_create",
)
def create_evaluation(
    session: SessionDep, ctx: ApiEvaluateAccess, body: EvaluationSpec
) -> Response | EvaluationOut:
    """Start an evaluation (422 with what to fix otherwise). It runs in the background."""
    try:
        evaluation = service.create_evaluation(
            session, project=ctx.project, actor=ctx.user, spec=body
        )
    except ValidationFailed as error:
        discard_changes(session)
        return JSONResponse(
            {"error": {"code": "invalid", "message": error.message, "fields": error.errors}},
            status_code=422,
        )
    session.flush()
    return evaluation_out(session, evaluation)


@router.get(
    "/projects/{project_id}/evaluations/{evaluation_id}",
    response_model=EvaluationOut,
    name="api:evaluation",
)
def get_evaluation(session: SessionDep, ctx: ApiViewAccess, evaluation_id: int) -> EvaluationOut:
    evaluation = results.get_evaluation(
        session, project_id=ctx.project.id, evaluation_id=evaluation_id
    )
    return evaluation_out(session, evaluation)


@router.get(
    "/projects/{project_id}/evaluations/{evaluation_id}/items",
    response_model=list[ItemOut],
    name="api:evaluation_items",
)
def list_items(
    session: SessionDep,
    ctx: ApiViewAccess,
    evaluation_id: int,
    limit: int = Query(50, ge=1, le=MAX_PAGE),
    offset: int = Query(0, ge=0),
) -> list[ItemOut]:
    """Questions in order with every model's answer and scores, and the judge's verdict."""
    evaluation = results.get_evaluation(
        session, project_id=ctx.project.id, evaluation_id=evaluation_id
    )
    items = list(
        session.scalars(
            select(EvalItem)
            .where(EvalItem.evaluation_id == evaluation.id)
            .order_by(EvalItem.position)
            .limit(limit)
            .offset(offset)
        )
    )
    outputs: dict[int, list[OutputOut]] = {}
    for output in session.scalars(
        select(EvalOutput)
        .where(EvalOutput.item_id.in_([i.id for i in items] or [-1]))
        .order_by(EvalOutput.candidate_id)
    ):
        outputs.setdefault(output.item_id, []).append(
            OutputOut.model_validate(output, from_attributes=True)
        )
    return [
        ItemOut(
            **{k: getattr(i, k) for k in ItemOut.model_fields if k != "outputs"},
            outputs=outputs.get(i.id, []),
        )
        for i in items
    ]


@router.get(
    "/projects/{project_id}/evaluations/{evaluation_id}/ballot",
    response_model=BallotOut | None,
    name="api:evaluation_ballot",
)
def next_ballot(session: SessionDep, ctx: ApiVoteAccess, evaluation_id: int) -> BallotOut | None:
    """The next question this token's user has not voted on (``null`` when all are voted)."""
    evaluation = results.get_evaluation(
        session, project_id=ctx.project.id, evaluation_id=evaluation_id
    )
    pair = votes.voting_pair(session, evaluation)
    item = votes.next_item(session, evaluation, pair, ctx.user.id)
    if item is None:
        return None
    ballot = votes.ballot(session, pair=pair, item=item, voter_id=ctx.user.id)
    return BallotOut(
        item_id=item.id,
        prompt=ballot.prompt,
        reference=item.reference,
        answer_a=ballot.answer_a,
        answer_b=ballot.answer_b,
    )


@router.post(
    "/projects/{project_id}/evaluations/{evaluation_id}/votes",
    response_model=VoteOut,
    name="api:evaluation_vote",
)
def post_vote(session: SessionDep, ctx: ApiVoteAccess, evaluation_id: int, body: VoteIn) -> VoteOut:
    """Record (or replace) a blind vote on the sides this user is shown for the item."""
    evaluation = results.get_evaluation(
        session, project_id=ctx.project.id, evaluation_id=evaluation_id
    )
    pair = votes.voting_pair(session, evaluation)
    vote = votes.record_vote(
        session,
        evaluation=evaluation,
        pair=pair,
        item_id=body.item_id,
        voter=ctx.user,
        choice=body.choice,
        comment=body.comment,
    )
    return VoteOut.model_validate(vote, from_attributes=True)


def _share(p: Any) -> ShareOut:
    return ShareOut(value=p.value, low=p.low, high=p.high, n=p.n)


@router.get(
    "/projects/{project_id}/evaluations/{evaluation_id}/votes/summary",
    response_model=VotesSummaryOut,
    name="api:evaluation_votes_summary",
)
def votes_summary(session: SessionDep, ctx: ApiViewAccess, evaluation_id: int) -> VotesSummaryOut:
    """Human votes as the tuned model's win rate (Wilson 95 % CI) and agreement with the judge."""
    evaluation = results.get_evaluation(
        session, project_id=ctx.project.id, evaluation_id=evaluation_id
    )
    pair = results.pair_of(results.candidates_of(session, evaluation.id))
    human = results.human_results(results.vote_records(session, evaluation, pair))
    counts = human.counts
    return VotesSummaryOut(
        votes=counts.total,
        voters=human.voters,
        items=human.items,
        wins=counts.wins,
        losses=counts.losses,
        ties=counts.ties,
        both_bad=counts.both_bad,
        tuned_better=_share(human.rate.better),
        tuned_worse=_share(human.rate.worse),
        judge_agreement=human.agreement.percent,
        judge_kappa=human.agreement.kappa,
        judge_agreement_n=human.agreement.n,
    )
