"""SDK objects → TuneDesk's dataclasses (``app.genai.types``)."""

from __future__ import annotations

from enum import Enum
from typing import Any

from google.genai import types as genai_types

from app.genai.types import (
    Checkpoint,
    DataStats,
    Generation,
    RemoteTuningJob,
    TokenDistribution,
)

ADAPTER_SIZE_VALUES = {
    "ADAPTER_SIZE_ONE": 1,
    "ADAPTER_SIZE_TWO": 2,
    "ADAPTER_SIZE_FOUR": 4,
    "ADAPTER_SIZE_EIGHT": 8,
    "ADAPTER_SIZE_SIXTEEN": 16,
    "ADAPTER_SIZE_THIRTY_TWO": 32,
}
ADAPTER_SIZE_ENUMS = {
    value: genai_types.AdapterSize(name) for name, value in ADAPTER_SIZE_VALUES.items()
}


def enum_text(value: Any) -> str | None:
    """The wire string of an SDK enum (unknown values arrive as ad-hoc members or strings)."""
    if value is None:
        return None
    return str(value.value) if isinstance(value, Enum) else str(value)


def _distribution(
    raw: genai_types.SupervisedTuningDatasetDistribution | None,
) -> TokenDistribution | None:
    if raw is None:
        return None
    return TokenDistribution(
        total=raw.sum,
        minimum=raw.min,
        maximum=raw.max,
        mean=raw.mean,
        median=raw.median,
        p5=raw.p5,
        p95=raw.p95,
    )


def data_stats(job: genai_types.TuningJob) -> DataStats | None:
    stats = job.tuning_data_stats.supervised_tuning_data_stats if job.tuning_data_stats else None
    if stats is None:
        return None
    return DataStats(
        example_count=stats.tuning_dataset_example_count,
        billable_tokens=stats.total_billable_token_count,
        billable_characters=stats.total_billable_character_count,
        total_steps=stats.tuning_step_count,
        affected_count=stats.total_truncated_example_count,
        affected_indices=tuple(int(i) for i in stats.truncated_example_indices or ()),
        affected_reasons=tuple(stats.dropped_example_reasons or ()),
        input_tokens=_distribution(stats.user_input_token_distribution),
        output_tokens=_distribution(stats.user_output_token_distribution),
    )


def _checkpoints(job: genai_types.TuningJob) -> tuple[Checkpoint, ...]:
    tuned = job.tuned_model
    return tuple(
        Checkpoint(
            checkpoint_id=point.checkpoint_id or "",
            epoch=point.epoch,
            step=point.step,
            endpoint=point.endpoint or "",
        )
        for point in (tuned.checkpoints or [] if tuned else [])
    )


def _hyper_parameters(job: genai_types.TuningJob) -> tuple[int | None, float | None, int | None]:
    spec = job.supervised_tuning_spec
    params = spec.hyper_parameters if spec else None
    if params is None:
        return None, None, None
    adapter = ADAPTER_SIZE_VALUES.get(enum_text(params.adapter_size) or "")
    return params.epoch_count, params.learning_rate_multiplier, adapter


def tuning_job(job: genai_types.TuningJob) -> RemoteTuningJob:
    stats = data_stats(job)
    metadata = job.tuning_job_metadata
    spec = job.supervised_tuning_spec
    epochs, multiplier, adapter = _hyper_parameters(job)
    pre = job.pre_tuned_model
    return RemoteTuningJob(
        name=job.name or "",
        state=enum_text(job.state) or "JOB_STATE_UNSPECIFIED",
        sub_state=enum_text(job.tuning_job_state),
        # A continued job has no baseModel; its preTunedModel says which base it came from.
        base_model=job.base_model or (pre.base_model if pre else None) or "",
        display_name=job.tuned_model_display_name or "",
        training_uri=(spec.training_dataset_uri or "") if spec else "",
        validation_uri=(spec.validation_dataset_uri or "") if spec else "",
        epochs=epochs,
        learning_rate_multiplier=multiplier,
        adapter_size=adapter,
        completed_steps=metadata.completed_step_count if metadata else None,
        total_steps=stats.total_steps if stats else None,
        completed_epochs=metadata.completed_epoch_count if metadata else None,
        data_stats=stats,
        tuned_model=job.tuned_model.model if job.tuned_model else None,
        tuned_endpoint=job.tuned_model.endpoint if job.tuned_model else None,
        checkpoints=_checkpoints(job),
        error_code=job.error.code if job.error else None,
        error_message=job.error.message if job.error else None,
        experiment=job.experiment,
        labels=dict(job.labels or {}),
        pre_tuned_model=pre.tuned_model_name if pre else None,
        pre_tuned_checkpoint=pre.checkpoint_id if pre else None,
        created_at=job.create_time,
        started_at=job.start_time,
        ended_at=job.end_time,
        updated_at=job.update_time,
    )


def generation(
    response: genai_types.GenerateContentResponse, *, model: str, latency_ms: float
) -> Generation:
    usage = response.usage_metadata
    candidate = response.candidates[0] if response.candidates else None
    blocked = response.prompt_feedback.block_reason if response.prompt_feedback else None
    text = ""
    if candidate is not None and candidate.content and candidate.content.parts:
        # Thought summaries are not part of the answer.
        text = "".join(part.text or "" for part in candidate.content.parts if not part.thought)
    finish = enum_text(candidate.finish_reason) if candidate else None
    return Generation(
        text=text,
        finish_reason=finish or ("BLOCKED" if blocked else "UNSPECIFIED"),
        prompt_tokens=(usage.prompt_token_count or 0) if usage else 0,
        output_tokens=(usage.candidates_token_count or 0) if usage else 0,
        thinking_tokens=(usage.thoughts_token_count or 0) if usage else 0,
        latency_ms=latency_ms,
        model=model,
        model_version=response.model_version or "",
        blocked_reason=enum_text(blocked),
    )
