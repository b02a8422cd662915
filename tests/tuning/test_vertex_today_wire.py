"""What TuneDesk sends to Vertex AI today, read from the emulator's request log: every call goes
through the product's own code, the real google-genai SDK and HTTP (issue 12, "Done when").

- A tuned Gemini 3.5 Flash answers at ``…/locations/us/endpoints/…:generateContent``: the
  multi-region path, not the tuning region; base and tuned candidates of an evaluation both carry
  the thinking setting recorded with the run.
- "Improve this model" creates a job whose body has ``preTunedModel`` with both the tuned model's
  name and the checkpoint id, and no ``baseModel``.
- Serving a checkpoint sends exactly one ``models.update`` with that id.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import AuditEvent
from app.db import new_session
from app.evaluations import service as evaluations
from app.evaluations.models import EvalCandidate, EvalStatus, Evaluation
from app.evaluations.running import runner
from app.genai import common, gateway
from app.tuning import launch, service
from app.tuning.models import JobEvent, TuningJob
from app.tuning.recommend import Choice
from tests.emulator_fixture import EmulatorServer
from tests.evaluations.run_factories import (
    faq_version,
    manager_project,
    spec,
    succeeded_job,
    tuned,
    zero_shot,
)
from tests.support import login, soup

TUNED_PATH = re.compile(r"^/v1beta1/projects/\d+/locations/us/endpoints/\d+:generateContent$")
BASE_PATH = re.compile(
    r"^/v1beta1/projects/tunedesk-test/locations/us-central1/publishers/google/models/"
    r"gemini-3\.5-flash:generateContent$"
)


@pytest.fixture
def gemini(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> EmulatorServer:
    emulator.use(monkeypatch)
    monkeypatch.setattr(common, "current_config", emulator.config)
    return emulator


def fresh(job_id: int) -> TuningJob:
    with new_session() as own:
        found = own.get(TuningJob, job_id)
        assert found is not None
        return found


def test_tuned_3x_answers_on_the_multi_region_path_with_the_recorded_thinking(
    session: Session, gemini: EmulatorServer
) -> None:
    project, manager = manager_project(session)
    version = faq_version(session, project=project, actor=manager)
    job = succeeded_job(session, project=project, version=version)
    assert job.tuned_endpoint and "/locations/us/endpoints/" in job.tuned_endpoint
    gemini.reset()
    created = evaluations.create_evaluation(
        session,
        project=project,
        actor=manager,
        spec=spec(version, zero_shot(), zero_shot(thinking="high"), tuned(job)),
    )
    session.commit()
    assert runner.run_evaluation(created.id) == EvalStatus.SUCCEEDED

    recorded = {
        c.kind + (":high" if "thinking high" in c.label else ""): c.prompt_config["settings"]
        for c in session.scalars(
            select(EvalCandidate).where(EvalCandidate.evaluation_id == created.id)
        )
    }
    assert recorded["tuned"]["thinking_level"] == "minimal"  # Google's advice for tuned 3.x
    assert recorded["zero_shot"]["thinking_level"] == "minimal"  # the fair default
    assert recorded["zero_shot:high"]["thinking_level"] == "high"  # chosen on the form
    sent = gemini.requests("generate")
    tuned_calls = [r for r in sent if TUNED_PATH.match(r["path"])]
    base_calls = [r for r in sent if BASE_PATH.match(r["path"])]
    assert tuned_calls and base_calls and len(tuned_calls) + len(base_calls) == len(sent)
    assert not any("/locations/us-central1/endpoints/" in r["path"] for r in sent)
    assert {r["path"] for r in tuned_calls} == {f"/v1beta1/{job.tuned_endpoint}:generateContent"}
    levels = [r["json"]["generationConfig"]["thinkingConfig"]["thinking_level"] for r in sent]
    assert levels.count("HIGH") == len(base_calls) // 2
    assert all(
        r["json"]["generationConfig"]["thinkingConfig"] == {"thinking_level": "MINIMAL"}
        for r in tuned_calls
    )
    # The estimate counted the thinking: the "high" baseline's tokens, the minimal ones none.
    evaluation = session.get(Evaluation, created.id)
    assert evaluation is not None and evaluation.estimate["thinking_tokens"] > 0


def test_improving_a_model_sends_pre_tuned_model_and_no_base_model(
    session: Session, gemini: EmulatorServer, client: TestClient
) -> None:
    project, manager = manager_project(session)
    version = faq_version(session, project=project, actor=manager)
    parent = succeeded_job(session, project=project, version=version)
    newer = faq_version(session, project=project, actor=manager)
    gemini.reset()
    job = service.create_job(
        session,
        actor=manager,
        project=project,
        version_id=newer.id,
        model_id=None,
        choice=Choice(1, 1.0, 4),
        parent_job_id=parent.id,
        checkpoint_id="1",
    )
    session.info.pop("tunedesk.pending_tasks", None)  # launched here, below
    session.commit()
    assert launch.launch(job.id) == "created"

    [create] = gemini.requests("tuning.create")
    body = create["json"]
    assert "baseModel" not in body
    pre = body["preTunedModel"]
    # google-genai 3.4 sends these members in snake_case (vertex-2026.md §3): either spelling.
    assert (pre.get("tunedModelName") or pre.get("tuned_model_name")) == parent.tuned_model_name
    assert (pre.get("checkpointId") or pre.get("checkpoint_id")) == "1"
    row = fresh(job.id)
    assert row.parent_job_id == parent.id and row.pre_tuned_model == parent.tuned_model_name
    remote = gateway.get_tuning(row.remote_name or "")
    assert remote.base_model == "gemini-3.5-flash"  # reported through preTunedModel.baseModel
    assert remote.pre_tuned_model == parent.tuned_model_name

    login(client, manager)
    page = soup(client.get(f"/projects/{project.id}/tuning/{job.id}"))
    chain = [li.get_text(" ", strip=True) for li in page.select("#lineage li")]
    assert chain[0].startswith(row.display_name) and parent.display_name in chain[1]
    assert "continued from its checkpoint 1" in chain[1]  # the parent's checkpoint it used
    log = soup(client.get(f"/projects/{project.id}/tuning/experiments"))
    note = log.select_one(f"#experiment-{job.id} .lineage-note").get_text(" ", strip=True)
    assert f"#{parent.id}" in note and "checkpoint 1" in note


def test_serving_a_checkpoint_sends_one_models_update(
    session: Session, gemini: EmulatorServer, client: TestClient
) -> None:
    project, manager = manager_project(session)
    version = faq_version(session, project=project, actor=manager)
    job = succeeded_job(session, project=project, version=version)
    first = next(c for c in job.checkpoints if str(c["checkpoint_id"]) == "1")
    login(client, manager)
    gemini.reset()
    served = client.post(f"/projects/{project.id}/tuning/{job.id}/serve", data={"checkpoint": "1"})
    assert served.status_code == 303
    [update] = gemini.requests("models.update")
    assert update["method"] == "PATCH"
    assert update["path"] == f"/v1beta1/{job.tuned_model_name}"
    assert update["json"] == {"defaultCheckpointId": "1"}
    client.post(f"/projects/{project.id}/tuning/{job.id}/serve", data={"checkpoint": "1"})
    assert len(gemini.requests("models.update")) == 1  # already served: nothing sent again

    row = fresh(job.id)
    assert row.default_checkpoint_id == "1" and row.tuned_endpoint == first["endpoint"]
    # Vertex moved the job's endpoint to that checkpoint (checkpoints page, §5).
    assert gateway.get_tuning(row.remote_name or "").tuned_endpoint == first["endpoint"]
    with new_session() as own:
        kinds = list(own.scalars(select(JobEvent.kind).where(JobEvent.job_id == job.id)))
        actions = list(own.scalars(select(AuditEvent.action)))
    assert "checkpoint_served" in kinds and "tuning_job.serve_checkpoint" in actions
    page = soup(client.get(f"/projects/{project.id}/tuning/{job.id}"))
    assert "served" in page.select_one("#checkpoint-1").get_text()
    # A new evaluation asks the served checkpoint by default.
    form = soup(client.get(f"/projects/{project.id}/evaluations/new"))
    selected = form.select_one("#f-tuned option[selected]").get_text()
    assert "serves checkpoint 1" in selected
    # The original model's thinking is a choice on the form; the default is the minimum.
    assert form.select_one("#f-thinking option[selected]")["value"] == "minimum"
    assert form.select_one("#estimate-thinking") is not None
    gemini.reset()
    session.expire_all()  # the page changed the row in its own session
    created = evaluations.create_evaluation(
        session, project=project, actor=manager, spec=spec(version, zero_shot(), tuned(job))
    )
    session.commit()
    candidate = session.scalars(
        select(EvalCandidate).where(
            EvalCandidate.evaluation_id == created.id, EvalCandidate.kind == "tuned"
        )
    ).one()
    assert candidate.model == first["endpoint"] and "served checkpoint 1" in candidate.label
