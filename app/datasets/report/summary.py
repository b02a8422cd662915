"""The report's summary: rows, usable rows, errors, warnings, duplicate groups, conflicts,
personal data and the token statistics with their histogram. Excluded examples count nowhere but
in "excluded".

The part about examples is computed once per dataset-wide check and stored on the dataset
(``store``, in the check's own transaction): at 200,000 examples it costs a few hundred
milliseconds, too much for every view. Every change to examples asks for a new check
(``check_status.request`` bumps the generation), so a stored summary whose generation is the
current one is exact; while a change waits for its check, pages compute it live (``current``),
so a fix still shows at once. Rows that could not be read are counted live: ignoring one asks
for no check. Review decisions change no figure shown here but the counts by status, which are
not stored (the JSON report counts them live).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from app.datasets.models import (
    Dataset,
    DatasetFinding,
    Example,
    ExampleStatus,
    Upload,
    UploadStatus,
)
from app.datasets.quality.labels import PII_CODES
from app.datasets.quality.tokens import DEFAULT_MAX_TOKENS, METHOD, histogram

ACTIVE = Example.status != ExampleStatus.EXCLUDED


@dataclass(slots=True)
class Summary:
    rows: int = 0
    examples: int = 0
    usable: int = 0
    with_errors: int = 0
    with_warnings: int = 0
    excluded: int = 0
    unreadable: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    by_code: dict[str, int] = field(default_factory=dict)
    exact_groups: int = 0
    near_groups: int = 0
    conflict_groups: int = 0
    pii: int = 0
    tokens: dict[str, Any] = field(default_factory=dict)

    @property
    def duplicate_groups(self) -> int:
        return self.exact_groups + self.near_groups


def _status_counts(session: Session, dataset_id: int, summary: Summary) -> None:
    rows = session.execute(
        select(
            Example.status,
            func.count(),
            func.sum(case((Example.error_count > 0, 1), else_=0)),
            func.sum(case((Example.warning_count > 0, 1), else_=0)),
        )
        .where(Example.dataset_id == dataset_id)
        .group_by(Example.status)
    ).all()
    for status, count, errors, warnings in rows:
        summary.by_status[status] = count
        summary.examples += count
        if status == ExampleStatus.EXCLUDED:
            summary.excluded += count
            continue
        summary.usable += count - (errors or 0)
        summary.with_errors += errors or 0
        summary.with_warnings += warnings or 0


def unreadable_filter(dataset_id: int) -> Any:
    """Rows of ready uploads that could not be read, and the user has not dismissed."""
    return and_(
        DatasetFinding.dataset_id == dataset_id,
        DatasetFinding.example_id.is_(None),
        DatasetFinding.row > 0,
        DatasetFinding.dismissed_at.is_(None),
        Upload.status == UploadStatus.READY,
    )


def _example_code_counts(session: Session, dataset_id: int, summary: Summary) -> None:
    for code, count in session.execute(
        select(DatasetFinding.code, func.count())
        .join(Example, Example.id == DatasetFinding.example_id)
        .where(DatasetFinding.dataset_id == dataset_id, ACTIVE)
        .group_by(DatasetFinding.code)
    ).all():
        summary.by_code[code] = count


def _unreadable_counts(session: Session, dataset_id: int, summary: Summary) -> None:
    unreadable = session.execute(
        select(DatasetFinding.code, func.count(func.distinct(DatasetFinding.row)))
        .join(Upload, Upload.id == DatasetFinding.upload_id)
        .where(unreadable_filter(dataset_id))
        .group_by(DatasetFinding.code)
    ).all()
    for code, count in unreadable:
        summary.by_code[code] = summary.by_code.get(code, 0) + count
        summary.unreadable += count
    summary.with_errors += summary.unreadable


def _groups(session: Session, dataset_id: int, code: str) -> int:
    """Groups of examples linked by findings of ``code`` (connected components)."""
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    rows = session.execute(
        select(DatasetFinding.row, DatasetFinding.origin, DatasetFinding.related)
        .join(Example, Example.id == DatasetFinding.example_id)
        .where(DatasetFinding.dataset_id == dataset_id, DatasetFinding.code == code, ACTIVE)
    ).all()
    for row, origin, related in rows:
        node = find(f"{origin}:{row}")
        for other_row, other_origin in related or ():
            other = find(f"{other_origin}:{other_row}")
            if other != node:
                parent[other] = node
    return len({find(node) for node in list(parent)})


def _tokens(session: Session, dataset_id: int) -> dict[str, Any]:
    # One integer per example straight from the driver (no ORM rows): fast enough at 100k.
    result = session.connection().execute(
        select(Example.token_estimate).where(Example.dataset_id == dataset_id, ACTIVE)
    )
    values = np.fromiter((row[0] for row in result), dtype=np.int64)
    stats: dict[str, Any] = {"method": METHOD, "limit": DEFAULT_MAX_TOKENS}
    stats["histogram"] = histogram(values.tolist())
    if not len(values):
        return {**stats, "total": 0, "over_limit": 0}
    return {
        **stats,
        "total": int(values.sum()),
        "mean": round(float(values.mean()), 1),
        "median": int(np.median(values)),
        "p95": int(np.percentile(values, 95)),
        "max": int(values.max()),
        "over_limit": int((values > DEFAULT_MAX_TOKENS).sum()),
    }


def _examples_part(session: Session, dataset_id: int) -> Summary:
    """Everything about the examples (what a check changes): the part that is stored."""
    result = Summary()
    _status_counts(session, dataset_id, result)
    _example_code_counts(session, dataset_id, result)
    result.exact_groups = _groups(session, dataset_id, "exact_duplicate")
    result.near_groups = _groups(session, dataset_id, "near_duplicate")
    result.conflict_groups = _groups(session, dataset_id, "conflict")
    result.tokens = _tokens(session, dataset_id)
    return result


def _add_unreadable(session: Session, dataset_id: int, result: Summary) -> Summary:
    """Rows of imported files that could not be read (live: cheap, and not a check's)."""
    _unreadable_counts(session, dataset_id, result)
    result.rows = result.examples + _all_unreadable(session, dataset_id)
    result.pii = sum(result.by_code.get(code, 0) for code in PII_CODES)
    return result


def summarize(session: Session, dataset: Dataset) -> Summary:
    """The summary computed now from the database."""
    return _add_unreadable(session, dataset.id, _examples_part(session, dataset.id))


def store(session: Session, dataset: Dataset, *, generation: int) -> None:
    """Compute the examples' part and keep it on the dataset as the check of ``generation``
    left it (called by the check, in its transaction, before it releases the dataset)."""
    part = _examples_part(session, dataset.id)
    dataset.summary = _stored(part)
    dataset.summary_generation = generation


def current(session: Session, dataset: Dataset) -> Summary:
    """The summary as pages show it: stored when nothing changed since the last check."""
    if dataset.summary and dataset.summary_generation == dataset.check_requested:
        return _add_unreadable(session, dataset.id, _from_stored(dataset.summary))
    return summarize(session, dataset)


STORED_FIELDS = (
    "examples",
    "usable",
    "with_errors",
    "with_warnings",
    "excluded",
    "by_code",
    "exact_groups",
    "near_groups",
    "conflict_groups",
    "tokens",
)


def _stored(part: Summary) -> dict[str, Any]:
    return {name: getattr(part, name) for name in STORED_FIELDS}


def _from_stored(stored: dict[str, Any]) -> Summary:
    result = Summary()
    for name in STORED_FIELDS:
        if name in stored:
            value = stored[name]
            setattr(result, name, dict(value) if isinstance(value, dict) else value)
    return result


def _all_unreadable(session: Session, dataset_id: int) -> int:
    rows = (
        select(DatasetFinding.upload_id, DatasetFinding.row)
        .join(Upload, Upload.id == DatasetFinding.upload_id)
        .where(
            DatasetFinding.dataset_id == dataset_id,
            DatasetFinding.example_id.is_(None),
            DatasetFinding.row > 0,
            Upload.status == UploadStatus.READY,
        )
        .distinct()
        .subquery()
    )
    return session.scalar(select(func.count()).select_from(rows)) or 0


def histogram_bars(tokens: dict[str, Any]) -> list[dict[str, Any]]:
    """The histogram as bars for the page: label bounds, count and height (% of the largest)."""
    buckets = list(tokens.get("histogram", []))
    while buckets and buckets[-1]["count"] == 0 and len(buckets) > 4:
        buckets.pop()
    largest = max((b["count"] for b in buckets), default=0) or 1
    bars, low = [], 0
    for bucket in buckets:
        high = bucket["max"]
        bars.append(
            {
                "low": low,
                "high": high,
                "count": bucket["count"],
                "height": 100 * bucket["count"] / largest,
            }
        )
        low = (high or low) + 1
    return bars


def counts_by_upload(session: Session, dataset_id: int) -> Counter[int]:
    """Active examples per upload (the uploads list shows what is left of each file)."""
    counts: Counter[int] = Counter()
    for upload_id, count in session.execute(
        select(Example.upload_id, func.count())
        .where(Example.dataset_id == dataset_id, ACTIVE, Example.upload_id.is_not(None))
        .group_by(Example.upload_id)
    ).all():
        counts[int(upload_id or 0)] = count
    return counts


def status_counts(session: Session, dataset_id: int) -> dict[str, int]:
    """Examples per status, now (review decisions change them without a check)."""
    rows = session.execute(
        select(Example.status, func.count())
        .where(Example.dataset_id == dataset_id)
        .group_by(Example.status)
    ).all()
    return {str(status): int(count) for status, count in rows}
