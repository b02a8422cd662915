"""The new-evaluation form: raw fields as submitted (kept to re-render the form) and their
translation into an ``EvaluationSpec`` with a message per field for anything unusable."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from pydantic import BaseModel, ValidationError

from app.evaluations.models import CandidateKind
from app.evaluations.planning.prompts import THINKING_CHOICES
from app.evaluations.schemas import MAX_FEW_SHOT, CandidateSpec, EvaluationSpec
from app.i18n import _

CHECKED = ("true", "on", "1", "yes")
DEFAULT_K = 3


class EvalFormFields(BaseModel):
    """What the form posts (all text: the browser sends text, we judge it)."""

    name: str = ""
    test_version: str = ""
    base_model: str = ""
    zero_shot: str = ""
    few_shot: str = ""
    few_shot_k: str = ""
    system: str = ""
    tuned: str = ""
    checkpoint: str = ""
    judge_model: str = ""
    include_leaks: str = ""
    thinking: str = ""
    submitted: str = ""


@dataclass(frozen=True)
class EvalForm:
    name: str = ""
    test_version: str = ""
    base_model: str = ""
    zero_shot: bool = True
    few_shot: bool = False
    few_shot_k: str = str(DEFAULT_K)
    system: bool = False
    tuned: str = ""  # a tuning job id
    checkpoint: str = ""  # "<job id>:<checkpoint id>"
    judge_model: str = ""  # "" = no AI judge
    include_leaks: bool = False
    thinking: str = "minimum"  # the original model's thinking (prompts.THINKING_CHOICES)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, defaults: EvalForm | None = None) -> EvalForm:
        """Fields from a query string or a posted form. Checkboxes absent from a *submitted*
        form are off; on a first visit (no ``submitted``) the defaults stand."""
        base = defaults or cls()
        submitted = bool(data.get("submitted"))
        values: dict[str, Any] = {}
        for spec in fields(cls):
            raw = data.get(spec.name)
            if isinstance(getattr(base, spec.name), bool):
                if submitted:
                    values[spec.name] = str(raw or "").lower() in CHECKED
                elif raw is not None:
                    values[spec.name] = str(raw).lower() in CHECKED
            elif raw is not None and (submitted or str(raw) != ""):
                values[spec.name] = str(raw).strip()
        return cls(**{**base.__dict__, **values})

    def version_id(self) -> int | None:
        return int(self.test_version) if self.test_version.isdigit() else None


def _few_shot_k(form: EvalForm, errors: dict[str, str]) -> int | None:
    text = form.few_shot_k.strip()
    if text.isdigit() and 1 <= int(text) <= MAX_FEW_SHOT:
        return int(text)
    errors["few_shot_k"] = _("Give a number of examples between 1 and %(max)s.") % {
        "max": MAX_FEW_SHOT
    }
    return None


def _candidates(form: EvalForm, errors: dict[str, str]) -> list[CandidateSpec]:
    base = form.base_model or None
    thinking = form.thinking or "minimum"
    if thinking not in THINKING_CHOICES:
        errors["thinking"] = _("Choose one of the listed thinking settings.")
        thinking = "minimum"
    chosen: list[CandidateSpec] = []
    if form.zero_shot:
        chosen.append(
            CandidateSpec(kind=CandidateKind.ZERO_SHOT, base_model=base, thinking=thinking)
        )
    if form.few_shot:
        k = _few_shot_k(form, errors)
        if k is not None:
            chosen.append(
                CandidateSpec(
                    kind=CandidateKind.FEW_SHOT, base_model=base, few_shot_k=k, thinking=thinking
                )
            )
    if form.system:
        chosen.append(CandidateSpec(kind=CandidateKind.SYSTEM, base_model=base, thinking=thinking))
    if form.tuned:
        if form.tuned.isdigit():
            chosen.append(CandidateSpec(kind=CandidateKind.TUNED, tuning_job_id=int(form.tuned)))
        else:
            errors["tuned"] = _("Choose one of the listed tuned models.")
    if form.checkpoint:
        job, _sep, checkpoint = form.checkpoint.partition(":")
        if job.isdigit() and checkpoint:
            chosen.append(
                CandidateSpec(
                    kind=CandidateKind.CHECKPOINT,
                    tuning_job_id=int(job),
                    checkpoint_id=checkpoint,
                )
            )
        else:
            errors["checkpoint"] = _("Choose one of the listed checkpoints.")
    return chosen


def to_spec(form: EvalForm) -> tuple[EvaluationSpec | None, dict[str, str]]:
    """The spec, or None with one message per field saying what to change."""
    errors: dict[str, str] = {}
    if form.version_id() is None:
        errors["test_version"] = _("Choose the dataset version whose test questions to ask.")
    if len(form.name) > 200:
        errors["name"] = _("Keep the name under 200 characters.")
    candidates = _candidates(form, errors)
    if len(candidates) < 2 and "candidates" not in errors:
        errors["candidates"] = _(
            "Choose at least two models to compare, for example the original model and a tuned one."
        )
    elif len(candidates) > 6:
        errors["candidates"] = _("Compare at most six models at once.")
    if errors:
        return None, errors
    try:
        spec = EvaluationSpec(
            name=form.name or " ",  # blank: the service names the run after the test set
            test_version_id=form.version_id() or 0,
            candidates=tuple(candidates),
            judge_model=form.judge_model or None,
            include_leaks=form.include_leaks,
        )
    except ValidationError:
        return None, {"__all__": _("Some choices could not be read. Check the form and try again.")}
    return spec, {}
