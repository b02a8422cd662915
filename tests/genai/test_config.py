"""Connection settings: environment, saved overrides and emulator defaults; the CLI wiring."""

from __future__ import annotations

from app.cli import build_parser, run_children
from app.config import Settings
from app.genai.config import EMULATOR_TOKEN, Overrides, build_config


def _settings(**values: object) -> Settings:
    return Settings(**values)  # type: ignore[arg-type]


class TestBuildConfig:
    def test_emulator_mode_fills_in_local_defaults(self) -> None:
        config = build_config(_settings(emulator_host="0.0.0.0", emulator_port=9100))
        assert config.mode == "emulator"
        assert config.vertex_base_url == config.storage_base_url == "http://127.0.0.1:9100"
        assert (config.project, config.bucket) == ("tunedesk-local", "tunedesk-emulator")
        assert config.access_token == EMULATOR_TOKEN
        assert config.credentials_source == "token"

    def test_vertex_mode_uses_googles_endpoints_unless_overridden(self) -> None:
        config = build_config(
            _settings(
                gemini_mode="vertex",
                vertex_project="acme",
                vertex_location="asia-northeast1",
                vertex_bucket="b",
            )
        )
        assert config.vertex_base_url == ""
        assert config.effective_vertex_url == "https://asia-northeast1-aiplatform.googleapis.com"
        assert config.effective_storage_url == "https://storage.googleapis.com"
        assert config.credentials_source == "adc"
        proxied = build_config(
            _settings(gemini_mode="vertex", vertex_base_url="https://proxy.example.com/vertex/")
        )
        assert proxied.effective_vertex_url == "https://proxy.example.com/vertex"

    def test_saved_values_override_the_environment(self) -> None:
        settings = _settings(vertex_project="from-env", vertex_access_token="env-token")
        config = build_config(
            settings,
            Overrides(
                mode="vertex",
                project="saved",
                bucket="bkt",
                service_account_info='{"type": "x"}',
                access_token="",
            ),
        )
        assert (config.mode, config.project, config.bucket) == ("vertex", "saved", "bkt")
        assert config.credentials_source == "service_account"  # the saved "" clears the token

    def test_secrets_stay_out_of_repr(self) -> None:
        config = build_config(
            _settings(gemini_mode="vertex", vertex_access_token="t0ken"),
            Overrides(service_account_info="PRIVATE"),
        )
        assert "t0ken" not in repr(config)
        assert "PRIVATE" not in repr(config)
        assert config.fingerprint() != build_config(_settings(gemini_mode="vertex")).fingerprint()


class TestCommandLine:
    def test_run_starts_the_emulator_first_in_emulator_mode(self) -> None:
        children = run_children("127.0.0.1", 8000, "emulator")
        assert [child.name for child in children] == ["emulator", "web", "worker", "beat"]
        assert children[0].argv[-2:] == ["app", "emulator"]

    def test_run_has_no_emulator_in_vertex_mode(self) -> None:
        assert "emulator" not in [c.name for c in run_children("127.0.0.1", 8000, "vertex")]

    def test_emulator_command_options(self) -> None:
        args = build_parser().parse_args(["emulator", "--port", "9200", "--time-scale", "60"])
        assert (args.port, args.time_scale, args.host) == (9200, 60.0, "")
