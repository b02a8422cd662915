"""Connection settings: environment, saved overrides and emulator defaults; the CLI wiring."""

from __future__ import annotations

import dataclasses

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


def test_tuned_3x_endpoints_get_a_multi_region_client_and_a_base_url_wins() -> None:
    """A tuned 3.x endpoint (``…/locations/us/endpoints/…``) is asked through a client at
    location ``us``: google-genai then targets aiplatform.us.rep.googleapis.com; a configured
    base URL (emulator, proxy) replaces that host too, keeping the same paths."""
    from app.genai.client import clients_for, forget_clients
    from app.genai.config import ConnectionConfig
    from app.genai.generation import at_location

    endpoint = "projects/1/locations/us/endpoints/7"
    google = ConnectionConfig(
        mode="vertex", project="p", location="us-central1", bucket="b", access_token="t"
    )
    forget_clients()
    try:
        tuned = at_location(google, endpoint)
        assert tuned.location == "us"
        assert at_location(google, "gemini-3.5-flash") is google
        assert at_location(google, "projects/1/locations/us-central1/endpoints/7") is google
        options = clients_for(tuned).genai._api_client._http_options
        assert options.base_url == "https://aiplatform.us.rep.googleapis.com/"
        assert tuned.effective_vertex_url == "https://aiplatform.us.rep.googleapis.com"
        assert at_location(google, "projects/1/locations/eu/endpoints/7").effective_vertex_url == (
            "https://aiplatform.eu.rep.googleapis.com"
        )
        proxied = at_location(
            dataclasses.replace(google, vertex_base_url="https://proxy.example.com"), endpoint
        )
        options = clients_for(proxied).genai._api_client._http_options
        assert options.base_url.rstrip("/") == "https://proxy.example.com"
    finally:
        forget_clients()
