"""Recommendations follow the guidance table and the model's limits; a setting the model does not
allow can be neither chosen on the page nor submitted (page or API)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.projects.permissions import Role
from app.tuning import catalog
from app.tuning.models import TuningJob
from app.tuning.recommend import Choice, DatasetStats, check_choice, recommend
from tests.emulator_fixture import EmulatorServer
from tests.factories import create_project, create_user
from tests.support import login, soup
from tests.tuning.factories import versioned_examples


def stats(
    examples: int, mean_tokens: float, validation: int = 50, pilot: bool = False
) -> DatasetStats:
    return DatasetStats(
        examples,
        validation,
        10,
        int(examples * mean_tokens),
        validation * 100,
        mean_tokens,
        900,
        pilot,
    )


def model(model_id: str) -> catalog.ModelSpec:
    found = catalog.shipped().get(model_id)
    assert found is not None
    return found


FLASH, PRO = model("gemini-3.5-flash"), model("gemini-2.5-pro")


@pytest.mark.parametrize(
    ("examples", "tokens", "case", "epochs", "multiplier"),
    [
        (300, 120.0, "small_short", 5, 2.0),  # < 1,000 examples, < 500 tokens: more, higher
        (999, 499.0, "small_short", 5, 2.0),
        (300, 500.0, "long", 3, 1.0),  # long context: fewer epochs, default multiplier
        (1_000, 120.0, "large", 3, 1.0),  # 1,000+ examples: fewer epochs, default multiplier
        (5_000, 2_000.0, "large", 3, 1.0),
        (12_000, 80.0, "very_large", 2, 1.0),
    ],
)
def test_the_guidance_table(
    examples: int, tokens: float, case: str, epochs: int, multiplier: float
) -> None:
    rec = recommend(stats(examples, tokens), FLASH)
    assert (rec.case, rec.epochs, rec.learning_rate_multiplier) == (case, epochs, multiplier)
    first = rec.reasons[0].text().replace(",", "")
    assert f"{examples}" in first or f"{round(tokens)}" in first


def test_small_short_explains_why_in_plain_words() -> None:
    rec = recommend(stats(300, 120.0), FLASH)
    assert rec.reasons[0].text() == (
        "Your 300 training examples are few (under 1,000) and short (about 120 tokens each, "
        "under 500). Google's guidance for such data: more epochs and a higher learning-rate "
        "multiplier, so the model learns enough from each example."
    )
    assert rec.reasons[1].text() == "Adapter size 4 is the usual starting point."


@pytest.mark.parametrize(
    ("spec", "examples", "adapter", "note"),
    [
        (FLASH, 300, 4, "adapter_default"),
        (FLASH, 6_000, 8, "adapter_larger"),
        (FLASH, 25_000, 16, "adapter_larger"),
        (PRO, 6_000, 8, "adapter_larger"),
        (PRO, 25_000, 8, "adapter_capped"),  # 2.5 Pro stops at 8
    ],
)
def test_adapter_size_grows_only_with_data_and_within_the_model(
    spec: catalog.ModelSpec, examples: int, adapter: int, note: str
) -> None:
    rec = recommend(stats(examples, 100.0), spec)
    assert rec.adapter_size == adapter
    assert rec.adapter_size in spec.adapter_sizes
    assert rec.reasons[1].code == note


def test_warnings_for_little_data_and_no_validation() -> None:
    rec = recommend(stats(40, 100.0, validation=0, pilot=True), FLASH)
    assert [w.code for w in rec.warnings] == ["few_examples", "no_validation"]
    assert "Only 40 training examples" in rec.warnings[0].text()
    assert [r.code for r in rec.reasons][-1] == "pilot"


def test_choices_outside_the_model_limits_are_refused() -> None:
    assert check_choice(Choice(3, 1.0, 4), PRO) == {}
    assert check_choice(Choice(None, None, None), PRO) == {}  # all left to Vertex
    errors = check_choice(Choice(0, 11.0, 16), PRO)
    assert errors["adapter_size"] == (
        "Gemini 2.5 Pro does not accept adapter size 16; choose one of 1, 2, 4, 8."
    )
    assert errors["epochs"] == "Choose between 1 and 100 epochs."
    assert errors["learning_rate_multiplier"].startswith(
        "Choose a multiplier between 0.01 and 10.0"
    )
    assert check_choice(Choice(3, 1.0, 16), FLASH) == {}


@pytest.fixture
def manager_and_version(
    client: TestClient, session: Session, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> tuple[int, int]:
    emulator.use(monkeypatch)
    manager = create_user(session)
    project = create_project(session, members={manager: Role.MANAGER})
    version, _examples = versioned_examples(session, project=project, actor=manager)
    login(client, manager)
    return project.id, version.id


def test_the_page_offers_only_allowed_sizes_and_refuses_others(
    client: TestClient, session: Session, manager_and_version: tuple[int, int]
) -> None:
    project_id, version_id = manager_and_version
    page = client.get(
        f"/projects/{project_id}/tuning/new?version={version_id}&base_model=gemini-2.5-pro"
    )
    options = {
        o["value"]: o.has_attr("disabled") for o in soup(page).select("#f-adapter_size option")
    }
    assert options == {"1": False, "2": False, "4": False, "8": False, "16": True, "auto": False}
    posted = client.post(
        f"/projects/{project_id}/tuning",
        data={
            "version": version_id,
            "base_model": "gemini-2.5-pro",
            "epochs": "3",
            "learning_rate_multiplier": "1",
            "adapter_size": "16",
        },
    )
    assert posted.status_code == 422
    assert soup(posted).select_one("#f-adapter_size-error").get_text() == (
        "Gemini 2.5 Pro does not accept adapter size 16; choose one of 1, 2, 4, 8."
    )
    assert session.scalar(select(func.count()).select_from(TuningJob)) == 0


def test_the_api_refuses_a_size_the_model_does_not_allow(
    client: TestClient, session: Session, manager_and_version: tuple[int, int]
) -> None:
    from app.auth.models import User
    from app.auth.service import create_api_token

    project_id, version_id = manager_and_version
    user = session.scalars(select(User)).one()
    _token, plain = create_api_token(session, user=user, name="ci")
    session.commit()
    client.cookies.clear()
    response = client.post(
        f"/api/v1/projects/{project_id}/tuning/jobs",
        json={"version_id": version_id, "base_model": "gemini-2.5-pro", "adapter_size": 16},
        headers={"Authorization": f"Bearer {plain}"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["fields"]["adapter_size"].startswith(
        "Gemini 2.5 Pro does not accept"
    )
    assert session.scalar(select(func.count()).select_from(TuningJob)) == 0
