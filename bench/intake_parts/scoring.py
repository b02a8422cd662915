"""Recall and precision of a run against the planted ground truth.

Near duplicates are scored as in the reference measurements: the ground truth is every pair inside
a planted family (a base and its copies) whose exact Jaccard of character 3–5-gram sets is ≥ 0.8;
a pair is found when the report puts both rows in one duplicate group (exact or near). Precision
is over every pair of rows a near-duplicate group puts together (rows with equal keys excluded):
"planted" = both rows come from one family, "J ≥ 0.8" = the pair really is that similar.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import combinations
from typing import Any

from app.datasets.quality.minhash import jaccard, text_shingles
from app.datasets.quality.normalize import comparison_key

ROW_OFFSET = 2  # spreadsheet row of corpus index 0 (the header is row 1)


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


class Truth:
    def __init__(self, rows: list[tuple[str, str]], data: dict[str, Any]) -> None:
        self.keys = [f"{comparison_key(p)}\n{comparison_key(a)}" for p, a in rows]
        self.family_of = {i: i for i in range(len(rows))}
        for copy, base in data["family"].items():
            self.family_of[int(copy)] = int(base)
        self.conflict_of = {int(k): int(v) for k, v in data["conflict_of"].items()}
        self.pii = {int(k) + ROW_OFFSET: v for k, v in data["pii"].items()}
        families: dict[int, list[int]] = {}
        for index, base in self.family_of.items():
            families.setdefault(base, []).append(index)
        self.families = [sorted(m) for m in families.values() if len(m) > 1]
        involved = sorted({i for family in self.families for i in family})
        sets = {i: text_shingles(self.keys[i]) for i in involved}
        self.near_truth = []
        self.exact_truth = []
        for family in self.families:
            for a, b in combinations(family, 2):
                if self.keys[a] == self.keys[b]:
                    self.exact_truth.append((a, b))
                if jaccard(sets[a], sets[b]) >= 0.8:
                    self.near_truth.append((a, b))

    def index(self, row: int) -> int:
        return row - ROW_OFFSET


def _group_of(groups: Iterable[list[int]]) -> dict[int, int]:
    owner: dict[int, int] = {}
    for number, group in enumerate(groups):
        for row in group:
            owner.setdefault(row, number)
    return owner


def score_duplicates(truth: Truth, run: dict[str, Any]) -> dict[str, float | int | None]:
    exact = _group_of(run["exact_groups"])
    near = _group_of(run["near_groups"])

    def together(a: int, b: int) -> bool:
        ra, rb = a + ROW_OFFSET, b + ROW_OFFSET
        return (ra in exact and exact.get(rb) == exact[ra]) or (
            ra in near and near.get(rb) == near[ra]
        )

    found = sum(1 for a, b in truth.near_truth if together(a, b))
    reported = [
        (truth.index(a), truth.index(b))
        for group in run["near_groups"]
        for a, b in combinations(group, 2)
    ]
    reported = [(a, b) for a, b in reported if truth.keys[a] != truth.keys[b]]
    planted = sum(1 for a, b in reported if truth.family_of[a] == truth.family_of[b])
    involved = sorted({i for pair in reported for i in pair})
    sets = {i: text_shingles(truth.keys[i]) for i in involved}
    similar = sum(1 for a, b in reported if jaccard(sets[a], sets[b]) >= 0.8)
    exact_found = sum(
        1
        for a, b in truth.exact_truth
        if exact.get(a + ROW_OFFSET) is not None
        and exact.get(a + ROW_OFFSET) == exact.get(b + ROW_OFFSET)
    )
    exact_pairs = [
        (truth.index(a), truth.index(b))
        for group in run["exact_groups"]
        for a, b in combinations(group, 2)
    ]
    return {
        "near_truth_pairs": len(truth.near_truth),
        "near_recall": _ratio(found, len(truth.near_truth)),
        "near_reported_pairs": len(reported),
        "near_precision_planted": _ratio(planted, len(reported)),
        "near_precision_jaccard": _ratio(similar, len(reported)),
        "exact_recall": _ratio(exact_found, len(truth.exact_truth)),
        "exact_precision": _ratio(
            sum(1 for a, b in exact_pairs if truth.family_of[a] == truth.family_of[b]),
            len(exact_pairs),
        ),
    }


def score_conflicts_and_pii(truth: Truth, run: dict[str, Any]) -> dict[str, float | None]:
    reported = {(int(row), other) for row, others in run["conflicts"].items() for other in others}
    planted = {(copy + ROW_OFFSET, base + ROW_OFFSET) for copy, base in truth.conflict_of.items()}

    def base_of(row: int) -> int:
        index = truth.index(row)
        return truth.family_of.get(truth.conflict_of.get(index, index), index)

    right = sum(1 for a, b in reported if base_of(a) == base_of(b))
    pii_reported = set(map(tuple, run["pii"]))
    pii_right = sum(1 for row, kind in pii_reported if truth.pii.get(row) == kind)
    pii_found = sum(1 for row, kind in truth.pii.items() if (row, kind) in pii_reported)
    return {
        "conflict_recall": _ratio(len(planted & reported), len(planted)),
        "conflict_precision": _ratio(right, len(reported)),
        "pii_recall": _ratio(pii_found, len(truth.pii)),
        "pii_precision": _ratio(pii_right, len(pii_reported)),
    }
