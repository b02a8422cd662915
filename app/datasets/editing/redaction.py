"""Redacting personal data: every detected e-mail address, phone number, card number and My
Number is replaced by a placeholder such as ``[EMAIL]``. The original is not kept: the example's
earlier revisions and change-log entries have it masked as well."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.auth.models import User
from app.datasets.editing import change_log, examples
from app.datasets.editing.fixes import apply_edit, audit_action
from app.datasets.models import Dataset, Example
from app.datasets.quality import pii


def redacted_change(example: Example) -> tuple[examples.Change, list[str]]:
    """The example with every detected personal datum replaced by its placeholder, and the
    originals (to be masked in the history)."""
    originals: list[str] = []

    def clean(text: str) -> str:
        matches = pii.find_pii(text)
        originals.extend(text[m.start : m.end] for m in matches)
        return pii.redact(text, matches) if matches else text

    system = clean(example.system_instruction)
    turns = [{**turn, "text": clean(turn.get("text", ""))} for turn in example.turns]
    return examples.Change(system_instruction=system, turns=turns), originals


def apply_redaction(
    session: Session, *, actor: User, dataset: Dataset, example: Example, batch: str | None = None
) -> int:
    change, originals = redacted_change(example)
    if not originals:
        return 0
    apply_edit(
        session,
        actor=actor,
        dataset=dataset,
        example=example,
        change=change,
        kind="redact",
        batch=batch,
    )
    session.flush()
    change_log.scrub(session, example_id=example.id, originals=originals)
    return len(originals)


def redact(session: Session, *, actor: User, dataset: Dataset, example: Example) -> int:
    """Replace the personal data of one row by placeholders such as [EMAIL]; the original is
    not kept (the history masks it too)."""
    count = apply_redaction(session, actor=actor, dataset=dataset, example=example)
    if count:
        audit_action(session, actor, dataset, "dataset.redact", count, example=example.id)
    return count
