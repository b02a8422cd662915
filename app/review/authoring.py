"""Examples written by people: manual entry, an author fixing and resubmitting a returned example,
a reviewer's correction. Every content change goes through the shared example editor
(``app.datasets.editing.examples``), which records the revision and recomputes hashes and
findings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth import audit
from app.auth.models import User
from app.datasets.checking import check_status
from app.datasets.editing import examples as example_editor
from app.datasets.models import Dataset, Example, ExampleStatus, Origin
from app.db import utcnow
from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.i18n import N_, _
from app.projects.models import Project
from app.projects.service import ProjectContext
from app.review import decisions, queue
from app.review.example_form import ExampleForm, validate
from app.review.models import ReviewDecision

AUDIT_ACTIONS = {
    "example.add": N_("Added an example by hand"),
    "example.resubmit": N_("Resubmitted a returned example"),
    "example.edit": N_("Edited an example"),
    "example.review_edit": N_("Edited an example during review"),
}
MY_EXAMPLES_SHOWN = 200


def project_datasets(session: Session, *, project_id: int) -> list[tuple[str, str]]:
    rows = session.execute(
        select(Dataset.id, Dataset.name)
        .where(Dataset.project_id == project_id, Dataset.archived_at.is_(None))
        .order_by(Dataset.id)
    ).all()
    return [(str(i), name) for i, name in rows]


def project_tags(session: Session, *, project_id: int) -> list[str]:
    return [
        tag
        for tag in session.scalars(
            select(Example.tag)
            .where(Example.project_id == project_id, Example.tag.is_not(None))
            .distinct()
            .order_by(Example.tag)
            .limit(200)
        )
        if tag
    ]


def _target_dataset(session: Session, project: Project, actor: User, raw: str) -> Dataset:
    """The dataset a new example joins: the chosen one, the only one, or a new "Examples"."""
    datasets = list(
        session.scalars(
            select(Dataset)
            .where(Dataset.project_id == project.id, Dataset.archived_at.is_(None))
            .order_by(Dataset.id)
        )
    )
    chosen = [d for d in datasets if str(d.id) == raw] or datasets[:1]
    if chosen:
        return chosen[0]
    if raw:
        raise ValidationFailed({"dataset_id": _("Choose one of the project's datasets.")})
    dataset = Dataset(
        project_id=project.id, name=_("Examples"), column_mapping={}, created_by_id=actor.id
    )
    session.add(dataset)
    session.flush()
    return dataset


def add_example(
    session: Session,
    *,
    actor: User,
    project: Project,
    form: ExampleForm,
    origin: Origin = Origin.MANUAL,
    origin_ref: str | None = None,
) -> Example:
    """Manual entry: a new example by ``actor``, straight into the review queue. A corrected
    evaluation answer comes this way too, with ``origin`` evaluation and the item as ``origin_ref``.
    """
    validate(form)
    dataset = _target_dataset(session, project, actor, form.dataset_id)
    content = form.snapshot()
    example = Example(
        project_id=project.id,
        dataset_id=dataset.id,
        origin=origin,
        origin_ref=origin_ref,
        system_instruction=content["system_instruction"],
        turns=example_editor.normalise_turns(content["turns"]),
        tag=content["tag"],
        split=content["split"],
        status=ExampleStatus.PENDING,
        issues=[],
        author_id=actor.id,
        submitted_at=utcnow(),
    )
    example_editor.recheck(example)  # hashes, token estimate and findings, as the intake does
    session.add(example)
    session.flush()
    # Duplicates and conflicts span the dataset: the dataset-wide check runs after this commit.
    check_status.request(session, dataset_id=dataset.id)
    audit.record(
        session,
        actor=actor,
        action="example.add",
        object_type="example",
        object_id=example.id,
        project_id=project.id,
        summary=f"#{example.id}",
    )
    return example


def authored_example(session: Session, *, ctx: ProjectContext, example_id: int) -> Example:
    """An example the current user wrote (authors fix their own examples here)."""
    example = session.get(Example, example_id)
    if example is None or example.project_id != ctx.project.id:
        raise NotFound(_("This example does not exist in this project."))
    if example.author_id != ctx.user.id:
        raise PermissionDenied(
            _("Only the author edits an example here. Reviewers edit from the review queue.")
        )
    return example


def _check_revision(example: Example, revision: int) -> None:
    if example.revision != revision:
        raise Conflict(
            _(
                "Someone changed this example while you were editing it. Reload the page to "
                "see their version, then make your change again."
            )
        )


def _editable(example: Example) -> None:
    if example.status not in (
        ExampleStatus.PENDING,
        ExampleStatus.APPROVED,
        ExampleStatus.REJECTED,
    ):
        raise Conflict(_("This example is not in review. Edit it on its upload's report instead."))


def _change(form: ExampleForm) -> example_editor.Change:
    """The form as a change for the shared editor (an empty split means "decide later")."""
    return example_editor.Change(
        system_instruction=form.system_instruction,
        turns=form.turns,
        tag=form.tag,
        split=form.split or None,
        clear_split=not form.split,
    )


def _back_to_queue(session: Session, example: Example) -> None:
    """Changed content needs a fresh look: pending again, skips and leases cleared."""
    example.status = ExampleStatus.PENDING
    example.submitted_at = utcnow()
    queue.clear_skips(session, example_id=example.id)
    queue.release_lease(session, example_id=example.id)


def save_by_author(
    session: Session, *, actor: User, example: Example, revision: int, form: ExampleForm
) -> Example:
    """The author's change: a returned example is resubmitted, an approved one is reviewed
    again (versions already made keep the approved text)."""
    validate(form)
    _editable(example)
    _check_revision(example, revision)
    returned = example.status == ExampleStatus.REJECTED
    example_editor.edit(
        session,
        example=example,
        actor=actor,
        change=_change(form),
        kind="resubmit" if returned else "edit",
        note=form.note,
    )
    _back_to_queue(session, example)
    audit.record(
        session,
        actor=actor,
        action="example.resubmit" if returned else "example.edit",
        object_type="example",
        object_id=example.id,
        project_id=example.project_id,
        summary=f"#{example.id} r{example.revision}",
    )
    return example


def save_by_reviewer(
    session: Session, *, actor: User, example: Example, revision: int, form: ExampleForm
) -> Example:
    """A reviewer's correction, kept as a new revision; the example waits for review again."""
    validate(form)
    _editable(example)
    _check_revision(example, revision)
    example_editor.edit(
        session,
        example=example,
        actor=actor,
        change=_change(form),
        kind="review_edit",
        note=form.note,
    )
    _back_to_queue(session, example)
    audit.record(
        session,
        actor=actor,
        action="example.review_edit",
        object_type="example",
        object_id=example.id,
        project_id=example.project_id,
        summary=f"#{example.id} r{example.revision}",
    )
    return example


def correct(
    session: Session,
    *,
    actor: User,
    project: Project,
    example: Example,
    revision: int,
    form: ExampleForm,
    then_approve: bool,
) -> bool:
    """A reviewer's correction, and with "save and approve" their approval too. Returns whether
    it was approved: an approved example that answers the same question differently blocks the
    approval (nothing of it is written) but the correction stands, and the card shows the
    conflict to resolve."""
    save_by_reviewer(session, actor=actor, example=example, revision=revision, form=form)
    if not then_approve:
        return False
    try:
        decisions.approve(
            session, actor=actor, project=project, example_id=example.id, revision=example.revision
        )
    except decisions.ConflictingAnswers:
        return False
    return True


# --- The author's lists ----------------------------------------------------------------------


@dataclass(frozen=True)
class Returned:
    example: Example
    decision: ReviewDecision
    reviewer: str


def returned_to(session: Session, *, project_id: int, author_id: int) -> list[Returned]:
    """The author's examples that reviewers returned, with the latest reason, newest first."""
    latest = (
        select(ReviewDecision.example_id, func.max(ReviewDecision.id).label("last_id"))
        .where(ReviewDecision.project_id == project_id, ReviewDecision.decision == "reject")
        .group_by(ReviewDecision.example_id)
        .subquery()
    )
    rows = session.execute(
        select(Example, ReviewDecision, User.name)
        .join(latest, latest.c.example_id == Example.id)
        .join(ReviewDecision, ReviewDecision.id == latest.c.last_id)
        .outerjoin(User, User.id == ReviewDecision.reviewer_id)
        .where(
            Example.project_id == project_id,
            Example.author_id == author_id,
            Example.status == ExampleStatus.REJECTED,
        )
        .order_by(ReviewDecision.id.desc())
        .limit(MY_EXAMPLES_SHOWN)
    ).all()
    return [Returned(example, decision, name or "") for example, decision, name in rows]


def my_examples(
    session: Session, *, project_id: int, author_id: int, status: str
) -> Sequence[Example]:
    query = select(Example).where(Example.project_id == project_id, Example.author_id == author_id)
    if status in (ExampleStatus.PENDING, ExampleStatus.APPROVED):
        query = query.where(Example.status == status)
    return list(session.scalars(query.order_by(Example.updated_at.desc()).limit(MY_EXAMPLES_SHOWN)))


def my_counts(session: Session, *, project_id: int, author_id: int) -> dict[str, int]:
    rows = session.execute(
        select(Example.status, func.count())
        .where(Example.project_id == project_id, Example.author_id == author_id)
        .group_by(Example.status)
    ).all()
    return {str(status): int(count) for status, count in rows}
