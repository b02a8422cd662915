"""The served checkpoint: which checkpoint of a finished job's tuned model answers at its
endpoint. A manager chooses it in one click (from the diagnosis or the checkpoint list);
TuneDesk sends one ``models.update`` with ``default_checkpoint_id`` (checkpoints page,
vertex-2026.md §5: "Updating the default updates the tuning job's endpoint"), records it in the
run log and the audit log, and new evaluations of the job then ask that checkpoint.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.auth import audit
from app.auth.models import User
from app.db import utcnow
from app.errors import Conflict, ValidationFailed
from app.genai import gateway
from app.genai.errors import GeminiError
from app.i18n import N_, _
from app.projects.models import Project
from app.tuning.continuation import served_checkpoint
from app.tuning.models import JobState, TuningJob
from app.tuning.run_log import add_event

AUDIT_ACTIONS = {"tuning_job.serve_checkpoint": N_("Chose the served checkpoint")}


def serve(
    session: Session, *, actor: User, project: Project, job: TuningJob, checkpoint_id: str
) -> TuningJob:
    """Make ``checkpoint_id`` the checkpoint ``job``'s tuned model serves."""
    if job.state != JobState.SUCCEEDED or not job.tuned_model_name:
        raise Conflict(_("Only a job that finished successfully has checkpoints to serve."))
    point = next(
        (c for c in job.checkpoints or [] if str(c.get("checkpoint_id")) == checkpoint_id), None
    )
    if point is None:
        raise ValidationFailed(
            {"checkpoint": _("This job has no checkpoint %(id)s.") % {"id": checkpoint_id}}
        )
    if served_checkpoint(job) == checkpoint_id:
        return job  # already served: no second call
    try:
        reported = gateway.set_default_checkpoint(job.tuned_model_name, checkpoint_id)
    except GeminiError as error:
        raise Conflict(error.user_message) from error
    job.default_checkpoint_id = reported or checkpoint_id
    if point.get("endpoint"):
        job.tuned_endpoint = str(point["endpoint"])  # Vertex moved the job's endpoint to it
    job.updated_at = utcnow()
    add_event(
        session,
        job,
        "checkpoint_served",
        {"user": actor.name, "checkpoint": checkpoint_id},
        actor=actor,
    )
    audit.record(
        session,
        actor=actor,
        action="tuning_job.serve_checkpoint",
        object_type="tuning_job",
        object_id=job.id,
        project_id=project.id,
        summary=job.display_name,
        details={"checkpoint": checkpoint_id, "model": job.tuned_model_name},
    )
    return job
