"""Reading versions for pages, downloads and the API (listing, one version, its examples)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.datasets.models import Dataset, Example, ExampleStatus
from app.datasets.versions.models import DatasetVersion, DatasetVersionExample
from app.datasets.versions.splits import TEST, TRAIN, VALIDATION
from app.errors import NotFound
from app.i18n import _

SPLIT_ORDER = (TRAIN, VALIDATION, TEST)
EXAMPLES_PAGE = 50


@dataclass(frozen=True)
class VersionRow:
    version: DatasetVersion
    dataset: str
    created_by: str


def list_versions(
    session: Session, *, project_id: int, dataset_id: int | None = None
) -> list[VersionRow]:
    query = (
        select(DatasetVersion, Dataset.name, func.coalesce(User.name, ""))
        .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
        .outerjoin(User, User.id == DatasetVersion.created_by_id)
        .where(DatasetVersion.project_id == project_id)
        .order_by(DatasetVersion.id.desc())
    )
    if dataset_id is not None:
        query = query.where(DatasetVersion.dataset_id == dataset_id)
    return [VersionRow(v, d, u) for v, d, u in session.execute(query).all()]


def get_version(session: Session, *, project_id: int, version_id: int) -> DatasetVersion:
    version = session.get(DatasetVersion, version_id)
    if version is None or version.project_id != project_id:
        raise NotFound(_("This dataset version does not exist in this project."))
    return version


def version_row(session: Session, version: DatasetVersion) -> VersionRow:
    dataset = session.get(Dataset, version.dataset_id)
    creator = session.get(User, version.created_by_id) if version.created_by_id else None
    return VersionRow(version, dataset.name if dataset else "", creator.name if creator else "")


@dataclass(frozen=True)
class DatasetChoice:
    dataset: Dataset
    approved: int
    by_split: dict[str, int]  # approved examples carrying each split (None: "unassigned")


def dataset_choices(session: Session, *, project_id: int) -> list[DatasetChoice]:
    """The project's datasets with how many approved examples each could freeze."""
    datasets = list(
        session.scalars(
            select(Dataset)
            .where(Dataset.project_id == project_id, Dataset.archived_at.is_(None))
            .order_by(Dataset.id)
        )
    )
    rows = session.execute(
        select(Example.dataset_id, Example.split, func.count())
        .where(Example.project_id == project_id, Example.status == ExampleStatus.APPROVED)
        .group_by(Example.dataset_id, Example.split)
    ).all()
    by_dataset: dict[int, dict[str, int]] = {}
    for dataset_id, split, count in rows:
        by_dataset.setdefault(dataset_id, {})[split or "unassigned"] = count
    return [
        DatasetChoice(d, sum(by_dataset.get(d.id, {}).values()), by_dataset.get(d.id, {}))
        for d in datasets
    ]


@dataclass(frozen=True)
class ExamplesPage:
    rows: list[DatasetVersionExample]
    split: str
    page: int
    pages: int
    total: int


def examples_page(
    session: Session, *, version: DatasetVersion, split: str, page: int = 1
) -> ExamplesPage:
    """One page of a split, in file order (positions make this an index range, not an offset)."""
    split = split if split in SPLIT_ORDER else TRAIN
    total = int(version.counts.get(split, 0))
    pages = max(1, -(-total // EXAMPLES_PAGE))
    page = min(max(1, page), pages)
    start = (page - 1) * EXAMPLES_PAGE
    rows = list(
        session.scalars(
            select(DatasetVersionExample)
            .where(
                DatasetVersionExample.version_id == version.id,
                DatasetVersionExample.split == split,
                DatasetVersionExample.position >= start,
                DatasetVersionExample.position < start + EXAMPLES_PAGE,
            )
            .order_by(DatasetVersionExample.position)
        )
    )
    return ExamplesPage(rows, split, page, pages, total)


def stream_rows(
    session: Session, *, version_id: int, splits: tuple[str, ...] = SPLIT_ORDER
) -> Iterator[tuple[int, str, dict[str, Any]]]:
    """(example id, split, frozen content) in file order, read in chunks."""
    for split in splits:
        query = (
            select(
                DatasetVersionExample.example_id,
                DatasetVersionExample.split,
                DatasetVersionExample.content,
            )
            .where(
                DatasetVersionExample.version_id == version_id,
                DatasetVersionExample.split == split,
            )
            .order_by(DatasetVersionExample.position)
            .execution_options(yield_per=1000)
        )
        yield from session.execute(query)


def histogram_rows(version: DatasetVersion) -> list[tuple[int, int, int, int]]:
    """(upper bound, train, validation, test) per length bucket, up to the last non-empty one."""
    columns = []
    for split in SPLIT_ORDER:
        histogram = version.token_stats.get(split, {}).get("histogram") or []
        columns.append({int(bound): int(count) for bound, count in histogram})
    bounds = sorted({bound for column in columns for bound in column})
    rows = [(b, columns[0].get(b, 0), columns[1].get(b, 0), columns[2].get(b, 0)) for b in bounds]
    while rows and not any(rows[-1][1:]):
        rows.pop()
    return rows
