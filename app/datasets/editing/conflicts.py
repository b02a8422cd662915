"""Settling a conflict: the same (or nearly the same) question with different answers."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.auth.models import User
from app.datasets.checking import check_status, finding_index
from app.datasets.checking.relations import examples_by_refs, forget_relations, related_refs
from app.datasets.editing import change_log, examples
from app.datasets.editing.fixes import apply_edit, audit_action, set_excluded
from app.datasets.models import Dataset, Example, ExampleStatus
from app.errors import Conflict, ValidationFailed
from app.i18n import _


def conflict_group(session: Session, dataset: Dataset, example: Example) -> list[Example]:
    others = examples_by_refs(session, dataset.id, related_refs(example, ("conflict",)))
    active = {e.id: e for e in others if e.status != ExampleStatus.EXCLUDED and e.id != example.id}
    return [example, *sorted(active.values(), key=lambda e: e.id)]


def _with_answer(example: Example, answer: str) -> list[dict[str, str]]:
    turns = [dict(turn) for turn in example.turns]
    for turn in reversed(turns):
        if turn.get("role") == "model":
            turn["text"] = answer
            return turns
    return [*turns, {"role": "model", "text": answer}]


def resolve_conflict(
    session: Session,
    *,
    actor: User,
    dataset: Dataset,
    chosen: Example,
    answer: str,
    others: str,
) -> int:
    """Settle a conflict: ``chosen`` has the right answer (``answer``, possibly edited); the other
    rows of the conflict are excluded (``others="exclude"``) or get the same answer
    (``others="apply"``, which keeps their different wordings of the question)."""
    if not answer.strip():
        raise ValidationFailed({"answer": _("Write the right answer.")})
    if others not in ("exclude", "apply"):
        raise ValidationFailed({"others": _("Choose what happens to the other rows.")})
    group = conflict_group(session, dataset, chosen)
    if len(group) < 2:
        raise Conflict(_("This conflict is already resolved."))
    batch = change_log.new_batch()
    why = {"code": "right_answer", "row": chosen.source_row or chosen.id}
    change = examples.Change(turns=_with_answer(chosen, answer))
    apply_edit(
        session,
        actor=actor,
        dataset=dataset,
        example=chosen,
        change=change,
        kind="resolve_conflict",
        why=why,
        batch=batch,
    )
    rest = group[1:]
    if others == "exclude":
        set_excluded(
            session,
            actor=actor,
            dataset=dataset,
            rows=rest,
            action="resolve_conflict",
            why=why,
            batch=batch,
        )
    else:
        for row in rest:
            apply_edit(
                session,
                actor=actor,
                dataset=dataset,
                example=row,
                change=examples.Change(turns=_with_answer(row, answer)),
                kind="resolve_conflict",
                why=why,
                batch=batch,
            )
        refs = {examples.example_ref(e) for e in group}
        for row in group:
            forget_relations(row, ("conflict",), refs)
            finding_index.sync_example(session, row)
    check_status.request(session, dataset_id=dataset.id)
    audit_action(
        session,
        actor,
        dataset,
        "dataset.resolve_conflict",
        len(group),
        chosen=chosen.id,
        others=others,
    )
    return len(group)
