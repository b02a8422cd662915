"""Creating dataset versions: freeze the approved examples, split them, write the files.

The test split is protected here, in the service, whatever the caller (page, API, pilot): an
example marked ``test`` is frozen into the ``test`` file only, and ``training_files`` never
contains it. Leakage between training and validation/test is checked here too: a version with
overlaps is only created when the caller acknowledges exactly the list that was found.
"""

from __future__ import annotations

import hashlib
import math
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth import audit
from app.auth.models import User
from app.config import get_settings
from app.datasets.models import Dataset, Example, ExampleStatus
from app.datasets.versions import leakage
from app.datasets.versions.export import vertex_line, write_jsonl
from app.datasets.versions.models import DatasetVersion, DatasetVersionExample
from app.datasets.versions.splits import (
    TEST,
    TRAIN,
    VALIDATION,
    SplitCandidate,
    SplitRule,
    assign_splits,
    pilot_subset,
)
from app.db import utcnow
from app.errors import Conflict, NotFound
from app.i18n import N_, _

AUDIT_ACTIONS = {
    "dataset_version.create": N_("Created dataset version"),
    "dataset_version.acknowledge_leakage": N_("Accepted overlaps between splits"),
}

SPLITS = (TRAIN, VALIDATION, TEST)
# Upper bounds (tokens) of the length histogram shown on version pages.
HISTOGRAM_BOUNDS = (64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072)


@dataclass(frozen=True)
class VersionRequest:
    note: str = ""
    pilot_size: int | None = None  # a pilot version: a seeded subset of this many examples
    rule: SplitRule = field(default_factory=SplitRule)


def approved_examples(session: Session, *, dataset_id: int) -> list[Example]:
    return list(
        session.scalars(
            select(Example)
            .where(Example.dataset_id == dataset_id, Example.status == ExampleStatus.APPROVED)
            .order_by(Example.id)
        )
    )


def _token_stats(tokens: Sequence[int]) -> dict[str, Any]:
    if not tokens:
        return {"examples": 0, "tokens": 0, "mean": 0, "p95": 0, "max": 0, "histogram": []}
    ordered = sorted(tokens)
    histogram = [[bound, 0] for bound in HISTOGRAM_BOUNDS]
    for value in ordered:
        for bucket in histogram:
            if value <= bucket[0]:
                bucket[1] += 1
                break
        else:
            histogram[-1][1] += 1
    return {
        "examples": len(ordered),
        "tokens": sum(ordered),
        "mean": round(sum(ordered) / len(ordered), 1),
        "p95": ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)],
        "max": ordered[-1],
        "histogram": histogram,
    }


def _content_hash(frozen: Sequence[tuple[int, str]]) -> str:
    digest = hashlib.sha256()
    for example_id, content_hash in sorted(frozen):
        digest.update(f"{example_id}:{content_hash}\n".encode())
    return digest.hexdigest()


def _choose(examples: Sequence[Example], request: VersionRequest) -> dict[int, str]:
    candidates = [SplitCandidate(e.id, e.split, e.tag) for e in examples]
    if request.pilot_size is not None:
        # A pilot keeps the whole golden test set (so it is evaluated like a full version) and
        # a seeded subset of the rest.
        tests = [c for c in candidates if c.split == TEST]
        candidates = pilot_subset(candidates, request.pilot_size, request.rule.seed) + tests
    return assign_splits(candidates, request.rule)


class LeakageFound(Conflict):
    """The planned version has overlaps between training and validation/test that nobody
    accepted yet (or the list changed since it was accepted)."""

    def __init__(self, message: str, report: leakage.LeakageReport) -> None:
        super().__init__(message)
        self.report = report


@dataclass
class Plan:
    """What a version would freeze: the examples and the split of each."""

    dataset: Dataset
    request: VersionRequest
    examples: list[Example]
    splits: dict[int, str]

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(SPLITS, 0)
        for split in self.splits.values():
            counts[split] += 1
        counts["total"] = len(self.splits)
        return counts


def plan_version(session: Session, *, dataset: Dataset, request: VersionRequest) -> Plan:
    """Choose and split the examples a version would freeze now (deterministic for a seed)."""
    if request.pilot_size is not None and request.pilot_size < 1:
        raise Conflict(_("A pilot needs at least one example."))
    examples = approved_examples(session, dataset_id=dataset.id)
    splits = _choose(examples, request)
    return Plan(dataset, request, [e for e in examples if e.id in splits], splits)


def check_leakage(session: Session, *, plan: Plan) -> leakage.LeakageReport:
    """Overlaps between the planned training split and validation/test (see ``leakage``)."""
    former = leakage.former_test_ids(
        session,
        dataset_id=plan.dataset.id,
        example_ids=[i for i, split in plan.splits.items() if split == TRAIN],
    )
    return leakage.check(plan.examples, plan.splits, former)


def create_version(
    session: Session,
    *,
    actor: User,
    dataset: Dataset,
    request: VersionRequest,
    acknowledge_leakage: bool = False,
    seen_leakage: str | None = None,
) -> DatasetVersion:
    """Freeze the dataset's approved examples into a new immutable version with its files.

    Overlaps between training and validation/test block the version unless
    ``acknowledge_leakage``; ``seen_leakage`` (the fingerprint of the list the user was shown)
    makes sure the acceptance covers exactly what is found now.
    """
    plan = plan_version(session, dataset=dataset, request=request)
    if not any(split == TRAIN for split in plan.splits.values()):
        raise Conflict(
            _(
                "There are no approved training examples yet. Approve examples in the "
                "review queue, then create the version."
            )
        )
    report = check_leakage(session, plan=plan)
    _gate(report, acknowledge_leakage, seen_leakage)
    version = _new_version(session, actor, dataset, request, report)
    _freeze(session, version, plan.examples, plan.splits)
    audit.record(
        session,
        actor=actor,
        action="dataset_version.create",
        object_type="dataset_version",
        object_id=version.id,
        project_id=dataset.project_id,
        summary=f"{dataset.name} v{version.number}",
        details={"counts": version.counts, "kind": version.kind},
    )
    if report.pairs:
        audit.record(
            session,
            actor=actor,
            action="dataset_version.acknowledge_leakage",
            object_type="dataset_version",
            object_id=version.id,
            project_id=dataset.project_id,
            summary=f"{dataset.name} v{version.number}: {report.total}",
            details={"by_kind": report.by_kind(), "fingerprint": report.fingerprint},
        )
    return version


def _gate(report: leakage.LeakageReport, acknowledged: bool, seen: str | None) -> None:
    if not report.pairs:
        return
    if seen is not None and seen != report.fingerprint:
        raise LeakageFound(
            _(
                "The overlaps between the splits changed since you checked them (examples were "
                "approved or edited meanwhile). Review the new list, then create the version."
            ),
            report,
        )
    if not acknowledged:
        raise LeakageFound(
            _(
                "%(n)s training examples overlap with validation or test examples. Fix them, or "
                "accept the overlaps explicitly, then create the version."
            )
            % {"n": report.total},
            report,
        )


def _new_version(
    session: Session,
    actor: User,
    dataset: Dataset,
    request: VersionRequest,
    report: leakage.LeakageReport,
) -> DatasetVersion:
    number = (
        session.scalar(
            select(func.max(DatasetVersion.number)).where(DatasetVersion.dataset_id == dataset.id)
        )
        or 0
    ) + 1
    version = DatasetVersion(
        project_id=dataset.project_id,
        dataset_id=dataset.id,
        number=number,
        kind="pilot" if request.pilot_size is not None else "full",
        pilot_size=request.pilot_size,
        note=request.note.strip(),
        created_by_id=actor.id,
        seed=request.rule.seed,
        split_rule=request.rule.as_dict(),
        counts={},
        content_hash="",
        leakage=report.record(acknowledged_by=actor.id, at=utcnow()) if report.pairs else {},
    )
    session.add(version)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(
            _("Someone created a version of this dataset at the same moment. Try again.")
        ) from None
    return version


def _freeze(
    session: Session, version: DatasetVersion, examples: Sequence[Example], splits: dict[int, str]
) -> None:
    """Snapshot each example, write one file per split, and record counts, hashes and stats."""
    by_split: dict[str, list[Example]] = {split: [] for split in SPLITS}
    for example in examples:
        split = splits[example.id]
        if example.split == TEST and split != TEST:
            # Unreachable through assign_splits; kept so no future caller can train on the
            # golden set.
            raise Conflict(_("A test example can never be used for training."))
        by_split[split].append(example)
    folder = version_folder(version)
    shutil.rmtree(folder, ignore_errors=True)  # a rolled-back attempt may have left files
    files: dict[str, dict[str, Any]] = {}
    stats: dict[str, Any] = {}
    for split, members in by_split.items():
        for position, example in enumerate(members):
            session.add(
                DatasetVersionExample(
                    version_id=version.id,
                    example_id=example.id,
                    split=split,
                    position=position,
                    revision=example.revision,
                    content_hash=example.content_hash,
                    token_estimate=example.token_estimate,
                    content={
                        "system_instruction": example.system_instruction,
                        "turns": example.turns,
                        "tag": example.tag,
                    },
                )
            )
        if members:
            written = write_jsonl(
                folder / f"{split}.jsonl",
                (vertex_line(e.system_instruction, e.turns) for e in members),
            )
            files[split] = written.as_dict(get_settings().var_dir)
        stats[split] = _token_stats([e.token_estimate for e in members])
    version.files = files
    version.token_stats = stats
    version.counts = {split: len(members) for split, members in by_split.items()}
    version.counts["total"] = len(examples)
    version.content_hash = _content_hash([(e.id, e.content_hash) for e in examples])


def version_folder(version: DatasetVersion) -> Path:
    return get_settings().var_dir / "versions" / str(version.id)


def file_path(version: DatasetVersion, split: str) -> Path:
    """The exported Vertex JSONL of one split (train and validation are what tuning uploads)."""
    info = version.files.get(split)
    if info is None:
        raise NotFound(_("This version has no %(split)s examples.") % {"split": split})
    return get_settings().var_dir / info["path"]


def training_files(version: DatasetVersion) -> dict[str, Path]:
    """The files a tuning job may upload: train and (if any) validation — never test."""
    return {
        split: file_path(version, split) for split in (TRAIN, VALIDATION) if split in version.files
    }


def frozen_examples(
    session: Session, *, version_id: int, split: str | None = None
) -> list[DatasetVersionExample]:
    """The examples of a version in file order (optionally one split)."""
    query = select(DatasetVersionExample).where(DatasetVersionExample.version_id == version_id)
    if split is not None:
        query = query.where(DatasetVersionExample.split == split)
    return list(
        session.scalars(query.order_by(DatasetVersionExample.split, DatasetVersionExample.position))
    )
