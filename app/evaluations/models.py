"""Evaluation runs: candidates answer the held-out questions of a dataset version, side by side.

- ``Evaluation`` — one run over a test set (the ``test`` split of a dataset version). ``status``
  is what tasks compare-and-set on; ``claimed_until`` lets the beat sweeper re-dispatch a run
  whose worker died. A project's *golden set* (``GoldenSet``) is a version whose test split every
  tuned model is measured on, so the scorecard over time compares like with like.
- ``EvalCandidate`` — a model and how it is prompted (zero-shot, few-shot with k approved training
  examples, with the project's system instruction, a tuned job's endpoint, or a checkpoint).
  ``answer_key`` identifies "the same model asked the same way": answers are reused across
  evaluations through ``EvalAnswer``.
- ``EvalItem`` — one test question with its reference; ``leak`` says whether it also appears in
  the tuned model's training data (excluded by default).
- ``EvalOutput`` — one candidate's answer to one item: its scores and, for the tuned candidate,
  the judge's pairwise verdict against the baseline. A ``done`` output is never asked again, which
  makes a run resumable after a crash.
- ``EvalAnswer`` — the cache of generated answers keyed by (answer_key, prompt_hash).
- ``HumanVote`` — a reviewer's blind A/B vote on an item (which candidate stood behind A).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, CreatedAtMixin


class EvalStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


TERMINAL_EVAL_STATES = frozenset({EvalStatus.SUCCEEDED, EvalStatus.FAILED, EvalStatus.CANCELLED})


class CandidateKind(StrEnum):
    ZERO_SHOT = "zero_shot"  # the base model, question only
    FEW_SHOT = "few_shot"  # the base model with k approved training examples in the prompt
    SYSTEM = "system"  # the base model with the project's system instruction
    TUNED = "tuned"  # a tuned job's endpoint
    CHECKPOINT = "checkpoint"  # one checkpoint of a tuned job


class OutputStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"  # the model could not answer (after retries); shown, not scored


class Evaluation(CreatedAtMixin, Base):
    __tablename__ = "evaluation"
    __table_args__ = (Index("ix_evaluation_project_created", "project_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    # The test set: the test split of this version.
    test_version_id: Mapped[int] = mapped_column(
        ForeignKey("dataset_version.id", ondelete="RESTRICT"), index=True
    )
    # The version the tuned candidate learned from (leakage is checked against it), if any.
    training_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("dataset_version.id", ondelete="SET NULL")
    )
    judge_model: Mapped[str | None] = mapped_column(String(300))  # None: no AI judge
    include_leaks: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(12), default=EvalStatus.QUEUED, index=True)
    outputs_total: Mapped[int] = mapped_column(default=0)
    outputs_done: Mapped[int] = mapped_column(default=0)
    judged_total: Mapped[int] = mapped_column(default=0)
    judged_done: Mapped[int] = mapped_column(default=0)
    estimate: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # aggregates, verdict
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_until: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class GoldenSet(CreatedAtMixin, Base):
    """The version whose test split a project measures every tuned model on."""

    __tablename__ = "eval_golden_set"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), primary_key=True
    )
    version_id: Mapped[int] = mapped_column(ForeignKey("dataset_version.id", ondelete="CASCADE"))
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))


class EvalCandidate(Base):
    __tablename__ = "eval_candidate"
    __table_args__ = (UniqueConstraint("evaluation_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluation.id", ondelete="CASCADE"))
    position: Mapped[int]  # column order on the compare screen
    # "baseline" and "tuned": the pair the judge and the blind votes compare (one of each).
    role: Mapped[str | None] = mapped_column(String(12))
    kind: Mapped[str] = mapped_column(String(12))
    label: Mapped[str] = mapped_column(String(200))
    base_model: Mapped[str] = mapped_column(String(100))
    model: Mapped[str] = mapped_column(String(300))  # what is sent: a model id or an endpoint
    tuning_job_id: Mapped[int | None] = mapped_column(
        ForeignKey("tuning_job.id", ondelete="SET NULL"), index=True
    )
    checkpoint_id: Mapped[str | None] = mapped_column(String(40))
    few_shot_k: Mapped[int | None]
    # Prompt ingredients fixed at creation: few-shot example turns, the system instruction.
    prompt_config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    answer_key: Mapped[str] = mapped_column(String(64))
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class EvalItem(Base):
    __tablename__ = "eval_item"
    __table_args__ = (UniqueConstraint("evaluation_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluation.id", ondelete="CASCADE"))
    position: Mapped[int]
    example_id: Mapped[int | None] = mapped_column(ForeignKey("example.id", ondelete="SET NULL"))
    system_instruction: Mapped[str] = mapped_column(Text, default="")
    turns: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)  # without the answer
    reference: Mapped[str] = mapped_column(Text)
    tag: Mapped[str | None] = mapped_column(String(100))
    prompt_hash: Mapped[str] = mapped_column(String(64))
    leak: Mapped[str | None] = mapped_column(String(12))  # exact | near | None
    leak_example_id: Mapped[int | None]
    excluded: Mapped[bool] = mapped_column(default=False)
    # Pairwise judge verdict baseline vs tuned (PairwiseVerdict as JSON) and its winner.
    judge: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    judge_winner: Mapped[str | None] = mapped_column(String(12))  # baseline | tuned | tie
    judged_at: Mapped[datetime | None]


class EvalOutput(Base):
    __tablename__ = "eval_output"
    __table_args__ = (
        UniqueConstraint("item_id", "candidate_id"),
        Index("ix_eval_output_candidate_status", "candidate_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("eval_item.id", ondelete="CASCADE"))
    candidate_id: Mapped[int] = mapped_column(ForeignKey("eval_candidate.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(12), default=OutputStatus.PENDING)
    text: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reused: Mapped[bool] = mapped_column(default=False)  # taken from an earlier evaluation
    prompt_tokens: Mapped[int] = mapped_column(default=0)
    output_tokens: Mapped[int] = mapped_column(default=0)
    latency_ms: Mapped[float | None] = mapped_column(Float)
    scores: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # ItemScores as JSON
    overall: Mapped[float | None] = mapped_column(Float)  # chrF 0..100, the sort key
    rubric: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # RubricScores as JSON
    answered_at: Mapped[datetime | None]


class EvalAnswer(CreatedAtMixin, Base):
    """Generated answers, reused when the same model is asked the same prompt the same way."""

    __tablename__ = "eval_answer"
    __table_args__ = (UniqueConstraint("answer_key", "prompt_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_key: Mapped[str] = mapped_column(String(64))
    prompt_hash: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    prompt_tokens: Mapped[int] = mapped_column(default=0)
    output_tokens: Mapped[int] = mapped_column(default=0)


class HumanVote(CreatedAtMixin, Base):
    """A blind vote: ``a_candidate_id`` stood behind the answer labelled A."""

    __tablename__ = "human_vote"
    __table_args__ = (UniqueConstraint("item_id", "voter_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("eval_item.id", ondelete="CASCADE"))
    voter_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    a_candidate_id: Mapped[int] = mapped_column(ForeignKey("eval_candidate.id", ondelete="CASCADE"))
    b_candidate_id: Mapped[int] = mapped_column(ForeignKey("eval_candidate.id", ondelete="CASCADE"))
    choice: Mapped[str] = mapped_column(String(12))  # a | b | tie | both_bad (stats.HumanVote)
    comment: Mapped[str] = mapped_column(Text, default="")
