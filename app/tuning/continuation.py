"""Continuous tuning ("Improve this model"): a new job that starts from a finished job's tuned
model (or one of its checkpoints) and learns from a newer dataset version, typically the one
with the fixes made from an evaluation.

Google's rules (continuous-tuning page, vertex-2026.md §4, read 2026-12-07):
- only supervised-tuned models, tuned on or after 2025-07-11, can be continued;
- only models Google lists for it (catalog ``continuous_tuning``: 3.5 Flash, 3.1 Flash-Lite and
  the 2.5 family today);
- the new job must use the same CMEK key as the original job (TuneDesk sets none on either);
- the request carries ``preTunedModel {tunedModelName, checkpointId}`` and no ``baseModel``.
The recommendation for a continued run halves the epochs and keeps the default learning-rate
multiplier: the model already knows the task, a full run would mostly re-memorise the old data
(TuneDesk's own rule of thumb, stated as such on the page).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from app.datasets.models import Dataset
from app.datasets.versions.models import DatasetVersion
from app.errors import NotFound
from app.i18n import N_, _
from app.tuning.models import JobState, TuningJob
from app.tuning.recommend import LARGE_MULTIPLIER, Note, Recommendation

CONTINUABLE_SINCE = date(2025, 7, 11)
MAX_LINEAGE = 20

MESSAGES = {
    "ok": N_(
        "Continues from “%(job)s”, checkpoint %(checkpoint)s: a supervised-tuned %(model)s "
        "model, which Google allows to be tuned further. Same encryption as the original job "
        "(Google-managed keys)."
    ),
    "not_finished": N_(
        "“%(job)s” has no tuned model to continue from (it did not finish successfully). "
        "Choose a job that succeeded."
    ),
    "not_listed": N_(
        "Google does not list %(model)s for continuous tuning. Start a new job on a listed "
        "model instead."
    ),
    "too_old": N_(
        "“%(job)s” was tuned before 11 July 2025; Google only continues models tuned since. "
        "Start a new job instead."
    ),
    "no_checkpoint": N_("“%(job)s” has no checkpoint %(checkpoint)s. Choose one it lists."),
    "same_version": N_(
        "This is the version “%(job)s” already learned from: continuing on the same data "
        "mostly repeats it. Choose the newer version with your fixes."
    ),
}


def parent_job(session: Session, *, project_id: int, job_id: int) -> TuningJob:
    job = session.get(TuningJob, job_id)
    if job is None or job.project_id != project_id:
        raise NotFound(_("This tuning job does not exist in this project."))
    return job


def served_checkpoint(job: TuningJob) -> str | None:
    """The checkpoint the job's tuned model serves: the chosen one, else the last."""
    if job.default_checkpoint_id:
        return job.default_checkpoint_id
    points = [c for c in job.checkpoints or [] if c.get("checkpoint_id") is not None]
    if not points:
        return None
    return str(max(points, key=lambda c: int(c.get("step") or 0)).get("checkpoint_id"))


def checkpoint_or_served(job: TuningJob, checkpoint_id: str | None) -> str | None:
    return checkpoint_id or served_checkpoint(job)


def recommendation(base: Recommendation, parent: TuningJob, version_label: str) -> Recommendation:
    epochs = max(1, math.ceil(base.epochs / 2))
    adapter = int((parent.hyperparameters or {}).get("adapter_size") or base.adapter_size)
    note = Note(
        "continued",
        {
            "job": parent.display_name,
            "version": version_label,
            "epochs": epochs,
            "adapter": adapter,
        },
    )
    return replace(
        base,
        epochs=epochs,
        learning_rate_multiplier=LARGE_MULTIPLIER,
        adapter_size=adapter,
        reasons=(note, *base.reasons[1:]),
    )


@dataclass(frozen=True)
class Verdict:
    code: str
    params: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.code == "ok"

    @property
    def warning(self) -> bool:
        return self.code == "same_version"


def check(
    parent: TuningJob, *, checkpoint_id: str | None, version_id: int, continuable: bool, model: str
) -> Verdict:
    """Whether ``parent`` can be continued as asked (the first rule it breaks)."""
    params = {"job": parent.display_name, "model": model, "checkpoint": checkpoint_id or "—"}
    if parent.state != JobState.SUCCEEDED or not parent.tuned_model_name:
        return Verdict("not_finished", params)
    if not continuable:
        return Verdict("not_listed", params)
    tuned_on = (parent.finished_at or parent.created_at).date()
    if tuned_on < CONTINUABLE_SINCE:
        return Verdict("too_old", params)
    known = {str(c.get("checkpoint_id")) for c in parent.checkpoints or []}
    if checkpoint_id and known and checkpoint_id not in known:
        return Verdict("no_checkpoint", params)
    if version_id == parent.dataset_version_id:
        return Verdict("same_version", params)
    return Verdict("ok", params)


def message(verdict: Verdict) -> str:
    return _(MESSAGES[verdict.code]) % verdict.params


@dataclass(frozen=True)
class Step:
    job: TuningJob
    version_label: str
    checkpoint_id: str | None  # the checkpoint the child continued from


def lineage(session: Session, job: TuningJob) -> list[Step]:
    """The job, then the job it continued from, and so on (oldest last)."""
    steps: list[Step] = []
    current: TuningJob | None = job
    checkpoint: str | None = None
    seen: set[int] = set()
    while current is not None and current.id not in seen and len(steps) < MAX_LINEAGE:
        seen.add(current.id)
        steps.append(Step(current, version_label(session, current), checkpoint))
        checkpoint = current.parent_checkpoint_id
        current = session.get(TuningJob, current.parent_job_id) if current.parent_job_id else None
    return steps


def version_label(session: Session, job: TuningJob) -> str:
    version = session.get(DatasetVersion, job.dataset_version_id)
    dataset = session.get(Dataset, version.dataset_id) if version else None
    return f"{dataset.name} v{version.number}" if version and dataset else "?"
