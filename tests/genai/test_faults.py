"""Reliability: transient failures are retried within bounds, permanent ones are not and explain
themselves, and a tuning job is never created twice. Faults are injected in the emulator; the
gateway runs through the real SDKs over HTTP."""

from __future__ import annotations

import pickle
import time

import pytest

from app.genai import gateway
from app.genai.config import RetryPolicy
from app.genai.errors import (
    AuthGeminiError,
    NotFoundGeminiError,
    PermanentGeminiError,
    TransientGeminiError,
)
from app.genai.types import FAILED
from app.i18n import use_locale
from tests.emulator_fixture import EmulatorServer
from tests.genai.data import support_examples

QUESTION = [("user", "How do I change my invoice address?")]


def upload(emulator: EmulatorServer) -> str:
    return gateway.upload_training_file(
        support_examples(16), object_name="f.jsonl", config=emulator.config()
    ).uri


class TestTransientFailures:
    def test_two_429_then_success_is_retried_and_succeeds(self, emulator: EmulatorServer) -> None:
        emulator.fault("generate", status=429, retry_after=0.2, count=2)
        started = time.monotonic()
        answer = gateway.generate(
            model="gemini-3.5-flash", turns=QUESTION, config=emulator.config()
        )
        elapsed = time.monotonic() - started
        assert "invoice address" in answer.text
        assert emulator.counters()["generate"] == 3
        assert elapsed >= 0.4  # Retry-After (0.2 s) honoured before each retry

    def test_5xx_is_retried(self, emulator: EmulatorServer) -> None:
        emulator.fault("count_tokens", status=503, count=1)
        emulator.fault("count_tokens", status=500, count=1)
        assert (
            gateway.count_tokens(model="gemini-3.5-flash", text="hi", config=emulator.config()) == 1
        )
        assert emulator.counters()["count_tokens"] == 3

    def test_a_timeout_is_retried_within_a_bounded_total_time(
        self, emulator: EmulatorServer
    ) -> None:
        emulator.fault("count_tokens", kind="slow", delay_ms=3000)
        policy = RetryPolicy(
            attempts=3, initial_delay=0.05, max_delay=0.1, total_seconds=5, timeout=0.5
        )
        started = time.monotonic()
        tokens = gateway.count_tokens(
            model="gemini-3.5-flash", text="hello", config=emulator.config(retry=policy)
        )
        assert tokens == 2
        assert emulator.counters()["count_tokens"] == 2
        assert time.monotonic() - started < 2.0  # did not wait for the slow answer

    def test_timeouts_stop_when_the_time_budget_is_spent(self, emulator: EmulatorServer) -> None:
        emulator.fault("count_tokens", kind="slow", delay_ms=2000, count=20)
        policy = RetryPolicy(
            attempts=20, initial_delay=0.05, max_delay=0.1, total_seconds=1.5, timeout=0.5
        )
        started = time.monotonic()
        with pytest.raises(TransientGeminiError) as raised:
            gateway.count_tokens(
                model="gemini-3.5-flash", text="x", config=emulator.config(retry=policy)
            )
        assert time.monotonic() - started < 2.5
        assert raised.value.kind == "timeout"
        assert raised.value.params["attempts"] >= 2
        assert "did not answer in time" in raised.value.user_message

    def test_retries_stop_after_the_allowed_attempts(self, emulator: EmulatorServer) -> None:
        emulator.fault("tuning.list", status=503, count=10)
        with pytest.raises(TransientGeminiError) as raised:
            gateway.list_tunings(
                config=emulator.config(
                    retry=RetryPolicy(
                        attempts=3, initial_delay=0.01, max_delay=0.02, total_seconds=10, timeout=5
                    )
                )
            )
        assert emulator.counters()["tuning.list"] == 3
        assert raised.value.user_message == (
            "Google Cloud is busy or cannot be reached right now. Try again in a few minutes."
        )
        assert raised.value.params["attempts"] == 3
        assert raised.value.raw.startswith("503 UNAVAILABLE")

    def test_a_refused_connection_is_transient(self, emulator: EmulatorServer) -> None:
        from tests.support import free_port

        nowhere = f"http://127.0.0.1:{free_port()}"
        config = emulator.config(
            vertex_base_url=nowhere,
            retry=RetryPolicy(
                attempts=2, initial_delay=0.01, max_delay=0.02, total_seconds=5, timeout=2
            ),
        )
        with pytest.raises(TransientGeminiError) as raised:
            gateway.count_tokens(model="gemini-3.5-flash", text="x", config=config)
        assert raised.value.kind == "unavailable"
        assert raised.value.safe_to_repeat


class TestPermanentFailures:
    def test_unsupported_adapter_size_is_not_retried_and_readable(
        self, emulator: EmulatorServer
    ) -> None:
        uri = upload(emulator)
        with pytest.raises(PermanentGeminiError) as raised:
            gateway.launch_tuning(
                base_model="gemini-3.5-flash",
                training_uri=uri,
                adapter_size=32,
                display_name="too big",
                config=emulator.config(),
            )
        assert emulator.counters()["tuning.create"] == 1
        error = raised.value
        assert error.user_message == (
            "The adapter size 32 is not available for gemini-3.5-flash; choose 1, 2, 4, 8, or 16."
        )
        assert error.raw == (
            "400 INVALID_ARGUMENT: The adapter size is not supported for this base model."
        )
        with use_locale("ja"):
            assert error.user_message == (
                "アダプターサイズ 32 は gemini-3.5-flash では使用できません。"
                "1、2、4、8、または16 のいずれかを選択してください。"
            )

    def test_a_retired_base_model_is_refused_at_create(self, emulator: EmulatorServer) -> None:
        with pytest.raises(PermanentGeminiError) as raised:
            gateway.launch_tuning(
                base_model="gemini-2.5-flash",
                training_uri=upload(emulator),
                display_name="old",
                config=emulator.config(),
            )
        assert emulator.counters()["tuning.create"] == 1
        assert "was retired on 2026-10-20" in raised.value.raw
        assert "gemini-3.5-flash" in raised.value.raw  # Vertex lists what it tunes today

    def test_gemini_3_is_tuned_only_in_its_regions(self, emulator: EmulatorServer) -> None:
        uri = upload(emulator)
        with pytest.raises(PermanentGeminiError) as raised:
            gateway.launch_tuning(
                base_model="gemini-3.5-flash",
                training_uri=uri,
                display_name="tokyo",
                config=emulator.config(location="asia-northeast1"),
            )
        assert "Supported locations: us-central1, europe-west4" in raised.value.raw

    def test_an_injected_400_is_not_retried(self, emulator: EmulatorServer) -> None:
        emulator.fault("generate", status=400, message="Request contains an invalid argument.")
        with pytest.raises(PermanentGeminiError) as raised:
            gateway.generate(model="gemini-3.5-flash", turns=QUESTION, config=emulator.config())
        assert emulator.counters()["generate"] == 1
        assert raised.value.user_message == (
            "Vertex AI refused the request: Request contains an invalid argument."
        )

    def test_an_unknown_job_is_not_found(self, emulator: EmulatorServer) -> None:
        name = "projects/123456/locations/us-central1/tuningJobs/42"
        with pytest.raises(NotFoundGeminiError) as raised:
            gateway.get_tuning(name, config=emulator.config())
        assert emulator.counters()["tuning.get"] == 1
        assert name in raised.value.user_message
        assert "tunedesk-test" in raised.value.user_message

    def test_rejected_credentials_are_an_auth_error(self, emulator: EmulatorServer) -> None:
        emulator.settings(required_token="the-right-token")
        with pytest.raises(AuthGeminiError) as raised:
            gateway.count_tokens(model="gemini-3.5-flash", text="x", config=emulator.config())
        assert raised.value.kind == "unauthenticated"
        assert raised.value.http_status == 401
        assert emulator.counters()["count_tokens"] == 1
        assert "Connection page" in raised.value.user_message

    def test_gemini_3_takes_a_level_not_a_budget(self, emulator: EmulatorServer) -> None:
        # Gemini 3+ documents the thinking level; a budget there is refused (the emulator takes
        # the stricter view where Google's behaviour is uncertain).
        with pytest.raises(PermanentGeminiError) as raised:
            gateway.generate(
                model="gemini-3.5-flash",
                turns=QUESTION,
                thinking_budget=0,
                config=emulator.config(),
            )
        assert "set thinking_level" in raised.value.raw
        lowest = gateway.generate(
            model="gemini-3.5-flash",
            turns=QUESTION,
            thinking_level="minimal",
            config=emulator.config(),
        )
        assert lowest.thinking_tokens == 0

    def test_a_retired_model_no_longer_answers(self, emulator: EmulatorServer) -> None:
        with pytest.raises(NotFoundGeminiError) as raised:
            gateway.generate(model="gemini-2.5-pro", turns=QUESTION, config=emulator.config())
        assert raised.value.kind == "model_not_found"

    def test_unknown_model_is_named(self, emulator: EmulatorServer) -> None:
        with pytest.raises(NotFoundGeminiError) as raised:
            gateway.generate(model="palm-2", turns=QUESTION, config=emulator.config())
        assert raised.value.user_message == (
            "The model palm-2 is not available in us-central1. Choose another model or region."
        )

    def test_cancelling_a_finished_job_explains_why_not(self, emulator: EmulatorServer) -> None:
        job = gateway.launch_tuning(
            base_model="gemini-3.5-flash",
            training_uri=upload(emulator),
            display_name="done",
            config=emulator.config(),
        )
        emulator.advance(10_000)
        with pytest.raises(PermanentGeminiError) as raised:
            gateway.cancel_tuning(job.name, config=emulator.config())
        assert raised.value.kind == "already_ended"

    def test_missing_settings_stop_before_any_request(self, emulator: EmulatorServer) -> None:
        with pytest.raises(PermanentGeminiError) as raised:
            gateway.list_tunings(config=emulator.config(project="", bucket=""))
        assert raised.value.user_message == (
            "The Gemini connection is not complete: set the "
            "project and bucket on the Connection page."
        )
        assert emulator.counters() == {}

    def test_errors_survive_pickling_for_celery(self, emulator: EmulatorServer) -> None:
        emulator.fault("generate", status=400, message="Bad.")
        with pytest.raises(PermanentGeminiError) as raised:
            gateway.generate(model="gemini-3.5-flash", turns=QUESTION, config=emulator.config())
        copy = pickle.loads(pickle.dumps(raised.value))
        assert type(copy) is PermanentGeminiError
        assert (copy.kind, copy.raw, copy.user_message) == (
            raised.value.kind,
            raised.value.raw,
            raised.value.user_message,
        )


class TestLaunchNeverCreatesTwoJobs:
    def test_a_429_on_create_is_repeated(self, emulator: EmulatorServer) -> None:
        emulator.fault("tuning.create", status=429, retry_after=0.1)
        job = gateway.launch_tuning(
            base_model="gemini-3.5-flash",
            training_uri=upload(emulator),
            display_name="once",
            labels={"tunedesk_job": "9"},
            config=emulator.config(),
        )
        assert emulator.counters()["tuning.create"] == 2
        found = gateway.list_tunings(labels={"tunedesk_job": "9"}, config=emulator.config())
        assert [j.name for j in found] == [job.name]

    def test_a_500_on_create_is_not_repeated(self, emulator: EmulatorServer) -> None:
        emulator.fault("tuning.create", status=500)
        with pytest.raises(TransientGeminiError) as raised:
            gateway.launch_tuning(
                base_model="gemini-3.5-flash",
                training_uri=upload(emulator),
                display_name="maybe",
                config=emulator.config(),
            )
        assert emulator.counters()["tuning.create"] == 1
        assert raised.value.maybe_created
        # The server answered: the words say so (not "the connection broke") and say that
        # TuneDesk looks the job up itself.
        assert raised.value.kind == "maybe_created_server"
        assert "HTTP 500" in raised.value.user_message
        assert "connection" not in raised.value.user_message
        assert "looks it up by its label" in raised.value.user_message

    def test_a_timed_out_create_is_found_by_its_label(self, emulator: EmulatorServer) -> None:
        emulator.fault("tuning.create", kind="slow", delay_ms=800)
        uri = upload(emulator)
        config = emulator.config(
            retry=RetryPolicy(
                attempts=4, initial_delay=0.05, max_delay=0.1, total_seconds=10, timeout=0.3
            )
        )
        with pytest.raises(TransientGeminiError) as raised:
            gateway.launch_tuning(
                base_model="gemini-3.5-flash",
                training_uri=uri,
                display_name="slow",
                labels={"tunedesk_job": "10"},
                config=config,
            )
        assert raised.value.maybe_created
        assert raised.value.kind == "maybe_created"  # no answer came: the connection did break
        assert emulator.counters()["tuning.create"] == 1
        time.sleep(0.8)  # the emulator finishes creating it, as Vertex would
        found = gateway.list_tunings(labels={"tunedesk_job": "10"}, config=emulator.config())
        assert len(found) == 1


class TestJobFailures:
    def test_a_job_can_be_made_to_fail(self, emulator: EmulatorServer) -> None:
        emulator.fault("tuning.create", kind="fail_job")
        job = gateway.launch_tuning(
            base_model="gemini-3.5-flash",
            training_uri=upload(emulator),
            epochs=4,
            display_name="doomed",
            config=emulator.config(),
        )
        emulator.advance(10_000)
        failed = gateway.get_tuning(job.name, config=emulator.config())
        assert failed.state == FAILED
        assert failed.error_code == 13
        assert failed.completed_steps == 4
        assert failed.total_steps == 8
        assert "internal error at step 4" in (failed.error_message or "")
        assert failed.tuned_endpoint is None

    def test_a_malformed_training_file_fails_like_vertex(self, emulator: EmulatorServer) -> None:
        emulator.settings(time_scale=0)
        config = emulator.config()
        data = support_examples(3) + b'\n{"contents": [oops]}\n'
        uri = gateway.upload_training_file(data, object_name="bad.jsonl", config=config).uri
        job = gateway.launch_tuning(
            base_model="gemini-3.5-flash", training_uri=uri, display_name="bad", config=config
        )
        assert job.state == "JOB_STATE_PENDING"  # Vertex accepts it, then reads the file
        emulator.advance(30)
        assert gateway.get_tuning(job.name, config=config).sub_state == (
            "TUNING_JOB_STATE_PROCESSING_DATASET"
        )
        emulator.advance(10)
        failed = gateway.get_tuning(job.name, config=config)
        assert failed.state == FAILED
        assert failed.error_code == 3
        assert failed.error_message == (
            f"Dataset validation failed for {uri}: Line 4 is not valid JSON (Expecting value at "
            "column 15)."
        )

    def test_a_missing_training_file_fails_the_job(self, emulator: EmulatorServer) -> None:
        job = gateway.launch_tuning(
            base_model="gemini-3.5-flash",
            training_uri="gs://tunedesk-test-bucket/nothing.jsonl",
            display_name="missing",
            config=emulator.config(),
        )
        emulator.advance(10_000)
        failed = gateway.get_tuning(job.name, config=emulator.config())
        assert failed.state == FAILED
        assert "does not exist" in (failed.error_message or "")
