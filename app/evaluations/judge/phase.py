"""The judge phase of a run: the configured judge model, through the Gemini gateway, compares
the baseline's and the tuned model's answers on every included item where both answered
(``judge.judge_pairwise``, both orders) and rates both answers (``judge_rubric``).

An item is judged once: its verdict, its winner and ``judged_at`` are committed together with
both rubrics, and items with ``judged_at`` are skipped after a restart. Judge errors and
refusals become failed verdicts (shown and counted as such), never a failed run.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, aliased

from app.db import rows_affected, task_session, utcnow
from app.evaluations.judge.protocol import Generate, JudgeRefused, judge_pairwise
from app.evaluations.judge.rubric import judge_rubric
from app.evaluations.models import EvalCandidate, EvalItem, EvalOutput, Evaluation, OutputStatus
from app.evaluations.running.pool import Deferred, Drive, Lease, drive
from app.genai import generation
from app.genai.errors import TransientGeminiError

JUDGE_MAX_OUTPUT_TOKENS = 1024
BLOCKED = ("SAFETY", "BLOCKED", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII")


@dataclass(frozen=True)
class JudgeWork:
    evaluation_id: int
    item_id: int
    question: str
    reference: str
    baseline_output_id: int
    baseline: str
    tuned_output_id: int
    tuned: str


def question_text(turns: list[dict[str, str]]) -> str:
    """The question as the judge sees it: the last user turn, with the conversation before it
    when there is one."""
    if len(turns) == 1:
        return turns[0]["text"]
    return "\n".join(f"{t['role']}: {t['text']}" for t in turns)


def judge_generate(model: str) -> Generate:
    """``generate(prompt) -> reply`` for the judge protocol: one user turn, deterministic."""

    def generate(prompt: str) -> str:
        reply = generation.generate(
            model=model,
            turns=[("user", prompt)],
            temperature=0.0,
            max_output_tokens=JUDGE_MAX_OUTPUT_TOKENS,
        )
        if not reply.text and (reply.finish_reason in BLOCKED or reply.blocked_reason):
            raise JudgeRefused(reply.blocked_reason or reply.finish_reason)
        return reply.text

    return generate


def judgeable(session: Session, evaluation_id: int) -> list[JudgeWork]:
    """Included, not yet judged items whose baseline and tuned outputs are both done."""
    base_c, tuned_c = aliased(EvalCandidate), aliased(EvalCandidate)
    base_o, tuned_o = aliased(EvalOutput), aliased(EvalOutput)
    rows = session.execute(
        select(EvalItem, base_o, tuned_o)
        .join(
            base_c, (base_c.evaluation_id == EvalItem.evaluation_id) & (base_c.role == "baseline")
        )
        .join(
            tuned_c, (tuned_c.evaluation_id == EvalItem.evaluation_id) & (tuned_c.role == "tuned")
        )
        .join(base_o, (base_o.item_id == EvalItem.id) & (base_o.candidate_id == base_c.id))
        .join(tuned_o, (tuned_o.item_id == EvalItem.id) & (tuned_o.candidate_id == tuned_c.id))
        .where(
            EvalItem.evaluation_id == evaluation_id,
            EvalItem.excluded.is_(False),
            EvalItem.judged_at.is_(None),
            base_o.status == OutputStatus.DONE,
            tuned_o.status == OutputStatus.DONE,
        )
        .order_by(EvalItem.position)
    ).all()
    return [
        JudgeWork(
            evaluation_id,
            item.id,
            question_text(item.turns),
            item.reference,
            baseline.id,
            baseline.text,
            tuned.id,
            tuned.text,
        )
        for item, baseline, tuned in rows
    ]


def judge_one(work: JudgeWork, generate: Generate) -> None:
    verdict = judge_pairwise(
        question=work.question,
        reference=work.reference,
        baseline=work.baseline,
        tuned=work.tuned,
        generate=generate,
    )
    rubrics = {
        output_id: judge_rubric(
            question=work.question, reference=work.reference, answer=text, generate=generate
        )
        for output_id, text in (
            (work.baseline_output_id, work.baseline),
            (work.tuned_output_id, work.tuned),
        )
    }
    with task_session() as session:
        result = session.execute(
            update(EvalItem)
            .where(EvalItem.id == work.item_id, EvalItem.judged_at.is_(None))
            .values(
                judge=verdict.model_dump(mode="json"),
                judge_winner=verdict.winner.value if verdict.winner else None,
                judged_at=utcnow(),
            )
        )
        if rows_affected(result) != 1:
            session.rollback()  # judged meanwhile by another worker: keep its verdict
            return
        for output_id, rubric in rubrics.items():
            session.execute(
                update(EvalOutput)
                .where(EvalOutput.id == output_id)
                .values(rubric=rubric.model_dump(mode="json"))
            )
        session.execute(
            update(Evaluation)
            .where(Evaluation.id == work.evaluation_id)
            .values(judged_done=Evaluation.judged_done + 1)
        )


def judge_all(lease: Lease, concurrency: int) -> Drive:
    """The judge phase; DONE when every judgeable item has a verdict (or there is no judge)."""
    with task_session() as session:
        evaluation = session.get(Evaluation, lease.evaluation_id)
        model = evaluation.judge_model if evaluation else None
        if evaluation is None or not model:
            return Drive.DONE
        works = judgeable(session, lease.evaluation_id)
        judged = session.scalar(
            select(func.count())
            .select_from(EvalItem)
            .where(EvalItem.evaluation_id == lease.evaluation_id, EvalItem.judged_at.is_not(None))
        )
        # What can be judged: items judged already plus those with both answers now.
        evaluation.judged_total = (judged or 0) + len(works)
    generate = judge_generate(model)

    def call(work: JudgeWork, _deferrals: int) -> Deferred | None:
        judge_one(work, generate)  # the protocol turns every call failure into an outcome
        return None

    def never(_work: JudgeWork, _error: TransientGeminiError) -> None:
        return None

    return drive(works, call, never, lease=lease, concurrency=concurrency)
