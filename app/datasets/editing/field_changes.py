"""What changed between two snapshots of an example (``{system_instruction, turns, tag, split}``),
field by field with the text differences: an example's history and a version's change list."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.i18n import N_
from app.text.diff import Segment, diff_segments


@dataclass(frozen=True)
class FieldChange:
    label: str  # marked with N_ (translated in the template)
    segments: list[Segment]  # delete = before only, insert = after only
    before: str
    after: str


def _turn_label(turns: Sequence[Mapping[str, str]], index: int) -> str:
    role = turns[index].get("role") if index < len(turns) else "model"
    return N_("Question") if role == "user" else N_("Answer")


def field_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[FieldChange]:
    """What changed between two snapshots ``{system_instruction, turns, tag, split}``."""
    changes: list[FieldChange] = []
    old_system = str(before.get("system_instruction") or "")
    new_system = str(after.get("system_instruction") or "")
    if old_system != new_system:
        changes.append(
            FieldChange(
                N_("System instruction"),
                diff_segments(old_system, new_system),
                old_system,
                new_system,
            )
        )
    old_turns = list(before.get("turns") or [])
    new_turns = list(after.get("turns") or [])
    for index in range(max(len(old_turns), len(new_turns))):
        old = old_turns[index]["text"] if index < len(old_turns) else ""
        new = new_turns[index]["text"] if index < len(new_turns) else ""
        if old != new:
            label = _turn_label(new_turns or old_turns, index)
            changes.append(FieldChange(label, diff_segments(old, new), old, new))
    for key, label in (("tag", N_("Tag")), ("split", N_("Split"))):
        old_value = str(before.get(key) or "")
        new_value = str(after.get(key) or "")
        if old_value != new_value:
            changes.append(FieldChange(label, [], old_value, new_value))
    return changes
