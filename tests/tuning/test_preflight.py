"""The pre-flight checklist, the cost estimate and the money guardrails, through the page."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.models import AuditEvent, User
from app.config import get_settings
from app.datasets.models import Example, ExampleStatus
from app.datasets.versions.models import DatasetVersion
from app.datasets.versions.service import LeakageFound, VersionRequest, create_version
from app.genai import connection
from app.notifications.models import Notification
from app.projects.models import Project
from app.projects.permissions import Role
from app.tuning import catalog
from app.tuning.models import JobEvent, JobState, TuningJob
from tests.emulator_fixture import EmulatorServer
from tests.factories import create_dataset, create_example, create_project, create_user
from tests.support import login, soup, text_of, toasts
from tests.tuning.factories import versioned_examples


@dataclass
class World:
    manager: User
    other_manager: User
    project: Project
    version: DatasetVersion
    examples: list[Example]

    def new_page(self, client: TestClient, **query: object) -> str:
        params = "&".join(f"{k}={v}" for k, v in {"version": self.version.id, **query}.items())
        return f"/projects/{self.project.id}/tuning/new?{params}"

    def launch(self, client: TestClient, **form: object) -> object:
        data = {
            "version": self.version.id,
            "base_model": "gemini-3.5-flash",
            "epochs": "3",
            "learning_rate_multiplier": "1",
            "adapter_size": "4",
        }
        data.update({k: str(v) for k, v in form.items()})
        return client.post(f"/projects/{self.project.id}/tuning", data=data)


@pytest.fixture
def world(
    client: TestClient, session: Session, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> World:
    emulator.use(monkeypatch)
    manager, other = (
        create_user(session, name="Mina Manager"),
        create_user(session, name="Oto Manager"),
    )
    project = create_project(session, members={manager: Role.MANAGER, other: Role.MANAGER})
    version, examples = versioned_examples(
        session, project=project, actor=manager, long_text="word " * 400, long_count=3
    )
    login(client, manager)
    return World(manager, other, project, version, examples)


def checklist(response: object) -> dict[str, tuple[str, str, list[str]]]:
    page = soup(response)  # type: ignore[arg-type]
    items = {}
    for item in page.select("#checklist li.check"):
        code = item["id"].removeprefix("check-")
        status = next(
            c.removeprefix("check-")
            for c in item["class"]
            if c in ("check-ok", "check-warning", "check-fail")
        )
        links = [a["href"] for a in item.select(".example-links a")]
        items[code] = (status, " ".join(item.get_text(" ").split()), links)
    return items


def override_catalog(session: Session, admin: User, old: str, new: str) -> None:
    text = catalog.shipped_text().replace(old, new)
    catalog.save_override(session, actor=admin, text=text)
    session.commit()
    catalog.invalidate_cache()


def test_a_clean_version_is_ready_and_says_what_was_checked(
    client: TestClient, world: World
) -> None:
    page = client.get(world.new_page(client))
    items = checklist(page)
    assert all(status == "ok" for code, (status, _t, _l) in items.items() if code != "price")
    assert items["price"][0] == "warning"
    assert "not verified from Google's official pricing page" in items["price"][1]
    assert soup(page).select_one(".readiness").get_text(strip=True) == "✓ Ready to launch"
    assert not soup(page).select_one("#launch-button").has_attr("disabled")
    assert "Unverified price" in soup(page).select_one("#estimate").get_text()


def test_examples_over_the_token_limit_are_listed_and_block_the_launch(
    client: TestClient, session: Session, world: World
) -> None:
    override_catalog(
        session,
        world.manager,
        "max_example_tokens: 131072\n    max_validation_examples: 5000\n    max_validation_share",
        "max_example_tokens: 300\n    max_validation_examples: 5000\n    max_validation_share",
    )
    page = client.get(world.new_page(client))
    status, text, links = checklist(page)["token_limit"]
    long_ids = {e.id for e in world.examples[:3]}
    assert status == "fail"
    assert "3 examples are longer than 300 tokens, the limit of Gemini 3.5 Flash" in text
    assert {int(link.rsplit("/", 1)[1]) for link in links} == long_ids
    assert all(link.startswith(f"/projects/{world.project.id}/examples/") for link in links)
    assert soup(page).select_one("#launch-button").has_attr("disabled")
    refused = world.launch(client)
    assert refused.status_code == 422
    assert "Not ready to launch" in soup(refused).select_one(".form-error").get_text()


def test_validation_over_the_model_limit_fails(
    client: TestClient, session: Session, world: World
) -> None:
    override_catalog(
        session,
        world.manager,
        "max_validation_examples: 5000\n    max_validation_share: 0.3\n    training_price_"
        "per_million_tokens: 10.00",
        "max_validation_examples: 5\n    max_validation_share: 0.3\n    training_price_"
        "per_million_tokens: 10.00",
    )
    status, text, _links = checklist(client.get(world.new_page(client)))["validation_limit"]
    assert status == "fail"
    assert "10 validation examples, but Gemini 3.5 Flash accepts at most 5" in text


def test_examples_changed_after_freezing_fail_the_check(
    client: TestClient, session: Session, world: World
) -> None:
    train = world.examples[5]
    rejected = world.examples[6]
    session.get(Example, train.id).split = "test"  # type: ignore[union-attr]
    session.get(Example, rejected.id).status = ExampleStatus.REJECTED  # type: ignore[union-attr]
    session.commit()
    items = checklist(client.get(world.new_page(client)))
    assert items["test_split"][0] == "fail"
    assert items["test_split"][2] == [f"/projects/{world.project.id}/examples/{train.id}"]
    assert items["approved_only"][0] == "fail"
    assert items["approved_only"][2] == [f"/projects/{world.project.id}/examples/{rejected.id}"]


def test_leakage_accepted_on_the_version_is_a_recorded_warning(
    client: TestClient, session: Session, world: World
) -> None:
    dataset = create_dataset(session, project=world.project, name="Leaky")
    for n in range(30):
        create_example(session, dataset=dataset, question=f"Q{n}?", answer=f"A{n}.", split="train")
    create_example(
        session, dataset=dataset, question="Q1?", answer="A different golden answer.", split="test"
    )
    # A version with overlaps exists only once a manager accepted them (the version service
    # refuses otherwise); the launch checklist shows the accepted overlap as a warning.
    with pytest.raises(LeakageFound):
        create_version(session, actor=world.manager, dataset=dataset, request=VersionRequest())
    leaky = create_version(
        session,
        actor=world.manager,
        dataset=dataset,
        request=VersionRequest(),
        acknowledge_leakage=True,
    )
    session.commit()
    world.version = leaky
    status, text, links = checklist(client.get(world.new_page(client)))["leakage"]
    assert status == "warning"
    assert len(links) == 1  # the training example whose question is in the test set
    assert "appear both in training and in validation or test; this was acknowledged" in text
    launched = world.launch(client)
    assert launched.status_code == 303
    job = session.scalars(select(TuningJob)).one()
    assert {i["code"]: i["status"] for i in job.preflight["items"]}["leakage"] == "warning"


def test_little_data_warns_but_does_not_block(
    client: TestClient, session: Session, world: World
) -> None:
    small, _examples = versioned_examples(
        session, project=world.project, actor=world.manager, count=40, dataset_name="Small"
    )
    world.version = small
    page = client.get(world.new_page(client))
    status, text, _links = checklist(page)["dataset_size"]
    assert status == "warning" and "Only 35 training examples (fewer than 100)" in text
    assert "add examples, or treat this run as a pilot" in text_of(page)
    assert world.launch(client).status_code == 303


def test_retired_models_cannot_be_chosen_or_launched(client: TestClient, world: World) -> None:
    page = client.get(world.new_page(client))
    offered = [o["value"] for o in soup(page).select("#f-base_model option")]
    assert offered[0] == "gemini-3.5-flash"  # today's default
    assert not any(value.startswith(("gemini-2.5", "gemini-2.0")) for value in offered)
    # Asked for by URL (an old link, the API): the page says it is retired and names the
    # successor, and the launch is refused with the same words.
    old = client.get(world.new_page(client, base_model="gemini-2.5-flash"))
    status, text, _links = checklist(old)["model_status"]
    assert status == "fail"
    assert "Gemini 2.5 Flash was retired on Oct 20, 2026 and can no longer be tuned." in text
    assert "Choose Gemini 3.5 Flash." in text
    assert "Use Gemini 3.5 Flash instead" in soup(old).select_one("#retired-warning").get_text()
    refused = world.launch(client, base_model="gemini-2.5-flash")
    assert refused.status_code == 422
    assert "was retired on Oct 20, 2026" in text_of(refused)
    assert "Choose Gemini 3.5 Flash." in text_of(refused)


def test_the_region_must_tune_the_model(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    status, text, _links = checklist(client.get(world.new_page(client)))["region"]
    assert status == "ok"
    assert "tunes Gemini 3.5 Flash in us-central1" in text
    assert "answer from the us endpoint" in text
    monkeypatch.setenv("TUNEDESK_VERTEX_LOCATION", "asia-northeast1")
    get_settings.cache_clear()
    connection.invalidate_cache()
    status, text, _links = checklist(client.get(world.new_page(client)))["region"]
    assert status == "fail"
    assert "only in us-central1 / europe-west4, but TuneDesk is set to asia-northeast1" in text
    assert "Administration → Connection" in text


def test_estimate_counts_tokens_times_epochs_plus_validation(
    client: TestClient, world: World
) -> None:
    stats = world.version.token_stats
    train, validation = stats["train"]["tokens"], stats["validation"]["tokens"]
    page = client.get(
        world.new_page(
            client,
            epochs=4,
            learning_rate_multiplier=1,
            adapter_size=4,
            planned_for=f"{world.version.id}:gemini-3.5-flash",
        )
    )
    estimate = " ".join(soup(page).select_one("#estimate").get_text(" ").split())
    billable = train * 4 + validation
    assert f"{billable:,} " in estimate
    assert f"{train:,} training tokens × 4 epochs + {validation:,} validation tokens" in estimate
    assert f"${billable / 1_000_000 * 10:.2f}" in estimate
    auto = client.get(
        world.new_page(
            client,
            auto_epochs="true",
            learning_rate_multiplier=1,
            adapter_size=4,
            planned_for=f"{world.version.id}:gemini-3.5-flash",
        )
    )
    assert (
        "Vertex chooses the epochs; the estimate assumes 3."
        in soup(auto).select_one("#estimate").get_text()
    )


def test_over_budget_waits_for_a_managers_recorded_approval(
    client: TestClient, session: Session, world: World
) -> None:
    saved = client.post(
        f"/projects/{world.project.id}/tuning/budget",
        data={"monthly_budget": "0.01", "approval_threshold": ""},
    )
    assert saved.status_code == 303
    page = client.get(world.new_page(client))
    assert checklist(page)["approval"][0] == "warning"
    assert soup(page).select_one("#launch-button").get_text(strip=True) == "Submit for approval"
    launched = world.launch(client)
    assert launched.status_code == 303
    job = session.scalars(select(TuningJob)).one()
    assert job.state == JobState.AWAITING_APPROVAL and job.queued_at is None
    assert job.approval_reasons[0]["code"] == "over_budget"
    notified = session.scalars(
        select(Notification.user_id).where(Notification.kind == "tuning.approval_needed")
    ).all()
    assert set(notified) == {world.manager.id, world.other_manager.id}
    job_page = client.get(launched.headers["location"])
    assert "The job waits for a manager's approval before it starts." in toasts(job_page)
    assert (
        "over the monthly budget of $0.01"
        in soup(job_page).select_one("#approval-panel").get_text()
    )

    login(client, world.other_manager)
    approved = client.post(f"/projects/{world.project.id}/tuning/{job.id}/approve")
    assert approved.status_code == 303
    session.refresh(job)
    assert job.state == JobState.QUEUED and job.approved_by_id == world.other_manager.id
    assert job.approved_at is not None
    kinds = session.scalars(
        select(JobEvent.kind).where(JobEvent.job_id == job.id).order_by(JobEvent.id)
    ).all()
    assert kinds == ["created", "approval_requested", "approved", "queued"]
    assert (
        session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "tuning_job.approve")
        )
        == 1
    )
    assert client.post(f"/projects/{world.project.id}/tuning/{job.id}/approve").status_code == 409


def test_threshold_approval_and_decline(client: TestClient, session: Session, world: World) -> None:
    client.post(
        f"/projects/{world.project.id}/tuning/budget",
        data={"monthly_budget": "", "approval_threshold": "0.01"},
    )
    world.launch(client)
    job = session.scalars(select(TuningJob)).one()
    assert [r["code"] for r in job.approval_reasons] == ["over_threshold"]
    client.post(f"/projects/{world.project.id}/tuning/{job.id}/decline")
    session.refresh(job)
    assert job.state == JobState.CANCELLED
    assert (
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.kind == "tuning.cancelled")
        )
        == 2
    )


def test_budget_form_refuses_nonsense(client: TestClient, world: World) -> None:
    refused = client.post(
        f"/projects/{world.project.id}/tuning/budget",
        data={"monthly_budget": "lots", "approval_threshold": "-3"},
    )
    assert refused.status_code == 422
    page = soup(refused)
    assert "Write an amount in US dollars" in page.select_one("#f-monthly_budget-error").get_text()
    assert (
        "Write an amount in US dollars" in page.select_one("#f-approval_threshold-error").get_text()
    )
