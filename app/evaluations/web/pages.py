"""Page contexts of the evaluation screens (the router stays HTTP only)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.datasets.models import Dataset
from app.datasets.versions.models import DatasetVersion
from app.errors import ValidationFailed
from app.evaluations import golden, service
from app.evaluations.models import TERMINAL_EVAL_STATES, EvalCandidate, EvalStatus, Evaluation
from app.evaluations.schemas import RunSummary
from app.evaluations.scoring import stats
from app.evaluations.web import forms, results
from app.i18n import _, format_percent
from app.projects.permissions import Permission
from app.projects.service import ProjectContext
from app.tuning import catalog

EVALUATIONS_PER_PAGE = 30


def crumbs(ctx: ProjectContext, *tail: tuple[str, str | None]) -> list[tuple[str, str | None]]:
    return ctx.crumbs((_("Evaluations"), f"/projects/{ctx.project.id}/evaluations"), *tail)


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    judged_done: int
    judged_total: int
    active: bool

    @property
    def share(self) -> float | None:
        steps = self.total + self.judged_total
        return None if not steps else (self.done + self.judged_done) / steps


def progress_of(evaluation: Evaluation) -> Progress:
    return Progress(
        evaluation.outputs_done,
        evaluation.outputs_total,
        evaluation.judged_done,
        evaluation.judged_total,
        evaluation.status not in TERMINAL_EVAL_STATES,
    )


def headline(evaluation: Evaluation) -> str:
    """The list's one-line verdict, from the stored judge summary (no votes: they are live)."""
    if evaluation.status != EvalStatus.SUCCEEDED:
        return ""
    run = results._load(RunSummary, evaluation.summary)
    if run is None or run.judge is None or not run.judge.total:
        return _("Finished without an AI judge: open it to compare the answers.")
    rate = stats.win_rate(run.judge)
    return _("Tuned better on %(better)s, worse on %(worse)s of %(count)s questions") % {
        "better": format_percent(rate.better.value or 0.0),
        "worse": format_percent(rate.worse.value or 0.0),
        "count": run.judge.total,
    }


@dataclass(frozen=True)
class ListRow:
    evaluation: Evaluation
    test_set: str
    candidates: list[str]
    progress: Progress
    headline: str


def _labels(session: Session, ids: list[int]) -> dict[int, list[str]]:
    labels: dict[int, list[str]] = {}
    for evaluation_id, label in session.execute(
        select(EvalCandidate.evaluation_id, EvalCandidate.label)
        .where(EvalCandidate.evaluation_id.in_(ids or [-1]))
        .order_by(EvalCandidate.evaluation_id, EvalCandidate.position)
    ):
        labels.setdefault(evaluation_id, []).append(label)
    return labels


def list_context(session: Session, ctx: ProjectContext, page: int = 1) -> dict[str, Any]:
    project_id = ctx.project.id
    total = int(
        session.scalar(
            select(func.count()).select_from(Evaluation).where(Evaluation.project_id == project_id)
        )
        or 0
    )
    pages = max(1, -(-total // EVALUATIONS_PER_PAGE))
    page = max(1, min(page, pages))
    rows = session.execute(
        select(Evaluation, Dataset.name, DatasetVersion.number)
        .join(DatasetVersion, DatasetVersion.id == Evaluation.test_version_id)
        .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
        .where(Evaluation.project_id == project_id)
        .order_by(Evaluation.created_at.desc(), Evaluation.id.desc())
        .limit(EVALUATIONS_PER_PAGE)
        .offset((page - 1) * EVALUATIONS_PER_PAGE)
    ).all()
    labels = _labels(session, [evaluation.id for evaluation, *_rest in rows])
    listed = [
        ListRow(e, f"{name} v{number}", labels.get(e.id, []), progress_of(e), headline(e))
        for e, name, number in rows
    ]
    return {
        "ctx": ctx,
        "rows": listed,
        "page": page,
        "pages": pages,
        "active": any(row.progress.active for row in listed),
        "has_versions": _has_test_versions(session, project_id),
        "golden": golden.golden_info(session, project_id=project_id),
        "breadcrumbs": [*crumbs(ctx)[:-1], (_("Evaluations"), None)],
    }


def _has_test_versions(session: Session, project_id: int) -> bool:
    return bool(golden.version_choices(session, project_id=project_id))


def test_set_label(session: Session, evaluation: Evaluation) -> str:
    row = session.execute(
        select(Dataset.name, DatasetVersion.number)
        .join(DatasetVersion, DatasetVersion.dataset_id == Dataset.id)
        .where(DatasetVersion.id == evaluation.test_version_id)
    ).first()
    return f"{row[0]} v{row[1]}" if row else "—"


def _retired_models(session: Session, evaluation: Evaluation) -> list[tuple[str, str | None]]:
    """(retired model, successor) for the run's candidates whose base model Google retired."""
    current = catalog.current(session)
    used = {c.base_model for c in service.candidates_of(session, evaluation.id)}
    flagged = []
    for model in current.retired_models():
        if model.id in used:
            successor = current.successor_of(model.id)
            flagged.append((model.display_name, successor.display_name if successor else None))
    return flagged


def run_context(
    session: Session, ctx: ProjectContext, evaluation: Evaluation, filters: results.ItemFilters
) -> dict[str, Any]:
    """The compare screen: progress while running; summary and items once finished."""
    progress = progress_of(evaluation)
    context: dict[str, Any] = {
        "ctx": ctx,
        "evaluation": evaluation,
        "progress": progress,
        "test_set": test_set_label(session, evaluation),
        "filters": filters,
        "filter_choices": [(key, _(label)) for key, label in results.FILTERS.items()],
        "can_vote": ctx.can(Permission.VOTE),
        "can_fix": ctx.can(Permission.EVALUATE),
        "breadcrumbs": crumbs(ctx, (evaluation.name, None)),
    }
    context["retired"] = _retired_models(session, evaluation)
    if evaluation.status == EvalStatus.SUCCEEDED:
        context["summary"] = results.summary_view(session, evaluation)
        context["items"] = results.item_page(session, evaluation, filters)
    return context


def _defaults(choices: service.CandidateChoices, job_id: str) -> forms.EvalForm:
    """A first visit: the golden set (or the newest version), the catalog's default model as
    baseline and judge, and the tuned model asked for (``?job=``) or the newest one."""
    tuned = next((t for t in choices.tuned_jobs if str(t.job_id) == job_id), None)
    tuned = tuned or (choices.tuned_jobs[0] if choices.tuned_jobs else None)
    version = choices.golden_version_id or (
        choices.versions[0].version_id if choices.versions else None
    )
    usable = {m.id for m in choices.base_models}
    baseline = tuned.base_model if tuned and tuned.base_model in usable else None
    return forms.EvalForm(
        test_version=str(version or ""),
        base_model=baseline or choices.default_judge_model,
        tuned=str(tuned.job_id) if tuned else "",
        judge_model=choices.default_judge_model,
    )


def _tuned_label(choice: service.TunedChoice) -> str:
    label = f"{choice.display_name} ({choice.base_model})"
    if choice.served_checkpoint:
        label += " — " + _("serves checkpoint %(id)s") % {"id": choice.served_checkpoint}
    if choice.retired:
        label += " — " + _("base model retired")
    return label


def _options(choices: service.CandidateChoices) -> dict[str, list[tuple[str, str]]]:
    """(value, label) pairs for the form's selects."""
    models = [(m.id, m.display_name) for m in choices.base_models]
    golden_mark = " ★ " + _("golden set")
    return {
        "versions": [
            (
                str(v.version_id),
                _("%(label)s — %(count)s test questions")
                % {"label": v.label, "count": v.test_examples}
                + (golden_mark if v.golden else ""),
            )
            for v in choices.versions
        ],
        "models": models,
        "judges": [("", _("No AI judge (scores and votes only)")), *models],
        "tuned": [("", _("No tuned model"))]
        + [(str(t.job_id), _tuned_label(t)) for t in choices.tuned_jobs],
        "thinking": [
            ("minimum", _("Minimum, as the tuned model is asked (fair comparison)")),
            ("default", _("The model's own default (more thinking, slower, costs more)")),
            ("low", _("Low (Gemini 3 and later)")),
            ("medium", _("Medium (Gemini 3 and later)")),
            ("high", _("High (Gemini 3 and later)")),
        ],
        "checkpoints": [("", _("No checkpoint"))]
        + [
            (
                f"{t.job_id}:{c.checkpoint_id}",
                _("%(job)s — checkpoint %(id)s (epoch %(epoch)s)")
                % {"job": t.display_name, "id": c.checkpoint_id, "epoch": c.epoch or "—"},
            )
            for t in choices.tuned_jobs
            for c in t.checkpoints
        ],
    }


def new_context(
    session: Session,
    ctx: ProjectContext,
    data: Mapping[str, Any],
    errors: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The new-evaluation form with its estimate panel (items, leaks, calls, tokens, cost)."""
    choices = service.candidate_choices(session, project=ctx.project)
    form = forms.EvalForm.from_mapping(data, defaults=_defaults(choices, str(data.get("job", ""))))
    context: dict[str, Any] = {
        "ctx": ctx,
        "form": form,
        "choices": choices,
        "errors": dict(errors or {}),
        "estimate": None,
        "options": _options(choices),
        "breadcrumbs": crumbs(ctx, (_("New evaluation"), None)),
    }
    spec, field_errors = forms.to_spec(form)
    context["errors"] = {**field_errors, **context["errors"]}
    if spec is None or errors:
        return context
    try:
        context["estimate"] = service.estimate_evaluation(session, project=ctx.project, spec=spec)
    except ValidationFailed as error:
        context["errors"].update(error.errors)
    return context
