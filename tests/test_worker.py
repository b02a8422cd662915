"""Background work in real processes: embedded broker and Redis, SQLite and PostgreSQL.

A task enqueued by a request runs in a real worker and its effect is visible; a task enqueued in a
transaction that rolls back never runs; beat drives periodic tasks.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import get_settings
from app.db import new_session
from app.notifications import service as notifications
from app.notifications.models import EmailStatus, Notification
from app.projects.permissions import Role
from app.review import decisions
from app.system import last_heartbeat
from tests.factories import create_project, create_user
from tests.processes import SmtpServer, beat, worker
from tests.review.factories import pending, team
from tests.support import login, wait_for

pytestmark = pytest.mark.worker


@pytest.fixture
def smtp(process_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    """A real SMTP server, configured for this process and for the worker."""
    with SmtpServer() as server:
        settings = get_settings()
        monkeypatch.setattr(settings, "smtp_host", "127.0.0.1")
        monkeypatch.setattr(settings, "smtp_port", server.port)
        monkeypatch.setattr(settings, "smtp_starttls", False)
        process_env.update(
            {
                "TUNEDESK_SMTP_HOST": "127.0.0.1",
                "TUNEDESK_SMTP_PORT": str(server.port),
                "TUNEDESK_SMTP_STARTTLS": "false",
            }
        )
        yield server


def test_task_enqueued_by_a_request_runs_in_a_worker(
    client: TestClient,
    session: Session,
    process_env: dict[str, str],
    smtp: SmtpServer,
    tmp_path: Path,
) -> None:
    manager = create_user(session, name="Mana")
    create_user(session, name="Rei", email="rei@example.com", locale="ja")
    project = create_project(session, name="Support replies", members={manager: Role.MANAGER})
    running = worker(process_env, tmp_path).start(ready_text="ready.")
    try:
        login(client, manager)
        response = client.post(
            f"/projects/{project.id}/members", data={"email": "rei@example.com", "role": "reviewer"}
        )
        assert response.status_code == 303
        # The worker e-mails Rei in Rei's language, and records the delivery.
        message = smtp.wait_for_subject("Support repliesに追加されました")
        assert message["To"] == "rei@example.com"
        assert "/projects/" in message.get_body().get_content()  # type: ignore[union-attr]
        session.expire_all()
        notification = session.scalar(select(Notification))
        assert notification is not None
        wait_for(
            lambda: (
                session.get(Notification, notification.id, populate_existing=True).email_status
                == EmailStatus.SENT
            ),
            message="the delivery to be recorded",
        )
    finally:
        running.stop()


def test_task_of_a_rolled_back_transaction_never_runs(
    session: Session,
    process_env: dict[str, str],
    smtp: SmtpServer,
    tmp_path: Path,
) -> None:
    ghost = create_user(session, email="ghost@example.com")
    real = create_user(session, email="real@example.com")
    running = worker(process_env, tmp_path).start(ready_text="ready.")
    try:
        with new_session() as rolled_back:
            notifications.notify(
                rolled_back,
                user_ids=[ghost.id],
                kind="member.added",
                params={"project": "Rolled back", "role": "viewer", "by": "x"},
            )
            rolled_back.rollback()
        with new_session() as committed:
            notifications.notify(
                committed,
                user_ids=[real.id],
                kind="member.added",
                params={"project": "Committed", "role": "viewer", "by": "x"},
            )
            committed.commit()
        smtp.wait_for_subject("You were added to Committed")
        # Tasks are consumed in order, so a task sent by the rolled-back transaction would
        # already have run; neither its e-mail nor its row exists.
        assert [m["To"] for m in smtp.messages] == ["real@example.com"]
        assert session.scalar(select(Notification).where(Notification.user_id == ghost.id)) is None
    finally:
        running.stop()


def test_beat_drives_periodic_tasks(
    session: Session, process_env: dict[str, str], tmp_path: Path
) -> None:
    assert last_heartbeat(session, "worker") is None
    running = worker(process_env, tmp_path).start(ready_text="ready.")
    scheduler = beat(process_env, tmp_path).start(ready_text="beat: Starting")
    try:

        def heartbeat_recorded() -> bool:
            with new_session() as fresh:
                return last_heartbeat(fresh, "worker") is not None

        wait_for(heartbeat_recorded, timeout=40, message="beat → broker → worker heartbeat")
    finally:
        scheduler.stop()
        running.stop()


def test_a_returned_example_is_emailed_by_the_worker_with_its_real_words(
    client: TestClient,
    session: Session,
    process_env: dict[str, str],
    smtp: SmtpServer,
    tmp_path: Path,
) -> None:
    """The worker never imports the review pages that used to register this text when imported:
    start-up wiring gives it the subject and body, in the author's language, and a reason that
    TuneDesk wrote itself is put into words too."""
    t = team(session)
    t.expert.email = "emi@example.com"
    t.expert.locale = "ja"
    returned = pending(session, t, question="返品の送料は？", answer="無料です。")
    kept = pending(session, t, question="送料はいくらですか？", answer="お客様のご負担です。")
    session.commit()
    running = worker(process_env, tmp_path).start(ready_text="ready.")
    try:
        login(client, t.reviewer)
        base = f"/projects/{t.project.id}/review/examples"
        response = client.post(
            f"{base}/{returned.id}/reject",
            data={"revision": "1", "reason": "送料の説明が古いです。"},
        )
        assert response.status_code in (200, 303)
        message = smtp.wait_for_subject("例が差し戻されました")
        assert message["To"] == "emi@example.com"
        body = message.get_body().get_content()  # type: ignore[union-attr]
        assert f"#{returned.id}" in body and "送料の説明が古いです。" in body
        assert "review.returned" not in message["Subject"] + body

        # Keeping one answer of a conflict returns the other, with a reason TuneDesk wrote.
        decisions.approve(
            session, actor=t.second_reviewer, project=t.project, example_id=kept.id, revision=1
        )
        other = pending(session, t, question="送料はいくらですか？", answer="全国一律500円です。")
        session.commit()
        client.post(f"{base}/{other.id}/resolve", data={"revision": "1", "other": str(kept.id)})
        wait_for(lambda: len(smtp.messages) == 2, message="the second e-mail")
        conflict_body = smtp.messages[1].get_body().get_content()  # type: ignore[union-attr]
        assert f"#{other.id}" in conflict_body and f"#{kept.id}" in conflict_body
        assert "同じ" in conflict_body
    finally:
        running.stop()
