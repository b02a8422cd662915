"""From what a user asked (``EvaluationSpec``) to what will run: the test items, the candidates
with their exact prompts and answer keys, the leaks. Reads only; ``service`` writes the rows.

Every refusal is an ``EvaluationError`` whose message says what is wrong and how to fix it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from app.datasets.models import Dataset
from app.datasets.versions.models import DatasetVersion, DatasetVersionExample
from app.datasets.versions.service import frozen_examples
from app.datasets.versions.splits import TEST, TRAIN
from app.errors import ValidationFailed
from app.evaluations.models import CandidateKind
from app.evaluations.planning import prompts
from app.evaluations.planning.leakage import Leak, find_leaks
from app.evaluations.planning.prompts import BASE_KINDS, TUNED_KINDS, ItemPrompt
from app.evaluations.schemas import CandidateSpec, EvaluationSpec
from app.i18n import _
from app.projects.models import Project
from app.tuning import catalog
from app.tuning.models import JobState, TuningJob

BASELINE, TUNED = "baseline", "tuned"


class EvaluationError(ValidationFailed):
    """A request that cannot run as asked; one translated message (per form field if known)."""

    def __init__(self, message: str, field: str = "__all__") -> None:
        super().__init__({field: message})


@dataclass
class PlannedCandidate:
    position: int
    kind: str
    label: str
    base_model: str
    model: str
    answer_key: str
    settings: prompts.Settings
    prompt_config: dict[str, Any] = field(default_factory=dict)
    role: str | None = None
    tuning_job_id: int | None = None
    checkpoint_id: str | None = None
    few_shot_k: int | None = None
    requested_role: str | None = None


@dataclass
class PlannedItem:
    position: int
    example_id: int
    prompt: ItemPrompt
    prompt_hash: str
    leak: Leak | None = None
    excluded: bool = False


@dataclass
class Plan:
    version: DatasetVersion
    dataset: Dataset
    training_version_id: int | None
    candidates: list[PlannedCandidate]
    items: list[PlannedItem]
    judge_model: str | None

    @property
    def included(self) -> list[PlannedItem]:
        return [item for item in self.items if not item.excluded]

    def role(self, role: str) -> PlannedCandidate | None:
        return next((c for c in self.candidates if c.role == role), None)

    @property
    def judged(self) -> bool:
        return bool(self.judge_model) and self.role(TUNED) is not None


def version_name(dataset: Dataset, version: DatasetVersion) -> str:
    return f"{dataset.name} v{version.number}"


def _test_version(session: Session, project: Project, version_id: int) -> tuple[Any, Dataset]:
    version = session.get(DatasetVersion, version_id)
    dataset = session.get(Dataset, version.dataset_id) if version is not None else None
    if version is None or dataset is None or version.project_id != project.id:
        raise EvaluationError(
            _("Choose a dataset version of this project as the test set."), "test_version_id"
        )
    return version, dataset


def _items(session: Session, version: DatasetVersion, dataset: Dataset) -> list[PlannedItem]:
    items: list[PlannedItem] = []
    for row in frozen_examples(session, version_id=version.id, split=TEST):
        prompt = prompts.item_from_content(row.content or {})
        if prompt is not None:
            digest = prompts.prompt_hash(prompt.system_instruction, prompt.turns)
            items.append(PlannedItem(len(items), row.example_id, prompt, digest))
    if not items:
        raise EvaluationError(
            _(
                "Version “%(version)s” has no test examples to evaluate on. Mark some examples "
                "as test, then make a new version and choose it here."
            )
            % {"version": version_name(dataset, version)},
            "test_version_id",
        )
    return items


def _job(session: Session, project: Project, spec: CandidateSpec) -> TuningJob:
    job = session.get(TuningJob, spec.tuning_job_id) if spec.tuning_job_id else None
    if job is None or job.project_id != project.id:
        raise EvaluationError(_("Choose a tuning job of this project for the tuned model."))
    if job.state != JobState.SUCCEEDED or not job.tuned_endpoint:
        raise EvaluationError(
            _(
                "The tuning job “%(job)s” has not finished successfully, so there is no tuned "
                "model to ask yet. Wait until it succeeds, or choose another job."
            )
            % {"job": job.display_name}
        )
    return job


def _base_model(spec: CandidateSpec) -> str:
    current = catalog.current()
    model_id = spec.base_model or current.default_model
    found = current.get(model_id)
    if found is None:
        raise EvaluationError(
            _("The model “%(model)s” is not in the model list. Choose one of the listed models.")
            % {"model": model_id}
        )
    _refuse_retired(current, found)
    return model_id


def _refuse_retired(current: catalog.Catalog, model: catalog.ModelSpec, field: str = "") -> None:
    """A retired model no longer answers on Vertex: say so, and what to use instead."""
    if not model.retired():
        return
    successor = current.successor_of(model.id)
    raise EvaluationError(
        _("%(model)s was retired by Google and no longer answers. Choose %(successor)s.")
        % {
            "model": model.display_name,
            "successor": successor.display_name if successor else _("a listed model"),
        },
        field or "__all__",
    )


def _display(model_id: str) -> str:
    spec = catalog.current().get(model_id)
    return spec.display_name if spec else model_id


def _few_shot(
    spec: CandidateSpec, training: list[DatasetVersionExample], training_version: int
) -> list[dict[str, Any]]:
    k = spec.few_shot_k or 0
    if k < 1:
        raise EvaluationError(_("Say how many examples the few-shot prompt shows (at least 1)."))
    if k > len(training):
        raise EvaluationError(
            _(
                "The few-shot prompt asks for %(k)s examples, but the training data has only "
                "%(n)s approved training examples. Choose %(n)s or fewer."
            )
            % {"k": k, "n": len(training)}
        )
    # The same version and k always give the same examples, so answers can be reused.
    chosen = random.Random(f"few-shot:{training_version}").sample(training, k)
    chosen.sort(key=lambda row: row.position)
    return [
        {"id": row.example_id, "turns": (row.content or {}).get("turns") or []} for row in chosen
    ]


@dataclass
class _Context:
    session: Session
    project: Project
    training: list[DatasetVersionExample]
    training_version: int


def _base_candidate(ctx: _Context, spec: CandidateSpec, position: int) -> PlannedCandidate:
    model = _base_model(spec)
    name = _display(model)
    config: dict[str, Any] = {}
    if spec.kind == CandidateKind.ZERO_SHOT:
        label = _("%(model)s (no examples)") % {"model": name}
    elif spec.kind == CandidateKind.FEW_SHOT:
        config["examples"] = _few_shot(spec, ctx.training, ctx.training_version)
        label = _("%(model)s (%(k)s examples)") % {"model": name, "k": spec.few_shot_k}
    else:
        instruction = ctx.project.system_instruction.strip()
        if not instruction:
            raise EvaluationError(
                _(
                    "This project has no system instruction yet. Write one in the project "
                    "settings, or remove the “with system instruction” candidate."
                )
            )
        config["system_instruction"] = instruction
        label = _("%(model)s with the project's instruction") % {"model": name}
    if spec.thinking not in prompts.THINKING_CHOICES:
        raise EvaluationError(_("Choose one of the listed thinking settings."), "thinking")
    if spec.thinking not in ("minimum", "default"):
        label = _("%(label)s, thinking %(level)s") % {"label": label, "level": spec.thinking}
    elif spec.thinking == "default":
        label = _("%(label)s, its own thinking") % {"label": label}
    return _candidate(
        spec, position, kind=spec.kind, model=model, base=model, label=label, config=config
    )


def _tuned_candidate(ctx: _Context, spec: CandidateSpec, position: int) -> PlannedCandidate:
    job = _job(ctx.session, ctx.project, spec)
    endpoint, label = job.tuned_endpoint or "", job.display_name
    if job.default_checkpoint_id:
        # The job's endpoint serves the checkpoint a manager chose (checkpoints.serve).
        label = _("%(job)s, served checkpoint %(checkpoint)s") % {
            "job": job.display_name,
            "checkpoint": job.default_checkpoint_id,
        }
    if spec.kind == CandidateKind.CHECKPOINT:
        point = next(
            (c for c in job.checkpoints if str(c.get("checkpoint_id")) == str(spec.checkpoint_id)),
            None,
        )
        if point is None or not point.get("endpoint"):
            raise EvaluationError(
                _("The tuning job “%(job)s” has no checkpoint %(checkpoint)s. Choose one it lists.")
                % {"job": job.display_name, "checkpoint": spec.checkpoint_id or "—"}
            )
        endpoint = str(point["endpoint"])
        label = _("%(job)s, checkpoint %(checkpoint)s") % {
            "job": job.display_name,
            "checkpoint": point.get("epoch") or spec.checkpoint_id,
        }
    planned = _candidate(
        spec, position, kind=spec.kind, model=endpoint, base=job.base_model, label=label, config={}
    )
    planned.tuning_job_id = job.id
    planned.checkpoint_id = spec.checkpoint_id if spec.kind == CandidateKind.CHECKPOINT else None
    return planned


def _candidate(
    spec: CandidateSpec,
    position: int,
    *,
    kind: str,
    model: str,
    base: str,
    label: str,
    config: dict[str, Any],
) -> PlannedCandidate:
    settings = prompts.settings_for(kind, base, spec.thinking)
    key = prompts.answer_key(
        model=model,
        kind=kind,
        few_shot_ids=[e["id"] for e in config.get("examples", [])],
        system_instruction=config.get("system_instruction", ""),
        settings=settings,
    )
    return PlannedCandidate(
        position=position,
        kind=kind,
        label=label[:200],
        base_model=base,
        model=model,
        answer_key=key,
        settings=settings,
        prompt_config={**config, "settings": settings.as_dict()},
        few_shot_k=spec.few_shot_k if kind == CandidateKind.FEW_SHOT else None,
        requested_role=spec.role,
    )


def _training_version(session: Session, project: Project, spec: EvaluationSpec) -> int | None:
    """The version the tuned candidate learned from (the tuned role first, else any)."""
    tuned = [c for c in spec.candidates if c.kind in TUNED_KINDS]
    tuned.sort(key=lambda c: c.role != TUNED)
    for candidate in tuned:
        return _job(session, project, candidate).dataset_version_id
    return None


def _assign_roles(candidates: list[PlannedCandidate]) -> None:
    for candidate in candidates:
        if candidate.requested_role not in (None, "", BASELINE, TUNED):
            raise EvaluationError(_("A candidate's role must be “baseline” or “tuned”."))
    for role in (BASELINE, TUNED):
        if sum(c.requested_role == role for c in candidates) > 1:
            raise EvaluationError(
                _("Only one candidate can be the baseline, and only one the tuned model.")
            )
        for candidate in candidates:
            if candidate.requested_role == role:
                candidate.role = role
    if not any(c.role == TUNED for c in candidates):
        tuned = next((c for c in candidates if c.kind in TUNED_KINDS and c.role is None), None)
        if tuned is not None:
            tuned.role = TUNED
    if not any(c.role == BASELINE for c in candidates):
        free = [c for c in candidates if c.role is None]
        ordered = sorted(
            free, key=lambda c: (c.kind != CandidateKind.ZERO_SHOT, c.kind not in BASE_KINDS)
        )
        if not ordered:
            raise EvaluationError(
                _("Add an original-model candidate to compare the tuned model with.")
            )
        ordered[0].role = BASELINE


def _check_duplicates(candidates: list[PlannedCandidate]) -> None:
    seen: dict[str, str] = {}
    for candidate in candidates:
        if candidate.answer_key in seen:
            raise EvaluationError(
                _("“%(label)s” is listed twice. Remove one of them.") % {"label": candidate.label}
            )
        seen[candidate.answer_key] = candidate.label


def _judge_model(spec: EvaluationSpec, candidates: list[PlannedCandidate]) -> str | None:
    if not spec.judge_model:
        return None
    judge = catalog.current().get(spec.judge_model)
    if judge is not None:
        _refuse_retired(catalog.current(), judge, "judge_model")
    if judge is None:
        raise EvaluationError(
            _(
                "The judge model “%(model)s” is not in the model list. "
                "Choose one of the listed models."
            )
            % {"model": spec.judge_model},
            "judge_model",
        )
    if not any(c.role == TUNED for c in candidates):
        raise EvaluationError(
            _(
                "The AI judge compares the tuned model with the baseline. Add a tuned model, "
                "or turn the judge off."
            ),
            "judge_model",
        )
    return spec.judge_model


def build(session: Session, *, project: Project, spec: EvaluationSpec) -> Plan:
    """Resolve ``spec``; raises ``EvaluationError`` with an actionable message."""
    version, dataset = _test_version(session, project, spec.test_version_id)
    items = _items(session, version, dataset)
    training_version_id = _training_version(session, project, spec)
    source = training_version_id or version.id
    training = frozen_examples(session, version_id=source, split=TRAIN)
    ctx = _Context(session, project, training, source)
    candidates = [
        (_tuned_candidate if c.kind in TUNED_KINDS else _base_candidate)(ctx, c, position)
        for position, c in enumerate(spec.candidates)
    ]
    _check_duplicates(candidates)
    _assign_roles(candidates)
    judge_model = _judge_model(spec, candidates)
    if training_version_id is not None:
        for leak in find_leaks([item.prompt for item in items], training):
            items[leak.position].leak = leak
            items[leak.position].excluded = not spec.include_leaks
    return Plan(version, dataset, training_version_id, candidates, items, judge_model)
