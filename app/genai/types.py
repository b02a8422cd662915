"""What the gateway returns: TuneDesk's own frozen dataclasses, never SDK objects, so the rest
of the app (and its database) does not depend on the SDK's types. No SDK import here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

PENDING = "JOB_STATE_PENDING"
QUEUED = "JOB_STATE_QUEUED"
RUNNING = "JOB_STATE_RUNNING"
SUCCEEDED = "JOB_STATE_SUCCEEDED"
FAILED = "JOB_STATE_FAILED"
CANCELLING = "JOB_STATE_CANCELLING"
CANCELLED = "JOB_STATE_CANCELLED"
EXPIRED = "JOB_STATE_EXPIRED"
TERMINAL_STATES = frozenset({SUCCEEDED, FAILED, CANCELLED, EXPIRED})
ADAPTER_SIZES = (1, 2, 4, 8, 16, 32)

# Vertex metric names (TensorBoard time series of a supervised tuning job).
TRAIN_LOSS = "/train_total_loss"
TRAIN_ACCURACY = "/train_fraction_of_correct_next_step_preds"
EVAL_LOSS = "/eval_total_loss"
EVAL_ACCURACY = "/eval_fraction_of_correct_next_step_preds"


@dataclass(frozen=True)
class UploadedFile:
    uri: str  # gs://bucket/name, what launch_tuning takes
    bucket: str
    name: str
    size: int
    md5_hash: str


@dataclass(frozen=True)
class TokenDistribution:
    total: int | None
    minimum: float | None
    maximum: float | None
    mean: float | None
    median: float | None
    p5: float | None
    p95: float | None


@dataclass(frozen=True)
class DataStats:
    """``tuningDataStats.supervisedTuningDataStats``, as Vertex measured the training file."""

    example_count: int | None
    billable_tokens: int | None  # per pass over the data; the bill is this × epochs
    billable_characters: int | None
    total_steps: int | None
    affected_count: int | None  # Vertex calls them "truncated": cut or dropped examples
    affected_indices: tuple[int, ...]  # 1-based positions in the file (a sample if many)
    affected_reasons: tuple[str, ...]  # Google's explanation for each index, in English
    input_tokens: TokenDistribution | None
    output_tokens: TokenDistribution | None

    @property
    def affected_examples(self) -> tuple[tuple[int, str], ...]:
        """(index, reason) pairs; the reason is empty when Vertex gave none."""
        reasons = self.affected_reasons + ("",) * len(self.affected_indices)
        return tuple(zip(self.affected_indices, reasons, strict=False))


@dataclass(frozen=True)
class Checkpoint:
    checkpoint_id: str
    epoch: int | None
    step: int | None
    endpoint: str  # pass to generate() to try this checkpoint


@dataclass(frozen=True)
class RemoteTuningJob:
    name: str  # projects/{number}/locations/{location}/tuningJobs/{id}
    state: str  # JOB_STATE_…
    sub_state: str | None  # TUNING_JOB_STATE_… while running
    base_model: str
    display_name: str
    training_uri: str
    validation_uri: str
    epochs: int | None
    learning_rate_multiplier: float | None
    adapter_size: int | None
    completed_steps: int | None
    total_steps: int | None
    completed_epochs: int | None
    data_stats: DataStats | None
    tuned_model: str | None  # projects/…/models/{id}@{version}
    tuned_endpoint: str | None  # projects/…/endpoints/{id}: what generate() takes
    checkpoints: tuple[Checkpoint, ...]
    error_code: int | None
    error_message: str | None  # Google's words, in English
    experiment: str | None  # the Vertex AI Experiment holding the metrics
    labels: Mapping[str, str] = field(default_factory=dict)
    # Continuous tuning: the tuned model (and checkpoint) this job continued from.
    pre_tuned_model: str | None = None
    pre_tuned_checkpoint: str | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def has_ended(self) -> bool:
        return self.state in TERMINAL_STATES

    @property
    def succeeded(self) -> bool:
        return self.state == SUCCEEDED

    @property
    def progress(self) -> float | None:
        """Completed fraction of the tuning steps, when Vertex has said how many there are."""
        if not self.total_steps or self.completed_steps is None:
            return None
        return min(1.0, self.completed_steps / self.total_steps)


@dataclass(frozen=True)
class Generation:
    text: str
    finish_reason: str  # STOP, MAX_TOKENS, SAFETY… or BLOCKED when the prompt was refused
    prompt_tokens: int
    output_tokens: int
    thinking_tokens: int
    latency_ms: float
    model: str  # as requested
    model_version: str  # as reported by Vertex
    blocked_reason: str | None = None


@dataclass(frozen=True)
class MetricPoint:
    step: int
    value: float


@dataclass(frozen=True)
class TuningMetrics:
    job_name: str
    source: Literal["tensorboard", "progress"]  # "progress": per-step metrics unavailable
    series: Mapping[str, tuple[MetricPoint, ...]]  # by Vertex metric name
    completed_steps: int | None
    total_steps: int | None
    note: str = ""  # why only progress is available (English, for logs and admins)

    def points(self, metric: str) -> tuple[MetricPoint, ...]:
        return self.series.get(metric, ())

    @property
    def train_loss(self) -> tuple[MetricPoint, ...]:
        return self.points(TRAIN_LOSS)

    @property
    def train_accuracy(self) -> tuple[MetricPoint, ...]:
        return self.points(TRAIN_ACCURACY)

    @property
    def eval_loss(self) -> tuple[MetricPoint, ...]:
        return self.points(EVAL_LOSS)

    @property
    def eval_accuracy(self) -> tuple[MetricPoint, ...]:
        return self.points(EVAL_ACCURACY)


@dataclass(frozen=True)
class CheckStep:
    key: Literal["settings", "credentials", "bucket", "vertex", "region"]
    ok: bool | None  # None: not run because an earlier step failed
    message: str  # plain language, in the reader's language
    detail: str = ""  # Google's raw answer, for administrators


@dataclass(frozen=True)
class ConnectionReport:
    steps: tuple[CheckStep, ...]

    @property
    def ok(self) -> bool:
        return all(step.ok for step in self.steps)
