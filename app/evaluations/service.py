"""Evaluation runs from a person's point of view: what can be compared, what a run will cost,
create one, cancel it, resume it. Takes the session first; never commits (the request does).

The run itself is ``app.evaluations.running.runner``, sent after commit as the task
``evaluations.run``.
"""

from __future__ import annotations

from sqlalchemy import select, tuple_, update
from sqlalchemy.orm import Session

from app.auth import audit
from app.auth.models import User
from app.db import utcnow
from app.errors import Conflict
from app.evaluations.models import (
    EvalAnswer,
    EvalCandidate,
    EvalItem,
    EvalOutput,
    EvalStatus,
    Evaluation,
    OutputStatus,
)
from app.evaluations.planning import estimate as cost
from app.evaluations.planning import prompts
from app.evaluations.planning.estimate import EvalEstimate, LeakRow
from app.evaluations.planning.plan import EvaluationError, Plan, build
from app.evaluations.schemas import EvaluationSpec
from app.evaluations.web.choices import CandidateChoices, TunedChoice, candidate_choices
from app.i18n import N_, _
from app.projects.models import Project
from app.projects.overview import Step
from app.projects.service import ProjectContext
from app.worker import enqueue_after_commit

__all__ = [
    "CandidateChoices",
    "EvalEstimate",
    "EvaluationError",
    "LeakRow",
    "TunedChoice",
    "cancel_evaluation",
    "candidate_choices",
    "create_evaluation",
    "estimate_evaluation",
    "resume_evaluation",
]

AUDIT_ACTIONS = {
    "evaluation.create": N_("Started an evaluation"),
    "evaluation.cancel": N_("Cancelled an evaluation"),
    "evaluation.resume": N_("Resumed an evaluation"),
}

RUN_TASK = "evaluations.run"
EXCERPT = 160
_LOOKUP_CHUNK = 400


# --- the estimate ------------------------------------------------------------------------------


def _reused(session: Session, plan: Plan) -> set[tuple[str, str]]:
    """(answer_key, prompt_hash) pairs already answered by an earlier evaluation."""
    keys = {c.answer_key for c in plan.candidates}
    pairs = [(k, item.prompt_hash) for k in keys for item in plan.included]
    found: set[tuple[str, str]] = set()
    for start in range(0, len(pairs), _LOOKUP_CHUNK):
        chunk = pairs[start : start + _LOOKUP_CHUNK]
        rows = session.execute(
            select(EvalAnswer.answer_key, EvalAnswer.prompt_hash).where(
                tuple_(EvalAnswer.answer_key, EvalAnswer.prompt_hash).in_(chunk)
            )
        )
        found.update((key, digest) for key, digest in rows)
    return found


def _leak_rows(plan: Plan) -> list[LeakRow]:
    rows = []
    for item in plan.items:
        if item.leak is None:
            continue
        question = item.prompt.question
        rows.append(
            LeakRow(
                example_id=item.example_id,
                kind=item.leak.kind,
                position=item.position,
                prompt_excerpt=question if len(question) <= EXCERPT else question[:EXCERPT] + "…",
                training_example_id=item.leak.training_example_id,
                similarity=item.leak.similarity,
            )
        )
    return rows


def _estimate(session: Session, plan: Plan) -> EvalEstimate:
    reused = _reused(session, plan)
    tally = cost.Tally()
    calls = reused_count = 0
    for candidate in plan.candidates:
        priced_as = candidate.base_model
        for item in plan.included:
            if (candidate.answer_key, item.prompt_hash) in reused:
                reused_count += 1
                continue
            turns, system = prompts.request(
                candidate.prompt_config, item.prompt.system_instruction, item.prompt.turns
            )
            tally.add(
                priced_as,
                cost.request_tokens(turns, system),
                cost.answer_tokens(item.prompt.reference),
                thinking_tokens=cost.thinking_tokens(candidate.settings.as_dict()),
                multiplier=cost.tuned_multiplier(priced_as, candidate.kind in prompts.TUNED_KINDS),
            )
            calls += 1
    judge_calls = 0
    if plan.judged and plan.judge_model:
        for item in plan.included:
            tokens_in, tokens_out = cost.judge_tokens(item.prompt.question, item.prompt.reference)
            tally.add(plan.judge_model, tokens_in, tokens_out, calls=cost.JUDGE_CALLS_PER_ITEM)
            judge_calls += cost.JUDGE_CALLS_PER_ITEM
    return EvalEstimate(
        items=len(plan.included),
        excluded_leaks=sum(item.excluded for item in plan.items),
        leaks=_leak_rows(plan),
        candidates=len(plan.candidates),
        generation_calls=calls,
        reused_answers=reused_count,
        judge_calls=judge_calls,
        input_tokens=tally.input_tokens,
        output_tokens=tally.output_tokens,
        cost_usd=tally.cost_usd,
        price_source=cost.PRICE_SOURCE,
        thinking_tokens=tally.thinking_tokens,
    )


def estimate_evaluation(
    session: Session, *, project: Project, spec: EvaluationSpec
) -> EvalEstimate:
    """Items, leaks, calls, tokens and cost of ``spec``; refuses what ``create`` would refuse."""
    return _estimate(session, build(session, project=project, spec=spec))


# --- creating, cancelling, resuming -------------------------------------------------------------


def _add_rows(session: Session, evaluation: Evaluation, plan: Plan) -> None:
    candidates = []
    for planned in plan.candidates:
        candidate = EvalCandidate(
            evaluation_id=evaluation.id,
            position=planned.position,
            role=planned.role,
            kind=planned.kind,
            label=planned.label,
            base_model=planned.base_model,
            model=planned.model,
            tuning_job_id=planned.tuning_job_id,
            checkpoint_id=planned.checkpoint_id,
            few_shot_k=planned.few_shot_k,
            prompt_config=planned.prompt_config,
            answer_key=planned.answer_key,
        )
        candidates.append(candidate)
    session.add_all(candidates)
    items = [
        EvalItem(
            evaluation_id=evaluation.id,
            position=planned.position,
            example_id=planned.example_id,
            system_instruction=planned.prompt.system_instruction,
            turns=planned.prompt.turns,
            reference=planned.prompt.reference,
            tag=planned.prompt.tag,
            prompt_hash=planned.prompt_hash,
            leak=planned.leak.kind if planned.leak else None,
            leak_example_id=planned.leak.training_example_id if planned.leak else None,
            excluded=planned.excluded,
        )
        for planned in plan.items
    ]
    session.add_all(items)
    session.flush()
    # Excluded items are shown but never asked: no output rows, no cost.
    session.add_all(
        EvalOutput(item_id=item.id, candidate_id=candidate.id, status=OutputStatus.PENDING)
        for item in items
        if not item.excluded
        for candidate in candidates
    )


def create_evaluation(
    session: Session, *, project: Project, actor: User, spec: EvaluationSpec
) -> Evaluation:
    """Validate ``spec``, store the run with its items and pending outputs, queue it (after
    commit). Raises ``EvaluationError`` with a message saying how to fix the request."""
    plan = build(session, project=project, spec=spec)
    estimate = _estimate(session, plan)
    included = len(plan.included)
    evaluation = Evaluation(
        project_id=project.id,
        name=" ".join(spec.name.split())[:200] or version_label(plan),
        test_version_id=plan.version.id,
        training_version_id=plan.training_version_id,
        judge_model=plan.judge_model,
        include_leaks=spec.include_leaks,
        status=EvalStatus.QUEUED,
        outputs_total=included * len(plan.candidates),
        judged_total=included if plan.judged else 0,
        estimate=estimate.model_dump(mode="json"),
        summary={},
        created_by_id=actor.id,
    )
    session.add(evaluation)
    session.flush()
    _add_rows(session, evaluation, plan)
    audit.record(
        session,
        actor=actor,
        action="evaluation.create",
        object_type="evaluation",
        object_id=evaluation.id,
        project_id=project.id,
        summary=evaluation.name,
        details={
            "test_version_id": plan.version.id,
            "candidates": [c.label for c in plan.candidates],
            "items": included,
            "excluded_leaks": estimate.excluded_leaks,
            "judge_model": plan.judge_model,
        },
    )
    enqueue_after_commit(session, RUN_TASK, evaluation.id)
    return evaluation


def version_label(plan: Plan) -> str:
    return f"{plan.dataset.name} v{plan.version.number}"


def cancel_evaluation(session: Session, *, evaluation: Evaluation, actor: User) -> None:
    """Stop a queued or running evaluation; answers already given are kept."""
    changed = session.execute(
        update(Evaluation)
        .where(
            Evaluation.id == evaluation.id,
            Evaluation.status.in_((EvalStatus.QUEUED, EvalStatus.RUNNING)),
        )
        .values(status=EvalStatus.CANCELLED, finished_at=utcnow(), claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(_("This evaluation has already finished, so it cannot be cancelled."))
    session.refresh(evaluation)
    _audit(session, evaluation, actor, "evaluation.cancel")


def resume_evaluation(session: Session, *, evaluation: Evaluation, actor: User) -> None:
    """Run a failed (or cancelled) evaluation again: answered questions are not asked again,
    failed answers are retried."""
    changed = session.execute(
        update(Evaluation)
        .where(
            Evaluation.id == evaluation.id,
            Evaluation.status.in_((EvalStatus.FAILED, EvalStatus.CANCELLED)),
        )
        .values(status=EvalStatus.QUEUED, error=None, finished_at=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(
            _("Only a failed or cancelled evaluation can be resumed; this one is not stopped.")
        )
    _retry_failed_outputs(session, evaluation.id)
    session.refresh(evaluation)
    _audit(session, evaluation, actor, "evaluation.resume")
    enqueue_after_commit(session, RUN_TASK, evaluation.id)


def _retry_failed_outputs(session: Session, evaluation_id: int) -> None:
    candidate_ids = select(EvalCandidate.id).where(EvalCandidate.evaluation_id == evaluation_id)
    session.execute(
        update(EvalOutput)
        .where(EvalOutput.candidate_id.in_(candidate_ids), EvalOutput.status == OutputStatus.FAILED)
        .values(status=OutputStatus.PENDING, error=None)
        .execution_options(synchronize_session=False)
    )


def _audit(session: Session, evaluation: Evaluation, actor: User, action: str) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        object_type="evaluation",
        object_id=evaluation.id,
        project_id=evaluation.project_id,
        summary=evaluation.name,
    )


def candidates_of(session: Session, evaluation_id: int) -> list[EvalCandidate]:
    """An evaluation's candidates in column order."""
    return list(
        session.scalars(
            select(EvalCandidate)
            .where(EvalCandidate.evaluation_id == evaluation_id)
            .order_by(EvalCandidate.position)
        )
    )


def compare_step(session: Session, ctx: ProjectContext) -> Step:
    """The overview checklist's "Compare with the original model" step."""
    finished = session.scalar(
        select(Evaluation.id)
        .where(Evaluation.project_id == ctx.project.id, Evaluation.status == EvalStatus.SUCCEEDED)
        .limit(1)
    )
    return Step(
        _("Compare with the original model"),
        _("Side by side on test questions the model never saw."),
        finished is not None,
        f"/projects/{ctx.project.id}/evaluations",
    )
