"""The emulator's memory: tuning jobs, stored files and the emulated clock.

With a folder (``tunedesk emulator`` and ``make run`` use ``<var_dir>/emulator/``) jobs and files
are written through to disk, so restarting the emulator keeps them; without one (some tests)
everything lives in memory. Resumable upload sessions are kept in memory only: an upload cut by
a restart starts again, as it would after a long pause on Cloud Storage.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote


def _crc32c_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC32C_TABLE = _crc32c_table()


def crc32c_b64(data: bytes) -> str:
    """Cloud Storage's ``crc32c`` field: CRC-32C (Castagnoli), big-endian, base64."""
    crc = 0xFFFFFFFF
    table = _CRC32C_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return base64.b64encode((crc ^ 0xFFFFFFFF).to_bytes(4, "big")).decode()


def md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()


def rfc3339(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(timestamp)) + (
        f".{int((timestamp % 1) * 1_000_000):06d}Z"
    )


def _write_json(path: Path, payload: Any) -> None:
    # Write aside and rename: a crash never leaves a half-written job behind.
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    draft.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(draft, path)


@dataclass
class JobRecord:
    job_id: str
    project_number: str
    location: str
    created_at: float  # wall-clock seconds
    time_scale: float  # emulated seconds per real second, fixed when the job was created
    clock_at_create: float  # the emulated clock offset at creation (tests advance it)
    base_model: str
    display_name: str
    description: str
    labels: dict[str, str]
    training_uri: str
    validation_uri: str
    epochs: int
    learning_rate_multiplier: float
    adapter_size: int
    export_last_checkpoint_only: bool
    total_steps: int
    examples: int
    truncated: bool
    tokens_per_epoch: int
    dataset_error: str  # empty when the data is usable
    stats: dict[str, Any]
    endpoint_id: str
    model_id: str
    fail_at_step: int | None = None
    cancel_at: float | None = None  # emulated seconds after creation when cancel was asked
    request: dict[str, Any] = field(default_factory=dict)
    # Where the tuned model's endpoints answer: "us"/"eu" for Gemini 3.x, else the region.
    serving_location: str = ""
    model_version: int = 1
    # Continuous tuning: {"tunedModelName", "checkpointId", "baseModel"} and the parent job.
    pre_tuned: dict[str, Any] = field(default_factory=dict)
    parent_job_id: str = ""
    default_checkpoint: str | None = None  # None: the last checkpoint (Vertex's default)
    kms_key: str = ""

    @property
    def prefix(self) -> str:
        return f"projects/{self.project_number}/locations/{self.location}"

    @property
    def serving_prefix(self) -> str:
        location = self.serving_location or self.location
        return f"projects/{self.project_number}/locations/{location}"

    @property
    def model_name(self) -> str:
        return f"{self.prefix}/models/{self.model_id}"

    @property
    def name(self) -> str:
        return f"{self.prefix}/tuningJobs/{self.job_id}"

    @property
    def has_validation(self) -> bool:
        return bool(self.validation_uri)

    def checkpoint_endpoint_id(self, epoch: int) -> str:
        """Each checkpoint has an endpoint of its own: the final one the job's, the others ids
        derived from it (vertex-2026.md §5: "each checkpoint is deployed to its own endpoint")."""
        last = 1 if self.export_last_checkpoint_only else self.epochs
        return self.endpoint_id if epoch >= last else f"{self.endpoint_id}{epoch:02d}"


@dataclass
class StoredObject:
    bucket: str
    name: str
    size: int
    content_type: str
    md5: str
    crc32c: str
    created_at: float
    generation: str
    metadata: dict[str, str] = field(default_factory=dict)

    def resource(self) -> dict[str, Any]:
        """The Cloud Storage JSON API object resource (int64 fields as strings)."""
        object_id = f"{self.bucket}/{self.name}/{self.generation}"
        stamp = rfc3339(self.created_at)
        return {
            "kind": "storage#object",
            "id": object_id,
            "name": self.name,
            "bucket": self.bucket,
            "selfLink": f"/storage/v1/b/{self.bucket}/o/{quote(self.name, safe='')}",
            "generation": self.generation,
            "metageneration": "1",
            "contentType": self.content_type,
            "size": str(self.size),
            "md5Hash": self.md5,
            "crc32c": self.crc32c,
            "etag": self.md5,
            "storageClass": "STANDARD",
            "timeCreated": stamp,
            "updated": stamp,
            "metadata": self.metadata,
        }


@dataclass
class ResumableUpload:
    bucket: str
    name: str
    content_type: str
    metadata: dict[str, str]
    data: bytearray = field(default_factory=bytearray)


class EmulatorState:
    """Thread-safe store; every public method takes the lock."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self.lock = threading.RLock()
        self._jobs: dict[str, JobRecord] = {}
        self._objects: dict[tuple[str, str], StoredObject] = {}
        self._object_data: dict[tuple[str, str], bytes] = {}
        self.uploads: dict[str, ResumableUpload] = {}
        self.clock_offset = 0.0
        if root is not None:
            self._load(root)

    # --- persistence --------------------------------------------------------------------------
    def _load(self, root: Path) -> None:
        for path in sorted((root / "jobs").glob("*.json")):
            record = JobRecord(**json.loads(path.read_text(encoding="utf-8")))
            self._jobs[record.job_id] = record
        for path in sorted((root / "objects").glob("*/*.meta.json")):
            stored = StoredObject(**json.loads(path.read_text(encoding="utf-8")))
            self._objects[(stored.bucket, stored.name)] = stored
        clock = root / "clock.json"
        if clock.exists():
            self.clock_offset = float(json.loads(clock.read_text())["offset"])

    def _object_path(self, bucket: str, name: str) -> Path:
        assert self.root is not None
        return self.root / "objects" / quote(bucket, safe="") / quote(name, safe="")

    # --- clock --------------------------------------------------------------------------------
    def advance_clock(self, seconds: float) -> None:
        with self.lock:
            self.clock_offset += seconds
            if self.root is not None:
                _write_json(self.root / "clock.json", {"offset": self.clock_offset})

    def elapsed(self, job: JobRecord, now: float | None = None) -> float:
        """Emulated seconds since the job was created."""
        real = max(0.0, (now or time.time()) - job.created_at)
        return real * job.time_scale + (self.clock_offset - job.clock_at_create)

    # --- jobs ---------------------------------------------------------------------------------
    def save_job(self, job: JobRecord) -> None:
        with self.lock:
            self._jobs[job.job_id] = job
            if self.root is not None:
                _write_json(self.root / "jobs" / f"{job.job_id}.json", asdict(job))

    def job(self, job_id: str) -> JobRecord | None:
        with self.lock:
            return self._jobs.get(job_id)

    def jobs(self) -> list[JobRecord]:
        with self.lock:
            return sorted(self._jobs.values(), key=lambda j: (j.created_at, j.job_id), reverse=True)

    def job_for_model(self, model_id: str) -> JobRecord | None:
        """The job whose tuned model is ``model_id`` (at its newest version)."""
        with self.lock:
            found = [job for job in self._jobs.values() if job.model_id == model_id]
            return max(found, key=lambda job: job.model_version) if found else None

    def job_for_model_version(self, model_id: str, version: int) -> JobRecord | None:
        with self.lock:
            return next(
                (
                    job
                    for job in self._jobs.values()
                    if job.model_id == model_id and job.model_version == version
                ),
                None,
            )

    def job_for_endpoint(self, endpoint_id: str) -> JobRecord | None:
        """The job whose tuned model (or one of its checkpoints) is served at this endpoint."""
        with self.lock:
            for job in self._jobs.values():
                if endpoint_id == job.endpoint_id or (
                    len(endpoint_id) == len(job.endpoint_id) + 2
                    and endpoint_id.startswith(job.endpoint_id)
                ):
                    return job
            return None

    # --- objects ------------------------------------------------------------------------------
    def put_object(
        self,
        bucket: str,
        name: str,
        data: bytes,
        content_type: str,
        metadata: dict[str, str] | None = None,
    ) -> StoredObject:
        stored = StoredObject(
            bucket=bucket,
            name=name,
            size=len(data),
            content_type=content_type or "application/octet-stream",
            md5=md5_b64(data),
            crc32c=crc32c_b64(data),
            created_at=time.time(),
            generation=str(time.time_ns() // 1000),
            metadata=dict(metadata or {}),
        )
        with self.lock:
            self._objects[(bucket, name)] = stored
            if self.root is None:
                self._object_data[(bucket, name)] = data
            else:
                path = self._object_path(bucket, name)
                path.parent.mkdir(parents=True, exist_ok=True)
                draft = path.with_name(f".{path.name}.tmp")
                draft.write_bytes(data)
                os.replace(draft, path)
                _write_json(path.with_name(path.name + ".meta.json"), asdict(stored))
        return stored

    def object(self, bucket: str, name: str) -> StoredObject | None:
        with self.lock:
            return self._objects.get((bucket, name))

    def objects(self) -> list[StoredObject]:
        with self.lock:
            return sorted(self._objects.values(), key=lambda o: o.created_at, reverse=True)

    def read_object(self, bucket: str, name: str) -> bytes | None:
        with self.lock:
            if (bucket, name) not in self._objects:
                return None
            if self.root is None:
                return self._object_data[(bucket, name)]
            return self._object_path(bucket, name).read_bytes()

    def delete_object(self, bucket: str, name: str) -> bool:
        with self.lock:
            if self._objects.pop((bucket, name), None) is None:
                return False
            self._object_data.pop((bucket, name), None)
            if self.root is not None:
                path = self._object_path(bucket, name)
                path.unlink(missing_ok=True)
                path.with_name(path.name + ".meta.json").unlink(missing_ok=True)
            return True

    def read_uri(self, uri: str) -> bytes | None:
        """The bytes behind ``gs://bucket/name``, or None if there is no such object."""
        if not uri.startswith("gs://") or "/" not in uri[5:]:
            return None
        bucket, name = uri[5:].split("/", 1)
        return self.read_object(bucket, name)
