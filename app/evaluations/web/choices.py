"""What the new-evaluation form can offer: base models, tuned jobs with endpoints and their
checkpoints, versions with a test split, the project's system instruction, the judge models."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.datasets.models import Dataset
from app.datasets.versions.models import DatasetVersion
from app.evaluations.models import GoldenSet
from app.evaluations.schemas import MAX_FEW_SHOT
from app.projects.models import Project
from app.tuning import catalog
from app.tuning.catalog import ModelSpec
from app.tuning.models import JobState, TuningJob


@dataclass(frozen=True)
class CheckpointChoice:
    checkpoint_id: str
    epoch: int | None
    step: int | None


@dataclass(frozen=True)
class TunedChoice:
    job_id: int
    display_name: str
    base_model: str
    endpoint: str
    dataset_version_id: int
    checkpoints: list[CheckpointChoice]
    served_checkpoint: str | None = None  # chosen by a manager; None: Vertex's default (last)
    retired: bool = False  # its base model was retired by Google


@dataclass(frozen=True)
class VersionChoice:
    version_id: int
    label: str  # "Support FAQ v3"
    test_examples: int
    train_examples: int
    golden: bool  # the project's golden set


@dataclass(frozen=True)
class CandidateChoices:
    base_models: list[ModelSpec]
    tuned_jobs: list[TunedChoice]
    versions: list[VersionChoice]
    system_instruction: str | None
    default_judge_model: str
    max_few_shot: int = MAX_FEW_SHOT
    golden_version_id: int | None = None
    judge_models: list[ModelSpec] = field(default_factory=list)


def _tuned_choices(session: Session, project_id: int) -> list[TunedChoice]:
    """Finished jobs; ``endpoint`` is the job's, which serves the checkpoint a manager chose,
    so a new evaluation asks the served checkpoint by default."""
    current = catalog.current(session)
    jobs = session.scalars(
        select(TuningJob)
        .where(
            TuningJob.project_id == project_id,
            TuningJob.state == JobState.SUCCEEDED,
            TuningJob.tuned_endpoint.is_not(None),
        )
        .order_by(TuningJob.created_at.desc(), TuningJob.id.desc())
        .limit(200)
    )
    return [
        TunedChoice(
            job_id=job.id,
            display_name=job.display_name,
            base_model=job.base_model,
            endpoint=job.tuned_endpoint or "",
            dataset_version_id=job.dataset_version_id,
            checkpoints=[
                CheckpointChoice(str(c["checkpoint_id"]), c.get("epoch"), c.get("step"))
                for c in job.checkpoints
                if c.get("endpoint") and c.get("checkpoint_id") is not None
            ],
            served_checkpoint=job.default_checkpoint_id,
            retired=bool((spec := current.get(job.base_model)) and spec.retired()),
        )
        for job in jobs
    ]


def candidate_choices(session: Session, *, project: Project) -> CandidateChoices:
    """Everything the new-evaluation form offers."""
    current = catalog.current(session)
    models = current.choices()  # retired models cannot answer any more
    golden = session.get(GoldenSet, project.id)
    rows = session.execute(
        select(DatasetVersion, Dataset.name)
        .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
        .where(DatasetVersion.project_id == project.id)
        .order_by(DatasetVersion.id.desc())
        .limit(200)
    ).all()
    versions = [
        VersionChoice(
            version_id=version.id,
            label=f"{name} v{version.number}",
            test_examples=int((version.counts or {}).get("test", 0)),
            train_examples=int((version.counts or {}).get("train", 0)),
            golden=golden is not None and golden.version_id == version.id,
        )
        for version, name in rows
        if (version.counts or {}).get("test", 0)
    ]
    return CandidateChoices(
        base_models=models,
        tuned_jobs=_tuned_choices(session, project.id),
        versions=versions,
        system_instruction=project.system_instruction.strip() or None,
        default_judge_model=current.default_model,
        golden_version_id=golden.version_id if golden else None,
        judge_models=models,
    )
