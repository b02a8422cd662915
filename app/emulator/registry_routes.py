"""Tuned models in the Model Registry: ``models.get`` and ``models.update`` (the default
checkpoint), as google-genai 3.4 calls them on Vertex.

``client.models.update(model=NAME, config=UpdateModelConfig(default_checkpoint_id="2"))`` sends
``PATCH {version}/{NAME}`` with the body ``{"defaultCheckpointId": "2"}`` and no update mask
(``models.py`` ``update`` / ``_UpdateModelConfig_to_vertex``); ``models.get`` sends
``GET {version}/{NAME}`` and reads ``defaultCheckpointId`` and ``checkpoints``. Whether Vertex
requires an update mask is not documented for this call (uncertain): the emulator accepts the
SDK's request as it is, but refuses a body that changes nothing it knows, and a checkpoint the
model does not have. Changing the default moves the tuning job's endpoint to that checkpoint's
(checkpoints page: "Updating the default updates the tuning job's endpoint").
"""

from __future__ import annotations

from typing import Any

from app.emulator import timeline
from app.emulator.http import ApiError, Call, Reply, project_number
from app.emulator.http import either_case as field
from app.emulator.state import JobRecord


def _job(call: Call) -> JobRecord:
    raw = call.params["model"]
    model_id, _sep, version = raw.partition("@")
    state = call.emulator.state
    job = None
    if model_id.isdigit() and (not version or version.isdigit()):
        job = (
            state.job_for_model_version(model_id, int(version))
            if version
            else state.job_for_model(model_id)
        )
    located = job is not None and (
        job.project_number == project_number(call.params["project"])
        and job.location == call.params["location"]
    )
    if (
        job is None
        or not located
        or timeline.snapshot(job, state.elapsed(job)).state != ("JOB_STATE_SUCCEEDED")
    ):
        raise ApiError(
            404,
            f"Model projects/{call.params['project']}/locations/{call.params['location']}/"
            f"models/{raw} not found.",
        )
    return job


def _resource(job: JobRecord) -> dict[str, Any]:
    return {
        "name": job.model_name,
        "versionId": str(job.model_version),
        "displayName": job.display_name,
        "description": job.description,
        "labels": job.labels,
        "defaultCheckpointId": timeline.default_checkpoint(job),
        "checkpoints": [
            {"checkpointId": p["checkpointId"], "epoch": p["epoch"], "step": p["step"]}
            for p in timeline.checkpoints(job)
        ],
    }


def get(call: Call) -> Reply:
    return Reply(body=_resource(_job(call)))


def update(call: Call) -> Reply:
    job = _job(call)
    body = call.json()
    checkpoint = field(body, "defaultCheckpointId")
    name, description = field(body, "displayName"), field(body, "description")
    if checkpoint is None and name is None and description is None:
        raise ApiError(400, "The update changes nothing: set default_checkpoint_id.")
    if checkpoint is not None:
        known = [p["checkpointId"] for p in timeline.checkpoints(job)]
        if str(checkpoint) not in known:
            raise ApiError(
                400,
                f"Checkpoint {checkpoint} does not exist for model {job.model_name}. "
                f"Available checkpoints: {', '.join(known)}.",
            )
        job.default_checkpoint = str(checkpoint)
    if name is not None:
        job.display_name = str(name)[:128]
    if description is not None:
        job.description = str(description)
    call.emulator.state.save_job(job)
    return Reply(body=_resource(job))
