"""Diagnosis of training curves: real curves from the emulator (through the gateway, the way the
poller reads them) for under-training, over-fitting and a data problem, each with the right
verdict and checkpoint; plus the rules on hand-made curves."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.genai import gateway
from app.genai.config import ConnectionConfig
from app.genai.types import RemoteTuningJob, TuningMetrics
from app.projects.permissions import Role
from app.tuning import launch, polling
from app.tuning.diagnosis import Checkpoint, Diagnosis, diagnose
from app.tuning.models import JobState, TuningJob
from tests.emulator_fixture import EmulatorServer
from tests.factories import create_project, create_user
from tests.support import login, soup
from tests.tuning.factories import TOPICS, versioned_examples


def _line(question: str, answer: str) -> dict[str, object]:
    return {
        "contents": [
            {"role": "user", "parts": [{"text": question}]},
            {"role": "model", "parts": [{"text": answer}]},
        ]
    }


def _file(count: int, long_every: int = 0) -> bytes:
    lines = []
    for i in range(count):
        question, answer = TOPICS[i % len(TOPICS)]
        if long_every and i % long_every == 0:
            answer += " More detail follows." * 60
        lines.append(json.dumps(_line(f"{question} ({i})", f"{answer} ({i})")))
    return "\n".join(lines).encode()


@dataclass
class Run:
    remote: RemoteTuningJob
    metrics: TuningMetrics

    def diagnosis(self) -> Diagnosis:
        checkpoints = [
            Checkpoint(c.checkpoint_id, c.epoch, c.step) for c in self.remote.checkpoints
        ]
        truncated = self.remote.data_stats.affected_count or 0 if self.remote.data_stats else 0
        return diagnose(
            [(p.step, p.value) for p in self.metrics.train_loss],
            [(p.step, p.value) for p in self.metrics.eval_loss],
            checkpoints,
            finished=self.remote.has_ended,
            truncated=truncated,
            hyperparameters={
                "epochs": self.remote.epochs,
                "learning_rate_multiplier": self.remote.learning_rate_multiplier,
            },
        )


def tune(
    emulator: EmulatorServer, *, examples: int, epochs: int, multiplier: float, long_every: int = 0
) -> Run:
    config: ConnectionConfig = emulator.config()
    name = uuid.uuid4().hex[:12]
    train = gateway.upload_training_file(
        _file(examples, long_every), object_name=f"diag/{name}/train.jsonl", config=config
    )
    validation = gateway.upload_training_file(
        _file(max(10, examples // 10)), object_name=f"diag/{name}/val.jsonl", config=config
    )
    created = gateway.launch_tuning(
        base_model="gemini-3.5-flash",
        training_uri=train.uri,
        validation_uri=validation.uri,
        display_name=f"diagnosis {name}",
        epochs=epochs,
        learning_rate_multiplier=multiplier,
        adapter_size=4,
        config=config,
    )
    emulator.advance(100_000)
    remote = gateway.get_tuning(created.name, config=config)
    assert remote.succeeded
    return Run(remote, gateway.read_metrics(remote, config=config))


def test_too_few_passes_at_a_low_multiplier_is_under_trained(emulator: EmulatorServer) -> None:
    result = tune(emulator, examples=120, epochs=1, multiplier=0.1).diagnosis()
    assert result.verdict == "under_trained"
    assert result.text.startswith("Under-trained: the loss was still falling clearly at the end")
    assert [note.code for note in result.advice] == [
        "more_epochs",
        "higher_multiplier",
        "more_data",
    ]
    assert result.advice_texts()[0] == "Tune for more epochs (for example 2 instead of 1)."
    assert result.checkpoint is not None and result.checkpoint.epoch == 1  # the last one
    assert result.checkpoint_reason is not None and result.checkpoint_reason.code == "last"


def test_far_too_many_epochs_is_over_fitting_with_the_checkpoint_at_the_minimum(
    emulator: EmulatorServer,
) -> None:
    run = tune(emulator, examples=120, epochs=20, multiplier=1.0)
    result = run.diagnosis()
    assert result.verdict == "over_fitting"
    best_step, best_value = min(
        ((p.step, p.value) for p in run.metrics.eval_loss), key=lambda p: p[1]
    )
    assert result.params["step"] == best_step and result.params["best"] == best_value
    # The checkpoint nearest to the validation minimum, named, with its epoch.
    nearest = min(run.remote.checkpoints, key=lambda c: abs((c.step or 0) - best_step))
    assert (
        result.checkpoint is not None and result.checkpoint.checkpoint_id == nearest.checkpoint_id
    )
    assert result.checkpoint.epoch is not None and result.checkpoint.epoch < 20
    assert (
        result.advice_texts()[0]
        == f"Use checkpoint {nearest.checkpoint_id} (epoch {nearest.epoch}) "
        "instead of the final model."
    )
    assert (
        result.advice_texts()[1]
        == f"Next time, tune for about {nearest.epoch} epochs instead of 20."
    )
    assert "It has the lowest validation loss" in result.checkpoint_text


def test_truncated_examples_are_a_data_problem(emulator: EmulatorServer) -> None:
    emulator.settings(max_example_tokens=120)
    result = tune(emulator, examples=120, epochs=3, multiplier=1.0, long_every=10).diagnosis()
    assert result.verdict == "data_problem"
    assert result.params["first"] > 5
    assert result.advice_texts() == [
        "Open the 12 examples Vertex cut or dropped (listed below) and shorten, split or fix "
        "them, then create a new version."
    ]
    assert result.checkpoint is None
    assert (
        result.checkpoint_text == "None yet: fix the data and tune again before using this model."
    )


def test_a_sensible_setup_is_healthy_and_uses_the_final_checkpoint(
    emulator: EmulatorServer,
) -> None:
    run = tune(emulator, examples=120, epochs=3, multiplier=1.0)
    result = run.diagnosis()
    assert result.verdict == "healthy"
    assert result.checkpoint is not None and result.checkpoint.epoch == 3


def test_the_job_page_shows_the_data_problem_and_links_the_cut_examples(
    client: TestClient, session: Session, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.use(monkeypatch)
    emulator.settings(max_example_tokens=100)
    manager = create_user(session)
    project = create_project(session, members={manager: Role.MANAGER})
    version, examples = versioned_examples(
        session, project=project, actor=manager, long_text="detail " * 120, long_count=6
    )
    login(client, manager)
    client.post(
        f"/projects/{project.id}/tuning",
        data={
            "version": version.id,
            "base_model": "gemini-3.5-flash",
            "epochs": "3",
            "learning_rate_multiplier": "1",
            "adapter_size": "4",
        },
    )
    job = session.query(TuningJob).one()
    assert launch.launch(job.id) == "created"
    emulator.advance(100_000)
    session.refresh(job)
    job.poll_generation += 1
    session.commit()
    assert polling.poll_one(job.id, job.poll_generation) == JobState.SUCCEEDED
    page = soup(client.get(f"/projects/{project.id}/tuning/{job.id}"))
    assert page.select_one("#diagnosis")["data-verdict"] == "data_problem"
    links = [a["href"] for a in page.select(".affected-list a")]
    long_in_training = {e.id for e in examples[:6]}
    frozen_train = {int(href.rsplit("/", 1)[1]) for href in links}
    assert (
        frozen_train and frozen_train <= long_in_training
    )  # those of the six that went to training
    assert (
        page.select_one("#recommended-checkpoint")
        .get_text(" ", strip=True)
        .endswith("None yet: fix the data and tune again before using this model.")
    )


# --- Rules on hand-made curves -------------------------------------------------------------


def curve(values: list[float], every: int = 1) -> list[tuple[int, float]]:
    return [((i + 1) * every, v) for i, v in enumerate(values)]


def test_no_curve_yet_and_still_running() -> None:
    assert diagnose([], [], finished=False).verdict == "waiting"
    falling = curve([2.5 - 0.1 * i for i in range(20)])
    running = diagnose(falling, [], finished=False)
    assert running.verdict == "in_progress" and running.provisional


def test_a_very_high_first_loss_is_a_data_problem_even_without_truncation() -> None:
    result = diagnose(curve([12.0, 6.0, 3.0, 1.0, 0.5]), [], finished=True)
    assert result.verdict == "data_problem"
    assert result.advice[0].code == "check_data"


def test_over_fitting_shows_early_while_running() -> None:
    train = curve([2.0 - 0.09 * i for i in range(20)])
    evals = curve([1.5, 1.0, 0.8, 0.9, 1.2], every=4)
    checkpoints = [Checkpoint("1", 1, 10), Checkpoint("2", 2, 20)]
    result = diagnose(train, evals, checkpoints, finished=False, hyperparameters={"epochs": 4})
    assert result.verdict == "over_fitting" and result.provisional
    assert result.checkpoint == Checkpoint("1", 1, 10)


def test_flat_curves_without_validation_are_healthy_but_say_so() -> None:
    train = curve([2.0, 1.0, 0.6, 0.45, 0.41, 0.4, 0.4, 0.4, 0.4, 0.4])
    result = diagnose(train, [], [Checkpoint("3", 3, 10)], finished=True)
    assert result.verdict == "healthy_no_validation"
    assert result.advice[0].code == "add_validation"
    assert (
        result.checkpoint_reason is not None
        and result.checkpoint_reason.code == "last_no_validation"
    )
