"""Builders for evaluation-run tests: a support FAQ whose test questions paraphrase its training
questions (the tuned model has learned their answers, the base model has not), and a tuning job
that really succeeded in the emulator (so its endpoint answers)."""

from __future__ import annotations

import itertools
import uuid

from sqlalchemy.orm import Session

from app.auth.models import User
from app.datasets.versions.models import DatasetVersion
from app.datasets.versions.service import VersionRequest, create_version
from app.db import new_session, utcnow
from app.evaluations.models import CandidateKind
from app.evaluations.schemas import CandidateSpec, EvaluationSpec
from app.genai import gateway
from app.projects.models import Project
from app.projects.permissions import Role
from app.tuning import launch, sync
from app.tuning.models import JobState, TuningJob
from tests.factories import create_dataset, create_example, create_project, create_user

_counter = itertools.count(1)

# (training question, its paraphrase in the test split, the answer the team teaches)
FAQ = [
    (
        "How long does delivery take to Hokkaido?",
        "What is the delivery time for Hokkaido addresses?",
        "Hokkaido deliveries arrive in 3 to 5 business days by Yamato; tracking is emailed.",
    ),
    (
        "Can I cancel an order after it has shipped?",
        "Is cancelling possible once my parcel is on its way?",
        "After shipping you cannot cancel; refuse the parcel and we refund it within 7 days.",
    ),
    (
        "Which payment cards do you accept?",
        "Which cards do you accept for payment?",
        "We accept Visa, Mastercard, JCB and AMEX; debit cards work if they carry these logos.",
    ),
    (
        "How do I change the delivery date?",
        "Could I move my delivery to another day?",
        "Open the tracking link and pick a new slot; changes close at 20:00 the day before.",
    ),
    (
        "Do you offer gift wrapping?",
        "Do you offer wrapping for gifts?",
        "Gift wrapping costs 300 yen; choose it at checkout and add a message card for free.",
    ),
    (
        "What is your return policy for sale items?",
        "Are discounted products returnable?",
        "Sale items can be returned within 14 days unused; shipping back is at your cost.",
    ),
    (
        "How can I reach customer support by phone?",
        "What number do I call to talk to support?",
        "Call 0120-123-456, weekdays 9:00 to 18:00; have your order number ready.",
    ),
    (
        "Is my personal data shared with third parties?",
        "Is personal data shared with any third party?",
        "We never sell personal data; only the courier receives your name and address.",
    ),
]


def manager_project(session: Session, system_instruction: str = "") -> tuple[Project, User]:
    manager = create_user(session, name=f"Mana {next(_counter)}")
    project = create_project(
        session, members={manager: Role.MANAGER}, system_instruction=system_instruction
    )
    return project, manager


def faq_version(
    session: Session,
    *,
    project: Project,
    actor: User,
    copies: int = 2,
    leak_exact: int = 0,
    test_items: int | None = None,
) -> DatasetVersion:
    """Training examples (each FAQ answer ``copies`` times, asked in slightly different words)
    and test examples paraphrasing them; ``leak_exact`` test examples repeat a training question
    word for word. ``test_items`` paraphrases (cycling through the FAQ) instead of one per topic."""
    dataset = create_dataset(session, project=project, name=f"Support FAQ {next(_counter)}")
    for copy in range(copies):
        for question, _paraphrase, answer in FAQ:
            asked = question if copy == 0 else f"{question} (asked again, case {copy})"
            create_example(session, dataset=dataset, question=asked, answer=answer, tag="faq")
    count = len(FAQ) if test_items is None else test_items
    for index in range(count):
        question, paraphrase, answer = FAQ[index % len(FAQ)]
        asked = question if index < leak_exact else paraphrase
        if index >= len(FAQ):
            asked = f"{asked} (customer {index})"
        tag = "delivery" if index % 2 == 0 else "account"
        create_example(
            session, dataset=dataset, question=asked, answer=answer, split="test", tag=tag
        )
    version = create_version(
        session,
        actor=actor,
        dataset=dataset,
        request=VersionRequest(note="evaluation test"),
        acknowledge_leakage=True,
    )
    session.commit()
    return version


def succeeded_job(session: Session, *, project: Project, version: DatasetVersion) -> TuningJob:
    """A job launched for real on the emulator (the emulator must be in use) and synced to
    SUCCEEDED, with its endpoint and checkpoints."""
    job = TuningJob(
        project_id=project.id,
        dataset_version_id=version.id,
        base_model="gemini-3.5-flash",
        display_name=f"Tuned FAQ {next(_counter)}",
        hyperparameters={"epochs": 2, "learning_rate_multiplier": 1.0, "adapter_size": 4},
        state=JobState.QUEUED,
        remote_label=uuid.uuid4().hex,
        queued_at=utcnow(),
        updated_at=utcnow(),
    )
    session.add(job)
    session.commit()
    assert launch.launch(job.id) == "created"
    for _attempt in range(200):
        with new_session() as own:
            row = own.get(TuningJob, job.id)
            assert row is not None and row.remote_name
            sync.apply(own, row, gateway.get_tuning(row.remote_name))
            own.commit()
            if row.state == JobState.SUCCEEDED:
                session.expire_all()
                refreshed = session.get(TuningJob, job.id)
                assert refreshed is not None
                return refreshed
        import time

        time.sleep(0.05)
    raise AssertionError("the emulated tuning job did not succeed")


def spec(
    version: DatasetVersion,
    *candidates: CandidateSpec,
    judge_model: str | None = None,
    include_leaks: bool = False,
    name: str = "FAQ check",
) -> EvaluationSpec:
    return EvaluationSpec(
        name=name,
        test_version_id=version.id,
        candidates=candidates or (CandidateSpec(kind=CandidateKind.ZERO_SHOT),),
        judge_model=judge_model,
        include_leaks=include_leaks,
    )


def zero_shot(model: str = "gemini-3.5-flash", **values: object) -> CandidateSpec:
    return CandidateSpec(kind=CandidateKind.ZERO_SHOT, base_model=model, **values)  # type: ignore[arg-type]


def few_shot(k: int = 3, model: str = "gemini-3.5-flash") -> CandidateSpec:
    return CandidateSpec(kind=CandidateKind.FEW_SHOT, base_model=model, few_shot_k=k)


def tuned(job: TuningJob, **values: object) -> CandidateSpec:
    return CandidateSpec(kind=CandidateKind.TUNED, tuning_job_id=job.id, **values)  # type: ignore[arg-type]


def emulator_env(port: int) -> dict[str, str]:
    """Environment pointing a worker process at the test emulator."""
    return {
        "TUNEDESK_GEMINI_MODE": "emulator",
        "TUNEDESK_EMULATOR_HOST": "127.0.0.1",
        "TUNEDESK_EMULATOR_PORT": str(port),
        "TUNEDESK_VERTEX_BASE_URL": "",
        "TUNEDESK_STORAGE_BASE_URL": "",
    }
