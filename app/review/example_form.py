"""The example form (manual entry, an author's fix, a reviewer's edit): parsing and the checks
that make an example usable at all. Pure: no database.

Quality findings (duplicates, personal data…) are not errors here: the example is saved and its
findings are shown to reviewers. Only what makes an example meaningless is refused: an empty
question or answer, or a conversation that does not alternate user → model and end with the
model's answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from app.errors import ValidationFailed
from app.i18n import _

SPLIT_CHOICES = ("", "train", "validation", "test")
MAX_TEXT = 100_000
MAX_TURNS = 40


@dataclass
class ExampleForm:
    system_instruction: str = ""
    turns: list[dict[str, str]] = field(
        default_factory=lambda: [{"role": "user", "text": ""}, {"role": "model", "text": ""}]
    )
    tag: str = ""
    split: str = ""
    note: str = ""
    dataset_id: str = ""

    @classmethod
    def of(cls, example: Any) -> ExampleForm:
        """The form filled from an existing example."""
        return cls(
            system_instruction=example.system_instruction or "",
            turns=[{"role": t["role"], "text": t["text"]} for t in example.turns] or cls().turns,
            tag=example.tag or "",
            split=example.split or "",
            dataset_id=str(example.dataset_id),
        )

    def snapshot(self) -> dict[str, Any]:
        """The content as the shared edit service takes it."""
        return {
            "system_instruction": self.system_instruction,
            "turns": self.turns,
            "tag": self.tag or None,
            "split": self.split or None,
        }


def parse(
    *,
    system_instruction: str,
    roles: Sequence[str],
    texts: Sequence[str],
    tag: str,
    split: str,
    note: str = "",
    dataset_id: str = "",
) -> ExampleForm:
    """Build the form from submitted fields (roles and texts are parallel lists)."""
    turns = [
        {"role": "model" if role == "model" else "user", "text": text.replace("\r\n", "\n")}
        for role, text in zip(roles, texts, strict=False)
    ]
    # A follow-up pair left completely empty is dropped rather than refused.
    while len(turns) > 2 and not turns[-1]["text"].strip() and not turns[-2]["text"].strip():
        turns = turns[:-2]
    return ExampleForm(
        system_instruction=system_instruction.replace("\r\n", "\n").strip(),
        turns=turns or ExampleForm().turns,
        tag=tag.strip()[:100],
        split=split if split in SPLIT_CHOICES else "",
        note=note.strip()[:1000],
        dataset_id=dataset_id,
    )


def validate(form: ExampleForm) -> None:
    """Raise ValidationFailed with a message per field (``turn-<n>`` for the n-th turn)."""
    errors: dict[str, str] = {}
    if len(form.turns) > MAX_TURNS:
        errors["__all__"] = _("An example can have at most %(n)s turns.") % {"n": MAX_TURNS}
    for index, turn in enumerate(form.turns):
        expected = "user" if index % 2 == 0 else "model"
        if turn["role"] != expected:
            errors["__all__"] = _(
                "The conversation must alternate: a question, then its answer, and so on."
            )
        if not turn["text"].strip():
            errors[f"turn-{index}"] = (
                _("Write the question the model receives.")
                if turn["role"] == "user"
                else _("Write the answer the model should give.")
            )
        elif len(turn["text"]) > MAX_TEXT:
            errors[f"turn-{index}"] = _("Keep each text under %(n)s characters.") % {
                "n": f"{MAX_TEXT:,}"
            }
    if form.turns and form.turns[-1]["role"] != "model":
        errors["__all__"] = _("The conversation must end with the model's answer.")
    if len(form.system_instruction) > MAX_TEXT:
        errors["system_instruction"] = _("Keep the system instruction under %(n)s characters.") % {
            "n": f"{MAX_TEXT:,}"
        }
    if errors:
        raise ValidationFailed(errors)


class ExampleFormFields(BaseModel):
    """The posted example form, as text: role and text lists in parallel (one pair per turn) and
    the other fields. Every route that takes an example form declares
    ``fields: Annotated[ExampleFormFields, Form()]`` and calls ``to_form()``."""

    turn_role: list[str] = []
    turn_text: list[str] = []
    system_instruction: str = ""
    tag: str = ""
    split: str = ""
    note: str = ""
    dataset_id: str = ""
    then: str = ""  # "approve" for "save and approve", "another" for "save and add another"

    def to_form(self) -> ExampleForm:
        return parse(
            system_instruction=self.system_instruction,
            roles=self.turn_role,
            texts=self.turn_text,
            tag=self.tag,
            split=self.split,
            note=self.note,
            dataset_id=self.dataset_id,
        )
