"""Leakage between the training split and the validation/test splits of a planned version.

A validation or test example that (nearly) repeats a training example makes the tuned model
look better than it is. Before a version is created every overlap is listed; the user fixes it
or accepts it explicitly, and the acceptance is recorded with the version. Kinds:

* ``exact`` — the same example (comparison keys equal: width, spacing and case ignored);
* ``same_input`` — the same question, with another answer;
* ``near`` / ``near_input`` — near duplicates of the whole example / of the question alone
  (character n-gram Jaccard ≥ 0.8, the intake's definition);
* ``was_test`` — a training example that was in the golden test set of an earlier version.

Pure except :func:`former_test_ids`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.datasets.models import Example
from app.datasets.quality import dedup
from app.datasets.versions.models import DatasetVersion, DatasetVersionExample
from app.datasets.versions.splits import TEST, TRAIN
from app.i18n import N_

KIND_LABELS: dict[str, str] = {
    "exact": N_("Same example"),
    "same_input": N_("Same question, other answer"),
    "near": N_("Nearly the same example"),
    "near_input": N_("Nearly the same question"),
    "was_test": N_("Was in the test set of an earlier version"),
}
MAX_LISTED = 2000  # pairs kept (a dataset with more overlaps than this needs fixing, not a list)


@dataclass(frozen=True, order=True)
class LeakPair:
    train_id: int
    other_id: int  # the validation/test example (for was_test: the example itself)
    other_split: str
    kind: str
    similarity: float = 1.0


@dataclass
class LeakageReport:
    pairs: list[LeakPair] = field(default_factory=list)
    total: int = 0  # before MAX_LISTED

    @property
    def fingerprint(self) -> str:
        """Identifies this exact list, so an acknowledgement applies to what the user saw."""
        data = json.dumps([asdict(p) for p in sorted(self.pairs)], sort_keys=True)
        return hashlib.sha256(data.encode()).hexdigest()[:32]

    def by_kind(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for pair in self.pairs:
            counts[pair.kind] = counts.get(pair.kind, 0) + 1
        return counts

    def record(self, *, acknowledged_by: int | None, at: datetime | None) -> dict[str, Any]:
        """What the version keeps: the pairs, and who accepted them when."""
        return {
            "total": self.total,
            "by_kind": self.by_kind(),
            "pairs": [asdict(p) for p in self.pairs],
            "fingerprint": self.fingerprint,
            "acknowledged_by": acknowledged_by,
            "acknowledged_at": at.isoformat() if at else None,
        }


def _items(examples: Iterable[Example]) -> list[dedup.DedupItem]:
    items = []
    for example in examples:
        prompt = (example.system_instruction + "\n" if example.system_instruction else "") + (
            example.prompt_text()
        )
        items.append(
            dedup.DedupItem(
                example.id, prompt, prompt + "\n" + example.answer_text(), example.answer_text()
            )
        )
    return items


def _exact(
    train: Sequence[Example], others: Sequence[Example], split_of: dict[int, str]
) -> list[LeakPair]:
    by_content: dict[str, list[int]] = {}
    by_prompt: dict[str, list[int]] = {}
    for example in train:
        if example.content_hash:
            by_content.setdefault(example.content_hash, []).append(example.id)
        if example.prompt_hash:
            by_prompt.setdefault(example.prompt_hash, []).append(example.id)
    pairs = []
    for other in others:
        split = split_of[other.id]
        same = by_content.get(other.content_hash, []) if other.content_hash else []
        pairs += [LeakPair(t, other.id, split, "exact") for t in same]
        if other.prompt_hash:
            pairs += [
                LeakPair(t, other.id, split, "same_input")
                for t in by_prompt.get(other.prompt_hash, [])
                if t not in same
            ]
    return pairs


def _near(
    train: Sequence[Example],
    others: Sequence[Example],
    split_of: dict[int, str],
    known: set[tuple[int, int]],
) -> list[LeakPair]:
    left, right = _items(train), _items(others)
    pairs: list[LeakPair] = []
    passes: tuple[tuple[Literal["full", "prompt"], str], ...] = (
        ("full", "near"),
        ("prompt", "near_input"),
    )
    for on, kind in passes:
        for match in dedup.find_cross_duplicates(left, right, on=on):
            key = (cast(int, match.left_key), cast(int, match.right_key))
            if key in known:
                continue
            known.add(key)
            label = kind if match.kind == "near" else ("exact" if on == "full" else "same_input")
            pairs.append(
                LeakPair(key[0], key[1], split_of[key[1]], label, round(match.similarity, 3))
            )
    return pairs


def check(
    examples: Sequence[Example], splits: dict[int, str], former_test: Iterable[int] = ()
) -> LeakageReport:
    """Every overlap between the planned training split and the validation/test splits."""
    train = [e for e in examples if splits.get(e.id) == TRAIN]
    others = [e for e in examples if splits.get(e.id) not in (None, TRAIN)]
    pairs = _exact(train, others, splits)
    known = {(p.train_id, p.other_id) for p in pairs}
    if train and others:
        pairs += _near(train, others, splits, known)
    train_ids = {e.id for e in train}
    pairs += [LeakPair(i, i, TEST, "was_test") for i in sorted(set(former_test) & train_ids)]
    pairs.sort(key=lambda p: (p.other_id, p.train_id, p.kind))
    return LeakageReport(pairs=pairs[:MAX_LISTED], total=len(pairs))


def former_test_ids(session: Session, *, dataset_id: int, example_ids: Iterable[int]) -> set[int]:
    """Which of these examples were frozen into the test split of an earlier version."""
    wanted = set(example_ids)
    if not wanted:
        return set()
    rows = session.scalars(
        select(DatasetVersionExample.example_id)
        .join(DatasetVersion, DatasetVersion.id == DatasetVersionExample.version_id)
        .where(DatasetVersion.dataset_id == dataset_id, DatasetVersionExample.split == TEST)
        .distinct()
    )
    return {example_id for example_id in rows if example_id in wanted}
