"""``tuningJobs``: create, get, list (with label filters and paging) and cancel, as Vertex does.

Create validates what Vertex validates at request time (base model, adapter size, dataset URI,
labels) and answers at once with a PENDING job; the dataset itself is read now but judged when
the job reaches the end of PROCESSING_DATASET, like the real service.
"""

from __future__ import annotations

import base64
import re
import secrets
import time
from typing import Any

from app.emulator import catalog, timeline
from app.emulator.datasets import DatasetError, DatasetReport, read_dataset, supervised_stats
from app.emulator.http import ApiError, Call, Reply, failed_precondition, project_number
from app.emulator.http import either_case as field
from app.emulator.state import JobRecord

DEFAULT_EPOCHS = 3
MAX_PAGE_SIZE = 100
_LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
# One term of a list filter (AIP-160 subset Vertex job lists document for labels).
_FILTER_TERM = re.compile(
    r'^labels\.(?P<key>[a-z][a-z0-9_-]*)\s*(?:(?P<op>=|!=)\s*(?P<value>"[^"]*"|[a-z0-9_-]+)|:\s*\*)$'
    r"|^state\s*(?P<sop>=|!=)\s*(?P<state>JOB_STATE_[A-Z_]+)$"
)


def _new_id() -> str:
    return str(10**18 + secrets.randbelow(9 * 10**18))


def _check_labels(labels: Any) -> dict[str, str]:
    if not isinstance(labels, dict):
        raise ApiError(400, "labels must be a map of strings.")
    for key, value in labels.items():
        valid_value = isinstance(value, str) and _LABEL_VALUE.match(value)
        if not _LABEL_KEY.match(str(key)) or not valid_value:
            raise ApiError(
                400,
                f"Label {key!r}={value!r} is invalid: keys start with a lowercase "
                "letter; keys and values use only lowercase letters, digits, "
                "underscores and dashes (at most 63 characters).",
            )
    return {str(k): str(v) for k, v in labels.items()}


def _adapter_size(model: catalog.ModelSpec, raw: Any) -> int:
    if raw in (None, "", "ADAPTER_SIZE_UNSPECIFIED"):
        return model.default_adapter_size
    size = catalog.ADAPTER_SIZE_NAMES.get(str(raw))
    if size is None:
        raise ApiError(
            400,
            f"Invalid value at 'tuning_job.supervised_tuning_spec.hyper_parameters"
            f".adapter_size': {raw}.",
        )
    if size not in model.adapter_sizes:
        info = {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "ADAPTER_SIZE_NOT_SUPPORTED",
            "domain": "aiplatform.googleapis.com",
            "metadata": {
                "base_model": model.model_id,
                "adapter_size": str(size),
                "supported_adapter_sizes": ",".join(map(str, model.adapter_sizes)),
            },
        }
        raise ApiError(
            400, "The adapter size is not supported for this base model.", details=[info]
        )
    return size


def _retired(model: catalog.ModelSpec) -> ApiError:
    # Google's exact wording for a retired base model is not documented (uncertain); the
    # emulator refuses it at request time, as for any unsupported base model, naming the date.
    supported = ", ".join(catalog.tunable_models())
    return ApiError(
        400,
        f"Base model {model.model_id} was retired on {model.retired_on} and is no longer "
        f"supported for tuning. Supported base models: {supported}.",
    )


def _check_region(model: catalog.ModelSpec, location: str) -> None:
    """Gemini 3.x tunes only in us-central1 and europe-west4 (vertex-2026.md §1)."""
    if not model.tunes_in(location):
        regions = ", ".join(model.tuning_regions)
        raise ApiError(
            400,
            f"Tuning {model.model_id} is not supported in location {location}. "
            f"Supported locations: {regions}.",
        )


def _base_model(name: str, location: str) -> catalog.ModelSpec:
    model = catalog.spec_for(name)
    if model is not None and model.tunable and model.retired():
        raise _retired(model)
    if not name or model is None or not model.tunable:
        supported = ", ".join(catalog.tunable_models())
        raise ApiError(
            400,
            f"Base model {name or '(none)'} is not supported for tuning. "
            f"Supported base models: {supported}.",
        )
    _check_region(model, location)
    return model


_MODEL_NAME = re.compile(
    r"^projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/models/(?P<model>[0-9]+)"
    r"(?:@(?P<version>[0-9]+))?$"
)


def _parent(call: Call, pre: dict[str, Any]) -> tuple[JobRecord, str]:
    """The job behind a ``preTunedModel`` and the checkpoint to continue from."""
    name = str(field(pre, "tunedModelName") or "")
    match = _MODEL_NAME.match(name)
    state = call.emulator.state
    parent = None
    if match and project_number(match["project"]) == project_number(call.params["project"]):
        version = match["version"]
        parent = (
            state.job_for_model_version(match["model"], int(version))
            if version
            else state.job_for_model(match["model"])
        )
    if parent is None or timeline.snapshot(parent, state.elapsed(parent)).state != (
        "JOB_STATE_SUCCEEDED"
    ):
        raise ApiError(404, f"Model {name or '(none)'} not found.")
    points = [p["checkpointId"] for p in timeline.checkpoints(parent)]
    checkpoint = str(field(pre, "checkpointId") or timeline.default_checkpoint(parent))
    if checkpoint not in points:
        raise ApiError(
            400,
            f"Checkpoint {checkpoint} does not exist for model {name}. "
            f"Available checkpoints: {', '.join(points)}.",
        )
    return parent, checkpoint


def _continued(call: Call, body: dict[str, Any]) -> tuple[catalog.ModelSpec, JobRecord, str]:
    """Continuous tuning (vertex-2026.md §4): only from a supervised-tuned model of a model
    Google lists for it, with the same CMEK key as the original job."""
    parent, checkpoint = _parent(call, body["preTunedModel"] or {})
    model = catalog.spec_for(parent.base_model)
    if model is None or not model.continuous_tuning:
        raise ApiError(
            400, f"Continuous tuning is not supported for base model {parent.base_model}."
        )
    if model.retired():
        raise _retired(model)
    _check_region(model, call.params["location"])
    kms = str(field(body.get("encryptionSpec") or {}, "kmsKeyName") or "")
    if kms != parent.kms_key:
        raise failed_precondition(
            "The continuous tuning job must use the same encryption key as the original "
            f"tuning job ({parent.kms_key or 'no customer-managed key'})."
        )
    return model, parent, checkpoint


def _source(
    call: Call, body: dict[str, Any]
) -> tuple[catalog.ModelSpec, JobRecord | None, str | None]:
    """The base model, or the pre-tuned model (and checkpoint) a continued job starts from."""
    if "preTunedModel" in body:
        if body.get("baseModel"):
            # One union in the API (source_model): both set is a malformed request.
            raise ApiError(400, "Only one of base_model and pre_tuned_model can be set.")
        return _continued(call, body)
    return _base_model(str(body.get("baseModel") or ""), call.params["location"]), None, None


def _dataset_uri(spec: dict[str, Any], key: str, required: bool) -> str:
    uri = str(spec.get(key) or "")
    if not uri and not required:
        return ""
    if not uri.startswith("gs://") or not uri.endswith(".jsonl"):
        field = "training_dataset_uri" if key == "trainingDatasetUri" else "validation_dataset_uri"
        raise ApiError(
            400, f"{field} should be a GCS object of type JSONL, got {uri or '(empty)'}."
        )
    return uri


def _read(call: Call, uri: str, limit: int, validation: bool) -> tuple[DatasetReport | None, str]:
    data = call.emulator.state.read_uri(uri)
    if data is None:
        return None, (
            f"Cannot read {uri}: the object does not exist or the tuning service "
            "account has no access to it."
        )
    try:
        return read_dataset(data, max_example_tokens=limit, validation=validation), ""
    except DatasetError as error:
        return None, f"Dataset validation failed for {uri}: {error}"


def create(call: Call) -> Reply:
    body = call.json()
    model, parent, checkpoint = _source(call, body)
    spec = body.get("supervisedTuningSpec")
    if not isinstance(spec, dict):
        raise ApiError(400, "supervised_tuning_spec is required.")
    training = _dataset_uri(spec, "trainingDatasetUri", required=True)
    validation = _dataset_uri(spec, "validationDatasetUri", required=False)
    params = spec.get("hyperParameters") or {}
    try:
        epochs = int(params.get("epochCount") or DEFAULT_EPOCHS)
        multiplier = float(params.get("learningRateMultiplier") or 1.0)
    except (TypeError, ValueError):
        raise ApiError(400, "epoch_count and learning_rate_multiplier must be numbers.") from None
    if not 1 <= epochs <= 100 or multiplier <= 0:
        raise ApiError(
            400,
            "epoch_count must be between 1 and 100 and learning_rate_multiplier must be positive.",
        )
    adapter = _adapter_size(model, params.get("adapterSize"))
    labels = _check_labels(body.get("labels") or {})
    display_name = str(body.get("tunedModelDisplayName") or "")
    if len(display_name) > 128:
        raise ApiError(400, "tuned_model_display_name must be at most 128 characters.")
    settings = call.emulator.controls.settings
    limit = settings.max_example_tokens or model.max_example_tokens
    report, error = _read(call, training, limit, validation=False)
    if validation and not error:
        _unused, error = _read(call, validation, limit, validation=True)
    job = _new_job(
        call,
        model,
        report,
        error,
        epochs=epochs,
        multiplier=multiplier,
        adapter=adapter,
        limit=limit,
    )
    job.display_name, job.labels = display_name, labels
    job.training_uri, job.validation_uri = training, validation
    job.description = str(body.get("description") or "")
    job.export_last_checkpoint_only = bool(spec.get("exportLastCheckpointOnly", False))
    if call.emulator.controls.take("tuning.create", ("fail_job",)):
        job.fail_at_step = max(1, job.total_steps // 2)
    job.request = body
    job.serving_location = model.serving_location(job.location)
    job.kms_key = str(field(body.get("encryptionSpec") or {}, "kmsKeyName") or "")
    if parent is not None:
        newest = call.emulator.state.job_for_model(parent.model_id) or parent
        _inherit(
            job, parent, checkpoint or "", named=bool(display_name), latest=newest.model_version
        )
    call.emulator.state.save_job(job)
    return Reply(body=timeline.resource(job, call.emulator.state.elapsed(job)))


def _inherit(
    job: JobRecord, parent: JobRecord, checkpoint: str, *, named: bool, latest: int
) -> None:
    """A continued job: a new version of the parent's model, unless it gets a display name of
    its own, which creates a new model at version 1 (REST ``tunedModelDisplayName``; §4)."""
    job.pre_tuned = {
        "tunedModelName": f"{parent.model_name}@{parent.model_version}",
        "checkpointId": checkpoint,
        "baseModel": parent.base_model,
    }
    job.parent_job_id = parent.job_id
    if not named:
        job.model_id, job.model_version = parent.model_id, latest + 1


def _new_job(
    call: Call,
    model: catalog.ModelSpec,
    report: DatasetReport | None,
    error: str,
    *,
    epochs: int,
    multiplier: float,
    adapter: int,
    limit: int,
) -> JobRecord:
    examples = len(report.examples) if report else 0
    steps = timeline.step_count(examples, epochs)
    return JobRecord(
        job_id=_new_id(),
        project_number=project_number(call.params["project"]),
        location=call.params["location"],
        created_at=time.time(),
        time_scale=call.emulator.controls.settings.time_scale,
        clock_at_create=call.emulator.state.clock_offset,
        base_model=model.model_id,
        display_name="",
        description="",
        labels={},
        training_uri="",
        validation_uri="",
        epochs=epochs,
        learning_rate_multiplier=multiplier,
        adapter_size=adapter,
        export_last_checkpoint_only=False,
        total_steps=steps,
        examples=examples,
        truncated=bool(report and report.truncated_count),
        tokens_per_epoch=report.billable_tokens if report else 0,
        dataset_error=error,
        stats=supervised_stats(report, steps=steps, max_example_tokens=limit) if report else {},
        endpoint_id=_new_id(),
        model_id=_new_id(),
    )


def _job(call: Call) -> JobRecord:
    job = call.emulator.state.job(call.params["job"])
    if job is None or job.project_number != project_number(call.params["project"]):
        raise ApiError(
            404,
            f"TuningJob projects/{call.params['project']}/locations/"
            f"{call.params['location']}/tuningJobs/{call.params['job']} not found.",
        )
    return job


def get(call: Call) -> Reply:
    job = _job(call)
    return Reply(body=timeline.resource(job, call.emulator.state.elapsed(job)))


def _matches(job: JobRecord, state: str, terms: list[re.Match[str]]) -> bool:
    for term in terms:
        if term["state"]:
            if (state == term["state"]) != (term["sop"] == "="):
                return False
            continue
        key = term["key"]
        if term["op"] is None:
            if key not in job.labels:
                return False
            continue
        wanted = term["value"].strip('"')
        if (job.labels.get(key) == wanted) != (term["op"] == "="):
            return False
    return True


def parse_filter(text: str) -> list[re.Match[str]]:
    terms = []
    for raw in re.split(r"\s+AND\s+", text.strip()) if text.strip() else []:
        match = _FILTER_TERM.match(raw.strip())
        if match is None:
            raise ApiError(
                400,
                f"Unsupported filter expression: {raw.strip()!r}. Use "
                'labels.KEY="VALUE", labels.KEY:* or state=JOB_STATE_…, joined '
                "by AND.",
            )
        terms.append(match)
    return terms


def _page(call: Call) -> tuple[int, int]:
    try:
        size = int(call.query.get("pageSize") or MAX_PAGE_SIZE)
        token = call.query.get("pageToken") or ""
        offset = int(base64.urlsafe_b64decode(token.encode()).decode()) if token else 0
    except ValueError:
        raise ApiError(400, "Invalid page_size or page_token.") from None
    return min(max(1, size), MAX_PAGE_SIZE), offset


def list_jobs(call: Call) -> Reply:
    terms = parse_filter(call.query.get("filter", ""))
    size, offset = _page(call)
    number = project_number(call.params["project"])
    state = call.emulator.state
    matching = []
    for job in state.jobs():
        if job.project_number != number or job.location != call.params["location"]:
            continue
        body = timeline.resource(job, state.elapsed(job))
        if _matches(job, body["state"], terms):
            matching.append(body)
    page: dict[str, Any] = {"tuningJobs": matching[offset : offset + size]}
    if offset + size < len(matching):
        page["nextPageToken"] = base64.urlsafe_b64encode(str(offset + size).encode()).decode()
    return Reply(body=page)


def cancel(call: Call) -> Reply:
    job = _job(call)
    state = call.emulator.state
    elapsed = state.elapsed(job)
    current = timeline.snapshot(job, elapsed).state
    if current in timeline.TERMINAL_STATES:
        raise failed_precondition(
            f"Cannot cancel tuning job {job.name} because it is in state {current}."
        )
    if job.cancel_at is None:
        job.cancel_at = elapsed
        state.save_job(job)
    return Reply(body={})
