"""The runner in this process against the emulator, through the real google-genai SDK: a run with
zero-shot, few-shot and tuned candidates ends with every answer scored, the tuned model ahead on
questions paraphrasing its training data, the judge's verdicts in both orders and the rubrics;
answers are reused by the next evaluation; a 429 with Retry-After is waited out; judge errors
and refusals become failed verdicts while the run succeeds; cancelling stops the run."""

from __future__ import annotations

import threading
from datetime import timedelta
from statistics import fmean

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import get_settings
from app.db import new_session, utcnow
from app.evaluations import service
from app.evaluations.failures import error_message
from app.evaluations.judge import phase
from app.evaluations.models import (
    EvalAnswer,
    EvalCandidate,
    EvalItem,
    EvalOutput,
    EvalStatus,
    Evaluation,
    OutputStatus,
)
from app.evaluations.running import runner
from app.evaluations.running.pool import Drive
from app.evaluations.schemas import CandidateSummary, RunSummary
from app.genai import common
from app.projects.models import Project
from app.tuning import experiments
from app.tuning.models import TuningJob
from tests.emulator_fixture import EmulatorServer, emulator, emulator_server  # noqa: F401
from tests.evaluations.run_factories import (
    FAQ,
    faq_version,
    few_shot,
    manager_project,
    spec,
    succeeded_job,
    tuned,
    zero_shot,
)
from tests.support import wait_for

JUDGE = "gemini-3.5-flash"


@pytest.fixture
def gemini(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> EmulatorServer:  # noqa: F811
    """The emulator as the connection in force, with the tests' fast retry policy (the gateway
    gives up after four quick attempts instead of minutes of backoff)."""
    emulator.use(monkeypatch)
    monkeypatch.setattr(common, "current_config", emulator.config)
    return emulator


@pytest.fixture
def faq(session: Session, gemini: EmulatorServer) -> tuple[Project, object, object, TuningJob]:
    project, manager = manager_project(session)
    version = faq_version(session, project=project, actor=manager)
    job = succeeded_job(session, project=project, version=version)
    return project, manager, version, job


def fresh(evaluation_id: int) -> Evaluation:
    with new_session() as own:
        row = own.get(Evaluation, evaluation_id)
        assert row is not None
        return row


def outputs_by_candidate(evaluation_id: int) -> dict[str, list[EvalOutput]]:
    with new_session() as own:
        rows = own.execute(
            select(EvalCandidate.kind, EvalOutput)
            .join(EvalOutput, EvalOutput.candidate_id == EvalCandidate.id)
            .join(EvalItem, EvalItem.id == EvalOutput.item_id)
            .where(EvalCandidate.evaluation_id == evaluation_id)
            .order_by(EvalItem.position)
        ).all()
    grouped: dict[str, list[EvalOutput]] = {}
    for kind, output in rows:
        grouped.setdefault(kind, []).append(output)
    return grouped


def create(session: Session, project: Project, manager: object, the_spec: object) -> int:
    evaluation = service.create_evaluation(
        session,
        project=project,
        actor=manager,  # type: ignore[arg-type]
        spec=the_spec,  # type: ignore[arg-type]
    )
    session.commit()
    return evaluation.id


def test_end_to_end_scores_judge_and_reuse(
    session: Session, faq: tuple[Project, object, object, TuningJob], gemini: EmulatorServer
) -> None:
    project, manager, version, job = faq
    gemini.reset()
    candidates = (zero_shot(), few_shot(3), tuned(job))
    first = create(session, project, manager, spec(version, *candidates, judge_model=JUDGE))

    assert runner.run_evaluation(first) == "succeeded"

    evaluation = fresh(first)
    n = len(FAQ)
    assert (evaluation.outputs_done, evaluation.outputs_total) == (3 * n, 3 * n)
    assert (evaluation.judged_done, evaluation.judged_total) == (n, n)
    outputs = outputs_by_candidate(first)
    assert all(o.status == OutputStatus.DONE and o.scores for v in outputs.values() for o in v)
    chrf = {kind: fmean(o.overall or 0 for o in rows) for kind, rows in outputs.items()}
    # It learned these answers: most paraphrased questions get the taught answer word for word.
    assert chrf["tuned"] > chrf["zero_shot"] + 30 and chrf["tuned"] > chrf["few_shot"] + 30, chrf
    taught = [o.text == answer for o, (_q, _p, answer) in zip(outputs["tuned"], FAQ, strict=True)]
    assert sum(taught) >= n // 2
    # Generated once per output, then four judge calls per item (two orders, two rubrics).
    assert gemini.counters()["generate"] == 3 * n + 4 * n

    with new_session() as own:
        items = list(own.scalars(select(EvalItem).where(EvalItem.evaluation_id == first)))
        summaries = {
            c.kind: CandidateSummary.model_validate(c.summary)
            for c in own.scalars(select(EvalCandidate).where(EvalCandidate.evaluation_id == first))
        }
    by_position = {item.position: item for item in items}
    for position, learned in enumerate(taught):
        item = by_position[position]
        assert item.judged_at is not None and item.judge is not None
        if not learned:
            continue
        assert item.judge_winner == "tuned"
        assert (item.judge["first"]["a_side"], item.judge["second"]["a_side"]) == (
            "baseline",
            "tuned",
        )
        assert item.judge["first"]["reply"]["outcome"] == "B"  # tuned shown second
        assert item.judge["second"]["reply"]["outcome"] == "A"  # tuned shown first
        assert item.judge["status"] == "agreed" and item.judge["reason"]
    assert all(o.rubric and o.rubric["outcome"] == "scored" for o in outputs["tuned"])
    learned_output = outputs["tuned"][taught.index(True)]
    assert learned_output.rubric["facts"] == 5  # type: ignore[index]
    assert outputs["few_shot"][0].rubric is None  # only the judged pair is rated
    run = RunSummary.model_validate(evaluation.summary)
    assert run.judge is not None and run.judge.total == n and run.judge.wins >= sum(taught)
    assert set(run.judge_by_tag) == {"delivery", "account"} and run.items == n
    assert summaries["tuned"].scores.chrf.value == pytest.approx(chrf["tuned"])
    assert summaries["tuned"].scores.chrf.low is not None
    assert summaries["tuned"].rubric is not None
    assert summaries["tuned"].rubric.facts > summaries["zero_shot"].rubric.facts  # type: ignore[union-attr]
    assert summaries["zero_shot"].answered == n and summaries["zero_shot"].reused == 0

    # The experiment log shows the judge's "tuned better" share, linked to the evaluation.
    logged = experiments.evaluation_scores(session, [job.id])[job.id]
    assert logged.score == pytest.approx(run.judge.wins / n)
    assert logged.link == f"/projects/{project.id}/evaluations/{first}"

    # The same candidates asked the same way: every answer comes from the cache.
    gemini.reset()
    second = create(session, project, manager, spec(version, *candidates, name="Again"))
    assert fresh(second).estimate["generation_calls"] == 0
    assert runner.run_evaluation(second) == "succeeded"
    assert gemini.counters().get("generate", 0) == 0
    again = outputs_by_candidate(second)
    assert all(o.reused and o.status == OutputStatus.DONE for v in again.values() for o in v)
    assert [o.text for o in again["tuned"]] == [o.text for o in outputs["tuned"]]
    with new_session() as own:
        assert own.scalar(select(func.count()).select_from(EvalAnswer)) == 3 * n
    # The newest evaluation of the job counts; without a judge, its chrF / 100.
    logged = experiments.evaluation_scores(session, [job.id])[job.id]
    assert logged.score == pytest.approx(chrf["tuned"] / 100)
    assert logged.link.endswith(f"/evaluations/{second}")


def test_a_429_with_retry_after_is_waited_out(
    session: Session,
    faq: tuple[Project, object, object, TuningJob],
    gemini: EmulatorServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project, manager, version, _job = faq
    monkeypatch.setenv("TUNEDESK_EVAL_CONCURRENCY", "1")
    get_settings.cache_clear()
    evaluation_id = create(session, project, manager, spec(version, zero_shot()))
    gemini.reset()
    # More 429s than the gateway's four attempts: it gives up and the runner must wait.
    gemini.fault("generate", status=429, retry_after=3, count=4)

    assert runner.run_evaluation(evaluation_id) == "succeeded"

    log = gemini.requests("generate")
    assert len(log) == 4 + len(FAQ)  # the refused attempts, then each question once
    waited = log[4]["at"] - log[3]["at"]
    assert waited >= 3.0, waited  # at least what Retry-After asked
    outputs = outputs_by_candidate(evaluation_id)["zero_shot"]
    assert all(o.status == OutputStatus.DONE for o in outputs)


def test_judge_errors_and_refusals_become_failed_verdicts(
    session: Session,
    gemini: EmulatorServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project, manager = manager_project(session)
    version = faq_version(session, project=project, actor=manager, test_items=3)
    job = succeeded_job(session, project=project, version=version)
    monkeypatch.setenv("TUNEDESK_EVAL_CONCURRENCY", "1")
    get_settings.cache_clear()
    evaluation_id = create(
        session, project, manager, spec(version, zero_shot(), tuned(job), judge_model=JUDGE)
    )
    with new_session() as own:
        items = own.scalars(
            select(EvalItem)
            .where(EvalItem.evaluation_id == evaluation_id)
            .order_by(EvalItem.position)
        ).all()
        # The emulator's judge declines questions carrying its refusal trigger.
        items[2].turns = [{"role": "user", "text": items[2].turns[-1]["text"] + " [judge-refuses]"}]
        own.commit()
    lease = runner.claim(evaluation_id)
    assert lease is not None and runner.generate_all(lease, 1) == Drive.DONE
    # Item 0: both pairwise orders fail (a permanent error), its rubrics succeed.
    gemini.fault("generate", status=400, count=2, message="judge model unavailable")
    assert phase.judge_all(lease, 1) == Drive.DONE
    assert runner.finish(lease) == "succeeded"

    with new_session() as own:
        judged = own.scalars(
            select(EvalItem)
            .where(EvalItem.evaluation_id == evaluation_id)
            .order_by(EvalItem.position)
        ).all()
    failed, fine, refused = judged
    assert failed.judge_winner is None and failed.judge["status"] == "failed"  # type: ignore[index]
    assert failed.judge["first"]["reply"]["outcome"] == "error"  # type: ignore[index]
    assert fine.judge_winner == "tuned"
    assert refused.judge_winner is None
    assert refused.judge["first"]["reply"]["outcome"] == "refused"  # type: ignore[index]
    summary = RunSummary.model_validate(fresh(evaluation_id).summary)
    assert summary.judge_failed == 2 and summary.judge is not None and summary.judge.wins == 1
    rubrics = [o.rubric for o in outputs_by_candidate(evaluation_id)["tuned"]]
    assert [r["outcome"] for r in rubrics if r] == ["scored", "scored", "refused"]


def test_a_candidate_that_cannot_answer_fails_the_run_with_its_reason(
    session: Session, gemini: EmulatorServer
) -> None:
    project, manager = manager_project(session)
    version = faq_version(session, project=project, actor=manager, test_items=2)
    job = succeeded_job(session, project=project, version=version)
    # The endpoint was deleted on Google's side since the job finished.
    job.tuned_endpoint = (job.tuned_endpoint or "").rsplit("/", 1)[0] + "/999999"
    session.commit()
    evaluation_id = create(session, project, manager, spec(version, zero_shot(), tuned(job)))

    assert runner.run_evaluation(evaluation_id) == "failed"

    evaluation = fresh(evaluation_id)
    assert evaluation.status == EvalStatus.FAILED and evaluation.error is not None
    message = error_message(evaluation.error)
    assert message.startswith(f"“{job.display_name}” could not answer any question:")
    assert "resume" in message
    outputs = outputs_by_candidate(evaluation_id)
    assert all(o.status == OutputStatus.DONE for o in outputs["zero_shot"])
    assert all(o.status == OutputStatus.FAILED for o in outputs["tuned"])


def test_cancel_stops_the_run(session: Session, gemini: EmulatorServer) -> None:
    project, manager = manager_project(session)
    version = faq_version(session, project=project, actor=manager)
    evaluation_id = create(session, project, manager, spec(version, zero_shot()))
    evaluation = session.get(Evaluation, evaluation_id)
    assert evaluation is not None
    service.cancel_evaluation(session, evaluation=evaluation, actor=manager)  # type: ignore[arg-type]
    session.commit()
    assert runner.run_evaluation(evaluation_id) == "not_claimed"
    assert gemini.counters().get("generate", 0) == 0
    assert fresh(evaluation_id).status == EvalStatus.CANCELLED


def test_cancelling_a_running_evaluation_stops_it(
    session: Session, gemini: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, manager = manager_project(session)
    version = faq_version(session, project=project, actor=manager, test_items=40)
    monkeypatch.setenv("TUNEDESK_EVAL_CONCURRENCY", "2")
    get_settings.cache_clear()
    evaluation_id = create(session, project, manager, spec(version, zero_shot()))
    gemini.settings(latency_ms=250)  # 40 answers two at a time: about 5 seconds
    outcome: list[str] = []
    running = threading.Thread(target=lambda: outcome.append(runner.run_evaluation(evaluation_id)))
    running.start()
    wait_for(lambda: fresh(evaluation_id).outputs_done >= 4, timeout=10, message="some answers")
    evaluation = session.get(Evaluation, evaluation_id, populate_existing=True)
    assert evaluation is not None
    service.cancel_evaluation(session, evaluation=evaluation, actor=manager)  # type: ignore[arg-type]
    session.commit()
    running.join(timeout=15)

    assert outcome == ["stopped"]
    final = fresh(evaluation_id)
    assert final.status == EvalStatus.CANCELLED
    assert 4 <= final.outputs_done < 40  # stopped sending at the next heartbeat
    asked = gemini.counters()["generate"]
    assert asked < 40 and asked <= final.outputs_done + 2


def test_the_sweeper_resends_lost_and_abandoned_runs(session: Session) -> None:
    project, manager = manager_project(session)
    version = faq_version(session, project=project, actor=manager, test_items=1)
    ids = [create(session, project, manager, spec(version, name=f"Run {i}")) for i in range(4)]
    lost, fresh_queued, abandoned, alive = (session.get(Evaluation, i) for i in ids)
    old = utcnow() - timedelta(minutes=5)
    assert lost and fresh_queued and abandoned and alive
    lost.created_at = old  # its message never arrived
    abandoned.created_at, abandoned.status = old, EvalStatus.RUNNING
    abandoned.claimed_until = utcnow() - timedelta(seconds=1)  # its worker stopped renewing
    alive.created_at, alive.status = old, EvalStatus.RUNNING
    alive.claimed_until = utcnow() + timedelta(seconds=20)
    session.commit()

    assert runner.sweep(session) == [lost.id, abandoned.id]
    assert session.info["tunedesk.pending_tasks"] == [
        ("evaluations.run", (lost.id,), {}),
        ("evaluations.run", (abandoned.id,), {}),
    ]
    session.commit()
    assert runner.sweep(session) == [abandoned.id]  # the lost one was just sent again
    session.commit()
    # A copy arriving for a run another worker holds does nothing.
    assert runner.run_evaluation(alive.id) == "not_claimed"
