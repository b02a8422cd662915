"""Datasets, the uploads that fill them, and examples (the unit that gets reviewed and trained).

An example is a system instruction plus alternating turns ``[{"role": "user"|"model",
"text": …}]``. Its life: ``draft`` (in the intake report, e.g. while it has errors) → ``pending``
(in the review queue) → ``approved`` or ``rejected`` (returned to its author, who edits and
resubmits). ``excluded`` rows stay for the record but never reach review or training.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, CreatedAtMixin, utcnow


class ExampleStatus(StrEnum):
    DRAFT = "draft"
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXCLUDED = "excluded"


class Split(StrEnum):
    TRAIN = "train"
    VALIDATION = "validation"
    TEST = "test"


class Origin(StrEnum):
    UPLOAD = "upload"
    MANUAL = "manual"
    EVALUATION = "evaluation"


class UploadStatus(StrEnum):
    RECEIVED = "received"  # file stored, waiting for the user to confirm the column mapping
    QUEUED = "queued"  # mapping confirmed, ingestion task sent
    INGESTING = "ingesting"  # a worker claimed it (progress moves)
    READY = "ready"  # examples created and checked
    FAILED = "failed"  # nothing ingested; ``error`` says why
    DISCARDED = "discarded"  # the user dropped it before confirming the mapping


class CheckStatus(StrEnum):
    """The dataset-wide check (duplicates, near duplicates, conflicts) after a change."""

    CURRENT = "current"  # findings reflect every example
    PENDING = "pending"  # something changed; a recheck task was sent
    RUNNING = "running"  # a worker is rechecking


class Dataset(CreatedAtMixin, Base):
    __tablename__ = "dataset"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # The column mapping the user last confirmed, offered again for the next upload.
    column_mapping: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    archived_at: Mapped[datetime | None]
    # The sample of app/datasets/samples it was loaded from, if any.
    sample_id: Mapped[str | None] = mapped_column(String(60))
    # Jaccard similarity from which two examples count as near duplicates (configurable).
    near_duplicate_threshold: Mapped[float] = mapped_column(default=0.8)
    # The dataset-wide check: every change bumps ``check_requested``; a run that started at
    # generation g records ``check_done = g``. Pending while done < requested.
    check_status: Mapped[str] = mapped_column(String(12), default=CheckStatus.CURRENT)
    check_requested: Mapped[int] = mapped_column(default=0)
    check_done: Mapped[int] = mapped_column(default=0)
    check_started_at: Mapped[datetime | None]
    checked_at: Mapped[datetime | None]
    # The report's summary as the check of generation ``summary_generation`` left it (see
    # ``app.datasets.report.summary``): pages show it while nothing changed since.
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    summary_generation: Mapped[int] = mapped_column(default=-1)


class Upload(CreatedAtMixin, Base):
    __tablename__ = "upload"

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("dataset.id", ondelete="CASCADE"), index=True
    )
    file_name: Mapped[str] = mapped_column(String(255))
    format: Mapped[str] = mapped_column(String(10))  # csv | tsv | xlsx | jsonl
    encoding: Mapped[str | None] = mapped_column(String(40))
    sheet: Mapped[str | None] = mapped_column(String(120))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    stored_path: Mapped[str] = mapped_column(String(500))
    mapping: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(12), default=UploadStatus.RECEIVED, index=True)
    # The split of every example of this file (a held-out test file), or None: per row.
    split: Mapped[str | None] = mapped_column(String(12))
    # What the mapping step shows (format, sheets, header, preview, guess), cached at upload so
    # the page never re-reads a large file; emptied once the upload is ingested.
    inspection: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Ingestion progress: phase reading | checking | saving, fraction 0..1, last sign of life.
    phase: Mapped[str | None] = mapped_column(String(12))
    progress: Mapped[float] = mapped_column(default=0.0)
    queued_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    rows_total: Mapped[int | None]
    rows_done: Mapped[int] = mapped_column(default=0)
    # rows_read, usable, errors, warnings… as computed by the checker.
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Why it failed, as a finding code + parameters (translated when shown).
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class Example(CreatedAtMixin, Base):
    __tablename__ = "example"
    __table_args__ = (
        Index("ix_example_project_status", "project_id", "status", "id"),
        Index("ix_example_dataset_status", "dataset_id", "status"),
        Index("ix_example_content_hash", "dataset_id", "content_hash"),
        Index("ix_example_prompt_hash", "dataset_id", "prompt_hash"),
        Index("ix_example_upload_row", "upload_id", "source_row"),
        # The intake report: rows in file order with their problem counts, and the summary's
        # counts and token statistics, read from the indexes alone (no JSON columns touched).
        Index(
            "ix_example_dataset_order",
            "dataset_id",
            "upload_id",
            "source_row",
            "id",
            "status",
            "error_count",
            "warning_count",
        ),
        Index(
            "ix_example_dataset_stats",
            "dataset_id",
            "status",
            "error_count",
            "warning_count",
            "token_estimate",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Denormalised from the dataset: the review queue lists a project's examples directly.
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"))
    upload_id: Mapped[int | None] = mapped_column(ForeignKey("upload.id", ondelete="SET NULL"))
    source_row: Mapped[int | None]  # the row the user sees in their file (header = row 1)
    origin: Mapped[str] = mapped_column(String(12), default=Origin.UPLOAD)
    origin_ref: Mapped[str | None] = mapped_column(String(100))  # e.g. the evaluation item id
    system_instruction: Mapped[str] = mapped_column(Text, default="")
    turns: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    tag: Mapped[str | None] = mapped_column(String(100), index=True)
    split: Mapped[str | None] = mapped_column(String(12))  # None: assigned when versioning
    status: Mapped[str] = mapped_column(String(12), default=ExampleStatus.DRAFT)
    # Comparison-key hashes (NFKC, casefold, collapsed whitespace) of the whole example and of
    # its prompt alone: exact duplicates and conflicts are SQL equalities on these.
    content_hash: Mapped[str] = mapped_column(String(32), default="")
    prompt_hash: Mapped[str] = mapped_column(String(32), default="")
    token_estimate: Mapped[int] = mapped_column(default=0)
    # Findings of the last check: [{code, severity, column, params, related, span}].
    issues: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    error_count: Mapped[int] = mapped_column(default=0)
    warning_count: Mapped[int] = mapped_column(default=0)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    # Bumped on every edit; reviews and versions record which revision they saw.
    revision: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None]  # entered the review queue
    decided_at: Mapped[datetime | None]  # last approval or rejection

    def prompt_text(self) -> str:
        """The user turns joined: what the model is asked."""
        return "\n".join(t["text"] for t in self.turns if t.get("role") == "user")

    def answer_text(self) -> str:
        """The model turns joined: what the model should learn to answer."""
        return "\n".join(t["text"] for t in self.turns if t.get("role") == "model")


class ExampleRevision(CreatedAtMixin, Base):
    """One change to an example: who, when, why, and its content before and after.

    Written by every edit (inline fixes in the intake report, redaction, reviewer edits, an
    author's resubmission), so an example's full history can be shown as diffs.
    """

    __tablename__ = "example_revision"
    __table_args__ = (UniqueConstraint("example_id", "revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    example_id: Mapped[int] = mapped_column(ForeignKey("example.id", ondelete="CASCADE"))
    revision: Mapped[int]  # the example's revision number after this change
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # edit | redact | resolve_conflict | review_edit | resubmit | split_change …
    kind: Mapped[str] = mapped_column(String(30))
    note: Mapped[str] = mapped_column(Text, default="")
    # {"system_instruction", "turns", "tag", "split"} before and after the change.
    before: Mapped[dict[str, Any]] = mapped_column(JSON)
    after: Mapped[dict[str, Any]] = mapped_column(JSON)


class DatasetFinding(CreatedAtMixin, Base):
    """One finding, indexed for the report's filters and counts.

    For an example it mirrors one entry of ``Example.issues`` (kept in step by
    :mod:`app.datasets.checking.finding_index`); without an example it is about a row that could not
    be read (``row`` > 0, e.g. invalid JSON) or about a whole file (``row`` 0).
    """

    __tablename__ = "dataset_finding"
    __table_args__ = (
        Index("ix_dataset_finding_code", "dataset_id", "code"),
        Index("ix_dataset_finding_severity", "dataset_id", "severity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"))
    upload_id: Mapped[int | None] = mapped_column(
        ForeignKey("upload.id", ondelete="CASCADE"), index=True
    )
    example_id: Mapped[int | None] = mapped_column(
        ForeignKey("example.id", ondelete="CASCADE"), index=True
    )
    row: Mapped[int] = mapped_column(default=0)
    origin: Mapped[str] = mapped_column(String(24), default="")  # the row's reference (u12, e7)
    code: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(10))
    column: Mapped[str | None] = mapped_column(String(255))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    related: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [[row, origin], …]
    span: Mapped[list[Any] | None] = mapped_column(JSON)
    # An unreadable row the user chose to ignore (recorded in the change log).
    dismissed_at: Mapped[datetime | None]


class DatasetChange(CreatedAtMixin, Base):
    """The change log of a dataset: every intake action, who did it, when, before and after.

    Content edits also write an ``ExampleRevision`` (the example's own history); this log adds
    what is not content (excluding, including, ignoring an unreadable row, bulk actions) and
    shows the dataset's whole story in one place. Rows of one bulk action share ``batch``.
    """

    __tablename__ = "dataset_change"
    __table_args__ = (Index("ix_dataset_change_dataset", "dataset_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"))
    example_id: Mapped[int | None] = mapped_column(
        ForeignKey("example.id", ondelete="SET NULL"), index=True
    )
    upload_id: Mapped[int | None] = mapped_column(ForeignKey("upload.id", ondelete="SET NULL"))
    row: Mapped[int | None]  # the row in the user's file, when there is one
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # edit | redact | resolve_conflict | exclude | include | keep_one | dismiss_row | upload …
    action: Mapped[str] = mapped_column(String(30))
    batch: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")
    before: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    after: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
