"""Failures become training data: "Fix this answer" on an evaluation item.

The editor starts from the item's prompt and one model's answer; the person corrects the answer
(and the prompt if needed) and chooses whether the example is for training or for testing. It is
saved through the review queue's own manual-entry service (``authoring.add_example``) with origin
``evaluation`` and the item in ``origin_ref``, in the dataset the test version came from, so it
waits for review like any new example and the dataset's quality checks run again.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth import audit
from app.datasets.models import Example, Origin
from app.datasets.versions.models import DatasetVersion
from app.errors import NotFound, ValidationFailed
from app.evaluations.models import EvalCandidate, EvalItem, EvalOutput, Evaluation
from app.i18n import N_, _
from app.projects.service import ProjectContext
from app.review import authoring
from app.review.example_form import ExampleForm

AUDIT_ACTIONS = {"evaluation.fix": N_("Turned an evaluation answer into an example")}

ORIGIN_PREFIX = "eval-item:"
FIX_SPLITS = ("train", "test")


def origin_ref(item_id: int) -> str:
    return f"{ORIGIN_PREFIX}{item_id}"


def fixed_item_ids(session: Session, item_ids: Sequence[int]) -> set[int]:
    """Which of these items already have a corrected example (in any review state)."""
    if not item_ids:
        return set()
    refs = {origin_ref(item_id): item_id for item_id in item_ids}
    found = session.scalars(
        select(Example.origin_ref).where(
            Example.origin == Origin.EVALUATION, Example.origin_ref.in_(list(refs))
        )
    )
    return {refs[ref] for ref in found if ref in refs}


def fixes_of(session: Session, *, item_id: int) -> list[Example]:
    return list(
        session.scalars(
            select(Example)
            .where(Example.origin == Origin.EVALUATION, Example.origin_ref == origin_ref(item_id))
            .order_by(Example.id)
        )
    )


def get_item(session: Session, *, evaluation: Evaluation, item_id: int) -> EvalItem:
    item = session.get(EvalItem, item_id)
    if item is None or item.evaluation_id != evaluation.id:
        raise NotFound(_("This question is not part of this evaluation."))
    return item


def answer_of(
    session: Session, *, item: EvalItem, candidate_id: int | None
) -> tuple[EvalCandidate | None, EvalOutput | None]:
    """The candidate and its answer to start from (``None`` when not given or unknown)."""
    if candidate_id is None:
        return None, None
    candidate = session.get(EvalCandidate, candidate_id)
    if candidate is None or candidate.evaluation_id != item.evaluation_id:
        return None, None
    output = session.scalar(
        select(EvalOutput).where(
            EvalOutput.item_id == item.id, EvalOutput.candidate_id == candidate.id
        )
    )
    return candidate, output


def _dataset_id(session: Session, evaluation: Evaluation) -> str:
    version = session.get(DatasetVersion, evaluation.test_version_id)
    return str(version.dataset_id) if version else ""


def initial_form(
    session: Session, *, evaluation: Evaluation, item: EvalItem, output: EvalOutput | None
) -> ExampleForm:
    """The prompt as asked and the model's answer as the new answer, for training by default."""
    turns = [{"role": t["role"], "text": t["text"]} for t in item.turns]
    turns.append({"role": "model", "text": output.text if output else item.reference})
    return ExampleForm(
        system_instruction=item.system_instruction or "",
        turns=turns,
        tag=item.tag or "",
        split="train",
        dataset_id=_dataset_id(session, evaluation),
    )


def save_fix(
    session: Session,
    *,
    ctx: ProjectContext,
    evaluation: Evaluation,
    item: EvalItem,
    form: ExampleForm,
) -> Example:
    """The corrected example, pending review (its dataset's quality check is requested by
    ``add_example``), with an audit event."""
    if form.split not in FIX_SPLITS:
        raise ValidationFailed({"split": _("Choose whether this example is for training or test.")})
    form.dataset_id = _dataset_id(session, evaluation)
    example = authoring.add_example(
        session,
        actor=ctx.user,
        project=ctx.project,
        form=form,
        origin=Origin.EVALUATION,
        origin_ref=origin_ref(item.id),
    )
    # add_example asks for the dataset-wide quality check (duplicates, conflicts) after commit.
    audit.record(
        session,
        actor=ctx.user,
        action="evaluation.fix",
        object_type="example",
        object_id=example.id,
        project_id=ctx.project.id,
        summary=f"{evaluation.name} #{item.position + 1} → #{example.id}",
        details={"evaluation_id": evaluation.id, "item_id": item.id, "split": form.split},
    )
    return example
