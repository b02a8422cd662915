"""Test questions the tuned model has already seen: exact and near duplicates of an item's prompt
among the examples of the version it was trained on.

The comparison is the datasets domain's own (``app.datasets.dedup.find_cross_duplicates`` on
prompts: comparison keys for exact copies, MinHash + verified character n-gram Jaccard ≥ 0.8 for
near ones), so "leak" means the same here as on the version page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.datasets.quality import dedup
from app.datasets.versions.models import DatasetVersionExample
from app.evaluations.planning.prompts import ItemPrompt

EXACT, NEAR = "exact", "near"


@dataclass(frozen=True)
class Leak:
    position: int  # the item's position in the evaluation
    kind: str  # exact | near
    training_example_id: int
    similarity: float


def _prompt_text(system_instruction: str, turns: Sequence[Mapping[str, Any]]) -> str:
    # As the version's own leakage check builds it: the instruction, then the user turns.
    users = "\n".join(str(t.get("text", "")) for t in turns if t.get("role") == "user")
    return (system_instruction + "\n" if system_instruction else "") + users


def _training_item(row: DatasetVersionExample) -> dedup.DedupItem:
    content = row.content or {}
    turns = content.get("turns") or []
    prompt = _prompt_text(str(content.get("system_instruction") or ""), turns)
    return dedup.DedupItem(row.example_id, prompt, prompt)


def find_leaks(
    items: Sequence[ItemPrompt], training: Sequence[DatasetVersionExample]
) -> list[Leak]:
    """One leak per leaking item (an exact copy wins over the most similar near copy)."""
    if not items or not training:
        return []
    right = []
    for position, item in enumerate(items):
        prompt = _prompt_text(item.system_instruction, item.turns)
        right.append(dedup.DedupItem(position, prompt, prompt))
    best: dict[int, Leak] = {}
    for match in dedup.find_cross_duplicates(
        [_training_item(row) for row in training], right, on="prompt"
    ):
        position, train_id = int(match.right_key), int(match.left_key)  # type: ignore[call-overload]
        kind = EXACT if match.kind == "exact" else NEAR
        leak = Leak(position, kind, train_id, round(float(match.similarity), 3))
        current = best.get(position)
        if current is None or (leak.kind == EXACT, leak.similarity) > (
            current.kind == EXACT,
            current.similarity,
        ):
            best[position] = leak
    return [best[p] for p in sorted(best)]
