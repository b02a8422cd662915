"""A real Celery worker runs an evaluation sent after commit, on each broker (the embedded SQLite
broker of `make run`, and Redis) and each database, against the emulator: every answer scored,
the judge's verdicts stored, the run succeeded."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import new_session
from app.evaluations import service
from app.evaluations.models import EvalItem, EvalOutput, EvalStatus, Evaluation, OutputStatus
from tests.emulator_fixture import EmulatorServer, emulator, emulator_server  # noqa: F401
from tests.evaluations.run_factories import (
    emulator_env,
    faq_version,
    few_shot,
    manager_project,
    spec,
    succeeded_job,
    tuned,
    zero_shot,
)
from tests.processes import worker
from tests.support import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.slow]


def status(evaluation_id: int) -> str:
    with new_session() as own:
        row = own.get(Evaluation, evaluation_id)
        assert row is not None
        return row.status


def test_a_worker_runs_the_evaluation(
    session: Session,
    process_env: dict[str, str],
    emulator: EmulatorServer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    emulator.use(monkeypatch)
    process_env.update(emulator_env(emulator.port))
    project, manager = manager_project(session)
    version = faq_version(session, project=project, actor=manager, test_items=4)
    job = succeeded_job(session, project=project, version=version)
    evaluation = service.create_evaluation(
        session,
        project=project,
        actor=manager,
        spec=spec(version, zero_shot(), few_shot(2), tuned(job), judge_model="gemini-3.5-flash"),
    )
    session.commit()  # sends evaluations.run to this test's broker and queue

    running = worker(process_env, tmp_path).start(ready_text="ready.")
    try:
        wait_for(
            lambda: status(evaluation.id) in (EvalStatus.SUCCEEDED, EvalStatus.FAILED),
            timeout=90,
            interval=0.2,
            message="the evaluation to finish",
        )
    finally:
        running.stop()

    assert status(evaluation.id) == EvalStatus.SUCCEEDED, running.output()[-3000:]
    with new_session() as own:
        outputs = own.scalars(
            select(EvalOutput)
            .join(EvalItem, EvalItem.id == EvalOutput.item_id)
            .where(EvalItem.evaluation_id == evaluation.id)
        ).all()
        items = own.scalars(select(EvalItem).where(EvalItem.evaluation_id == evaluation.id)).all()
    assert len(outputs) == 12 and all(o.status == OutputStatus.DONE for o in outputs)
    assert all(o.scores["chrf"] == o.overall for o in outputs)
    assert all(item.judge_winner in ("tuned", "baseline", "tie") for item in items)
    assert emulator.counters()["generate"] == 12 + 4 * 4
