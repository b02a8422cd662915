"""Datasets of a project: create, list with their counts, settings."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.auth import audit
from app.auth.models import User
from app.datasets.checking import check_status
from app.datasets.editing import change_log
from app.datasets.models import Dataset, Example, ExampleStatus, Upload, UploadStatus
from app.errors import NotFound, ValidationFailed
from app.i18n import _, format_number, ngettext
from app.projects.models import Project
from app.projects.overview import Step
from app.projects.service import ProjectContext

THRESHOLD_RANGE = (0.5, 0.99)
IN_PROGRESS = (UploadStatus.QUEUED, UploadStatus.INGESTING)


@dataclass(frozen=True)
class DatasetRow:
    dataset: Dataset
    examples: int
    usable: int
    with_errors: int
    pending: int
    approved: int
    importing: int


def _validate_name(name: str) -> dict[str, str]:
    if not name.strip():
        return {"name": _("Give the dataset a name, such as “Support FAQ”.")}
    if len(name.strip()) > 200:
        return {"name": _("Keep the name under 200 characters.")}
    return {}


def create_dataset(
    session: Session, *, actor: User, project: Project, name: str, description: str = ""
) -> Dataset:
    if errors := _validate_name(name):
        raise ValidationFailed(errors)
    dataset = Dataset(
        project_id=project.id,
        name=name.strip(),
        description=description.strip(),
        column_mapping={},
        created_by_id=actor.id,
    )
    session.add(dataset)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="dataset.create",
        object_type="dataset",
        object_id=dataset.id,
        project_id=project.id,
        summary=dataset.name,
    )
    return dataset


def get_dataset(session: Session, *, project_id: int, dataset_id: int) -> Dataset:
    dataset = session.get(Dataset, dataset_id)
    if dataset is None or dataset.project_id != project_id or dataset.archived_at is not None:
        raise NotFound(_("This dataset does not exist in this project."))
    return dataset


def get_upload(session: Session, *, dataset: Dataset, upload_id: int) -> Upload:
    upload = session.get(Upload, upload_id)
    if upload is None or upload.dataset_id != dataset.id:
        raise NotFound(_("This file does not exist in this dataset."))
    return upload


def uploads_of(session: Session, *, dataset_id: int) -> list[Upload]:
    return list(
        session.scalars(
            select(Upload)
            .where(Upload.dataset_id == dataset_id, Upload.status != UploadStatus.DISCARDED)
            .order_by(Upload.id)
        )
    )


def list_datasets(session: Session, *, project_id: int) -> list[DatasetRow]:
    """The project's datasets with their counts (one grouped query each for examples and
    uploads in progress)."""
    datasets = list(
        session.scalars(
            select(Dataset)
            .where(Dataset.project_id == project_id, Dataset.archived_at.is_(None))
            .order_by(Dataset.id)
        )
    )
    active = Example.status != ExampleStatus.EXCLUDED
    counts = {
        row[0]: row[1:]
        for row in session.execute(
            select(
                Example.dataset_id,
                func.sum(case((active, 1), else_=0)),
                func.sum(case((active & (Example.error_count == 0), 1), else_=0)),
                func.sum(case((active & (Example.error_count > 0), 1), else_=0)),
                func.sum(case((Example.status == ExampleStatus.PENDING, 1), else_=0)),
                func.sum(case((Example.status == ExampleStatus.APPROVED, 1), else_=0)),
            )
            .where(Example.project_id == project_id)
            .group_by(Example.dataset_id)
        ).all()
    }
    importing = dict(
        session.execute(
            select(Upload.dataset_id, func.count())
            .join(Dataset, Dataset.id == Upload.dataset_id)
            .where(Dataset.project_id == project_id, Upload.status.in_(IN_PROGRESS))
            .group_by(Upload.dataset_id)
        ).all()
    )
    rows = []
    for dataset in datasets:
        examples, usable, errors, pending, approved = (
            int(v or 0) for v in counts.get(dataset.id, (0, 0, 0, 0, 0))
        )
        rows.append(
            DatasetRow(
                dataset, examples, usable, errors, pending, approved, importing.get(dataset.id, 0)
            )
        )
    return rows


def project_example_count(session: Session, *, project_id: int) -> int:
    """Examples of a project that are not excluded (the overview's checklist)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Example)
            .where(Example.project_id == project_id, Example.status != ExampleStatus.EXCLUDED)
        )
        or 0
    )


def update_settings(
    session: Session,
    *,
    actor: User,
    dataset: Dataset,
    name: str,
    description: str,
    threshold: str,
) -> Dataset:
    """Rename the dataset or change the near-duplicate similarity (which re-checks it)."""
    errors = _validate_name(name)
    try:
        value = round(float(threshold.replace(",", ".")), 2)
    except ValueError:
        value = -1.0
    low, high = THRESHOLD_RANGE
    if not low <= value <= high:
        errors["threshold"] = _("Enter a similarity from %(low)s to %(high)s.") % {
            "low": format_number(low, decimals=2),
            "high": format_number(high, decimals=2),
        }
    if errors:
        raise ValidationFailed(errors)
    before = {
        "name": dataset.name,
        "description": dataset.description,
        "threshold": dataset.near_duplicate_threshold,
    }
    dataset.name, dataset.description = name.strip(), description.strip()
    dataset.near_duplicate_threshold = value
    after = {"name": dataset.name, "description": dataset.description, "threshold": value}
    if before == after:
        return dataset
    if before["threshold"] != value:
        check_status.request(session, dataset_id=dataset.id)
    change_log.record(
        session, dataset=dataset, actor=actor, action="settings", before=before, after=after
    )
    audit.record(
        session,
        actor=actor,
        action="dataset.update",
        object_type="dataset",
        object_id=dataset.id,
        project_id=dataset.project_id,
        summary=dataset.name,
        details={k: [before[k], after[k]] for k in before if before[k] != after[k]},
    )
    return dataset


def upload_step(session: Session, ctx: ProjectContext) -> Step:
    """The overview checklist's "Upload examples" step."""
    count = project_example_count(session, project_id=ctx.project.id)
    hint = (
        ngettext("%(count)s example so far.", "%(count)s examples so far.", count)
        % {"count": format_number(count)}
        if count
        else _("A CSV, Excel or JSONL file of questions and ideal answers.")
    )
    return Step(_("Upload examples"), hint, count > 0, f"/projects/{ctx.project.id}/datasets")
