"""Project pages: the home list and its empty state, creation, members and settings."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import AuditEvent
from app.notifications.models import Notification
from app.projects.models import Project, ProjectMember
from app.projects.permissions import Role
from tests.factories import create_project, create_user, project_with_roles
from tests.support import get_page, login, soup, text_of, toasts


class TestHome:
    def test_empty_state_tells_a_newcomer_what_to_do(
        self, client: TestClient, session: Session, htmx: bool
    ) -> None:
        login(client, create_user(session))
        response = get_page(client, "/", htmx)
        page = soup(response)
        assert page.select_one(".empty-state h2").get_text() == "Start with a project"
        assert page.select_one('.empty-state a[href="/projects/new"]') is not None
        assert len(page.select("ol.steps li")) == 4

    def test_lists_only_my_projects_with_my_role(
        self, client: TestClient, session: Session, htmx: bool
    ) -> None:
        me = create_user(session)
        create_project(session, name="Support replies", members={me: Role.REVIEWER})
        create_project(session, name="Someone else's")
        login(client, me)
        page = soup(get_page(client, "/", htmx))
        cards = page.select("#project-list .project-card")
        assert [c.h2.get_text(strip=True) for c in cards] == ["Support replies"]
        assert "Reviewer" in cards[0].get_text()

    def test_admins_see_every_project(self, client: TestClient, session: Session) -> None:
        create_project(session, name="Alpha")
        create_project(session, name="Beta")
        login(client, create_user(session, is_admin=True))
        names = [h.get_text(strip=True) for h in soup(client.get("/")).select(".project-card h2")]
        assert names == ["Alpha", "Beta"]


class TestCreate:
    def test_creator_becomes_manager(self, client: TestClient, session: Session) -> None:
        me = create_user(session)
        login(client, me)
        response = client.post(
            "/projects", data={"name": "  Support replies ", "description": "Answers to customers"}
        )
        assert response.status_code == 303
        project = session.scalar(select(Project))
        assert project is not None and project.name == "Support replies"
        assert response.headers["location"] == f"/projects/{project.id}"
        member = session.scalar(select(ProjectMember))
        assert member is not None and (member.user_id, member.role) == (me.id, "manager")
        audit = session.scalar(select(AuditEvent).where(AuditEvent.action == "project.create"))
        assert audit is not None and audit.actor_id == me.id and audit.project_id == project.id
        overview = client.get(response.headers["location"])
        assert "Project “Support replies” created. You are its manager." in toasts(overview)
        steps = [li.get_text(" ", strip=True) for li in soup(overview).select("#next-steps li")]
        assert steps[0].startswith("Invite your team")

    def test_htmx_form_navigates_in_place(self, client: TestClient, session: Session) -> None:
        login(client, create_user(session))
        response = client.post("/projects", data={"name": "X"}, headers={"HX-Request": "true"})
        assert response.status_code == 200
        assert '"target": "#main"' in response.headers["HX-Location"]

    def test_empty_name_is_refused_with_a_message(
        self, client: TestClient, session: Session
    ) -> None:
        login(client, create_user(session))
        response = client.post("/projects", data={"name": "   "})
        assert response.status_code == 422
        assert "Give the project a name" in soup(response).select_one("#f-name-error").get_text()
        assert session.scalar(select(Project)) is None


class TestMembers:
    def test_manager_adds_a_member_who_is_notified(
        self,
        client: TestClient,
        session: Session,
    ) -> None:
        manager = create_user(session, name="Mana")
        newcomer = create_user(session, name="Rei", email="rei@example.com")
        project = create_project(session, members={manager: Role.MANAGER})
        login(client, manager)
        response = client.post(
            f"/projects/{project.id}/members", data={"email": "REI@example.com", "role": "reviewer"}
        )
        assert response.status_code == 303
        page = client.get(f"/projects/{project.id}/members")
        rows = {tr.select_one("td").get_text(): tr for tr in soup(page).select("#members tbody tr")}
        assert "Rei" in rows
        assert rows["Rei"].select_one("option[selected]")["value"] == "reviewer"
        notification = session.scalar(
            select(Notification).where(Notification.user_id == newcomer.id)
        )
        assert notification is not None and notification.params["project"] == project.name
        login(client, newcomer)
        inbox = text_of(client.get("/notifications"))
        assert f"You were added to {project.name}" in inbox
        assert "Mana added you to the project" in inbox and "as Reviewer" in inbox

    def test_unknown_email_and_bad_role_are_explained(
        self,
        client: TestClient,
        session: Session,
    ) -> None:
        manager = create_user(session)
        project = create_project(session, members={manager: Role.MANAGER})
        login(client, manager)
        response = client.post(
            f"/projects/{project.id}/members", data={"email": "ghost@example.com", "role": "expert"}
        )
        assert response.status_code == 422
        assert "No active user has this e-mail address" in text_of(response)
        create_user(session, email="real@example.com")
        response = client.post(
            f"/projects/{project.id}/members", data={"email": "real@example.com", "role": "boss"}
        )
        assert "Choose one of the listed roles" in text_of(response)

    def test_last_manager_cannot_be_removed_or_demoted(
        self,
        client: TestClient,
        session: Session,
    ) -> None:
        manager = create_user(session)
        project = create_project(session, members={manager: Role.MANAGER})
        member = session.scalar(select(ProjectMember))
        assert member is not None
        login(client, manager)
        response = client.post(
            f"/projects/{project.id}/members/{member.id}/role",
            data={"role": "viewer"},
            headers={"HX-Request": "true"},
        )
        assert response.status_code == 409
        assert response.headers["HX-Retarget"] == "#toasts"
        assert "needs at least one manager" in response.text
        response = client.post(f"/projects/{project.id}/members/{member.id}/remove")
        assert response.status_code == 409
        session.refresh(member)
        assert member.role == "manager"

    def test_viewers_see_members_but_not_the_controls(
        self, client: TestClient, session: Session, htmx: bool
    ) -> None:
        project, users = project_with_roles(session)
        login(client, users[Role.VIEWER])
        page = soup(get_page(client, f"/projects/{project.id}/members", htmx))
        assert len(page.select("#members tbody tr")) == 4
        assert page.select("#members select") == []
        assert page.select_one('form[action$="/members"]') is None
        tabs = [a.get_text() for a in page.select("nav.tabs a")]
        assert "Settings" not in tabs and "Members" in tabs


class TestSettings:
    def test_manager_saves_settings_and_the_change_is_audited(
        self, client: TestClient, session: Session, htmx: bool
    ) -> None:
        project, users = project_with_roles(session)
        login(client, users[Role.MANAGER])
        form = soup(get_page(client, f"/projects/{project.id}/settings", htmx))
        assert form.select_one("#f-name")["value"] == project.name
        client.post(
            f"/projects/{project.id}/settings",
            data={
                "name": "Billing replies",
                "description": "",
                "system_instruction": "Be brief.",
            },
        )
        session.refresh(project)
        assert (project.name, project.system_instruction) == ("Billing replies", "Be brief.")
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "project.update"))
        assert event is not None and event.details["name"] == ["Support replies", "Billing replies"]
