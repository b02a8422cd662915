"""Tuning jobs: one row per supervised tuning run of a dataset version on Vertex AI.

``state`` is TuneDesk's own state machine (what people see and what tasks compare-and-set on);
``remote_state`` is the last state Vertex reported. The run log (``JobEvent``) is append-only;
``MetricPoint`` holds the per-step training curves. ``TuningBudget`` holds a project's money
guardrails and ``CatalogOverride`` an administrator's edited model catalog.

Claims (compare-and-set columns, so two workers never do the same work):
- ``launch_claimed_by``/``launch_claimed_until``: the worker creating the remote job (host:pid)
  and until when its claim holds; a claim whose holder died on this host, or that expired, may
  be taken over, and the taker looks the remote job up by ``remote_label`` before creating one.
  On a QUEUED row backing off after a failed attempt, ``launch_claimed_until`` is the earliest
  retry (the sweeper waits for it too).
- ``poll_generation``/``poll_claimed_until``: beat claims a job for one poll; the poll task
  carries the generation it was sent with and gives up if the job was claimed again since.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, CreatedAtMixin


class JobState(StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"  # over budget or threshold: a manager must approve
    QUEUED = "queued"  # launch task sent
    LAUNCHING = "launching"  # a worker is uploading files and creating the remote job
    PENDING = "pending"  # created on Vertex, not started
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLING = "cancelling"
    CANCELLED = "cancelled"


TERMINAL_STATES = frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED})


ACTIVE_STATES = frozenset(
    {JobState.QUEUED, JobState.LAUNCHING, JobState.PENDING, JobState.RUNNING, JobState.CANCELLING}
)
# States whose remote job exists and moves on its own: beat polls them.
POLLED_STATES = (JobState.PENDING, JobState.RUNNING, JobState.CANCELLING)


class TuningJob(CreatedAtMixin, Base):
    __tablename__ = "tuning_job"
    __table_args__ = (
        Index("ix_tuning_job_state_polled", "state", "last_polled_at"),
        Index("ix_tuning_job_project_created", "project_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    dataset_version_id: Mapped[int] = mapped_column(
        ForeignKey("dataset_version.id", ondelete="RESTRICT"), index=True
    )
    base_model: Mapped[str] = mapped_column(String(100))
    display_name: Mapped[str] = mapped_column(String(128))
    # What was chosen ({"epochs", "learning_rate_multiplier", "adapter_size"}; None = service
    # default) next to what was recommended and why.
    hyperparameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    recommendation: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # {"billable_tokens", "cost", "currency", "price_per_million", "duration_minutes"}
    cost_estimate: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(20), default=JobState.QUEUED)
    sub_state: Mapped[str | None] = mapped_column(String(40))
    remote_name: Mapped[str | None] = mapped_column(String(300), unique=True)
    remote_state: Mapped[str | None] = mapped_column(String(40))
    completed_steps: Mapped[int | None]
    total_steps: Mapped[int | None]
    completed_epochs: Mapped[int | None]
    # Vertex's tuningDataStats, with truncated/dropped examples mapped to our example ids.
    data_stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    billable_tokens: Mapped[int | None] = mapped_column(BigInteger)
    tuned_model_name: Mapped[str | None] = mapped_column(String(300))
    tuned_endpoint: Mapped[str | None] = mapped_column(String(300))
    # [{"checkpoint_id", "epoch", "step", "endpoint"}]
    checkpoints: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # {"code", "message" (raw), "user_message_key"/params…}: translated when shown.
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    launched_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    queued_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    last_polled_at: Mapped[datetime | None]
    updated_at: Mapped[datetime | None]
    # Labels the remote job (``tunedesk_job``): unique forever, so a look-up after a crash can
    # never find another row's job (ids are reused after a database reset).
    remote_label: Mapped[str | None] = mapped_column(String(40), unique=True)
    training_uri: Mapped[str | None] = mapped_column(String(500))
    validation_uri: Mapped[str | None] = mapped_column(String(500))
    launch_claimed_by: Mapped[str | None] = mapped_column(String(120))
    launch_claimed_until: Mapped[datetime | None]
    launch_attempts: Mapped[int] = mapped_column(default=0)
    poll_generation: Mapped[int] = mapped_column(default=0)
    poll_claimed_until: Mapped[datetime | None]
    # Why a manager must approve before launch: [{"code", "params"}]; empty when not needed.
    approval_reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    approved_at: Mapped[datetime | None]
    # The pre-flight checklist as it was at launch, and what the launcher acknowledged.
    preflight: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    cancel_requested_at: Mapped[datetime | None]
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # Money, in the catalog's currency: the estimate at launch and what Vertex's billable token
    # count implies (summed for budgets without reading JSON).
    estimated_cost: Mapped[float | None] = mapped_column(Float)
    actual_cost: Mapped[float | None] = mapped_column(Float)
    # Last values of the curves, for sorting the experiment log.
    final_train_loss: Mapped[float | None] = mapped_column(Float)
    final_validation_loss: Mapped[float | None] = mapped_column(Float)
    # Set once, when the end of the job was announced (notifications are sent exactly once).
    notified_at: Mapped[datetime | None]
    # Continuous tuning ("Improve this model"): the job this one continues from, the checkpoint
    # it starts at, and that job's tuned model as sent in ``preTunedModel``.
    parent_job_id: Mapped[int | None] = mapped_column(
        ForeignKey("tuning_job.id", ondelete="SET NULL"), index=True
    )
    parent_checkpoint_id: Mapped[str | None] = mapped_column(String(40))
    pre_tuned_model: Mapped[str | None] = mapped_column(String(300))
    # The checkpoint the tuned model serves, once a manager chose one (None: Vertex's default,
    # the last checkpoint).
    default_checkpoint_id: Mapped[str | None] = mapped_column(String(40))
    # A remote job Vertex created but whose name could not be saved in ``remote_name`` (a
    # database error at that step): kept here so a cancel still reaches it.
    unrecorded_remote_name: Mapped[str | None] = mapped_column(String(300))
    # Why the training curves could not be read (no Experiment/TensorBoard data…), in English
    # from the gateway, for the job page; None when they were read.
    metrics_note: Mapped[str | None] = mapped_column(String(500))


class JobEvent(CreatedAtMixin, Base):
    """The job's run log: every change, in order. Append-only."""

    __tablename__ = "job_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("tuning_job.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(
        String(40)
    )  # state_changed, progress, error, cancel_requested…
    # Shown translated: a code and parameters, not prose.
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    message: Mapped[str] = mapped_column(Text, default="")


class TuningBudget(Base):
    """A project's money guardrails; no row (or empty values) means no limit."""

    __tablename__ = "tuning_budget"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), primary_key=True
    )
    # Spend per calendar month (UTC); a launch that would go over needs a manager's approval.
    monthly_budget: Mapped[float | None] = mapped_column(Float)
    # A single job estimated above this needs a manager's approval.
    approval_threshold: Mapped[float | None] = mapped_column(Float)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime | None]


class CatalogOverride(CreatedAtMixin, Base):
    """The model catalog as an administrator edited it (YAML, validated before it is saved)."""

    __tablename__ = "tuning_catalog_override"

    id: Mapped[int] = mapped_column(primary_key=True)  # always 1: one catalog per installation
    yaml_text: Mapped[str] = mapped_column(Text)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime | None]


class MetricPoint(Base):
    """One value of one training curve at one step."""

    __tablename__ = "metric_point"
    __table_args__ = (UniqueConstraint("job_id", "metric", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("tuning_job.id", ondelete="CASCADE"))
    # train_loss, validation_loss, train_accuracy, validation_accuracy
    metric: Mapped[str] = mapped_column(String(40))
    step: Mapped[int]
    value: Mapped[float] = mapped_column(Float)
