"""A tuning job's life, computed from its age on every read (no background thread).

Emulated seconds after creation (``EmulatorState.elapsed``):
  PENDING for ``PENDING_SECONDS`` → RUNNING/PROCESSING_DATASET for ``DATASET_SECONDS`` (a bad
  dataset fails the job here) → RUNNING/TUNING, one step every ``STEP_SECONDS`` → RUNNING/
  POST_PROCESSING → SUCCEEDED. A cancel request moves the job to CANCELLING, then CANCELLED
  ``CANCEL_SECONDS`` later. At time scale 1 a job of 100 examples × 3 epochs (38 steps) takes
  about 3.5 minutes; at scale 60, about 3.5 seconds.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from app.emulator.catalog import ADAPTER_SIZE_BY_VALUE
from app.emulator.state import JobRecord, rfc3339
from app.genai import simulation

# The pace lives with the gateway, which shows estimates from it while the simulation is in use.
PENDING_SECONDS = simulation.PENDING_SECONDS
DATASET_SECONDS = simulation.DATASET_SECONDS
STEP_SECONDS = simulation.STEP_SECONDS
POST_SECONDS = simulation.POST_SECONDS
CANCEL_SECONDS = simulation.CANCEL_SECONDS
TUNING_STARTS = simulation.TUNING_STARTS
step_count = simulation.step_count

TERMINAL_STATES = frozenset({"JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED"})


@dataclass(frozen=True)
class Snapshot:
    state: str
    sub_state: str | None
    completed_steps: int
    started_at: float | None  # emulated seconds after creation
    ended_at: float | None
    error: dict[str, Any] | None


def _steps_at(job: JobRecord, elapsed: float) -> int:
    done = math.floor((elapsed - TUNING_STARTS) / STEP_SECONDS)
    return max(0, min(job.total_steps, done))


def _natural_end(job: JobRecord) -> tuple[float, str, dict[str, Any] | None]:
    """When and how the job ends if nobody cancels it."""
    if job.dataset_error:
        return TUNING_STARTS, "JOB_STATE_FAILED", {"code": 3, "message": job.dataset_error}
    if job.fail_at_step is not None:
        error = {
            "code": 13,
            "message": "Tuning failed because of an internal error at step "
            f"{job.fail_at_step}. Please try again later.",
        }
        return TUNING_STARTS + job.fail_at_step * STEP_SECONDS, "JOB_STATE_FAILED", error
    end = TUNING_STARTS + job.total_steps * STEP_SECONDS + POST_SECONDS
    return end, "JOB_STATE_SUCCEEDED", None


def snapshot(job: JobRecord, elapsed: float) -> Snapshot:
    end, outcome, error = _natural_end(job)
    if job.cancel_at is not None and job.cancel_at < end:
        steps = _steps_at(job, job.cancel_at)
        if elapsed >= job.cancel_at + CANCEL_SECONDS:
            cancelled = {"code": 1, "message": "CANCELED"}
            return Snapshot(
                "JOB_STATE_CANCELLED",
                None,
                steps,
                PENDING_SECONDS,
                job.cancel_at + CANCEL_SECONDS,
                cancelled,
            )
        return Snapshot("JOB_STATE_CANCELLING", None, steps, PENDING_SECONDS, None, None)
    if elapsed >= end:
        steps = job.total_steps if outcome == "JOB_STATE_SUCCEEDED" else _steps_at(job, end)
        return Snapshot(outcome, None, steps, PENDING_SECONDS, end, error)
    if elapsed < PENDING_SECONDS:
        return Snapshot("JOB_STATE_PENDING", None, 0, None, None, None)
    if elapsed < TUNING_STARTS:
        return Snapshot(
            "JOB_STATE_RUNNING",
            "TUNING_JOB_STATE_PROCESSING_DATASET",
            0,
            PENDING_SECONDS,
            None,
            None,
        )
    steps = _steps_at(job, elapsed)
    sub_state = (
        "TUNING_JOB_STATE_TUNING"
        if steps < job.total_steps
        else ("TUNING_JOB_STATE_POST_PROCESSING")
    )
    return Snapshot("JOB_STATE_RUNNING", sub_state, steps, PENDING_SECONDS, None, None)


def _stamp(job: JobRecord, offset: float, now: float) -> str:
    # Emulated offsets shown as wall-clock times, never in the future.
    real = job.created_at + offset / job.time_scale if job.time_scale > 0 else now
    return rfc3339(min(real, now))


def checkpoint_steps(job: JobRecord) -> list[tuple[int, int]]:
    """(epoch, step) of each exported checkpoint: one per epoch, or only the last."""
    points = [
        (epoch, math.ceil(job.total_steps * epoch / job.epochs))
        for epoch in range(1, job.epochs + 1)
    ]
    return points[-1:] if job.export_last_checkpoint_only else points


def default_checkpoint(job: JobRecord) -> str:
    """The checkpoint the tuned model serves: the last one unless ``models.update`` changed it."""
    points = checkpoint_steps(job)
    return job.default_checkpoint or str(points[-1][0])


def checkpoints(job: JobRecord) -> list[dict[str, Any]]:
    return [
        {
            "checkpointId": str(epoch),
            "epoch": str(epoch),
            "step": str(step),
            "endpoint": f"{job.serving_prefix}/endpoints/{job.checkpoint_endpoint_id(epoch)}",
        }
        for epoch, step in checkpoint_steps(job)
    ]


def _tuned_model(job: JobRecord) -> dict[str, Any]:
    # The job's endpoint is the default checkpoint's: changing the default moves it (§5).
    points = checkpoints(job)
    default = default_checkpoint(job)
    endpoint = next((p["endpoint"] for p in points if p["checkpointId"] == default), "")
    return {
        "model": f"{job.model_name}@{job.model_version}",
        "endpoint": endpoint or f"{job.serving_prefix}/endpoints/{job.endpoint_id}",
        "checkpoints": points,
    }


def experiment_id(job: JobRecord) -> str:
    return f"tuning-experiment-{job.job_id}"


def _spec(job: JobRecord) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "trainingDatasetUri": job.training_uri,
        "hyperParameters": {
            "epochCount": str(job.epochs),
            "learningRateMultiplier": job.learning_rate_multiplier,
            "adapterSize": ADAPTER_SIZE_BY_VALUE.get(job.adapter_size, "ADAPTER_SIZE_UNSPECIFIED"),
        },
        "exportLastCheckpointOnly": job.export_last_checkpoint_only,
    }
    if job.validation_uri:
        spec["validationDatasetUri"] = job.validation_uri
    return spec


def resource(job: JobRecord, elapsed: float, now: float | None = None) -> dict[str, Any]:
    """The ``TuningJob`` JSON Vertex would return right now."""
    now = now or time.time()
    snap = snapshot(job, elapsed)
    body: dict[str, Any] = {
        "name": job.name,
        "tunedModelDisplayName": job.display_name,
        "state": snap.state,
        "createTime": rfc3339(job.created_at),
        "updateTime": _stamp(job, min(elapsed, snap.ended_at or elapsed), now),
        "supervisedTuningSpec": _spec(job),
        "labels": job.labels,
    }
    if job.pre_tuned:
        # baseModel and preTunedModel are one union: a continued job reports only the latter,
        # whose output-only baseModel names the base (SDK types.PreTunedModel).
        body["preTunedModel"] = dict(job.pre_tuned)
    else:
        body["baseModel"] = job.base_model
    if job.kms_key:
        body["encryptionSpec"] = {"kmsKeyName": job.kms_key}
    if job.description:
        body["description"] = job.description
    if snap.started_at is not None:
        body["startTime"] = _stamp(job, snap.started_at, now)
        body["experiment"] = f"{job.prefix}/metadataStores/default/contexts/{experiment_id(job)}"
    if snap.sub_state:
        body["tuningJobState"] = snap.sub_state
    if elapsed >= TUNING_STARTS and not job.dataset_error:
        body["tuningDataStats"] = {"supervisedTuningDataStats": job.stats}
        epochs_done = math.floor(snap.completed_steps * job.epochs / job.total_steps)
        body["tuningJobMetadata"] = {
            "completedEpochCount": str(epochs_done),
            "completedStepCount": str(snap.completed_steps),
        }
    if snap.ended_at is not None:
        body["endTime"] = _stamp(job, snap.ended_at, now)
    if snap.error is not None:
        body["error"] = {**snap.error, "details": []}
    if snap.state == "JOB_STATE_SUCCEEDED":
        body["tunedModel"] = _tuned_model(job)
    return body
