"""Contract tests: the gateway through the real google-genai and google-cloud-storage SDKs,
over a real socket, against the emulator. Each test checks the request paths and bodies against
the wire facts (reference/genai.md §4, §10) and what the gateway returns."""

from __future__ import annotations

import base64
import hashlib
import re
import time
from typing import Any

import pytest

from app.genai import gateway
from app.genai.errors import NotFoundGeminiError
from app.genai.types import CANCELLED, CANCELLING, PENDING, SUCCEEDED, RemoteTuningJob
from tests.emulator_fixture import EmulatorServer
from tests.genai.data import example, jsonl, support_examples

AUTH = {"Authorization": "Bearer test-token"}
PREFIX = "/v1beta1/projects/tunedesk-test/locations/us-central1"


def launch(
    emulator: EmulatorServer,
    *,
    count: int = 40,
    labels: dict[str, str] | None = None,
    **options: Any,
) -> RemoteTuningJob:
    config = emulator.config()
    uploaded = gateway.upload_training_file(
        support_examples(count), object_name="c/train.jsonl", config=config
    )
    return gateway.launch_tuning(
        base_model=options.pop("base_model", "gemini-3.5-flash"),
        training_uri=uploaded.uri,
        display_name="Support replies v1",
        labels=labels or {"tunedesk_job": "1"},
        config=config,
        **options,
    )


def raw_job(emulator: EmulatorServer, name: str) -> dict[str, Any]:
    response = emulator.http.get(f"/v1beta1/{name}", headers=AUTH)
    assert response.status_code == 200
    return dict(response.json())


class TestUploadTrainingFile:
    def test_small_file_is_one_multipart_request(self, emulator: EmulatorServer) -> None:
        data = support_examples(5)
        uploaded = gateway.upload_training_file(
            data, object_name="project-3/v1/train.jsonl", config=emulator.config()
        )
        assert uploaded.uri == "gs://tunedesk-test-bucket/tunedesk/project-3/v1/train.jsonl"
        assert uploaded.size == len(data)
        assert uploaded.md5_hash == base64.b64encode(hashlib.md5(data).digest()).decode()
        [request] = emulator.requests("storage.upload")
        assert request["path"] == "/upload/storage/v1/b/tunedesk-test-bucket/o"
        assert request["query"]["uploadType"] == ["multipart"]
        assert request["authorized"]
        assert request["content_type"].startswith("multipart/related")
        stored = emulator.http.get(
            "/storage/v1/b/tunedesk-test-bucket/o/tunedesk%2Fproject-3%2Fv1%2Ftrain.jsonl",
            params={"alt": "media"},
            headers=AUTH,
        )
        assert stored.content == data

    def test_chunked_upload_is_resumable(self, emulator: EmulatorServer) -> None:
        data = support_examples(9000)[: 600 * 1024]
        uploaded = gateway.upload_training_file(
            data, object_name="big.jsonl", chunk_size=256 * 1024, config=emulator.config()
        )
        assert uploaded.size == len(data)
        [start] = emulator.requests("storage.upload")
        assert start["query"]["uploadType"] == ["resumable"]
        chunks = emulator.requests("storage.upload_chunk")
        assert [c["size"] for c in chunks] == [256 * 1024, 256 * 1024, len(data) - 512 * 1024]
        stored = emulator.http.get(
            "/storage/v1/b/tunedesk-test-bucket/o/tunedesk%2Fbig.jsonl",
            params={"alt": "media"},
            headers=AUTH,
        )
        assert stored.content == data

    def test_simple_media_upload_route(self, emulator: EmulatorServer) -> None:
        response = emulator.http.post(
            "/upload/storage/v1/b/any-bucket/o",
            params={"uploadType": "media", "name": "a.jsonl"},
            content=b"{}\n",
            headers={**AUTH, "Content-Type": "application/jsonl"},
        )
        assert response.status_code == 200
        body = response.json()
        assert body["name"] == "a.jsonl"
        assert body["size"] == "3"

    def test_unsafe_object_names_are_refused(self, emulator: EmulatorServer) -> None:
        with pytest.raises(ValueError, match="safe Cloud Storage object name"):
            gateway.upload_training_file(
                b"x", object_name="../etc/passwd", config=emulator.config()
            )
        assert emulator.counters().get("storage.upload") is None


class TestLaunchTuning:
    def test_request_body_matches_the_vertex_wire_format(self, emulator: EmulatorServer) -> None:
        config = emulator.config()
        train = gateway.upload_training_file(
            support_examples(20), object_name="t.jsonl", config=config
        )
        valid = gateway.upload_training_file(
            support_examples(4), object_name="v.jsonl", config=config
        )
        job = gateway.launch_tuning(
            base_model="gemini-3.5-flash",
            training_uri=train.uri,
            validation_uri=valid.uri,
            epochs=3,
            learning_rate_multiplier=1.5,
            adapter_size=4,
            display_name="Support replies v1",
            description="Dataset version 1",
            labels={"tunedesk_job": "42"},
            config=config,
        )
        [request] = emulator.requests("tuning.create")
        assert request["path"] == f"{PREFIX}/tuningJobs"
        assert request["authorized"]
        assert request["json"] == {
            "baseModel": "gemini-3.5-flash",
            "supervisedTuningSpec": {
                "trainingDatasetUri": "gs://tunedesk-test-bucket/tunedesk/t.jsonl",
                "validationDatasetUri": "gs://tunedesk-test-bucket/tunedesk/v.jsonl",
                "hyperParameters": {
                    "epochCount": 3,
                    "learningRateMultiplier": 1.5,
                    "adapterSize": "ADAPTER_SIZE_FOUR",
                },
            },
            "tunedModelDisplayName": "Support replies v1",
            "description": "Dataset version 1",
            "labels": {"tunedesk_job": "42"},
        }
        assert job.state == PENDING
        assert job.labels == {"tunedesk_job": "42"}
        assert job.name.startswith("projects/")
        assert "/locations/us-central1/tuningJobs/" in job.name
        assert (job.epochs, job.learning_rate_multiplier, job.adapter_size) == (3, 1.5, 4)
        assert job.validation_uri.endswith("/v.jsonl")
        assert job.display_name == "Support replies v1"

    def test_unset_hyperparameters_are_not_sent(self, emulator: EmulatorServer) -> None:
        launch(emulator)
        [request] = emulator.requests("tuning.create")
        spec = request["json"]["supervisedTuningSpec"]
        assert "hyperParameters" not in spec
        assert "validationDatasetUri" not in spec


class TestGetTuning:
    def test_polls_by_name_and_reads_progress(self, emulator: EmulatorServer) -> None:
        emulator.settings(time_scale=0)  # frozen: the test moves the clock
        job = launch(emulator, count=40, epochs=2)
        emulator.advance(15 + 25 + 4 * 5)
        polled = gateway.get_tuning(job.name, config=emulator.config())
        [request] = emulator.requests("tuning.get")
        assert request["path"] == f"/v1beta1/{job.name}"
        assert request["size"] == 0
        assert polled.state == "JOB_STATE_RUNNING"
        assert polled.sub_state == "TUNING_JOB_STATE_TUNING"
        assert (polled.completed_steps, polled.total_steps) == (5, 10)
        assert polled.data_stats is not None
        assert polled.data_stats.example_count == 40
        assert polled.experiment
        assert polled.experiment.endswith(f"tuning-experiment-{job.name[-19:]}")

    def test_the_service_sends_int64_as_strings(self, emulator: EmulatorServer) -> None:
        job = launch(emulator, epochs=3)
        emulator.advance(10_000)
        body = raw_job(emulator, job.name)
        assert body["state"] == SUCCEEDED
        assert body["supervisedTuningSpec"]["hyperParameters"]["epochCount"] == "3"
        stats = body["tuningDataStats"]["supervisedTuningDataStats"]
        assert stats["tuningStepCount"] == "15"
        assert stats["tuningDatasetExampleCount"] == "40"
        assert body["tuningJobMetadata"] == {"completedEpochCount": "3", "completedStepCount": "15"}
        assert all(isinstance(c["step"], str) for c in body["tunedModel"]["checkpoints"])
        polled = gateway.get_tuning(job.name, config=emulator.config())
        assert polled.total_steps == 15
        assert polled.completed_epochs == 3
        assert [(c.epoch, c.step) for c in polled.checkpoints] == [(1, 5), (2, 10), (3, 15)]
        assert polled.tuned_endpoint
        assert "/endpoints/" in polled.tuned_endpoint
        assert polled.tuned_model
        assert polled.tuned_model.endswith("@1")


class TestListTunings:
    def test_label_filter_is_sent_and_honoured(self, emulator: EmulatorServer) -> None:
        wanted = launch(emulator, labels={"tunedesk_job": "77"})
        launch(emulator, labels={"tunedesk_job": "78"})
        found = gateway.list_tunings(labels={"tunedesk_job": "77"}, config=emulator.config())
        assert [job.name for job in found] == [wanted.name]
        [request] = emulator.requests("tuning.list")
        assert request["path"] == f"{PREFIX}/tuningJobs"
        assert request["query"]["filter"] == ['labels.tunedesk_job="77"']
        assert request["query"]["pageSize"] == ["100"]

    def test_follows_page_tokens(
        self, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(gateway, "LIST_PAGE_SIZE", 2)
        names = {launch(emulator, labels={"tunedesk_job": "page"}).name for _ in range(3)}
        found = gateway.list_tunings(labels={"tunedesk_job": "page"}, config=emulator.config())
        assert {job.name for job in found} == names
        requests = emulator.requests("tuning.list")
        assert len(requests) == 2
        assert "pageToken" in requests[1]["query"]

    def test_a_server_ignoring_the_filter_cannot_return_other_jobs(
        self, emulator: EmulatorServer
    ) -> None:
        launch(emulator, labels={"tunedesk_job": "5", "team": "a"})
        other = launch(emulator, labels={"tunedesk_job": "5", "team": "b"})
        found = gateway.list_tunings(
            labels={"tunedesk_job": "5", "team": "b"}, config=emulator.config()
        )
        assert [job.name for job in found] == [other.name]

    def test_unsupported_filters_are_refused_by_the_emulator(
        self, emulator: EmulatorServer
    ) -> None:
        response = emulator.http.get(
            f"{PREFIX}/tuningJobs", params={"filter": "labels.x ~ 1"}, headers=AUTH
        )
        assert response.status_code == 400
        assert response.json()["error"]["status"] == "INVALID_ARGUMENT"


class TestCancelTuning:
    def test_cancel_moves_through_cancelling_to_cancelled(self, emulator: EmulatorServer) -> None:
        emulator.settings(time_scale=0)
        job = launch(emulator)
        emulator.advance(60)
        gateway.cancel_tuning(job.name, config=emulator.config())
        [request] = emulator.requests("tuning.cancel")
        assert request["path"] == f"/v1beta1/{job.name}:cancel"
        assert request["size"] == 0
        assert gateway.get_tuning(job.name, config=emulator.config()).state == CANCELLING
        emulator.advance(10)
        cancelled = gateway.get_tuning(job.name, config=emulator.config())
        assert cancelled.state == CANCELLED
        assert cancelled.error_code == 1
        assert cancelled.completed_steps == 5
        assert cancelled.tuned_endpoint is None


class TestGenerate:
    def test_base_model_request_and_answer(self, emulator: EmulatorServer) -> None:
        answer = gateway.generate(
            model="gemini-3.5-flash",
            turns=[("user", "Q1"), ("model", "A1"), ("user", "Q2")],
            system_instruction="Be brief.",
            temperature=0.2,
            max_output_tokens=200,
            thinking_level="minimal",
            config=emulator.config(),
        )
        [request] = emulator.requests("generate")
        assert request["path"] == (
            f"{PREFIX}/publishers/google/models/gemini-3.5-flash:generateContent"
        )
        assert request["json"] == {
            "contents": [
                {"parts": [{"text": "Q1"}], "role": "user"},
                {"parts": [{"text": "A1"}], "role": "model"},
                {"parts": [{"text": "Q2"}], "role": "user"},
            ],
            "systemInstruction": {"parts": [{"text": "Be brief."}], "role": "user"},
            # google-genai dumps thinkingConfig's members in snake_case.
            "generationConfig": {
                "temperature": 0.2,
                "maxOutputTokens": 200,
                "thinkingConfig": {"thinking_level": "MINIMAL"},
            },
        }
        assert "Q2" in answer.text
        assert answer.finish_reason == "STOP"
        assert answer.prompt_tokens > 0
        assert answer.output_tokens > 0
        assert answer.thinking_tokens == 0
        assert answer.latency_ms > 0
        assert answer.model == "gemini-3.5-flash"

    def test_tuned_endpoint_answers_from_the_closest_example(
        self, emulator: EmulatorServer
    ) -> None:
        job = launch(emulator, count=30)
        emulator.advance(10_000)
        endpoint = gateway.get_tuning(job.name, config=emulator.config()).tuned_endpoint
        assert endpoint is not None
        question = [("user", "how can I change my refund? case 12")]
        tuned = gateway.generate(model=endpoint, turns=question, config=emulator.config())
        base = gateway.generate(model="gemini-3.5-flash", turns=question, config=emulator.config())
        assert tuned.text == "Open Settings, choose Refund and follow step 12."
        assert base.text != tuned.text
        assert emulator.requests("generate")[0]["path"] == f"/v1beta1/{endpoint}:generateContent"

    def test_a_tuned_3x_model_is_asked_on_its_multi_region_path_with_minimal_thinking(
        self, emulator: EmulatorServer
    ) -> None:
        """``serving.ask_tuned`` (shared by evaluations and a playground): the endpoint's own
        location (``us``), never the tuning region, and the minimum thinking for its base."""
        from app.genai import serving

        job = launch(emulator, count=30, base_model="gemini-3.5-flash")
        emulator.advance(10_000)
        done = gateway.get_tuning(job.name, config=emulator.config())
        endpoint, checkpoint = done.tuned_endpoint or "", done.checkpoints[0].endpoint
        assert re.match(r"^projects/\d+/locations/us/endpoints/\d+$", endpoint)
        assert "/locations/us/endpoints/" in checkpoint  # checkpoints answer there too
        emulator.reset()
        answer = serving.ask_tuned(
            endpoint=endpoint,
            base_model="gemini-3.5-flash",
            turns=[("user", "how can I change my refund? case 12")],
            config=emulator.config(),
        )
        assert answer.text == "Open Settings, choose Refund and follow step 12."
        [request] = emulator.requests("generate")
        assert request["path"] == f"/v1beta1/{endpoint}:generateContent"
        assert request["json"]["generationConfig"]["thinkingConfig"] == {
            "thinking_level": "MINIMAL"
        }
        regional = endpoint.replace("/locations/us/", "/locations/us-central1/")
        with pytest.raises(NotFoundGeminiError):  # the regional path does not serve it
            gateway.generate(model=regional, turns=[("user", "hi")], config=emulator.config())

    def test_is_thread_safe_and_shares_one_client(self, emulator: EmulatorServer) -> None:
        from concurrent.futures import ThreadPoolExecutor

        from app.genai.client import clients_for

        emulator.settings(latency_ms=200)
        config = emulator.config()
        questions = [f"Question number {i}?" for i in range(16)]
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(
                pool.map(
                    lambda q: (
                        gateway.generate(
                            model="gemini-3.5-flash", turns=[("user", q)], config=config
                        ).text
                    ),
                    questions,
                )
            )
        elapsed = time.monotonic() - started
        assert all(q in a for q, a in zip(questions, answers, strict=True))
        assert emulator.counters()["generate"] == 16  # nothing sent twice
        assert elapsed < 16 * 0.2 / 2  # the calls really ran side by side
        assert clients_for(config) is clients_for(config)

    def test_max_output_tokens_cuts_the_answer(self, emulator: EmulatorServer) -> None:
        answer = gateway.generate(
            model="gemini-3.1-flash-lite",
            turns=[("user", "Tell me more")],
            max_output_tokens=5,
            config=emulator.config(),
        )
        assert answer.finish_reason == "MAX_TOKENS"
        assert answer.output_tokens <= 5


class TestCountTokens:
    def test_request_and_total(self, emulator: EmulatorServer) -> None:
        total = gateway.count_tokens(
            model="gemini-3.5-flash",
            text="Hello world",
            system_instruction="Be brief.",
            config=emulator.config(),
        )
        [request] = emulator.requests("count_tokens")
        assert request["path"] == f"{PREFIX}/publishers/google/models/gemini-3.5-flash:countTokens"
        assert request["json"] == {
            "contents": [{"parts": [{"text": "Hello world"}], "role": "user"}],
            "systemInstruction": {"parts": [{"text": "Be brief."}], "role": "user"},
        }
        # The emulator's estimate: about 4 Latin characters per token, each symbol one token.
        assert total == 8

    def test_japanese_counts_per_character(self, emulator: EmulatorServer) -> None:
        assert (
            gateway.count_tokens(
                model="gemini-3.5-flash", turns=[("user", "請求書")], config=emulator.config()
            )
            == 3
        )


class TestReadMetrics:
    def test_follows_the_experiment_to_the_tensorboard(self, emulator: EmulatorServer) -> None:
        config = emulator.config()
        train = gateway.upload_training_file(
            support_examples(40), object_name="m.jsonl", config=config
        )
        valid = gateway.upload_training_file(
            support_examples(8), object_name="mv.jsonl", config=config
        )
        job = gateway.launch_tuning(
            base_model="gemini-3.5-flash",
            training_uri=train.uri,
            validation_uri=valid.uri,
            epochs=2,
            display_name="m",
            config=config,
        )
        emulator.advance(10_000)
        job = gateway.get_tuning(job.name, config=config)
        metrics = gateway.read_metrics(job, config=config)
        assert metrics.source == "tensorboard"
        assert metrics.note == ""
        assert [p.step for p in metrics.train_loss] == list(range(1, 11))
        assert len(metrics.train_accuracy) == 10
        assert metrics.eval_loss[-1].step == 10
        assert all(0 <= p.value <= 1 for p in metrics.train_accuracy)
        experiment = job.experiment or ""
        [context] = emulator.requests("metrics.context")
        assert context["path"] == f"/v1/{experiment}"
        [runs] = emulator.requests("metrics.contexts")
        store = experiment.rsplit("/contexts/", 1)[0]
        assert runs["path"] == f"/v1/{store}/contexts"
        assert runs["query"]["filter"] == [
            f'schema_title="system.ExperimentRun" AND parent_contexts:"{experiment}"'
        ]
        [series] = emulator.requests("metrics.time_series")
        assert series["path"].endswith(
            f"/experiments/{experiment.rsplit('/', 1)[-1]}/runs/tuning/timeSeries"
        )
        [batch] = emulator.requests("metrics.batch_read")
        assert batch["path"].endswith(":batchRead")
        assert len(batch["query"]["timeSeries"]) == 6

    def test_a_job_that_has_not_started_has_progress_only(self, emulator: EmulatorServer) -> None:
        emulator.settings(time_scale=0)
        job = launch(emulator)
        metrics = gateway.read_metrics(job.name, config=emulator.config())
        assert metrics.source == "progress"
        assert metrics.series == {}
        assert "not started" in metrics.note
        assert not [r for r in emulator.requests() if r["route"].startswith("metrics.")]

    def test_only_completed_steps_have_points(self, emulator: EmulatorServer) -> None:
        emulator.settings(time_scale=0)
        job = launch(emulator, count=40, epochs=2)
        emulator.advance(40 + 4 * 3)
        metrics = gateway.read_metrics(job.name, config=emulator.config())
        assert [p.step for p in metrics.train_loss] == [1, 2, 3]
        assert (metrics.completed_steps, metrics.total_steps) == (3, 10)
        assert metrics.eval_loss == ()  # no validation set


def test_every_request_carried_the_bearer_token(emulator: EmulatorServer) -> None:
    job = launch(emulator)
    gateway.get_tuning(job.name, config=emulator.config())
    gateway.generate(model="gemini-3.5-flash", turns=[("user", "hi")], config=emulator.config())
    assert all(request["authorized"] for request in emulator.requests())


def test_data_stats_report_truncated_and_dropped_examples(emulator: EmulatorServer) -> None:
    emulator.settings(max_example_tokens=60)
    records = [example(f"Question {i}?", f"Answer {i}.") for i in range(10)]
    records[3] = {"contents": [{"role": "user", "parts": [{"text": "No answer here"}]}]}
    records[6] = example("Long " * 100, "Short answer.")
    config = emulator.config()
    uploaded = gateway.upload_training_file(jsonl(records), object_name="s.jsonl", config=config)
    job = gateway.launch_tuning(
        base_model="gemini-3.5-flash",
        training_uri=uploaded.uri,
        epochs=4,
        display_name="stats",
        config=config,
    )
    emulator.advance(10_000)
    stats = gateway.get_tuning(job.name, config=config).data_stats
    assert stats is not None
    assert stats.example_count == 10
    assert stats.total_steps == 5
    assert stats.affected_indices == (4, 7)
    assert stats.affected_count == 2
    assert "no model turn" in stats.affected_reasons[0]
    assert "truncated" in stats.affected_reasons[1]
    assert stats.affected_examples[1][0] == 7
    assert stats.billable_tokens
    assert stats.input_tokens
    assert stats.input_tokens.maximum
