"""Running an evaluation: every candidate answers every included test question, each answer is
scored and committed at once, the AI judge compares baseline and tuned, summaries are stored.

Resumable by construction: an output is ``done`` (or ``failed``) the moment its answer is
committed, and only ``pending`` outputs are ever asked, so a crash loses at most the calls that
were in flight and a restart never asks a done output again. Before asking, the answer cache
(``EvalAnswer``: same model, asked the same way, same prompt) is consulted.

``run_evaluation`` is what the Celery task ``evaluations.run`` calls; ``sweep`` is the beat
sweeper re-sending runs whose message was lost or whose worker died.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from app.config import get_settings
from app.db import rows_affected, task_session, utcnow
from app.evaluations.failures import gemini_error
from app.evaluations.judge.phase import judge_all
from app.evaluations.models import (
    EvalAnswer,
    EvalCandidate,
    EvalItem,
    EvalOutput,
    EvalStatus,
    Evaluation,
    OutputStatus,
)
from app.evaluations.planning import prompts
from app.evaluations.running import recording, summaries
from app.evaluations.running.pool import LEASE, Deferred, Drive, Lease, defer, drive
from app.evaluations.running.recording import OutputWork, record_failure
from app.genai import generation
from app.genai.errors import GeminiError, TransientGeminiError
from app.worker import enqueue_after_commit

logger = logging.getLogger("tunedesk.evaluations")

RUN_TASK = "evaluations.run"
# A queued run is sent again when nobody claimed it for this long (its message was lost).
RESEND_AFTER = timedelta(seconds=60)
REUSE_BATCH = 200
BLOCKED = ("SAFETY", "BLOCKED", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION")

# --- claiming --------------------------------------------------------------------------------


def claim(evaluation_id: int) -> Lease | None:
    """Compare-and-set: a queued run, or a running one whose claim expired, becomes ours."""
    with task_session() as session:
        evaluation = session.get(Evaluation, evaluation_id)
        if evaluation is None:
            return None
        now, attempt = utcnow(), evaluation.attempts + 1
        claimable = or_(
            Evaluation.status == EvalStatus.QUEUED,
            (Evaluation.status == EvalStatus.RUNNING)
            & (Evaluation.claimed_until.is_(None) | (Evaluation.claimed_until < now)),
        )
        result = session.execute(
            update(Evaluation)
            .where(
                Evaluation.id == evaluation_id,
                Evaluation.attempts == attempt - 1,
                claimable,
            )
            .values(
                status=EvalStatus.RUNNING,
                attempts=attempt,
                claimed_until=now + LEASE,
                started_at=func.coalesce(Evaluation.started_at, now),
            )
        )
        if rows_affected(result) != 1:
            return None
        _recount(session, evaluation_id)
        return Lease(evaluation_id, attempt)


def _recount(session: Session, evaluation_id: int) -> None:
    """Progress from the rows themselves (after a crash or a resume the counters may lag)."""
    outputs = (
        select(func.count())
        .select_from(EvalOutput)
        .join(EvalCandidate, EvalCandidate.id == EvalOutput.candidate_id)
        .where(EvalCandidate.evaluation_id == evaluation_id)
    )
    total = session.scalar(outputs) or 0
    settled = session.scalar(outputs.where(EvalOutput.status != OutputStatus.PENDING)) or 0
    judged = session.scalar(
        select(func.count())
        .select_from(EvalItem)
        .where(EvalItem.evaluation_id == evaluation_id, EvalItem.judged_at.is_not(None))
    )
    session.execute(
        update(Evaluation)
        .where(Evaluation.id == evaluation_id)
        .values(outputs_total=total, outputs_done=settled, judged_done=judged or 0)
    )


# --- generation ------------------------------------------------------------------------------


def pending_outputs(session: Session, evaluation_id: int) -> list[OutputWork]:
    """Outputs still to answer, item by item (so progress is even across candidates)."""
    rows = session.execute(
        select(EvalOutput.id, EvalCandidate, EvalItem)
        .join(EvalCandidate, EvalCandidate.id == EvalOutput.candidate_id)
        .join(EvalItem, EvalItem.id == EvalOutput.item_id)
        .where(
            EvalCandidate.evaluation_id == evaluation_id,
            EvalOutput.status == OutputStatus.PENDING,
            EvalItem.excluded.is_(False),
        )
        .order_by(EvalItem.position, EvalCandidate.position)
    ).all()
    return [
        OutputWork(
            evaluation_id,
            output_id,
            candidate.model,
            candidate.answer_key,
            dict(candidate.prompt_config or {}),
            item.system_instruction,
            list(item.turns),
            item.reference,
            item.prompt_hash,
        )
        for output_id, candidate, item in rows
    ]


def reuse_answers(works: list[OutputWork]) -> list[OutputWork]:
    """Settle outputs already answered by an earlier evaluation; returns those left to ask."""
    left: list[OutputWork] = []
    for start in range(0, len(works), REUSE_BATCH):
        batch = works[start : start + REUSE_BATCH]
        with task_session() as session:
            known = {
                (answer.answer_key, answer.prompt_hash): answer
                for answer in session.scalars(
                    select(EvalAnswer).where(
                        EvalAnswer.answer_key.in_({w.answer_key for w in batch}),
                        EvalAnswer.prompt_hash.in_({w.prompt_hash for w in batch}),
                    )
                )
            }
        reused = []
        for work in batch:
            known_answer = known.get((work.answer_key, work.prompt_hash))
            if known_answer is None:
                left.append(work)
                continue
            tokens = (known_answer.prompt_tokens, known_answer.output_tokens)
            reused.append(recording.answer(work, known_answer.text, tokens, None, reused=True))
        recording.write_answers(reused)
    return left


class Asker:
    """Asks the model for one output (one call per pool thread). The answer is scored here and
    handed to the recorder thread, so a call slot is free again as soon as the model answered."""

    def __init__(self, recorder: recording.Recorder) -> None:
        self.recorder = recorder

    def __call__(self, work: OutputWork, deferrals: int) -> Deferred | None:
        settings = work.prompt_config.get("settings") or {}
        turns, system = prompts.request(work.prompt_config, work.system_instruction, work.turns)
        try:
            reply = generation.generate(
                model=work.model,
                turns=turns,
                system_instruction=system or None,
                temperature=settings.get("temperature", prompts.TEMPERATURE),
                max_output_tokens=settings.get("max_output_tokens", prompts.MAX_OUTPUT_TOKENS),
                thinking_budget=settings.get("thinking_budget"),
                thinking_level=settings.get("thinking_level"),
            )
        except TransientGeminiError as error:
            return defer(error, deferrals)
        except GeminiError as error:
            record_failure(work, gemini_error(error))
            return None
        except Exception as error:  # a bug or a malformed prompt: this output fails, not the run
            logger.exception("evaluation output %s failed", work.output_id)
            record_failure(work, {"kind": "unexpected", "params": {"detail": str(error)[:300]}})
            return None
        if not reply.text and (reply.finish_reason in BLOCKED or reply.blocked_reason):
            record_failure(work, {"kind": "blocked", "params": {}})
            return None
        tokens = (reply.prompt_tokens, reply.output_tokens)
        self.recorder.put(recording.answer(work, reply.text, tokens, reply.latency_ms, False))
        return None


def give_up(work: OutputWork, error: TransientGeminiError) -> None:
    record_failure(work, gemini_error(error))


def generate_all(lease: Lease, concurrency: int) -> Drive:
    with task_session() as session:
        works = pending_outputs(session, lease.evaluation_id)
    works = reuse_answers(works)
    recorder = recording.Recorder()
    try:
        return drive(works, Asker(recorder), give_up, lease=lease, concurrency=concurrency)
    finally:
        recorder.close()


# --- the run ---------------------------------------------------------------------------------


def run_evaluation(evaluation_id: int) -> str:
    """Claim the run and take it as far as it goes; returns what happened."""
    lease = claim(evaluation_id)
    if lease is None:
        return "not_claimed"
    concurrency = get_settings().eval_concurrency
    try:
        for phase in (generate_all, judge_all):
            ended = phase(lease, concurrency)
            if ended == Drive.PAUSED:
                release(lease)  # the worker is stopping: the next one continues from here
                return "paused"
            if ended == Drive.LOST:
                return "stopped"
        return finish(lease)
    except Exception as error:
        if _is_time_limit(error):
            release(lease)  # the next message continues where this one stopped
            raise
        logger.exception("evaluation %s crashed", evaluation_id)
        fail(lease, {"kind": "crashed", "params": {"detail": type(error).__name__}})
        return "failed"


def _is_time_limit(error: BaseException) -> bool:
    return type(error).__name__ == "SoftTimeLimitExceeded"


def finish(lease: Lease) -> str:
    with task_session() as session:
        problem = summaries.store(session, lease.evaluation_id)
        values: dict[str, Any] = {"finished_at": utcnow(), "claimed_until": None}
        if problem is None:
            values.update(status=EvalStatus.SUCCEEDED, error=None)
        else:
            values.update(status=EvalStatus.FAILED, error=problem)
        result = session.execute(update(Evaluation).where(*lease.owned()).values(**values))
        if rows_affected(result) != 1:
            session.rollback()
            return "stopped"
    return str(values["status"])


def fail(lease: Lease, error: dict[str, Any]) -> None:
    with task_session() as session:
        session.execute(
            update(Evaluation)
            .where(*lease.owned())
            .values(status=EvalStatus.FAILED, error=error, finished_at=utcnow(), claimed_until=None)
        )


def release(lease: Lease) -> None:
    with task_session() as session:
        result = session.execute(
            update(Evaluation)
            .where(*lease.owned())
            .values(status=EvalStatus.QUEUED, claimed_until=None)
        )
        if rows_affected(result) == 1:
            enqueue_after_commit(session, RUN_TASK, lease.evaluation_id)


def sweep(session: Session) -> list[int]:
    """Queued runs nobody claimed for a while, and running runs whose claim expired (their
    worker died): send them again. A copy that arrives late is a no-op (the claim)."""
    now = utcnow()
    stale = session.scalars(
        select(Evaluation)
        .where(
            or_(
                (Evaluation.status == EvalStatus.QUEUED)
                & (Evaluation.created_at < now - RESEND_AFTER)
                & (Evaluation.claimed_until.is_(None) | (Evaluation.claimed_until < now)),
                (Evaluation.status == EvalStatus.RUNNING) & (Evaluation.claimed_until < now),
            )
        )
        .order_by(Evaluation.id)
        .limit(100)
    )
    resent = []
    for evaluation in stale:
        if evaluation.status == EvalStatus.QUEUED:
            # On a queued row, claimed_until means "sent again; wait before another copy".
            evaluation.claimed_until = now + RESEND_AFTER
        resent.append(evaluation.id)
        enqueue_after_commit(session, RUN_TASK, evaluation.id)
    return resent
