"""The emulator's own behaviour: job lifecycle on its clock, persistence across restarts, simulated
answers and training curves, Google-shaped errors, and its control API."""

from __future__ import annotations

import math
from pathlib import Path

import google_crc32c
import pytest

from app.emulator import curves
from app.emulator.state import crc32c_b64
from app.genai import gateway
from app.genai.types import SUCCEEDED
from tests.emulator_fixture import EmulatorServer
from tests.genai.data import JAPANESE, support_examples

AUTH = {"Authorization": "Bearer t"}


class TestLifecycle:
    def test_pending_running_substates_then_succeeded(self, emulator: EmulatorServer) -> None:
        emulator.settings(time_scale=0)
        config = emulator.config()
        uri = gateway.upload_training_file(
            support_examples(40), object_name="l.jsonl", config=config
        ).uri
        job = gateway.launch_tuning(
            base_model="gemini-3.5-flash",
            training_uri=uri,
            epochs=3,
            display_name="life",
            config=config,
        )
        seen = []
        for seconds in (0, 20, 30, 40, 15, 30):  # emulated seconds 0, 20, 50, 90, 105, 135
            emulator.advance(seconds)
            polled = gateway.get_tuning(job.name, config=config)
            seen.append(
                (
                    polled.state.removeprefix("JOB_STATE_"),
                    (polled.sub_state or "").removeprefix("TUNING_JOB_STATE_"),
                    polled.completed_steps,
                )
            )
        assert seen == [
            ("PENDING", "", None),
            ("RUNNING", "PROCESSING_DATASET", None),
            ("RUNNING", "TUNING", 2),
            ("RUNNING", "TUNING", 12),
            ("RUNNING", "POST_PROCESSING", 15),
            ("SUCCEEDED", "", 15),
        ]

    def test_about_100_examples_take_minutes_at_scale_1_and_seconds_at_60(self) -> None:
        from app.emulator import timeline

        steps = timeline.step_count(100, 3)
        total = (
            timeline.PENDING_SECONDS
            + timeline.DATASET_SECONDS
            + steps * timeline.STEP_SECONDS
            + timeline.POST_SECONDS
        )
        assert 120 <= total <= 300  # a few minutes at time scale 1
        assert total / 60 <= 5  # a few seconds at time scale 60

    def test_jobs_survive_a_restart(self, tmp_path: Path) -> None:
        first = EmulatorServer(tmp_path, time_scale=0).start()
        try:
            config = first.config()
            uri = gateway.upload_training_file(
                support_examples(8), object_name="r.jsonl", config=config
            ).uri
            job = gateway.launch_tuning(
                base_model="gemini-3.5-flash",
                training_uri=uri,
                display_name="kept",
                labels={"tunedesk_job": "3"},
                config=config,
            )
            first.advance(50)
        finally:
            first.stop()
        second = EmulatorServer(tmp_path, time_scale=0).start()
        try:
            polled = gateway.get_tuning(job.name, config=second.config())
            assert polled.display_name == "kept"
            assert polled.completed_steps == 2
            second.advance(10_000)
            assert gateway.get_tuning(job.name, config=second.config()).state == SUCCEEDED
            assert [f["name"] for f in second.state()["files"]] == ["tunedesk/r.jsonl"]
        finally:
            second.stop()


class TestAnswers:
    def test_japanese_question_gets_a_japanese_answer(self, emulator: EmulatorServer) -> None:
        question = [("user", "返品の方法を教えてください")]
        answer = gateway.generate(
            model="gemini-3.5-flash", turns=question, config=emulator.config()
        )
        assert "返品の方法を教えてください" in answer.text
        assert answer.text.endswith("ください。")
        again = gateway.generate(model="gemini-3.5-flash", turns=question, config=emulator.config())
        assert again.text == answer.text  # deterministic

    def test_tuned_japanese_model_answers_from_its_examples(self, emulator: EmulatorServer) -> None:
        config = emulator.config()
        uri = gateway.upload_training_file(JAPANESE, object_name="ja.jsonl", config=config).uri
        job = gateway.launch_tuning(
            base_model="gemini-3.5-flash", training_uri=uri, display_name="ja", config=config
        )
        emulator.advance(10_000)
        endpoint = gateway.get_tuning(job.name, config=config).tuned_endpoint or ""
        question = [("user", "パスワードを忘れてしまいました")]
        answer = gateway.generate(model=endpoint, turns=question, config=config)
        assert answer.text == "ログイン画面の「パスワードをお忘れの方」から再設定してください。"

    def test_checkpoint_endpoints_answer_too(self, emulator: EmulatorServer) -> None:
        config = emulator.config()
        uri = gateway.upload_training_file(JAPANESE, object_name="ck.jsonl", config=config).uri
        job = gateway.launch_tuning(
            base_model="gemini-3.5-flash",
            training_uri=uri,
            epochs=2,
            display_name="ck",
            config=config,
        )
        emulator.advance(10_000)
        first = gateway.get_tuning(job.name, config=config).checkpoints[0]
        answer = gateway.generate(
            model=first.endpoint, turns=[("user", "請求書の再発行")], config=config
        )
        assert "再発行できます" in answer.text


def _inputs(**overrides: object) -> curves.CurveInputs:
    values: dict[str, object] = {
        "seed": "1",
        "examples": 100,
        "epochs": 3,
        "total_steps": 38,
        "learning_rate_multiplier": 1.0,
        "adapter_size": 4,
        "has_validation": True,
        "truncated": False,
        "tokens_per_epoch": 5000,
    }
    values.update(overrides)
    return curves.CurveInputs(**values)  # type: ignore[arg-type]


class TestCurves:
    def test_a_reasonable_setup_decreases(self) -> None:
        series = curves.series(_inputs(), 38)
        train = [v for _s, v in series[curves.TRAIN_LOSS]]
        evals = [v for _s, v in series[curves.EVAL_LOSS]]
        assert train[0] > 1.5
        assert train[-1] < 0.6
        assert sum(train[-5:]) < sum(train[:5]) / 3
        assert evals[-1] == min(evals)  # validation keeps improving to the end
        accuracy = [v for _s, v in series[curves.TRAIN_ACCURACY]]
        assert accuracy[-1] > accuracy[0]

    def test_far_too_many_epochs_turn_validation_loss_upward(self) -> None:
        series = curves.series(_inputs(examples=30, epochs=20, total_steps=75), 75)
        evals = [v for _s, v in series[curves.EVAL_LOSS]]
        best = evals.index(min(evals))
        assert best < len(evals) // 2
        assert evals[-1] > min(evals) * 1.5
        train = [v for _s, v in series[curves.TRAIN_LOSS]]
        assert train[-1] < train[len(train) // 2]  # training loss still falls: memorising

    def test_truncated_examples_start_with_a_very_high_loss(self) -> None:
        normal = curves.series(_inputs(), 1)[curves.TRAIN_LOSS][0][1]
        truncated = curves.series(_inputs(truncated=True), 1)[curves.TRAIN_LOSS][0][1]
        assert truncated > 5
        assert truncated > 2.5 * normal

    def test_points_never_change_as_the_job_progresses(self) -> None:
        early = curves.series(_inputs(), 10)[curves.TRAIN_LOSS]
        late = curves.series(_inputs(), 38)[curves.TRAIN_LOSS]
        assert late[:10] == early
        assert all(not math.isnan(v) for _s, v in late)


class TestWireBehaviour:
    def test_errors_have_googles_shape(self, emulator: EmulatorServer) -> None:
        response = emulator.http.get("/v1beta1/projects/p/locations/l/tuningJobs/1", headers=AUTH)
        assert response.status_code == 404
        assert set(response.json()["error"]) == {"code", "message", "status"}
        assert response.json()["error"]["status"] == "NOT_FOUND"

    def test_requests_need_a_bearer_token(self, emulator: EmulatorServer) -> None:
        response = emulator.http.get("/v1beta1/projects/p/locations/l/tuningJobs")
        assert response.status_code == 401
        assert response.json()["error"]["status"] == "UNAUTHENTICATED"

    def test_both_api_versions_are_served(self, emulator: EmulatorServer) -> None:
        for version in ("v1", "v1beta1"):
            response = emulator.http.get(
                f"/{version}/projects/p/locations/l/tuningJobs", headers=AUTH
            )
            assert response.status_code == 200
            assert response.json() == {"tuningJobs": []}

    def test_multipart_with_a_wrong_md5_is_refused(self, emulator: EmulatorServer) -> None:
        body = (
            b'--B\r\ncontent-type: application/json\r\n\r\n{"name": "x", "md5Hash": "AAAA"}'
            b"\r\n--B\r\ncontent-type: text/plain\r\n\r\nhello\r\n--B--"
        )
        response = emulator.http.post(
            "/upload/storage/v1/b/b/o",
            params={"uploadType": "multipart"},
            content=body,
            headers={**AUTH, "Content-Type": 'multipart/related; boundary="B"'},
        )
        assert response.status_code == 400
        assert "MD5" in response.json()["error"]["message"]

    def test_crc32c_matches_googles(self) -> None:
        data = support_examples(50)
        import base64

        expected = base64.b64encode(google_crc32c.value(data).to_bytes(4, "big")).decode()
        assert crc32c_b64(data) == expected


class TestControlApi:
    def test_faults_are_validated(self, emulator: EmulatorServer) -> None:
        response = emulator.http.post("/_emulator/faults", json={"route": "*", "kind": "explode"})
        assert response.status_code == 400
        assert "kind must be one of" in response.text

    def test_counters_and_state(self, emulator: EmulatorServer) -> None:
        gateway.count_tokens(model="gemini-3.5-flash", text="a", config=emulator.config())
        emulator.fault("tuning.*", status=503, count=2)
        state = emulator.state()
        assert state["counters"] == {"count_tokens": 1}
        assert state["faults"][0]["route"] == "tuning.*"
        assert state["faults"][0]["count"] == 2
        assert state["settings"]["required_token"] is False

    @pytest.mark.parametrize("route", ["tuning.get", "tuning.list"])
    def test_prefix_faults_match_every_route_of_the_group(
        self, emulator: EmulatorServer, route: str
    ) -> None:
        emulator.fault("tuning.*", status=400)
        response = emulator.http.get(
            "/v1/projects/p/locations/l/tuningJobs" + ("/1" if route == "tuning.get" else ""),
            headers=AUTH,
        )
        assert response.status_code == 400
        assert emulator.counters() == {route: 1}
