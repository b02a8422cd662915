"""Changing examples: the one place an example's content changes.

Every change (an inline fix in the intake report, a redaction, a reviewer's edit, an author's
resubmission, a correction from an evaluation) goes through ``edit``: the content before and
after is kept as an ``ExampleRevision``, the revision number moves on (so a reviewer deciding on
an older revision loses the compare-and-set), and the example is checked again — comparison-key
hashes, token estimate and its own findings. Findings that depend on the rest of the dataset
(duplicates, conflicts) are kept until the dataset-wide check runs again: ``edit`` asks for it
(:mod:`app.datasets.checking.check_status`) and keeps the report's index of findings in step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.datasets.checking import check_status, finding_index
from app.datasets.models import Example, ExampleRevision, Upload
from app.datasets.quality import findings
from app.datasets.quality.normalize import example_keys, key_hash
from app.datasets.quality.tokens import DEFAULT_MAX_TOKENS
from app.datasets.quality.validation import validate_example
from app.datasets.records import ExampleDraft, Finding, RowRef, Turn
from app.errors import ValidationFailed
from app.i18n import _

# Findings about an example's relation to other examples: only the dataset-wide check can
# confirm or clear them, so a single-example re-check leaves them in place.
DATASET_WIDE_CODES = frozenset({"exact_duplicate", "near_duplicate", "conflict"})
ROLES = ("user", "model")
# Findings made while reading the file (what a cell really held): a check of the stored example
# cannot make them again, so they stay until the example is edited.
READER_CODES = frozenset({"non_text_value", "excel_error", "unknown_split", "unsupported_part"})


def is_reader_finding(issue: dict[str, Any]) -> bool:
    if issue.get("code") in READER_CODES:
        return True
    params = issue.get("params") or {}
    return issue.get("code") == "bad_role_order" and params.get("reason") == "system_not_first"


def snapshot(example: Example) -> dict[str, Any]:
    """The content of an example that revisions record and versions freeze."""
    return {
        "system_instruction": example.system_instruction,
        "turns": [dict(turn) for turn in example.turns],
        "tag": example.tag,
        "split": example.split,
    }


def example_ref(example: Example) -> RowRef:
    """How the intake engine names an example in a dataset-wide check: its row in the file it
    came from (origin ``u<upload id>``), or row 0 of its own (``e<example id>``) when it was
    written in TuneDesk. Findings refer to related rows by these references."""
    if example.upload_id is not None:
        return RowRef(example.source_row or 0, f"u{example.upload_id}")
    return RowRef(0, f"e{example.id}")


def upload_columns(upload: Upload | None) -> dict[str, str]:
    """Field path → column name of a spreadsheet upload (findings say which column); JSONL and
    examples written in TuneDesk have no columns."""
    if upload is None or upload.format == "jsonl":
        return {}
    mapping = upload.mapping or {}
    paths = {"turns.0": "input", "turns.1": "output", "system": "system"}
    return {path: str(mapping[name]) for path, name in paths.items() if mapping.get(name)}


def draft_of(example: Example, columns: dict[str, str] | None = None) -> ExampleDraft:
    """The example as the intake engine sees it (row = the row in the user's file, if any)."""
    ref = example_ref(example)
    return ExampleDraft(
        row=ref.row,
        system=example.system_instruction,
        turns=tuple(Turn(turn.get("role", ""), turn.get("text", "")) for turn in example.turns),
        split=example.split if example.split in ("train", "validation", "test") else None,  # type: ignore[arg-type]
        tag=example.tag or "",
        columns=columns or {},
        origin=ref.origin,
    )


def recheck(
    example: Example,
    *,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    columns: dict[str, str] | None = None,
) -> list[Finding]:
    """Recompute hashes, token estimate and the example's own findings (in place)."""
    draft = draft_of(example, columns)
    own, tokens = validate_example(draft, max_tokens=max_tokens)
    keys = example_keys(draft)
    example.content_hash = key_hash(keys.system, keys.full)
    example.prompt_hash = key_hash(keys.system, keys.prompt)
    example.token_estimate = tokens
    kept = [issue for issue in example.issues if issue.get("code") in DATASET_WIDE_CODES]
    example.issues = kept + [finding.to_dict() for finding in own]
    example.error_count = sum(1 for issue in example.issues if issue.get("severity") == "error")
    example.warning_count = len(example.issues) - example.error_count
    return own


def normalise_turns(turns: Sequence[dict[str, str]]) -> list[dict[str, str]]:
    """Turns as stored: only ``role`` and ``text``; refuses roles other than user/model."""
    cleaned = []
    for position, turn in enumerate(turns, start=1):
        role = str(turn.get("role", "")).strip().lower()
        if role not in ROLES:
            raise ValidationFailed(
                {
                    "turns": _(
                        "Turn %(number)d has the role “%(role)s”; use user (the question) or model "
                        "(the answer)."
                    )
                    % {"number": position, "role": role}
                }
            )
        cleaned.append({"role": role, "text": str(turn.get("text", ""))})
    if not cleaned:
        raise ValidationFailed({"turns": _("An example needs a question and an answer.")})
    return cleaned


@dataclass(frozen=True)
class Change:
    """What to change; ``None`` leaves a field as it is."""

    system_instruction: str | None = None
    turns: Sequence[dict[str, str]] | None = None
    tag: str | None = None
    split: str | None = None
    clear_split: bool = False


def edit(
    session: Session,
    *,
    example: Example,
    actor: User | None,
    change: Change,
    kind: str = "edit",
    note: str = "",
) -> ExampleRevision | None:
    """Apply a change, record it as a revision, and re-check the example.

    Returns the revision, or None when nothing actually changed (no revision is written).
    """
    before = snapshot(example)
    if change.system_instruction is not None:
        example.system_instruction = change.system_instruction
    if change.turns is not None:
        example.turns = normalise_turns(change.turns)
    if change.tag is not None:
        example.tag = change.tag.strip()[:100] or None
    if change.clear_split:
        example.split = None
    elif change.split is not None:
        example.split = change.split
    after = snapshot(example)
    if after == before:
        return None
    example.revision += 1
    upload = session.get(Upload, example.upload_id) if example.upload_id else None
    recheck(example, columns=upload_columns(upload))
    # Keep the report's index in step, and let the dataset-wide check (duplicates, conflicts)
    # run again in the background.
    finding_index.sync_example(session, example)
    check_status.request(session, dataset_id=example.dataset_id)
    revision = ExampleRevision(
        example_id=example.id,
        revision=example.revision,
        actor_id=actor.id if actor else None,
        kind=kind,
        note=note.strip()[:2000],
        before=before,
        after=after,
    )
    session.add(revision)
    return revision


def history(session: Session, *, example_id: int) -> list[ExampleRevision]:
    """Every recorded change of an example, oldest first."""
    return list(
        session.scalars(
            select(ExampleRevision)
            .where(ExampleRevision.example_id == example_id)
            .order_by(ExampleRevision.revision)
        )
    )


def stored_findings(example: Example) -> list[Finding]:
    """The example's findings as the engine's typed values (for messages, hints, highlighting)."""
    return [Finding.from_dict(issue) for issue in example.issues]


def messages(example: Example) -> list[tuple[Finding, str, str]]:
    """(finding, message, hint) in the current language."""
    return [(f, findings.message(f), findings.hint(f)) for f in stored_findings(example)]
