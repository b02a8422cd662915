"""The shapes shared by the evaluation runner and the screens.

``EvaluationSpec`` is what a user asks for (the new-evaluation form and the JSON API build it);
``CandidateSummary`` and ``RunSummary`` are what a finished run stores (``EvalCandidate.summary``
and ``Evaluation.summary``) so pages, the scorecard over time and the tuning experiment log read
figures without recomputing them. Human votes arrive after the run and are never stored here.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from app.evaluations.models import CandidateKind
from app.evaluations.scoring.aggregate import AggregateScores
from app.evaluations.scoring.stats import WinTieLoss

MAX_FEW_SHOT = 20


class CandidateSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: CandidateKind
    # Base-model candidates name their model; tuned and checkpoint candidates name their job.
    base_model: str | None = None
    tuning_job_id: int | None = None
    checkpoint_id: str | None = None
    few_shot_k: int | None = Field(default=None, ge=1, le=MAX_FEW_SHOT)
    role: str | None = None  # "baseline" | "tuned": the pair the judge and the votes compare
    # Base-model candidates: how much the model thinks ("minimum", the default, as tuned models
    # are asked; "default": the model's own; or a level: low, medium, high). Tuned candidates
    # always get the minimum Google advises.
    thinking: str = "minimum"


class EvaluationSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1, max_length=200)
    test_version_id: int
    candidates: tuple[CandidateSpec, ...] = Field(min_length=1, max_length=6)
    judge_model: str | None = None  # None: no AI judge
    include_leaks: bool = False  # leaked test items are excluded unless this is set


class RubricMeans(BaseModel):
    model_config = ConfigDict(frozen=True)

    facts: float | None = None
    format: float | None = None
    tone: float | None = None
    scored: int = 0
    failed: int = 0


class CandidateSummary(BaseModel):
    """One candidate's figures over the run's included, answered items."""

    model_config = ConfigDict(frozen=True)

    scores: AggregateScores
    answered: int
    failed: int
    reused: int
    prompt_tokens: int
    output_tokens: int
    rubric: RubricMeans | None = None


class RunSummary(BaseModel):
    """The judge's outcome of the tuned candidate against the baseline (``wins`` = tuned better),
    overall and per tag, over included items."""

    model_config = ConfigDict(frozen=True)

    judge: WinTieLoss | None = None
    judge_by_tag: dict[str, WinTieLoss] = Field(default_factory=dict)
    judge_failed: int = 0
    items: int = 0
    excluded: int = 0
