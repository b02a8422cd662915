"""The admin pages: /admin/connection and /admin/emulator, with and without HTMX, and the
emulator banner."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import AuditEvent, User
from app.config import get_settings
from app.genai import connection, gateway
from app.genai.models import GeminiConnection
from tests.emulator_fixture import EmulatorServer
from tests.factories import create_user
from tests.genai.data import support_examples
from tests.genai.keys import CLIENT_EMAIL, key_file
from tests.support import free_port, get_page, htmx_headers, login, soup, text_of, toasts


@pytest.fixture
def admin(
    session: Session, client: TestClient, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> User:
    emulator.use(monkeypatch)
    user = create_user(session, is_admin=True, name="Aiko Admin")
    login(client, user)
    return user


def _settings(**values: str) -> dict[str, str]:
    form = {
        "mode": "emulator",
        "project": "",
        "location": "us-central1",
        "bucket": "",
        "vertex_base_url": "",
        "storage_base_url": "",
        "access_token": "",
    }
    form.update(values)
    return form


class TestConnectionPage:
    def test_shows_mode_settings_and_credentials(
        self, client: TestClient, admin: User, htmx: bool
    ) -> None:
        response = get_page(client, "/admin/connection", htmx)
        assert response.status_code == 200
        page = soup(response)
        assert page.select_one("h1").get_text() == "Gemini connection"
        summary = text_of(response)
        assert "Offline emulator" in summary
        assert "tunedesk-local" in summary
        assert "Not needed: the offline emulator accepts any request." in summary
        assert page.select_one("#f-mode-emulator").has_attr("checked")
        for name in ("project", "location", "bucket", "vertex_base_url", "storage_base_url"):
            assert page.select_one(f"#f-{name}") is not None
        tabs = [a.get_text() for a in page.select("nav.tabs a")]
        assert tabs[-2:] == ["Connection", "Emulator"]

    def test_banner_links_admins_to_the_connection_page(
        self, client: TestClient, admin: User
    ) -> None:
        banner = soup(client.get("/admin/connection")).select_one("#emulator-banner")
        assert banner is not None
        assert " ".join(banner.get_text().split()) == (
            "Offline simulation — connect a Google Cloud project to tune for real"
        )
        assert banner.select_one("a")["href"] == "/admin/connection"

    def test_banner_has_no_link_for_other_users(
        self,
        client: TestClient,
        session: Session,
        emulator: EmulatorServer,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        emulator.use(monkeypatch)
        login(client, create_user(session))
        banner = soup(client.get("/notifications")).select_one("#emulator-banner")
        assert banner is not None
        assert banner.select_one("a") is None

    def test_only_administrators_may_open_it(
        self,
        client: TestClient,
        session: Session,
        emulator: EmulatorServer,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        emulator.use(monkeypatch)
        login(client, create_user(session))
        for method, url in (
            ("GET", "/admin/connection"),
            ("POST", "/admin/connection"),
            ("POST", "/admin/connection/test"),
            ("GET", "/admin/emulator"),
            ("POST", "/admin/emulator/faults"),
            ("POST", "/admin/connection/key"),
        ):
            assert client.request(method, url).status_code == 403, url

    def test_saving_switches_to_vertex(
        self, client: TestClient, admin: User, session: Session
    ) -> None:
        response = client.post(
            "/admin/connection",
            data=_settings(
                mode="vertex",
                project="acme-prod",
                location="europe-west4",
                bucket="gs://acme-tuning/",
            ),
        )
        assert response.status_code == 303
        row = session.scalar(select(GeminiConnection))
        assert row is not None
        assert (row.mode, row.vertex_project, row.vertex_location, row.vertex_bucket) == (
            "vertex",
            "acme-prod",
            "europe-west4",
            "acme-tuning",
        )
        assert row.vertex_base_url is None  # equal to the environment: keeps following it
        config = connection.current_config()
        assert (config.mode, config.project) == ("vertex", "acme-prod")
        assert config.bucket == "acme-tuning"
        page = client.get("/admin/connection")
        assert "The connection settings were saved." in toasts(page)
        assert soup(page).select_one("#emulator-banner") is None
        assert "Google Cloud (Vertex AI)" in text_of(page)
        assert "From the environment (TUNEDESK_VERTEX_LOCATION)" not in text_of(page)
        event = session.scalar(
            select(AuditEvent).where(AuditEvent.action == "genai.settings_update")
        )
        assert event is not None
        assert event.details["mode"] == "vertex"

    def test_bad_settings_get_a_message_per_field(
        self, client: TestClient, admin: User, session: Session
    ) -> None:
        response = client.post(
            "/admin/connection",
            data=_settings(
                mode="vertex", project="", location="Tokyo", bucket="", vertex_base_url="proxy"
            ),
        )
        assert response.status_code == 422
        page = soup(response)
        errors = {e["id"]: e.get_text() for e in page.select(".field-error")}
        assert "Enter the Google Cloud project ID" in errors["f-project-error"]
        assert "us-central1" in errors["f-location-error"]
        assert "without gs://" in errors["f-bucket-error"]
        assert "https://" in errors["f-vertex_base_url-error"]
        assert page.select_one("#f-location")["value"] == "Tokyo"
        assert session.scalar(select(GeminiConnection)) is None

    def test_reset_follows_the_environment_again(
        self, client: TestClient, admin: User, session: Session
    ) -> None:
        client.post(
            "/admin/connection",
            data=_settings(mode="vertex", project="acme-prod", bucket="acme-tuning"),
        )
        assert client.post("/admin/connection/reset").status_code == 303
        assert connection.current_config().mode == "emulator"

    def test_japanese(self, client: TestClient, admin: User) -> None:
        client.post("/language", data={"locale": "ja", "next": "/admin/connection"})
        response = client.get("/admin/connection")
        assert soup(response).select_one("h1").get_text() == "Gemini との接続"
        banner = " ".join(soup(response).select_one("#emulator-banner").get_text().split())
        assert banner == (
            "オフラインのシミュレーション — 実際にチューニングするには "
            "Google Cloud プロジェクトを接続してください"
        )


class TestServiceAccountKey:
    def test_upload_shows_the_account_never_the_key(
        self, client: TestClient, admin: User, session: Session
    ) -> None:
        response = client.post(
            "/admin/connection/key",
            files={"key_file": ("key.json", key_file(), "application/json")},
        )
        assert response.status_code == 303
        page = client.get("/admin/connection")
        assert f"The key of {CLIENT_EMAIL} is saved, encrypted." in toasts(page)[0]
        assert f"Key of {CLIENT_EMAIL}, uploaded" in text_of(page)
        row = session.scalar(select(GeminiConnection))
        assert row is not None
        assert row.service_account_email == CLIENT_EMAIL
        assert row.service_account_key_encrypted is not None
        assert "PRIVATE KEY" not in row.service_account_key_encrypted
        assert row.vertex_project == "acme-prod"  # taken from the key: the env had none
        assert "-----BEGIN PRIVATE KEY-----" in connection.current_config().service_account_info

    def test_not_a_key_file_is_explained(self, client: TestClient, admin: User) -> None:
        response = client.post(
            "/admin/connection/key", files={"key_file": ("notes.txt", b"hello", "text/plain")}
        )
        assert response.status_code == 422
        error = soup(response).select_one("#f-key_file-error").get_text()
        assert "Service accounts → your account → Keys → Add key → JSON" in error

    def test_remove(self, client: TestClient, admin: User, session: Session) -> None:
        client.post("/admin/connection/key", files={"key_file": ("k.json", key_file())})
        assert client.post("/admin/connection/key/delete").status_code == 303
        row = session.scalar(select(GeminiConnection))
        assert row is not None
        assert row.service_account_key_encrypted is None
        assert "No key uploaded." in text_of(client.get("/admin/connection"))


class TestTestConnection:
    def test_every_step_passes_against_the_emulator(
        self, client: TestClient, admin: User, emulator: EmulatorServer
    ) -> None:
        response = client.post("/admin/connection/test", headers=htmx_headers("connection-test"))
        assert response.status_code == 200
        assert "<html" not in response.text
        page = soup(response)
        assert page.select_one("#connection-test") is not None
        steps = {li["id"]: " ".join(li.get_text().split()) for li in page.select("li")}
        assert steps["check-settings"].startswith("OK Settings: Offline emulator at")
        assert steps["check-bucket"] == (
            "OK Writing to the bucket: TuneDesk can write files to gs://tunedesk-emulator."
        )
        assert steps["check-vertex"].startswith("OK Vertex AI: Vertex AI answered:")
        assert emulator.counters()["storage.delete"] == 1  # the check cleans up after itself

    def test_failures_are_explained_without_htmx(
        self, client: TestClient, admin: User, emulator: EmulatorServer
    ) -> None:
        emulator.settings(required_token="something-else")
        response = client.post("/admin/connection/test")
        assert response.status_code == 200
        assert "<html" in response.text
        page = soup(response)
        vertex = " ".join(page.select_one("#check-vertex").get_text().split())
        assert vertex.startswith(
            "Failed Vertex AI: Google Cloud did not accept TuneDesk's credentials"
        )
        assert "401 UNAUTHENTICATED" in vertex  # technical details for the administrator
        assert "Something needs fixing" in text_of(response)


class TestEmulatorPage:
    def test_lists_jobs_files_and_counters(
        self, client: TestClient, admin: User, emulator: EmulatorServer, htmx: bool
    ) -> None:
        uri = gateway.upload_training_file(support_examples(8), object_name="page.jsonl").uri
        job = gateway.launch_tuning(
            base_model="gemini-3.5-flash",
            training_uri=uri,
            display_name="Shown on the page",
            labels={"tunedesk_job": "4"},
        )
        response = get_page(client, "/admin/emulator", htmx)
        assert response.status_code == 200
        page = soup(response)
        row = page.select_one(f"#job-{job.name.rsplit('/', 1)[-1]}")
        assert row is not None
        assert "Shown on the page" in row.get_text()
        assert "tunedesk_job=4" in row.get_text()
        assert (
            "gs://tunedesk-emulator/tunedesk/page.jsonl"
            in page.select_one("#emulator-files").get_text()
        )
        counters = {
            tr.select("td")[0].get_text(): tr.select("td")[1].get_text()
            for tr in page.select("#emulator-counters tbody tr")
        }
        assert counters["tuning.create"] == "1"

    def test_polls_only_while_a_job_runs(
        self, client: TestClient, admin: User, emulator: EmulatorServer
    ) -> None:
        emulator.settings(time_scale=0)
        uri = gateway.upload_training_file(support_examples(8), object_name="poll.jsonl").uri
        gateway.launch_tuning(base_model="gemini-3.5-flash", training_uri=uri, display_name="p")
        fragment = client.get("/admin/emulator", headers=htmx_headers("emulator-live"))
        live = soup(fragment).select_one("#emulator-live")
        assert live is not None
        assert live["hx-trigger"] == "every 3s"
        assert "<h1" not in fragment.text  # only the live block
        emulator.advance(10_000)
        done = soup(client.get("/admin/emulator", headers=htmx_headers("emulator-live")))
        assert not done.select_one("#emulator-live").has_attr("hx-trigger")

    def test_queue_a_fault_and_see_it_used(
        self, client: TestClient, admin: User, emulator: EmulatorServer, session: Session
    ) -> None:
        response = client.post(
            "/admin/emulator/faults",
            data={
                "route": "generate",
                "kind": "error",
                "status": "429",
                "retry_after": "0",
                "count": "1",
            },
        )
        assert response.status_code == 303
        [fault] = emulator.state()["faults"]
        assert (fault["route"], fault["status"]) == ("generate", 429)
        assert "generate" in text_of(client.get("/admin/emulator"))
        gateway.generate(
            model="gemini-3.5-flash", turns=[("user", "hi")], config=emulator.config()
        )  # retried past the fault
        assert emulator.counters()["generate"] == 2
        assert session.scalar(select(AuditEvent).where(AuditEvent.action == "genai.emulator_fault"))

    def test_bad_fault_input_is_explained(
        self, client: TestClient, admin: User, emulator: EmulatorServer
    ) -> None:
        client.post(
            "/admin/emulator/faults",
            data={"route": "generate", "kind": "error", "status": "200", "count": "1"},
        )
        assert toasts(client.get("/admin/emulator")) == ["Enter a number from 400 to 599."]
        assert emulator.state()["faults"] == []

    def test_make_a_running_job_fail(
        self, client: TestClient, admin: User, emulator: EmulatorServer
    ) -> None:
        emulator.settings(time_scale=0)
        uri = gateway.upload_training_file(support_examples(40), object_name="f.jsonl").uri
        job = gateway.launch_tuning(
            base_model="gemini-3.5-flash", training_uri=uri, display_name="f"
        )
        emulator.advance(50)
        job_id = job.name.rsplit("/", 1)[-1]
        assert client.post(f"/admin/emulator/jobs/{job_id}/fail").status_code == 303
        emulator.advance(100)
        assert gateway.get_tuning(job.name).state == "JOB_STATE_FAILED"

    def test_explains_an_unreachable_emulator(
        self, client: TestClient, admin: User, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("TUNEDESK_EMULATOR_PORT", str(free_port()))
        get_settings.cache_clear()
        connection.invalidate_cache()
        text = text_of(client.get("/admin/emulator"))
        assert "The emulator does not answer at http://127.0.0.1:" in text
        assert "tunedesk emulator" in text

    def test_in_vertex_mode_points_to_the_connection_page(
        self, client: TestClient, admin: User, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("TUNEDESK_GEMINI_MODE", "vertex")
        get_settings.cache_clear()
        connection.invalidate_cache()
        page = client.get("/admin/emulator")
        assert "the emulator is not in use" in text_of(page)
        assert [a.get_text() for a in soup(page).select("nav.tabs a")][-1] == "Connection"
