"""A tuning job's metrics, where Vertex keeps them: its Vertex AI Experiment (Metadata contexts)
backed by a Vertex TensorBoard run. These are the REST routes behind what Google's tuning
notebooks do with ``google-cloud-aiplatform``:

1. ``GET {experiment}`` (a Metadata context) → ``metadata.backing_tensorboard_resource``;
2. ``GET …/metadataStores/default/contexts?filter=schema_title="system.ExperimentRun" AND
   parent_contexts:"{experiment}"`` → the run;
3. ``GET {tensorboard}/experiments/{experiment id}/runs/{run id}/timeSeries`` → series ids;
4. ``GET {tensorboard}:batchRead?timeSeries=…`` → (step, value) points.

Points exist only for the steps the job has completed so far.
"""

from __future__ import annotations

import re
import time
from typing import Any

from app.emulator import curves, timeline
from app.emulator.http import ApiError, Call, Reply
from app.emulator.state import JobRecord, rfc3339

TENSORBOARD_ID = "7000000000000000000"
RUN_ID = "tuning"
# Time series ids are numbers on Vertex; one fixed id per metric name.
SERIES_IDS = {
    name: str(8000 + i) for i, name in enumerate(curves.TRAIN_SERIES + curves.EVAL_SERIES)
}
SERIES_NAMES = {series_id: name for name, series_id in SERIES_IDS.items()}
# BatchRead returns at most this many points per series, evenly thinned like the real service.
MAX_POINTS = 1000
_EXPERIMENT = re.compile(r"^tuning-experiment-(?P<job>\d+)$")
_RUN_CONTEXT = re.compile(r"^tuning-experiment-(?P<job>\d+)-" + RUN_ID + "$")
_SERIES_NAME = re.compile(
    r"^projects/[^/]+/locations/[^/]+/tensorboards/[^/]+/experiments/tuning-experiment-(?P<job>\d+)"
    r"/runs/[^/]+/timeSeries/(?P<series>\d+)$"
)


def _started_job(call: Call, job_id: str | None) -> JobRecord:
    state = call.emulator.state
    job = state.job(job_id) if job_id else None
    if job is None or timeline.snapshot(job, state.elapsed(job)).started_at is None:
        raise ApiError(404, f"Resource {call.path.split('/', 2)[-1]} was not found.")
    return job


def _job_from(pattern: re.Pattern[str], value: str) -> str | None:
    match = pattern.match(value)
    return match["job"] if match else None


def _context(job: JobRecord, run: bool) -> dict[str, Any]:
    experiment = timeline.experiment_id(job)
    context_id = f"{experiment}-{RUN_ID}" if run else experiment
    stores = f"{job.prefix}/metadataStores/default/contexts"
    body: dict[str, Any] = {
        "name": f"{stores}/{context_id}",
        "displayName": context_id,
        "schemaTitle": "system.ExperimentRun" if run else "system.Experiment",
        "schemaVersion": "0.0.1",
        "createTime": rfc3339(job.created_at),
        "updateTime": rfc3339(time.time()),
        "etag": job.job_id,
    }
    if run:
        body["parentContexts"] = [f"{stores}/{experiment}"]
        body["metadata"] = {"state": "RUNNING"}
    else:
        body["metadata"] = {
            "backing_tensorboard_resource": f"{job.prefix}/tensorboards/{TENSORBOARD_ID}",
            "experiment_deleted": False,
        }
    return body


def context(call: Call) -> Reply:
    context_id = call.params["context"]
    run_job = _job_from(_RUN_CONTEXT, context_id)
    job = _started_job(call, run_job or _job_from(_EXPERIMENT, context_id))
    return Reply(body=_context(job, run=run_job is not None))


def contexts(call: Call) -> Reply:
    """Runs of an experiment; the only filter the metrics path needs."""
    text = call.query.get("filter", "")
    if 'schema_title="system.ExperimentRun"' not in text:
        raise ApiError(400, f"Unsupported filter for contexts: {text!r}.")
    parent = re.search(r'parent_contexts:"([^"]+)"', text)
    state = call.emulator.state
    found = []
    for job in state.jobs():
        if timeline.snapshot(job, state.elapsed(job)).started_at is None:
            continue
        run = _context(job, run=True)
        if parent is None or parent.group(1) in run["parentContexts"]:
            found.append(run)
    return Reply(body={"contexts": found})


def tensorboard(call: Call) -> Reply:
    name = f"projects/{call.params['project']}/locations/{call.params['location']}/tensorboards/"
    if call.params["tensorboard"] != TENSORBOARD_ID:
        raise ApiError(404, f"Tensorboard {name}{call.params['tensorboard']} not found.")
    return Reply(
        body={
            "name": name + TENSORBOARD_ID,
            "displayName": "Tuning metrics",
            "createTime": rfc3339(0),
        }
    )


def _run_job(call: Call) -> JobRecord:
    if call.params["tensorboard"] != TENSORBOARD_ID or call.params["run"] != RUN_ID:
        raise ApiError(404, f"TensorboardRun {call.path.split('/', 2)[-1]} not found.")
    return _started_job(call, _job_from(_EXPERIMENT, call.params["experiment"]))


def run(call: Call) -> Reply:
    _run_job(call)
    return Reply(body={"name": call.path.split("/", 2)[-1], "displayName": RUN_ID})


def time_series(call: Call) -> Reply:
    job = _run_job(call)
    run_name = call.path.split("/", 2)[-1].rsplit("/timeSeries", 1)[0]
    names = curves.TRAIN_SERIES + (curves.EVAL_SERIES if job.has_validation else ())
    return Reply(
        body={
            "tensorboardTimeSeries": [
                {
                    "name": f"{run_name}/timeSeries/{SERIES_IDS[name]}",
                    "displayName": name,
                    "valueType": "SCALAR",
                    "pluginName": "scalars",
                }
                for name in names
            ]
        }
    )


def _points(call: Call, job: JobRecord) -> dict[str, list[tuple[int, float]]]:
    state = call.emulator.state
    done = timeline.snapshot(job, state.elapsed(job)).completed_steps
    inputs = curves.CurveInputs(
        seed=job.job_id,
        examples=max(1, job.examples),
        epochs=job.epochs,
        total_steps=job.total_steps,
        learning_rate_multiplier=job.learning_rate_multiplier,
        adapter_size=job.adapter_size,
        has_validation=job.has_validation,
        truncated=job.truncated,
        tokens_per_epoch=job.tokens_per_epoch,
    )
    return curves.series(inputs, done)


def _series_data(job: JobRecord, series_id: str, points: list[tuple[int, float]]) -> dict[str, Any]:
    if len(points) > MAX_POINTS:
        stride = len(points) / MAX_POINTS
        points = [points[int(i * stride)] for i in range(MAX_POINTS - 1)] + [points[-1]]
    step_seconds = timeline.STEP_SECONDS / job.time_scale if job.time_scale > 0 else 0.0
    start = job.created_at + (timeline.TUNING_STARTS / job.time_scale if job.time_scale else 0)
    return {
        "tensorboardTimeSeriesId": series_id,
        "valueType": "SCALAR",
        "values": [
            {
                "step": str(step),
                "wallTime": rfc3339(start + step * step_seconds),
                "scalar": {"value": value},
            }
            for step, value in points
        ],
    }


def batch_read(call: Call) -> Reply:
    if call.params["tensorboard"] != TENSORBOARD_ID:
        raise ApiError(404, f"Tensorboard {call.params['tensorboard']} not found.")
    names = call.query.getlist("timeSeries")
    if not names:
        raise ApiError(400, "time_series is required.")
    result = []
    for name in names:
        match = _SERIES_NAME.match(name)
        if match is None or match["series"] not in SERIES_NAMES:
            raise ApiError(404, f"TensorboardTimeSeries {name} not found.")
        job = _started_job(call, match["job"])
        points = _points(call, job).get(SERIES_NAMES[match["series"]])
        if points is None:
            raise ApiError(404, f"TensorboardTimeSeries {name} not found.")
        result.append(_series_data(job, match["series"], points))
    return Reply(body={"timeSeriesData": result})


def read_one(call: Call) -> Reply:
    job = _run_job(call)
    series_id = call.params["series"]
    points = _points(call, job).get(SERIES_NAMES.get(series_id, ""))
    if points is None:
        raise ApiError(404, f"TensorboardTimeSeries {series_id} not found.")
    return Reply(body={"timeSeriesData": _series_data(job, series_id, points)})
