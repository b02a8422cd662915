"""Failures become training data: "Fix this answer" opens an editor with the prompt and the
model's answer; the corrected example is saved through manual entry with origin "evaluation",
waits in the review queue (training or test, as chosen), and the compare screen marks the item
as fixed."""

from __future__ import annotations

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.audit import AuditEvent
from app.auth.models import User
from app.datasets.models import Dataset, Example
from app.datasets.versions.models import DatasetVersion
from app.projects.models import Project
from app.projects.permissions import Role
from tests.evaluations.factories import Built, finished_evaluation
from tests.support import get_page, login, soup, text_of, toasts


def _fix_url(built: Built, index: int, candidate: int | None = None) -> str:
    e, item = built.evaluation, built.items[index]
    query = f"?candidate={candidate}" if candidate else ""
    return f"/projects/{e.project_id}/evaluations/{e.id}/items/{item.id}/fix{query}"


def _form(page_html: str, **changes: str) -> dict[str, object]:
    html = BeautifulSoup(page_html, "html.parser")
    form = html.select_one("#fix-form")
    data: dict[str, object] = {
        "turn_role": [i["value"] for i in form.select('input[name="turn_role"]')],
        "turn_text": [t.get_text() for t in form.select('textarea[name="turn_text"]')],
        "split": "train",
        "candidate": form.select_one('input[name="candidate"]')["value"],
        "tag": form.select_one('input[name="tag"]')["value"],
        "system_instruction": "",
    }
    data.update(changes)
    return data


def test_fix_editor_is_prefilled_and_saving_sends_it_to_the_review_queue(
    client: TestClient,
    session: Session,
    team: tuple[Project, dict[Role, User]],
    built: Built,
    htmx: bool,
) -> None:
    _project, users = team
    expert = users[Role.EXPERT]
    login(client, expert)
    page = get_page(client, _fix_url(built, 4, built.tuned.id), htmx)
    assert page.status_code == 200
    html = soup(page)
    texts = [t.get_text() for t in html.select('#fix-form textarea[name="turn_text"]')]
    assert texts == ["How do I get a refund?", "Refunds are not possible."]
    assert html.select_one('input[name="split"][value="train"]').has_attr("checked")
    corrected = "Request a refund under My orders within 30 days; it reaches your card in 5 days."
    data = _form(page.text, turn_text=["How do I get a refund?", corrected])
    response = client.post(_fix_url(built, 4), data=data)
    assert response.status_code == 303
    example = session.scalars(select(Example).where(Example.origin == "evaluation")).one()
    assert example.origin_ref == f"eval-item:{built.items[4].id}"
    assert example.status == "pending" and example.split == "train"
    assert example.author_id == expert.id
    assert example.turns[-1]["text"] == corrected
    version = session.get(DatasetVersion, built.version.id)
    assert version is not None and example.dataset_id == version.dataset_id
    dataset = session.get(Dataset, example.dataset_id)
    assert dataset is not None and dataset.check_status == "pending"
    audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "evaluation.fix")).one()
    assert str(audit.object_id) == str(example.id)
    compare = client.get(response.headers["location"])
    assert toasts(compare) == [
        f"Example #{example.id} was saved and is waiting in the review queue."
    ]
    fixed = soup(compare).select_one(f"#item-{built.items[4].id} .fixed-badge")
    assert fixed is not None and "Fixed" in fixed.get_text()
    assert soup(compare).select_one(f"#item-{built.items[5].id} .fixed-badge") is None
    # The reviewer finds it in the queue's table, filtered by origin.
    login(client, users[Role.REVIEWER])
    card = client.get(f"/projects/{built.evaluation.project_id}/review/examples/{example.id}")
    assert card.status_code == 200
    assert soup(card).select_one(".origin-evaluation").get_text(strip=True) == "From an evaluation"
    # The editor says the question already has a fix.
    login(client, expert)
    again = soup(client.get(_fix_url(built, 4, built.tuned.id)))
    assert f"#{example.id}" in again.select_one("#existing-fixes").get_text()


def test_fix_as_test_data_and_bad_input(
    client: TestClient, session: Session, team: tuple[Project, dict[Role, User]], built: Built
) -> None:
    _project, users = team
    login(client, users[Role.REVIEWER])
    page = client.get(_fix_url(built, 5, built.baseline.id))
    empty = client.post(_fix_url(built, 5), data=_form(page.text, turn_text=["Why?", "  "]))
    assert empty.status_code == 422
    assert (
        "Write the answer the model should give."
        in soup(empty).select_one("#f-turn-1-error").get_text()
    )
    no_split = client.post(_fix_url(built, 5), data=_form(page.text, split="validation"))
    assert no_split.status_code == 422
    assert "Choose whether this example is for training or test." in text_of(no_split)
    assert session.scalars(select(Example).where(Example.origin == "evaluation")).all() == []
    saved = client.post(_fix_url(built, 5), data=_form(page.text, split="test"))
    assert saved.status_code == 303
    example = session.scalars(select(Example).where(Example.origin == "evaluation")).one()
    assert example.split == "test" and example.tag == "billing"


def test_who_may_fix(
    client: TestClient, team: tuple[Project, dict[Role, User]], built: Built
) -> None:
    _project, users = team
    login(client, users[Role.VIEWER])
    assert client.get(_fix_url(built, 0, built.tuned.id)).status_code == 403
    assert client.post(_fix_url(built, 0), data={"split": "train"}).status_code == 403
    login(client, users[Role.EXPERT])
    e = built.evaluation
    missing = client.get(f"/projects/{e.project_id}/evaluations/{e.id}/items/999999/fix")
    assert missing.status_code == 404


def test_japanese_fix_editor(
    client: TestClient, session: Session, team: tuple[Project, dict[Role, User]]
) -> None:
    project, users = team
    built = finished_evaluation(session, project=project, actor=users[Role.MANAGER], language="ja")
    login(client, users[Role.EXPERT])
    page = client.get(_fix_url(built, 4, built.tuned.id), headers={"Accept-Language": "ja"})
    texts = [t.get_text() for t in soup(page).select('#fix-form textarea[name="turn_text"]')]
    assert texts == ["返金はどうすれば受けられますか？", "返金はできません。"]
