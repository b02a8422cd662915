"""Approved examples similar to the one under review, so answers stay consistent.

Bounded on purpose (the card must stay fast with 100,000 examples): the candidates are the
approved examples with the same input, then those with the same tag, then the most recently
approved, at most ``WINDOW`` of each; they are ranked by the Jaccard similarity of their
questions' character trigrams (on comparison keys, so width and case do not matter).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.datasets.models import Example, ExampleStatus
from app.datasets.quality.normalize import comparison_key

WINDOW = 250
MIN_SIMILARITY = 0.2


@dataclass(frozen=True)
class SimilarExample:
    id: int
    turns: list[dict[str, str]]
    tag: str | None
    similarity: float
    same_input: bool


def trigrams(text: str) -> frozenset[str]:
    key = comparison_key(text)
    if len(key) < 3:
        return frozenset({key}) if key else frozenset()
    return frozenset(key[i : i + 3] for i in range(len(key) - 2))


def jaccard(first: frozenset[str], second: frozenset[str]) -> float:
    if not first or not second:
        return 0.0
    return len(first & second) / len(first | second)


def _prompt(turns: Iterable[dict[str, Any]]) -> str:
    return "\n".join(str(t.get("text", "")) for t in turns if t.get("role") == "user")


def _candidates(example: Example) -> list[Select[int, list[dict[str, str]], str | None, str]]:
    base = select(Example.id, Example.turns, Example.tag, Example.prompt_hash).where(
        Example.dataset_id == example.dataset_id,
        Example.status == ExampleStatus.APPROVED,
        Example.id != example.id,
    )
    queries = []
    if example.prompt_hash:
        queries.append(base.where(Example.prompt_hash == example.prompt_hash).limit(20))
    if example.tag:
        queries.append(
            base.where(Example.tag == example.tag).order_by(Example.id.desc()).limit(WINDOW)
        )
    queries.append(base.order_by(Example.id.desc()).limit(WINDOW))
    return queries


def similar_approved(session: Session, *, example: Example, limit: int = 5) -> list[SimilarExample]:
    target = trigrams(example.prompt_text())
    seen: set[int] = set()
    found: list[SimilarExample] = []
    for query in _candidates(example):
        for other_id, turns, tag, prompt_hash in session.execute(query):
            if other_id in seen:
                continue
            seen.add(other_id)
            same = bool(example.prompt_hash) and prompt_hash == example.prompt_hash
            score = 1.0 if same else jaccard(target, trigrams(_prompt(turns)))
            if score >= MIN_SIMILARITY:
                found.append(SimilarExample(other_id, turns, tag, round(score, 2), same))
    found.sort(key=lambda s: (-s.similarity, -s.id))
    return found[:limit]
