"""Writing a run's answers: every answer is committed as soon as the recorder gets to it, so a
crash loses at most the calls in flight and a restart never asks a done output again.

Answers are written by one recorder thread with plain SQL on a connection (no ORM session).
Answers that arrive together are committed in one transaction (a group commit, never a wait
for more), which keeps the database work small next to the model calls: on SQLite one commit
per answer from many threads would queue on its single writer lock.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from app.db import get_engine, rows_affected, utcnow
from app.evaluations.models import EvalAnswer, EvalOutput, Evaluation, OutputStatus
from app.evaluations.scoring.metrics import ItemScores, score_item

logger = logging.getLogger("tunedesk.evaluations")
GROUP_LIMIT = 100  # answers per transaction at most


@dataclass(frozen=True)
class OutputWork:
    """One output to answer, with everything its request needs."""

    evaluation_id: int
    output_id: int
    model: str
    answer_key: str
    prompt_config: dict[str, Any]
    system_instruction: str
    turns: list[dict[str, str]]
    reference: str
    prompt_hash: str


@dataclass(frozen=True)
class Answer:
    work: OutputWork
    text: str
    tokens: tuple[int, int]  # prompt, output
    latency_ms: float | None
    reused: bool
    scores: ItemScores


def answer(
    work: OutputWork, text: str, tokens: tuple[int, int], latency_ms: float | None, reused: bool
) -> Answer:
    """An answer scored against the item's reference."""
    return Answer(work, text, tokens, latency_ms, reused, score_item(work.reference, text))


def _settle(connection: Connection, output_id: int, values: dict[str, Any]) -> bool:
    """Write a pending output's result once (False if it was settled already)."""
    result = connection.execute(
        update(EvalOutput)
        .where(EvalOutput.id == output_id, EvalOutput.status == OutputStatus.PENDING)
        .values(answered_at=utcnow(), **values)
    )
    return rows_affected(result) == 1


def _count(connection: Connection, settled: dict[int, int]) -> None:
    for evaluation_id, count in settled.items():
        if count:
            connection.execute(
                update(Evaluation)
                .where(Evaluation.id == evaluation_id)
                .values(outputs_done=Evaluation.outputs_done + count)
            )


def _remember(connection: Connection, answers: Sequence[Answer]) -> None:
    """Keep generated answers for later evaluations (another run may have stored one)."""
    if not answers:
        return
    insert = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
    connection.execute(
        insert(EvalAnswer).on_conflict_do_nothing(index_elements=["answer_key", "prompt_hash"]),
        [
            {
                "answer_key": a.work.answer_key,
                "prompt_hash": a.work.prompt_hash,
                "text": a.text,
                "prompt_tokens": a.tokens[0],
                "output_tokens": a.tokens[1],
                "created_at": utcnow(),
            }
            for a in answers
        ],
    )


def write_answers(answers: Sequence[Answer]) -> None:
    """Commit answers (done, with scores; overall = chrF) in one transaction."""
    with get_engine().begin() as connection:
        settled: dict[int, int] = {}
        fresh = []
        for a in answers:
            done = _settle(
                connection,
                a.work.output_id,
                {
                    "status": OutputStatus.DONE,
                    "text": a.text,
                    "error": None,
                    "reused": a.reused,
                    "prompt_tokens": a.tokens[0],
                    "output_tokens": a.tokens[1],
                    "latency_ms": a.latency_ms,
                    "scores": a.scores.model_dump(mode="json"),
                    "overall": a.scores.chrf,
                },
            )
            settled[a.work.evaluation_id] = settled.get(a.work.evaluation_id, 0) + done
            if done and not a.reused:
                fresh.append(a)
        _remember(connection, fresh)
        _count(connection, settled)


def record_failure(work: OutputWork, error: dict[str, Any]) -> None:
    """The model could not answer this output (after retries): failed, with the reason."""
    with get_engine().begin() as connection:
        done = _settle(connection, work.output_id, {"status": OutputStatus.FAILED, "error": error})
        _count(connection, {work.evaluation_id: int(done)})


class Recorder:
    """The thread that commits answers as they arrive (``put``); ``close`` drains it and
    re-raises a write error, so a run never reports success with answers left unwritten."""

    def __init__(self) -> None:
        self._queue: queue.Queue[Answer | None] = queue.Queue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="eval-recorder", daemon=True)
        self._thread.start()

    def put(self, answer: Answer) -> None:
        self._queue.put(answer)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            group = [first]
            stop = False
            while len(group) < GROUP_LIMIT:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                group.append(more)
            self._write(group)
            if stop:
                return

    def _write(self, group: list[Answer]) -> None:
        if self._error is not None:
            return  # the run will fail; its answers stay pending and are asked again
        try:
            write_answers(group)
        except BaseException as error:
            logger.exception("could not write %d evaluation answers", len(group))
            self._error = error

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error
