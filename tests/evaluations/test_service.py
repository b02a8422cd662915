"""Creating evaluations: validation messages, items, candidates and roles, leakage excluded or
included, the estimate, answer reuse across evaluations, cancel and resume, and the choices the
form offers. On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import AuditEvent
from app.datasets.versions.models import DatasetVersion
from app.errors import Conflict
from app.evaluations import service
from app.evaluations.models import (
    CandidateKind,
    EvalAnswer,
    EvalCandidate,
    EvalItem,
    EvalOutput,
    EvalStatus,
    Evaluation,
    OutputStatus,
)
from app.evaluations.schemas import CandidateSpec
from app.evaluations.service import EvaluationError
from app.projects.models import Project
from app.tuning.models import JobState, TuningJob
from tests.evaluations.run_factories import (
    FAQ,
    faq_version,
    few_shot,
    manager_project,
    spec,
    tuned,
    zero_shot,
)
from tests.factories import create_dataset, create_example
from tests.tuning.factories import job_row

PENDING_TASKS = "tunedesk.pending_tasks"


def succeeded_row(session: Session, project: Project, version: DatasetVersion) -> TuningJob:
    return job_row(
        session,
        project=project,
        version=version,
        state=JobState.SUCCEEDED,
        tuned_endpoint="projects/p/locations/us-central1/endpoints/4242",
        checkpoints=[
            {"checkpoint_id": "1", "epoch": 1, "step": 4, "endpoint": "projects/p/endpoints/424201"}
        ],
    )


def rows(session: Session, model: Any, evaluation: Evaluation) -> list[Any]:
    if model is EvalOutput:
        query = (
            select(EvalOutput)
            .join(EvalItem, EvalItem.id == EvalOutput.item_id)
            .where(EvalItem.evaluation_id == evaluation.id)
        )
    else:
        query = select(model).where(model.evaluation_id == evaluation.id).order_by(model.position)
    return list(session.scalars(query))


def test_create_builds_items_candidates_outputs_and_queues_the_run(session: Session) -> None:
    project, manager = manager_project(session)
    version = faq_version(session, project=project, actor=manager)
    job = succeeded_row(session, project, version)
    evaluation = service.create_evaluation(
        session,
        project=project,
        actor=manager,
        spec=spec(version, zero_shot(), few_shot(3), tuned(job), judge_model="gemini-3.5-flash"),
    )
    assert session.info[PENDING_TASKS] == [("evaluations.run", (evaluation.id,), {})]
    session.commit()

    items = rows(session, EvalItem, evaluation)
    assert [item.turns[-1]["text"] for item in items] == [paraphrase for _q, paraphrase, _a in FAQ]
    assert [item.reference for item in items] == [answer for _q, _p, answer in FAQ]
    assert {item.tag for item in items} == {"delivery", "account"}
    assert not any(item.excluded or item.leak for item in items)  # paraphrases are not leaks
    candidates = rows(session, EvalCandidate, evaluation)
    assert [(c.kind, c.role) for c in candidates] == [
        (CandidateKind.ZERO_SHOT, "baseline"),
        (CandidateKind.FEW_SHOT, None),
        (CandidateKind.TUNED, "tuned"),
    ]
    assert len(candidates[1].prompt_config["examples"]) == 3
    assert candidates[2].model == job.tuned_endpoint
    # The minimum thinking Google advises for tuned 3.x models, and the same for the baseline
    # by default, so the comparison is fair; both recorded with the run.
    assert candidates[2].prompt_config["settings"]["thinking_level"] == "minimal"
    assert candidates[0].prompt_config["settings"]["thinking_level"] == "minimal"
    assert candidates[2].prompt_config["settings"]["thinking_budget"] is None
    assert len({c.answer_key for c in candidates}) == 3
    assert len(rows(session, EvalOutput, evaluation)) == 3 * len(FAQ)
    assert evaluation.outputs_total == 3 * len(FAQ) and evaluation.judged_total == len(FAQ)
    assert evaluation.training_version_id == version.id
    assert evaluation.status == EvalStatus.QUEUED
    assert evaluation.estimate["generation_calls"] == 3 * len(FAQ)
    assert evaluation.estimate["judge_calls"] == 4 * len(FAQ)
    assert evaluation.estimate["cost_usd"] > 0
    audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "evaluation.create"))
    assert [event.object_id for event in audit] == [str(evaluation.id)]


def test_refusals_say_what_is_wrong_and_how_to_fix_it(session: Session) -> None:
    project, manager = manager_project(session)
    version = faq_version(session, project=project, actor=manager)
    other, other_manager = manager_project(session)
    foreign = faq_version(session, project=other, actor=other_manager)
    no_test_dataset = create_dataset(session, project=project, name="Only training")
    for question, _p, answer in FAQ:
        create_example(session, dataset=no_test_dataset, question=question, answer=answer)
    from app.datasets.versions.service import VersionRequest, create_version

    untested = create_version(
        session, actor=manager, dataset=no_test_dataset, request=VersionRequest()
    )
    session.commit()
    running = job_row(session, project=project, version=version, state=JobState.RUNNING)

    def refusal(the_spec: Any) -> str:
        with pytest.raises(EvaluationError) as raised:
            service.estimate_evaluation(session, project=project, spec=the_spec)
        return raised.value.message

    assert "this project" in refusal(spec(foreign))
    message = refusal(spec(untested))
    assert (
        f"Only training v{untested.number}" in message and "Mark some examples as test" in message
    )
    assert "has not finished successfully" in refusal(spec(version, zero_shot(), tuned(running)))
    train = version.counts["train"]
    message = refusal(spec(version, few_shot(train + 1)))
    assert f"only {train} approved training examples" in message
    both = spec(
        version,
        zero_shot(role="baseline"),
        CandidateSpec(kind=CandidateKind.FEW_SHOT, few_shot_k=2, role="baseline"),
    )
    assert "Only one candidate can be the baseline" in refusal(both)
    system = CandidateSpec(kind=CandidateKind.SYSTEM, base_model="gemini-3.5-flash")
    assert "no system instruction" in refusal(spec(version, system))
    assert "Add a tuned model" in refusal(
        spec(version, zero_shot(), judge_model="gemini-3.5-flash")
    )
    assert "listed twice" in refusal(spec(version, zero_shot(), zero_shot()))
    assert "not in the model list" in refusal(spec(version, zero_shot(model="gpt-4")))


def test_refusal_messages_are_translated(session: Session) -> None:
    from app.i18n import use_locale

    project, manager = manager_project(session)
    version = faq_version(session, project=project, actor=manager)
    with use_locale("ja"), pytest.raises(EvaluationError) as raised:
        service.estimate_evaluation(session, project=project, spec=spec(version, few_shot(20)))
    assert str(version.counts["train"]) in raised.value.message
    assert "examples" not in raised.value.message


def test_leaked_questions_are_excluded_unless_included(session: Session) -> None:
    project, manager = manager_project(session)
    version = faq_version(session, project=project, actor=manager, leak_exact=2)
    job = succeeded_row(session, project, version)
    the_spec = spec(version, zero_shot(), tuned(job))

    estimate = service.estimate_evaluation(session, project=project, spec=the_spec)
    assert estimate.excluded_leaks == 2 and estimate.items == len(FAQ) - 2
    assert [(leak.position, leak.kind) for leak in estimate.leaks] == [(0, "exact"), (1, "exact")]
    assert estimate.leaks[0].prompt_excerpt == FAQ[0][0]
    assert estimate.generation_calls == 2 * (len(FAQ) - 2)

    evaluation = service.create_evaluation(session, project=project, actor=manager, spec=the_spec)
    session.commit()
    items = rows(session, EvalItem, evaluation)
    assert [(i.leak, i.excluded) for i in items[:3]] == [
        ("exact", True),
        ("exact", True),
        (None, False),
    ]
    assert items[0].leak_example_id is not None
    assert len(rows(session, EvalOutput, evaluation)) == 2 * (len(FAQ) - 2)

    included = spec(version, zero_shot(), tuned(job), include_leaks=True)
    again = service.create_evaluation(session, project=project, actor=manager, spec=included)
    session.commit()
    assert [i.excluded for i in rows(session, EvalItem, again)] == [False] * len(FAQ)
    assert again.outputs_total == 2 * len(FAQ)


def test_without_a_tuned_model_there_is_no_leakage_check(session: Session) -> None:
    project, manager = manager_project(session)
    version = faq_version(session, project=project, actor=manager, leak_exact=3)
    estimate = service.estimate_evaluation(session, project=project, spec=spec(version))
    assert estimate.leaks == [] and estimate.items == len(FAQ)


def test_the_same_baseline_asked_the_same_way_is_reused(session: Session) -> None:
    project, manager = manager_project(session)
    version = faq_version(session, project=project, actor=manager)
    first = service.create_evaluation(
        session, project=project, actor=manager, spec=spec(version, zero_shot(), few_shot(3))
    )
    session.commit()
    candidates = rows(session, EvalCandidate, first)
    for item in rows(session, EvalItem, first)[:5]:  # as the runner stores its answers
        session.add(
            EvalAnswer(answer_key=candidates[0].answer_key, prompt_hash=item.prompt_hash, text="x")
        )
    session.commit()

    same = service.estimate_evaluation(
        session, project=project, spec=spec(version, zero_shot(), few_shot(3))
    )
    assert same.reused_answers == 5 and same.generation_calls == 2 * len(FAQ) - 5
    other_model = service.estimate_evaluation(
        session, project=project, spec=spec(version, zero_shot(model="gemini-3.1-flash-lite"))
    )
    assert other_model.reused_answers == 0
    second = service.create_evaluation(
        session, project=project, actor=manager, spec=spec(version, zero_shot(), few_shot(3))
    )
    session.commit()
    assert [c.answer_key for c in rows(session, EvalCandidate, second)] == [
        c.answer_key for c in candidates
    ]
    assert second.estimate["reused_answers"] == 5


def test_cancel_and_resume(session: Session) -> None:
    project, manager = manager_project(session)
    version = faq_version(session, project=project, actor=manager)
    evaluation = service.create_evaluation(
        session, project=project, actor=manager, spec=spec(version)
    )
    session.commit()
    service.cancel_evaluation(session, evaluation=evaluation, actor=manager)
    session.commit()
    assert evaluation.status == EvalStatus.CANCELLED and evaluation.finished_at is not None
    with pytest.raises(Conflict, match="already finished"):
        service.cancel_evaluation(session, evaluation=evaluation, actor=manager)
    session.rollback()

    output = rows(session, EvalOutput, evaluation)[0]
    output.status, output.error = OutputStatus.FAILED, {"message": "quota"}
    session.commit()
    service.resume_evaluation(session, evaluation=evaluation, actor=manager)
    assert session.info[PENDING_TASKS] == [("evaluations.run", (evaluation.id,), {})]
    session.commit()
    session.refresh(output)
    assert evaluation.status == EvalStatus.QUEUED and output.status == OutputStatus.PENDING
    with pytest.raises(Conflict, match="Only a failed or cancelled"):
        service.resume_evaluation(session, evaluation=evaluation, actor=manager)


def test_candidate_choices(session: Session) -> None:
    project, manager = manager_project(session, system_instruction="Answer politely.")
    version = faq_version(session, project=project, actor=manager)
    job = succeeded_row(session, project, version)
    job_row(session, project=project, version=version, state=JobState.FAILED)
    choices = service.candidate_choices(session, project=project)
    assert "gemini-3.5-flash" in [m.id for m in choices.base_models]
    assert [(j.job_id, [c.checkpoint_id for c in j.checkpoints]) for j in choices.tuned_jobs] == [
        (job.id, ["1"])
    ]
    assert [(v.version_id, v.test_examples, v.train_examples) for v in choices.versions] == [
        (version.id, len(FAQ), version.counts["train"])
    ]
    assert choices.system_instruction == "Answer politely."
    assert choices.default_judge_model == "gemini-3.5-flash"


def test_a_retired_model_cannot_be_asked(session: Session) -> None:
    """Gemini 2.5 retired on 2026-10-20: an evaluation that would ask it (as the original model
    or as the judge) is refused up front, naming the successor."""
    from app.evaluations.models import CandidateKind
    from app.evaluations.planning.plan import EvaluationError, build
    from app.evaluations.schemas import CandidateSpec, EvaluationSpec
    from tests.evaluations.run_factories import faq_version, manager_project

    project, manager = manager_project(session)
    version = faq_version(session, project=project, actor=manager)
    old = CandidateSpec(kind=CandidateKind.ZERO_SHOT, base_model="gemini-2.5-flash")
    new = CandidateSpec(kind=CandidateKind.FEW_SHOT, base_model="gemini-3.5-flash", few_shot_k=1)
    with pytest.raises(EvaluationError) as raised:
        build(
            session,
            project=project,
            spec=EvaluationSpec(name="x", test_version_id=version.id, candidates=(old, new)),
        )
    assert "Gemini 2.5 Flash was retired by Google" in raised.value.message
    assert "Choose Gemini 3.5 Flash." in raised.value.message
