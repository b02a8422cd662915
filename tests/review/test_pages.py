"""The review pages through HTTP: landing, card, decisions, table and bulk, progress, settings,
and two reviewers posting decisions on one example at the same moment."""

from __future__ import annotations

import json
import threading

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.datasets.models import Example, ExampleStatus
from app.review.models import ReviewDecision, ReviewSettings
from tests.review.factories import Team, pending, team
from tests.support import get_page, login, soup, text_of, toasts


def _card_url(t: Team, example: Example) -> str:
    return f"/projects/{t.project.id}/review/examples/{example.id}"


class TestLandingAndCard:
    def test_landing_counts_and_start(
        self, client: TestClient, session: Session, htmx: bool
    ) -> None:
        t = team(session)
        for _ in range(3):
            pending(session, t)
        pending(session, t, author=t.reviewer)
        login(client, t.reviewer)
        page = soup(get_page(client, f"/projects/{t.project.id}/review", htmx))
        assert page.select_one("#waiting-for-me").get_text(strip=True) == "3"
        start = page.select_one("#start-reviewing").find_parent("form")
        assert start["action"] == f"/projects/{t.project.id}/review/start"
        tabs = [a.get_text(strip=True) for a in page.select("nav.tabs a")]
        assert "Review" in tabs and "Versions" in tabs

    def test_next_serves_the_oldest_and_the_card_shows_everything(
        self, client: TestClient, session: Session, htmx: bool
    ) -> None:
        t = team(session)
        first = pending(
            session,
            t,
            question="Where is my parcel?",
            answer="Write to help@example.com with your order number.",
            tag="shipping",
        )
        first.issues = [
            {
                "code": "pii_email",
                "severity": "warning",
                "column": "output",
                "params": {"field": "output"},
                "span": ["turns.1", 9, 25],
            }
        ]
        first.origin = "evaluation"
        session.commit()
        pending(session, t)
        login(client, t.reviewer)
        response = client.post(f"/projects/{t.project.id}/review/start")
        assert response.status_code == 303 and response.headers["location"] == _card_url(t, first)
        page = soup(get_page(client, _card_url(t, first), htmx))
        assert page.select_one("#card-title").get_text(strip=True) == f"Example #{first.id}"
        turns = [el.get_text(" ", strip=True) for el in page.select(".review-card .turn-text")]
        assert turns[0] == "Where is my parcel?"
        mark = page.select_one(".review-card mark.finding-mark")
        assert mark is not None and mark.get_text() == "help@example.com"
        finding = page.select_one(".finding-list li")
        assert "e-mail address" in finding.get_text() and finding["data-code"] == "pii_email"
        assert page.select_one(".origin-evaluation").get_text(strip=True) == "From an evaluation"
        legend = page.select_one("#shortcuts").get_text(" ", strip=True)
        for key in ("A", "R", "E", "S", "J", "K", "H"):
            assert f"{key} " in legend + " "
        assert page.select_one("[data-shortcut='a']") is not None
        assert page.select_one("#similar")["hx-get"].endswith(f"/examples/{first.id}/similar")

    def test_similar_approved_examples_fragment(self, client: TestClient, session: Session) -> None:
        t = team(session)
        approved = pending(
            session,
            t,
            question="How long does delivery to Osaka take?",
            answer="Two days.",
            status=ExampleStatus.APPROVED,
        )
        pending(
            session,
            t,
            question="Completely unrelated printer ink question",
            answer="Yes.",
            status=ExampleStatus.APPROVED,
        )
        current = pending(session, t, question="How long does delivery to Kyoto take?")
        login(client, t.reviewer)
        url = f"{_card_url(t, current)}/similar"
        fragment = client.get(url, headers={"HX-Request": "true", "HX-Target": "similar"})
        assert "<html" not in fragment.text
        items = soup(fragment).select(".similar-item")
        assert len(items) == 1 and f"#{approved.id}" in items[0].get_text()
        assert "Two days." in items[0].get_text()
        full = client.get(url)
        assert "<html" in full.text and "Two days." in full.text


class TestDecisionsOverHttp:
    def test_approve_moves_to_the_next_example(self, client: TestClient, session: Session) -> None:
        t = team(session)
        first, second = pending(session, t), pending(session, t)
        login(client, t.reviewer)
        response = client.post(f"{_card_url(t, first)}/approve", data={"revision": "1"})
        assert response.status_code == 303
        assert response.headers["location"] == _card_url(t, second)
        card = client.get(response.headers["location"])
        assert f"Example #{first.id} approved." in toasts(card)

    def test_reject_without_reason_shows_the_field_error(
        self, client: TestClient, session: Session
    ) -> None:
        t = team(session)
        example = pending(session, t)
        login(client, t.reviewer)
        response = client.post(
            f"{_card_url(t, example)}/reject", data={"revision": "1", "reason": ""}
        )
        assert response.status_code == 422
        error = soup(response).select_one("#f-reason-error")
        assert error is not None and "so its author knows what to fix" in error.get_text()
        session.refresh(example)
        assert example.status == ExampleStatus.PENDING

    def test_the_author_sees_no_approve_button_and_is_refused(
        self, client: TestClient, session: Session
    ) -> None:
        t = team(session)
        example = pending(session, t, author=t.reviewer)
        login(client, t.reviewer)
        page = soup(client.get(_card_url(t, example)))
        assert page.select_one("#approve") is None
        assert "You wrote this example" in page.get_text()
        refused = client.post(f"{_card_url(t, example)}/approve", data={"revision": "1"})
        assert refused.status_code == 403
        assert "another reviewer has to decide" in text_of(refused)

    def test_conflicting_answer_blocks_and_resolving_approves(
        self, client: TestClient, session: Session
    ) -> None:
        t = team(session)
        old = pending(
            session, t, question="Do you ship abroad?", answer="No.", status=ExampleStatus.APPROVED
        )
        new = pending(session, t, question="Do you ship abroad?", answer="Yes, to 30 countries.")
        login(client, t.reviewer)
        page = soup(client.get(_card_url(t, new)))
        assert page.select_one("#conflict") is not None
        assert page.select_one("#approve").has_attr("disabled")
        blocked = client.post(f"{_card_url(t, new)}/approve", data={"revision": "1"})
        assert blocked.status_code == 409
        assert f"(#{old.id})" in soup(blocked).select_one("#conflict").get_text()
        resolved = client.post(
            f"{_card_url(t, new)}/resolve", data={"other": str(old.id), "revision": "1"}
        )
        assert resolved.status_code == 303
        session.expire_all()
        assert session.get(Example, new.id).status == ExampleStatus.APPROVED  # type: ignore[union-attr]
        assert session.get(Example, old.id).status == ExampleStatus.REJECTED  # type: ignore[union-attr]

    def test_two_reviewers_posting_at_once_get_one_decision(
        self, web_app: FastAPI, session: Session
    ) -> None:
        t = team(session)
        example = pending(session, t)
        barrier = threading.Barrier(2)
        statuses: dict[str, tuple[int, str]] = {}

        def post(name: str, reviewer: object, action: str) -> None:
            with TestClient(web_app, base_url="http://testserver", follow_redirects=False) as c:
                login(c, reviewer)  # type: ignore[arg-type]
                data = {"revision": "1", "reason": "Old price."}
                barrier.wait()
                response = c.post(f"{_card_url(t, example)}/{action}", data=data)
                statuses[name] = (response.status_code, text_of(response))

        threads = [
            threading.Thread(target=post, args=("a", t.reviewer, "approve")),
            threading.Thread(target=post, args=("b", t.second_reviewer, "reject")),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        codes = sorted(code for code, _text in statuses.values())
        assert codes == [303, 409]
        loser = next(body for code, body in statuses.values() if code == 409)
        assert "just before you" in loser
        decisions = session.scalars(select(ReviewDecision)).all()
        assert len(decisions) == 1


class TestTableProgressSettings:
    def test_table_filters_and_bulk_approve(
        self, client: TestClient, session: Session, htmx: bool
    ) -> None:
        t = team(session)
        tagged = [pending(session, t, tag="billing") for _ in range(2)]
        other = pending(session, t, tag="shipping")
        login(client, t.reviewer)
        page = soup(get_page(client, f"/projects/{t.project.id}/review/table?tag=billing", htmx))
        rows = page.select("#review-table tbody tr")
        assert [r["id"] for r in rows] == [f"row-{e.id}" for e in tagged]
        assert "2 examples match." in page.select_one("#result-count").get_text()
        fragment = client.get(
            f"/projects/{t.project.id}/review/table?tag=shipping",
            headers={"HX-Request": "true", "HX-Target": "results"},
        )
        assert "<html" not in fragment.text and f"row-{other.id}" in fragment.text
        response = client.post(
            f"/projects/{t.project.id}/review/bulk",
            data={
                "selected": [f"{e.id}:1" for e in tagged],
                "decision": "approve",
                "back": f"/projects/{t.project.id}/review/table?tag=billing",
            },
        )
        assert response.status_code == 303
        assert "2 examples approved." in toasts(client.get(response.headers["location"]))
        session.expire_all()
        assert [session.get(Example, e.id).status for e in tagged] == ["approved", "approved"]  # type: ignore[union-attr]

    def test_progress_page(self, client: TestClient, session: Session, htmx: bool) -> None:
        t = team(session)
        example = pending(session, t)
        pending(session, t)
        login(client, t.reviewer)
        client.post(f"{_card_url(t, example)}/approve", data={"revision": "1"})
        page = soup(get_page(client, f"/projects/{t.project.id}/review/progress", htmx))
        assert page.select_one("[data-status='pending']").get_text(strip=True) == "1"
        assert page.select_one("[data-status='approved']").get_text(strip=True) == "1"
        row = page.select_one("#per-reviewer tbody tr").get_text(" ", strip=True)
        assert row.startswith(t.reviewer.name) and row.endswith("1 0 1")
        chart = json.loads(page.select_one("#per-day-chart")["data-chart"])
        assert chart["approved"][-1] == 1 and len(chart["labels"]) == 14

    def test_managers_set_two_approvals(
        self, client: TestClient, session: Session, htmx: bool
    ) -> None:
        t = team(session)
        example = pending(session, t)
        login(client, t.manager)
        form = soup(get_page(client, f"/projects/{t.project.id}/review/settings", htmx))
        assert form.select_one("input[name=approvals_required][value='1']").has_attr("checked")
        saved = client.post(
            f"/projects/{t.project.id}/review/settings",
            data={"approvals_required": "2", "auto_assign": "true", "lease_minutes": "15"},
        )
        assert saved.status_code == 303
        settings = session.get(ReviewSettings, t.project.id)
        session.refresh(settings)
        assert (settings.approvals_required, settings.lease_minutes) == (2, 15)  # type: ignore[union-attr]
        invalid = client.post(
            f"/projects/{t.project.id}/review/settings",
            data={"approvals_required": "3", "lease_minutes": "7"},
        )
        assert invalid.status_code == 422
        assert "one or two approvals" in invalid.text
        login(client, t.reviewer)
        client.post(f"{_card_url(t, example)}/approve", data={"revision": "1"})
        login(client, t.second_reviewer)
        card = soup(client.get(_card_url(t, example)))
        assert "Approvals: 1 of 2" in card.select_one("#approvals").get_text(" ", strip=True)
