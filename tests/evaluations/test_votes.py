"""Blind votes: the page hides which model wrote which answer until the reviewer has voted,
the sides are stable per (question, voter) and vary across questions and voters, re-voting
replaces, and the results (win rate with its interval, judge–human agreement) come from the
real votes."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.evaluations import votes
from app.evaluations.models import HumanVote
from app.projects.models import Project
from app.projects.permissions import Role
from tests.evaluations.factories import Built, finished_evaluation
from tests.factories import create_user
from tests.support import get_page, login, soup, text_of, toasts


def _vote_url(built: Built, tail: str = "") -> str:
    e = built.evaluation
    return f"/projects/{e.project_id}/evaluations/{e.id}/vote{tail}"


def _secrets(built: Built) -> list[str]:
    """What must not appear before a vote: model names, model ids, candidate ids."""
    values = []
    for candidate in (built.baseline, built.tuned):
        values += [candidate.label, candidate.model]
    return values


def test_ballot_is_blind_until_the_vote_then_reveals_the_models(
    client: TestClient,
    session: Session,
    team: tuple[Project, dict[Role, User]],
    built: Built,
    htmx: bool,
) -> None:
    _project, users = team
    reviewer = users[Role.REVIEWER]
    login(client, reviewer)
    page = get_page(client, _vote_url(built), htmx)
    assert page.status_code == 200
    for secret in _secrets(built):
        assert secret not in page.text
    html = soup(page)
    form = html.select_one("#vote-form")
    assert {i["name"] for i in form.select("input")} == {"csrf_token", "item_id"}
    assert [b["value"] for b in form.select("button")] == ["a", "b", "tie", "both_bad"]
    assert "candidate" not in page.text.lower()
    item_id = int(form.select_one('input[name="item_id"]')["value"])
    assert item_id == built.items[0].id
    answer_a = html.select_one("#answer-a").get_text()
    tuned_is_a = votes.a_is_tuned(item_id, reviewer.id)
    tuned_text = "Orders ship within 2 business days and usually arrive"
    assert (tuned_text in answer_a) == tuned_is_a
    # Reloading shows the same order.
    again = soup(client.get(_vote_url(built)))
    assert again.select_one("#answer-a").get_text() == answer_a
    # Vote "A is better": stored with the sides shown, then revealed.
    response = client.post(_vote_url(built), data={"item_id": str(item_id), "choice": "a"})
    assert response.status_code == 303
    assert response.headers["location"] == _vote_url(built, f"/{item_id}")
    stored = session.scalars(select(HumanVote)).one()
    expected_a = built.tuned if tuned_is_a else built.baseline
    assert (stored.a_candidate_id, stored.choice) == (expected_a.id, "a")
    revealed = client.get(response.headers["location"])
    assert toasts(revealed) == ["Vote saved."]
    result = soup(revealed).select_one("#vote-result").get_text(" ")
    assert f"A was {expected_a.label}" in result
    # "Next" moves on to the next unvoted question.
    nxt = soup(client.get(_vote_url(built)))
    assert int(nxt.select_one('input[name="item_id"]')["value"]) == built.items[1].id
    assert "1 of 20 questions voted" in nxt.select_one("#vote-count").get_text()


def test_sides_are_random_across_items_and_voters(
    session: Session, team: tuple[Project, dict[Role, User]], built: Built
) -> None:
    _project, users = team
    voters = [users[Role.REVIEWER], users[Role.MANAGER], create_user(session)]
    orders = {v.id: [votes.a_is_tuned(i.id, v.id) for i in built.items] for v in voters}
    for order in orders.values():
        assert 3 <= sum(order) <= 17  # both sides occur across 20 questions
    first, second, third = orders.values()
    assert first != second or second != third


def test_revote_replaces_and_bad_choices_are_refused(
    client: TestClient, session: Session, team: tuple[Project, dict[Role, User]], built: Built
) -> None:
    _project, users = team
    login(client, users[Role.REVIEWER])
    item_id = str(built.items[2].id)
    client.post(_vote_url(built), data={"item_id": item_id, "choice": "a"})
    client.post(_vote_url(built), data={"item_id": item_id, "choice": "both_bad"})
    assert [v.choice for v in session.scalars(select(HumanVote))] == ["both_bad"]
    bad = client.post(_vote_url(built), data={"item_id": item_id, "choice": "maybe"})
    assert bad.status_code == 303
    assert "Choose A, B, “equally good” or “both bad”, then vote." in toasts(
        client.get(bad.headers["location"])
    )
    wrong_item = client.post(_vote_url(built), data={"item_id": "999999", "choice": "a"})
    assert "This question cannot be voted on" in text_of(client.get(wrong_item.headers["location"]))


def test_who_may_vote(
    client: TestClient, team: tuple[Project, dict[Role, User]], built: Built
) -> None:
    _project, users = team
    for role in (Role.VIEWER, Role.EXPERT):
        login(client, users[role])
        assert client.get(_vote_url(built)).status_code == 403
        response = client.post(_vote_url(built), data={"item_id": "1", "choice": "a"})
        assert response.status_code == 403
    login(client, users[Role.MANAGER])
    assert client.get(_vote_url(built)).status_code == 200


def test_results_show_human_win_rate_with_ci_and_agreement_with_the_judge(
    client: TestClient, session: Session, team: tuple[Project, dict[Role, User]], built: Built
) -> None:
    _project, users = team
    reviewer = users[Role.REVIEWER]
    login(client, reviewer)
    # Vote through the screen on the first 8 questions: tuned better on 6, original on 2.
    wanted = ["tuned"] * 6 + ["baseline"] * 2
    for item, outcome in zip(built.items[:8], wanted, strict=True):
        tuned_is_a = votes.a_is_tuned(item.id, reviewer.id)
        choice = "a" if (outcome == "tuned") == tuned_is_a else "b"
        client.post(_vote_url(built), data={"item_id": str(item.id), "choice": choice})
    # The judge said tuned on items 0-3, 6, 7 and original on 4, 5: humans differ on 4-7 → 4/8.
    page = soup(
        client.get(f"/projects/{built.evaluation.project_id}/evaluations/{built.evaluation.id}")
    )
    card = page.select_one("#human-card")
    assert "6 / 0 / 2" in card.get_text()
    assert " ".join(card.select_one("#human-better").get_text().split()) == "75% (95% CI 41%–93%)"
    assert card.select_one("#agreement").get_text(" ").split()[0] == "50%"
    assert "of 8 votes" in card.select_one("#agreement").get_text()
    disagree = soup(
        client.get(
            f"/projects/{built.evaluation.project_id}/evaluations/{built.evaluation.id}?show=disagree"
        )
    )
    ids = [a["id"] for a in disagree.select("article.eval-item")]
    assert ids == [f"item-{built.items[i].id}" for i in (4, 5, 6, 7)]


def test_japanese_ballot(
    client: TestClient, session: Session, team: tuple[Project, dict[Role, User]]
) -> None:
    project, users = team
    built = finished_evaluation(session, project=project, actor=users[Role.MANAGER], language="ja")
    login(client, users[Role.REVIEWER])
    page = client.get(_vote_url(built), headers={"Accept-Language": "ja"})
    assert "注文した商品はいつ届きますか" in page.text
    for secret in _secrets(built):
        assert secret not in page.text
