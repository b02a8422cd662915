"""Resumability with real workers, proved by the emulator's request log.

Stopped (SIGTERM, as ``make run``'s Ctrl-C, ``docker stop`` or a deploy): the run pauses within a
call's latency, the calls in flight are saved, the run goes back to the queue, and the next
worker finishes it: every output is generated exactly once, with both pools.

Killed (SIGKILL, as a crashed machine): a new worker takes over once the dead worker's claim
expired (the sweeper re-sends the run), and no answer committed before the crash is asked again.
The only repeats are the calls that were in flight at the kill: their answers died with the
process before they could be stored, and the Gemini API offers no way to fetch a reply twice."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import new_session, task_session, utcnow
from app.evaluations import service
from app.evaluations.models import (
    EvalCandidate,
    EvalItem,
    EvalOutput,
    EvalStatus,
    Evaluation,
    OutputStatus,
)
from app.evaluations.running import runner
from tests.emulator_fixture import EmulatorServer, emulator, emulator_server  # noqa: F401
from tests.evaluations.run_factories import (
    emulator_env,
    faq_version,
    manager_project,
    spec,
    succeeded_job,
    tuned,
    zero_shot,
)
from tests.processes import ManagedProcess, worker
from tests.support import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.slow]
ITEMS = 12
LATENCY_MS = 300
CONCURRENCY = 2


def row(evaluation_id: int) -> Evaluation:
    with new_session() as own:
        found = own.get(Evaluation, evaluation_id)
        assert found is not None
        return found


def outputs(evaluation_id: int) -> list[tuple[str, str, EvalOutput]]:
    """(candidate model, question, output) for every output of the run."""
    with new_session() as own:
        rows = own.execute(
            select(EvalCandidate.model, EvalItem.turns, EvalOutput)
            .join(EvalOutput, EvalOutput.candidate_id == EvalCandidate.id)
            .join(EvalItem, EvalItem.id == EvalOutput.item_id)
            .where(EvalCandidate.evaluation_id == evaluation_id)
        ).all()
    return [(model, turns[-1]["text"], output) for model, turns, output in rows]


def request_key(entry: dict[str, object]) -> tuple[str, str]:
    """Which output a logged generate request was for: the model (a publisher model id or an
    endpoint) and the question (the last user turn)."""
    path = str(entry["path"])
    model = path.split("/models/")[-1] if "/models/" in path else path.split("/endpoints/")[-1]
    body = entry["json"]
    assert isinstance(body, dict)
    question = body["contents"][-1]["parts"][0]["text"]
    return model.split(":")[0], question


def output_key(model: str, question: str) -> tuple[str, str]:
    return model.rsplit("/", 1)[-1], question


def queued_run(
    session: Session,
    env: dict[str, str],
    emulator: EmulatorServer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    latency_ms: int,
) -> Evaluation:
    """A zero-shot + tuned evaluation of ITEMS questions, queued for the workers of ``env``."""
    emulator.use(monkeypatch)
    env.update(emulator_env(emulator.port), TUNEDESK_EVAL_CONCURRENCY=str(CONCURRENCY))
    project, manager = manager_project(session)
    version = faq_version(session, project=project, actor=manager, test_items=ITEMS)
    job = succeeded_job(session, project=project, version=version)
    emulator.reset()
    emulator.settings(latency_ms=latency_ms)
    evaluation = service.create_evaluation(
        session, project=project, actor=manager, spec=spec(version, zero_shot(), tuned(job))
    )
    session.commit()
    return evaluation


def done_keys(evaluation_id: int) -> set[tuple[str, str]]:
    return {
        output_key(model, question)
        for model, question, output in outputs(evaluation_id)
        if output.status == OutputStatus.DONE
    }


def completed_by(
    next_worker: ManagedProcess,
    evaluation_id: int,
    total: int,
    emulator: EmulatorServer,  # noqa: F811
    resend: Callable[[], None] = lambda: None,
) -> tuple[Counter[tuple[str, str]], list[dict[str, Any]]]:
    """Start ``next_worker``, let it complete the run (after ``resend``), check every output is
    answered; returns how often the emulator was asked for each output, and its request log."""
    next_worker.start(ready_text="ready.")
    try:
        resend()
        wait_for(
            lambda: row(evaluation_id).status == EvalStatus.SUCCEEDED,
            timeout=60,
            interval=0.2,
            message="the run to complete on the next worker",
        )
    finally:
        next_worker.stop()
    final = outputs(evaluation_id)
    assert len(final) == total and all(o.status == OutputStatus.DONE for _m, _q, o in final)
    assert not any(o.reused for _m, _q, o in final)
    assert row(evaluation_id).outputs_done == total
    log = emulator.requests("generate")
    asked = Counter(request_key(entry) for entry in log)
    assert set(asked) == {output_key(m, q) for m, q, _o in final}
    return asked, log


@pytest.mark.parametrize("pool", ["solo", "prefork"])
def test_a_stopped_worker_pauses_the_run_and_the_next_asks_nothing_twice(
    pool: str,
    session: Session,
    embedded_process_env: dict[str, str],
    emulator: EmulatorServer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    env = embedded_process_env
    # 24 answers, two at a time, 600 ms each: about 7 seconds if nobody stops the worker.
    evaluation = queued_run(session, env, emulator, monkeypatch, latency_ms=600)
    total = 2 * ITEMS

    first = worker(env, tmp_path, name="worker-1", pool=pool).start(ready_text="ready.")
    try:
        wait_for(
            lambda: row(evaluation.id).outputs_done >= 4,
            timeout=60,
            interval=0.05,
            message="the first answers",
        )
    finally:
        stopped_at = time.monotonic()
        assert first.terminate() == 0, first.output()[-3000:]
    stop_seconds = time.monotonic() - stopped_at
    # The worker did not wait for the run to end: it paused it and put it back in the queue.
    paused = row(evaluation.id)
    assert paused.status == EvalStatus.QUEUED and paused.claimed_until is None
    saved = done_keys(evaluation.id)
    assert 4 <= len(saved) < total - 2, len(saved)
    assert stop_seconds < 6, stop_seconds
    # Every call it sent was answered and saved: nothing is lost, nothing will be asked again.
    asked_before = Counter(request_key(entry) for entry in emulator.requests("generate"))
    assert set(asked_before) == saved and all(n == 1 for n in asked_before.values())

    # The run's message was sent again when it paused: the next worker simply continues.
    second = worker(env, tmp_path, name="worker-2", pool=pool)
    asked, log = completed_by(second, evaluation.id, total, emulator)
    assert len(log) == total
    assert all(n == 1 for n in asked.values()), asked


def test_a_killed_worker_is_taken_over_without_asking_twice(
    session: Session,
    embedded_process_env: dict[str, str],
    emulator: EmulatorServer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    env = embedded_process_env
    # 24 answers, two at a time: about 4 seconds.
    evaluation = queued_run(session, env, emulator, monkeypatch, latency_ms=LATENCY_MS)
    total = 2 * ITEMS

    first = worker(env, tmp_path, name="worker-1").start(ready_text="ready.")
    try:
        wait_for(
            lambda: row(evaluation.id).outputs_done >= total // 3,
            timeout=60,
            interval=0.05,
            message="a third of the answers",
        )
    finally:
        first.kill()
    killed_at = time.time()
    done_before = done_keys(evaluation.id)
    assert total // 3 <= len(done_before) < total
    assert row(evaluation.id).status == EvalStatus.RUNNING  # its worker is gone

    def resend_once_the_claim_expired() -> None:
        # The dead worker's claim expires (no heartbeat); the sweeper (run by beat every 30 s)
        # then re-sends the run.
        wait_for(
            lambda: (row(evaluation.id).claimed_until or utcnow()) < utcnow(),
            timeout=40,
            interval=0.2,
            message="the dead worker's claim to expire",
        )
        with task_session() as own:
            assert runner.sweep(own) == [evaluation.id]

    second = worker(env, tmp_path, name="worker-2")
    asked, log = completed_by(
        second, evaluation.id, total, emulator, resend=resend_once_the_claim_expired
    )
    # Nothing answered before the crash was asked again.
    assert all(asked[key] == 1 for key in done_before), asked
    # The only repeats: calls in flight when the worker died (sent before the kill, unanswered).
    in_flight = {
        request_key(entry) for entry in log if float(entry["at"]) < killed_at
    } - done_before
    assert len(in_flight) <= CONCURRENCY
    assert {key for key, count in asked.items() if count > 1} == in_flight
    assert len(log) == total + len(in_flight)
