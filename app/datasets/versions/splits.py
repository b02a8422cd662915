"""Assigning examples to train / validation / test (pure: no database).

Rules that keep evaluations honest and tuning valid:
- an example marked ``test`` (the golden set) is only ever in ``test``;
- an example with an explicit ``train`` or ``validation`` split keeps it;
- the others are shuffled with a seed (the same seed gives the same split) and cut so that
  about ``validation_ratio`` go to validation, capped at ``validation_cap`` (the service's
  maximum), stratified by tag when tags exist so every tag is represented in both.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

TEST, TRAIN, VALIDATION = "test", "train", "validation"
VALIDATION_CAP = 5_000  # Vertex accepts at most 5,000 validation examples


@dataclass(frozen=True)
class SplitCandidate:
    example_id: int
    split: str | None  # the split the example carries, if any
    tag: str | None


@dataclass(frozen=True)
class SplitRule:
    validation_ratio: float = 0.1
    validation_cap: int = VALIDATION_CAP
    seed: int = 20_241_122
    stratify_by_tag: bool = True

    def as_dict(self) -> dict[str, object]:
        return {
            "train_ratio": round(1 - self.validation_ratio, 4),
            "validation_ratio": self.validation_ratio,
            "validation_cap": self.validation_cap,
            "stratified_by_tag": self.stratify_by_tag,
        }


def assign_splits(candidates: Sequence[SplitCandidate], rule: SplitRule) -> dict[int, str]:
    """example id → split, following the module rules; deterministic for a given seed."""
    assigned: dict[int, str] = {}
    free: list[SplitCandidate] = []
    for candidate in candidates:
        if candidate.split in (TEST, TRAIN, VALIDATION):
            assigned[candidate.example_id] = candidate.split
        else:
            free.append(candidate)
    already_validation = sum(1 for split in assigned.values() if split == VALIDATION)
    budget = max(0, rule.validation_cap - already_validation)
    rng = random.Random(rule.seed)
    groups: dict[str | None, list[SplitCandidate]] = defaultdict(list)
    for candidate in sorted(free, key=lambda c: c.example_id):
        groups[candidate.tag if rule.stratify_by_tag else None].append(candidate)
    for tag in sorted(groups, key=lambda t: (t is None, t or "")):
        members = groups[tag]
        rng.shuffle(members)
        # Small groups still give one to validation when the ratio would round to zero, so a
        # rare tag is checked too; a group of one stays in training.
        wanted = round(len(members) * rule.validation_ratio)
        if wanted == 0 and len(members) >= 5 and rule.validation_ratio > 0:
            wanted = 1
        take = min(wanted, budget)
        budget -= take
        for index, candidate in enumerate(members):
            assigned[candidate.example_id] = VALIDATION if index < take else TRAIN
    return assigned


def pilot_subset(
    candidates: Sequence[SplitCandidate], size: int, seed: int
) -> list[SplitCandidate]:
    """A seeded subset of ``size`` non-test examples, stratified by tag (proportional)."""
    pool = sorted((c for c in candidates if c.split != TEST), key=lambda c: c.example_id)
    if size >= len(pool):
        return pool
    rng = random.Random(seed)
    groups: dict[str | None, list[SplitCandidate]] = defaultdict(list)
    for candidate in pool:
        groups[candidate.tag].append(candidate)
    chosen: list[SplitCandidate] = []
    quotas = {tag: len(members) * size / len(pool) for tag, members in groups.items()}
    floors = {tag: int(q) for tag, q in quotas.items()}
    remainder = size - sum(floors.values())
    # Largest remainders get the leftover places (ties broken by tag name for determinism).
    for tag in sorted(quotas, key=lambda t: (-(quotas[t] - floors[t]), str(t)))[:remainder]:
        floors[tag] += 1
    for tag in sorted(groups, key=str):
        members = groups[tag][:]
        rng.shuffle(members)
        chosen.extend(members[: floors[tag]])
    return sorted(chosen, key=lambda c: c.example_id)
