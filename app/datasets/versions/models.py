"""Dataset versions: immutable snapshots of approved examples, with their training files.

A version records, for every example it froze, the content as it was (so later edits never
change it), the split it was put in, and its line in the exported file (so the service's
"example 17 was truncated" maps back to our example). Rows are written once and never updated,
except the leakage acknowledgement, which is recorded before the version is created.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, CreatedAtMixin


class DatasetVersion(CreatedAtMixin, Base):
    __tablename__ = "dataset_version"
    __table_args__ = (UniqueConstraint("dataset_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"))
    number: Mapped[int]  # 1, 2, 3… per dataset
    kind: Mapped[str] = mapped_column(String(10), default="full")  # full | pilot
    # A pilot is a seeded subset of the examples a full version would take.
    pilot_size: Mapped[int | None]
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    seed: Mapped[int]
    # How splits were assigned: {"train_ratio", "validation_cap", "stratified_by_tag"}.
    split_rule: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # {"train": n, "validation": n, "test": n, "total": n}
    counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    # Per split: {"examples", "tokens", "mean", "p95", "max", "histogram": [[upper, count]…]}.
    token_stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # sha256 over the sorted (example id, content hash) pairs: two versions with the same
    # content_hash contain exactly the same examples.
    content_hash: Mapped[str] = mapped_column(String(64))
    # Per split, the exported Vertex JSONL: {"path", "sha256", "bytes", "lines"}.
    files: Mapped[dict[str, dict[str, Any]]] = mapped_column(JSON, default=dict)
    # Leakage between train and validation/test found at creation, and who accepted it.
    leakage: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class DatasetVersionExample(Base):
    """One example as frozen into a version."""

    __tablename__ = "dataset_version_example"
    __table_args__ = (Index("ix_dataset_version_example_split", "version_id", "split", "position"),)

    version_id: Mapped[int] = mapped_column(
        ForeignKey("dataset_version.id", ondelete="CASCADE"), primary_key=True
    )
    example_id: Mapped[int] = mapped_column(
        ForeignKey("example.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    split: Mapped[str] = mapped_column(String(12))  # train | validation | test
    position: Mapped[int]  # 0-based line in the split's exported file
    revision: Mapped[int]  # the example's revision when frozen
    content_hash: Mapped[str] = mapped_column(String(32))
    # {"system_instruction", "turns", "tag"} as frozen.
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    token_estimate: Mapped[int] = mapped_column(default=0)


class VersionBuildStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class VersionBuild(CreatedAtMixin, Base):
    """A version being created in the background: what was asked, how far it got, and the
    version it made. Freezing 100,000 examples takes seconds to minutes; the page that asked
    follows this row and never waits on the request. The version itself appears whole, in the
    build's last transaction, so nothing else ever sees half a version."""

    __tablename__ = "dataset_version_build"
    __table_args__ = (Index("ix_dataset_version_build_status", "status", "queued_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # {"note", "pilot_size", "rule": SplitRule.as_dict()} and the overlaps the user accepted.
    request: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    acknowledge_leakage: Mapped[bool] = mapped_column(default=False)
    seen_leakage: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12), default=VersionBuildStatus.QUEUED)
    phase: Mapped[str | None] = mapped_column(String(20))  # planning | overlaps | saving
    progress: Mapped[float] = mapped_column(default=0.0)
    version_id: Mapped[int | None] = mapped_column(
        ForeignKey("dataset_version.id", ondelete="SET NULL")
    )
    # Why it failed: {"code": "leakage" | "no_training" | "race" | "internal", "total": n}.
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(default=0)
    queued_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    @property
    def finished(self) -> bool:
        return self.status in (VersionBuildStatus.DONE, VersionBuildStatus.FAILED)
