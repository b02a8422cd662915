"""The gateway against an independent Vertex-compatible server (not our emulator), configured only
through settings: base URLs behind a proxy path, project, region, bucket and a static token.
Nothing in the gateway may assume it talks to the emulator."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import Engine

from app.config import get_settings
from app.genai import connection, gateway
from app.genai.client import forget_clients
from app.genai.types import SUCCEEDED
from tests.support import free_port

JOB = "projects/987654321/locations/europe-west4/tuningJobs/555"
ENDPOINT = "projects/987654321/locations/europe-west4/endpoints/777"


class StubVertex(BaseHTTPRequestHandler):
    """Just enough of Vertex and Cloud Storage, written from the public REST reference."""

    log: list[dict[str, Any]] = []

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _record(self) -> str:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.log.append(
            {
                "method": self.command,
                "path": self.path,
                "authorization": self.headers.get("Authorization"),
                "body": body,
            }
        )
        return self.path.split("?", 1)[0]

    def do_POST(self) -> None:
        path = self._record()
        if path == "/storage-proxy/upload/storage/v1/b/acme-tuning/o":
            self._answer(
                200,
                {
                    "name": "tunedesk/train.jsonl",
                    "bucket": "acme-tuning",
                    "size": "42",
                    "md5Hash": "abc=",
                },
            )
        elif path == "/vertex-proxy/v1beta1/projects/acme-prod/locations/europe-west4/tuningJobs":
            self._answer(
                200,
                {
                    "name": JOB,
                    "state": "JOB_STATE_QUEUED",
                    "createTime": "2026-01-02T03:04:05Z",
                    "baseModel": "gemini-3.5-flash",
                },
            )
        elif path.endswith("/publishers/google/models/gemini-3.5-flash:generateContent") or (
            path.endswith(f"{ENDPOINT}:generateContent")
        ):
            self._answer(
                200,
                {
                    "candidates": [
                        {
                            "content": {"role": "model", "parts": [{"text": "stub answer"}]},
                            "finishReason": "STOP",
                            "index": 0,
                        }
                    ],
                    "usageMetadata": {
                        "promptTokenCount": 3,
                        "candidatesTokenCount": 2,
                        "totalTokenCount": 5,
                    },
                    "modelVersion": "stub-model",
                },
            )
        elif path.endswith(":countTokens"):
            self._answer(200, {"totalTokens": 7})
        else:
            self._answer(404, {"error": {"code": 404, "message": "no", "status": "NOT_FOUND"}})

    def do_GET(self) -> None:
        path = self._record()
        if path == f"/vertex-proxy/v1beta1/{JOB}":
            self._answer(
                200,
                {
                    "name": JOB,
                    "state": "JOB_STATE_SUCCEEDED",
                    "baseModel": "gemini-3.5-flash",
                    "experiment": "projects/987654321/locations/europe-west4/"
                    "metadataStores/default/contexts/exp-1",
                    "tunedModel": {
                        "model": "projects/987654321/locations/europe-west4/models/1@1",
                        "endpoint": ENDPOINT,
                    },
                    "tuningDataStats": {
                        "supervisedTuningDataStats": {
                            "tuningDatasetExampleCount": "100",
                            "tuningStepCount": "30",
                            "totalBillableTokenCount": "4000",
                        }
                    },
                    "tuningJobMetadata": {"completedStepCount": "30", "completedEpochCount": "3"},
                    "labels": {"tunedesk_job": "42"},
                },
            )
        else:
            self._answer(
                404, {"error": {"code": 404, "message": "Not found.", "status": "NOT_FOUND"}}
            )


@pytest.fixture
def stub_vertex() -> Iterator[str]:
    StubVertex.log = []
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), StubVertex)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join()


@pytest.fixture
def configured(stub_vertex: str, db: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "TUNEDESK_GEMINI_MODE": "vertex",
        "TUNEDESK_VERTEX_PROJECT": "acme-prod",
        "TUNEDESK_VERTEX_LOCATION": "europe-west4",
        "TUNEDESK_VERTEX_BUCKET": "acme-tuning",
        "TUNEDESK_VERTEX_BASE_URL": f"{stub_vertex}/vertex-proxy",
        "TUNEDESK_STORAGE_BASE_URL": f"{stub_vertex}/storage-proxy",
        "TUNEDESK_VERTEX_ACCESS_TOKEN": "proxy-token-123",
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    connection.invalidate_cache()
    forget_clients()
    yield
    get_settings.cache_clear()
    connection.invalidate_cache()
    forget_clients()


@pytest.mark.usefixtures("configured")
def test_the_whole_gateway_works_against_another_server() -> None:
    uploaded = gateway.upload_training_file(b'{"contents": []}\n', object_name="train.jsonl")
    assert uploaded.uri == "gs://acme-tuning/tunedesk/train.jsonl"
    job = gateway.launch_tuning(
        base_model="gemini-3.5-flash",
        training_uri=uploaded.uri,
        display_name="acme",
        adapter_size=8,
        labels={"tunedesk_job": "42"},
    )
    assert job.name == JOB
    assert job.state == "JOB_STATE_QUEUED"
    polled = gateway.get_tuning(job.name)
    assert polled.state == SUCCEEDED
    assert polled.tuned_endpoint == ENDPOINT
    assert (polled.completed_steps, polled.total_steps) == (30, 30)
    assert gateway.generate(model=ENDPOINT, turns=[("user", "hi")]).text == "stub answer"
    assert gateway.count_tokens(model="gemini-3.5-flash", text="hi") == 7
    metrics = gateway.read_metrics(polled)
    assert metrics.source == "progress"
    assert "404" in metrics.note

    # google-cloud-storage also reads the bucket's metadata in a background thread (for its
    # telemetry); that request comes whenever it comes, so it is left out of the sequence.
    paths = [
        path
        for path in (entry["path"].split("?")[0] for entry in StubVertex.log)
        if path != "/storage-proxy/storage/v1/b/acme-tuning"
    ]
    assert paths[:5] == [
        "/storage-proxy/upload/storage/v1/b/acme-tuning/o",
        "/vertex-proxy/v1beta1/projects/acme-prod/locations/europe-west4/tuningJobs",
        f"/vertex-proxy/v1beta1/{JOB}",
        f"/vertex-proxy/v1beta1/{ENDPOINT}:generateContent",
        "/vertex-proxy/v1beta1/projects/acme-prod/locations/europe-west4/publishers/google/"
        "models/gemini-3.5-flash:countTokens",
    ]
    assert f"/vertex-proxy/v1/{polled.experiment}" in paths  # metrics: same base, same token
    [launch_request] = [e for e in StubVertex.log if e["path"].endswith("/tuningJobs")]
    launch = json.loads(launch_request["body"])
    assert launch["supervisedTuningSpec"]["hyperParameters"] == {
        "adapterSize": "ADAPTER_SIZE_EIGHT"
    }
    assert all(e["authorization"] == "Bearer proxy-token-123" for e in StubVertex.log)
