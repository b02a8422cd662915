"""Per-step training metrics of a tuning job (loss and token accuracy, for charts).

``tunings.get`` does not carry them: Vertex writes them to the job's Vertex AI Experiment, backed
by a Vertex TensorBoard run. google-genai has no call for that, so this module makes the same
REST calls Google's tuning notebooks make through ``google-cloud-aiplatform`` (``aiplatform.
Experiment(job.experiment)`` → ``Context.list(schema_title="system.ExperimentRun",
parent_contexts=[experiment])`` → ``TensorboardRun(…).read_time_series_data()``), on the v1 API
with the gateway's own credentials:

1. ``GET v1/{experiment}``: the Metadata context; ``metadata.backing_tensorboard_resource``;
2. ``GET v1/{metadata store}/contexts?filter=…``: the experiment's run;
3. ``GET v1/{tensorboard}/experiments/{experiment id}/runs/{run id}/timeSeries``: series ids;
4. ``GET v1/{tensorboard}:batchRead?timeSeries=…``: the points (20 series per request).

When any piece is missing (the job has not started, no TensorBoard, a permission the service
account lacks) the result falls back to progress only (completed steps / total steps) and says
why in ``note``; transient failures are raised so the caller can try again later.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from google.api_core import exceptions as api_exceptions

from app.genai.client import Clients
from app.genai.common import clients, context_for, resolve
from app.genai.config import ConnectionConfig
from app.genai.errors import PermanentGeminiError
from app.genai.retry import call_with_retries
from app.genai.types import MetricPoint, RemoteTuningJob, TuningMetrics

API_VERSION = "v1"
BATCH_SIZE = 20  # what google-cloud-aiplatform reads per batchRead request
RUN_SCHEMA = "system.ExperimentRun"


class _Reader:
    def __init__(
        self, shared: Clients, config: ConnectionConfig, context: Mapping[str, Any]
    ) -> None:
        self.shared, self.config, self.context = shared, config, context
        self.base = f"{config.effective_vertex_url}/{API_VERSION}/"

    def get(self, path: str, params: list[tuple[str, str]] | None = None) -> dict[str, Any]:
        def attempt(timeout: float) -> dict[str, Any]:
            with self.shared.rest_session() as session:
                response = session.get(self.base + path, params=params, timeout=timeout)
            if response.status_code != 200:
                raise api_exceptions.from_http_response(response)
            body = response.json()
            return body if isinstance(body, dict) else {}

        return call_with_retries(
            attempt,
            policy=self.config.retry,
            what=f"metrics {path}",
            context={**self.context, "what": path},
        )

    def run_id(self, experiment: str) -> str | None:
        store = experiment.rsplit("/contexts/", 1)[0]
        query = f'schema_title="{RUN_SCHEMA}" AND parent_contexts:"{experiment}"'
        runs = self.get(f"{store}/contexts", [("filter", query)]).get("contexts") or []
        return str(runs[0]["name"]).rsplit("/", 1)[-1] if runs else None

    def series_names(self, run: str) -> dict[str, str]:
        """Time series resource name → metric name (``/train_total_loss``…), all pages."""
        names: dict[str, str] = {}
        token = ""
        while True:
            page = self.get(f"{run}/timeSeries", [("pageToken", token)] if token else None)
            for series in page.get("tensorboardTimeSeries") or []:
                names[str(series["name"])] = str(series.get("displayName", ""))
            token = str(page.get("nextPageToken") or "")
            if not token:
                return names

    def points(self, tensorboard: str, names: dict[str, str]) -> dict[str, tuple[MetricPoint, ...]]:
        by_id = {name.rsplit("/", 1)[-1]: metric for name, metric in names.items()}
        ordered = list(names)
        result: dict[str, tuple[MetricPoint, ...]] = {}
        for start in range(0, len(ordered), BATCH_SIZE):
            batch = [("timeSeries", name) for name in ordered[start : start + BATCH_SIZE]]
            body = self.get(f"{tensorboard}:batchRead", batch)
            for data in body.get("timeSeriesData") or []:
                metric = by_id.get(str(data.get("tensorboardTimeSeriesId")), "")
                result[metric] = tuple(
                    MetricPoint(
                        step=int(point.get("step", 0)),
                        value=float((point.get("scalar") or {}).get("value", 0.0)),
                    )
                    for point in data.get("values") or []
                )
        return result


def _run_candidates(experiment_id: str, run_context_id: str) -> list[str]:
    # Google's notebooks strip the "{experiment}-" prefix of the run context to name the
    # TensorBoard run (older ones used the context id as is); try both.
    candidates = []
    if run_context_id.startswith(experiment_id + "-"):
        candidates.append(run_context_id[len(experiment_id) + 1 :])
    candidates.append(run_context_id)
    return candidates


def _series(reader: _Reader, experiment: str) -> tuple[dict[str, tuple[MetricPoint, ...]], str]:
    context = reader.get(experiment)
    tensorboard = str((context.get("metadata") or {}).get("backing_tensorboard_resource") or "")
    if not tensorboard:
        return {}, "the job's experiment has no TensorBoard"
    run_context = reader.run_id(experiment)
    if run_context is None:
        return {}, "the job's experiment has no run yet"
    experiment_id = experiment.rsplit("/", 1)[-1]
    for run_id in _run_candidates(experiment_id, run_context):
        run = f"{tensorboard}/experiments/{experiment_id}/runs/{run_id}"
        try:
            names = reader.series_names(run)
        except PermanentGeminiError:
            continue
        return reader.points(tensorboard, names), ""
    return {}, f"no TensorBoard run found for {run_context}"


def read_metrics(
    job: RemoteTuningJob | str, *, config: ConnectionConfig | None = None
) -> TuningMetrics:
    """Training (and validation) loss and token accuracy per step, as far as the job got."""
    from app.genai.gateway import get_tuning  # the gateway re-exports this module

    config = resolve(config)
    if isinstance(job, str):
        job = get_tuning(job, config=config)
    note = "the job has not started yet"
    series: dict[str, tuple[MetricPoint, ...]] = {}
    if job.experiment:
        context = context_for(config, operation="metrics", what=job.experiment)
        try:
            series, note = _series(
                _Reader(clients(config, context), config, context), job.experiment
            )
        except PermanentGeminiError as error:
            note = f"metrics unavailable: {error.raw or error.kind}"
    return TuningMetrics(
        job_name=job.name,
        source="tensorboard" if series else "progress",
        series=series,
        completed_steps=job.completed_steps,
        total_steps=job.total_steps,
        note="" if series else note,
    )
