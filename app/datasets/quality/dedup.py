"""Exact duplicates, near duplicates and conflicting answers — within one set of examples, or
between two sets (train/test leakage).

Texts are compared by comparison key (:mod:`app.datasets.quality.normalize`). Exact duplicates have
equal keys. Near duplicates are found by MinHash/LSH (:mod:`app.datasets.quality.minhash`) and then
verified: a pair counts only when the exact Jaccard similarity of the two texts' character 3–5-gram
sets is at least ``threshold`` (0.8 by default). Groups are formed with union-find and report every
member.

A *conflict* is the same or nearly the same input (prompt keys equal, or prompt Jaccard ≥
``prompt_threshold``) with materially different answers. "Materially different" means the two
answers' similarity is below ``output_similarity`` (0.5): Jaccard of their 3–5-gram sets, or for
short answers (both under 20 characters, where n-grams say little) difflib's ratio, so ``はい`` and
``はい。`` agree while ``はい`` and ``いいえ`` conflict. Answers that differ in a few characters are
near duplicates instead, and are reported as such.

Optional ``contexts`` (one hashable per item, e.g. a hash of the system instruction) restrict
every relation to items of the same context.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Literal, NamedTuple

import numpy as np

from app.datasets.quality import minhash
from app.datasets.quality.normalize import comparison_key

DEFAULT_THRESHOLD = 0.8
DEFAULT_OUTPUT_SIMILARITY = 0.5
SHORT_ANSWER = 20
MAX_PAIRWISE_ANSWERS = 40  # distinct answers to one question compared pairwise; beyond, all differ
MAX_LISTED = 200  # conflicting rows listed per member (a group still names every member)


class DedupItem(NamedTuple):
    """An item to compare: the caller's ``key`` (row, example id…), the prompt alone, and the
    whole text (prompt and answer). ``output_text`` is the answer, needed only for conflicts."""

    key: Hashable
    prompt_text: str
    full_text: str
    output_text: str = ""


@dataclass(frozen=True, slots=True)
class SimilarPair:
    left: int  # indices into the compared sequence(s)
    right: int
    similarity: float


@dataclass(slots=True)
class DuplicateReport:
    """Indices into the input. ``near_groups`` join examples with at least two different keys
    (exact copies of a member belong to the group too); ``near_pairs`` are the verified pairs."""

    exact_groups: list[list[int]] = field(default_factory=list)
    near_groups: list[list[int]] = field(default_factory=list)
    near_pairs: list[SimilarPair] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ConflictGroup:
    """Items asking the same (or nearly the same) thing; ``conflicts[i]`` lists the members whose
    answer differs materially from item ``i``'s (the first ``MAX_LISTED`` of them)."""

    members: list[int]
    conflicts: dict[int, list[int]]


class CrossMatch(NamedTuple):
    left_key: Hashable
    right_key: Hashable
    kind: Literal["exact", "near"]
    similarity: float


class _UnionFind:
    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, item: int) -> int:
        parent = self.parent
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    def union(self, a: int, b: int) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            self.parent[max(root_a, root_b)] = min(root_a, root_b)


def _groups_by_key(keys: Sequence[str], contexts: Sequence[Hashable] | None) -> list[list[int]]:
    """Indices sharing a key (and context), in first-seen order; empty keys are left out."""
    if contexts is not None and len(set(contexts)) <= 1:
        contexts = None  # one context for all (e.g. no system instruction): plain keys are faster
    if contexts is None:
        plain: dict[str, list[int]] = {}
        for index, key in enumerate(keys):
            if key:
                plain.setdefault(key, []).append(index)
        return list(plain.values())
    groups: dict[tuple[Hashable, str], list[int]] = {}
    for index, key in enumerate(keys):
        if key:
            groups.setdefault((contexts[index], key), []).append(index)
    return list(groups.values())


def _rows(signatures: np.ndarray | None, rows: list[int]) -> np.ndarray | None:
    """The signatures of some rows, without copying when they are all of them (in order)."""
    if signatures is None or len(rows) == len(signatures):
        return signatures
    return signatures[rows]


def verified_pairs(
    keys: Sequence[str], candidates: np.ndarray, threshold: float
) -> list[SimilarPair]:
    """Candidate pairs whose exact Jaccard is at least ``threshold``."""
    similarities = minhash.exact_jaccard(keys, candidates)
    keep = np.flatnonzero(similarities >= threshold)
    return [
        SimilarPair(int(candidates[i, 0]), int(candidates[i, 1]), float(similarities[i]))
        for i in keep.tolist()
    ]


def near_pairs(
    keys: Sequence[str],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    contexts: Sequence[Hashable] | None = None,
    signatures: np.ndarray | None = None,
) -> list[SimilarPair]:
    """Verified near-duplicate pairs among keys (compare distinct keys: equal ones are exact).
    ``signatures`` (one row per key) may be given when already computed."""
    if signatures is None:
        signatures = minhash.signatures(keys)
    candidates = minhash.plausible(signatures, minhash.candidate_pairs(signatures), threshold)
    if contexts is not None and len(candidates):
        same = [contexts[a] == contexts[b] for a, b in candidates.tolist()]
        candidates = candidates[np.array(same, dtype=bool)]
    return verified_pairs(keys, candidates, threshold)


def find_duplicates_by_key(
    keys: Sequence[str],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    contexts: Sequence[Hashable] | None = None,
    signatures: np.ndarray | None = None,
) -> DuplicateReport:
    """Duplicates among already-normalised keys (see :func:`find_duplicates`); ``signatures``
    are the keys' MinHash signatures when the caller has them."""
    groups = _groups_by_key(keys, contexts)
    report = DuplicateReport(exact_groups=[g for g in groups if len(g) > 1])
    representatives = [group[0] for group in groups]
    rep_keys = [keys[i] for i in representatives]
    rep_contexts = [contexts[i] for i in representatives] if contexts else None
    rep_signatures = _rows(signatures, representatives)
    pairs = near_pairs(
        rep_keys, threshold=threshold, contexts=rep_contexts, signatures=rep_signatures
    )
    union = _UnionFind(len(groups))
    for pair in pairs:
        union.union(pair.left, pair.right)
        report.near_pairs.append(
            SimilarPair(representatives[pair.left], representatives[pair.right], pair.similarity)
        )
    clusters: dict[int, list[int]] = defaultdict(list)
    for group_index in range(len(groups)):
        clusters[union.find(group_index)].append(group_index)
    report.near_groups = [
        sorted(i for g in members for i in groups[g])
        for members in clusters.values()
        if len(members) > 1
    ]
    return report


def find_duplicates(
    items: Sequence[DedupItem], *, threshold: float = DEFAULT_THRESHOLD
) -> DuplicateReport:
    """Exact and near duplicates among ``items`` by their full text; indices into ``items``."""
    return find_duplicates_by_key(
        [comparison_key(item.full_text) for item in items], threshold=threshold
    )


def answer_similarity(a: str, b: str) -> float:
    """How alike two answer keys are (see the module docstring)."""
    if a == b:
        return 1.0
    if len(a) < SHORT_ANSWER and len(b) < SHORT_ANSWER:
        return SequenceMatcher(None, a, b, autojunk=False).ratio()
    return minhash.jaccard(minhash.text_shingles(a), minhash.text_shingles(b))


def _answer_pairs(
    clusters: list[list[int]], outputs: Sequence[str], output_similarity: float
) -> set[tuple[str, str]]:
    """The pairs (a < b) of distinct answers within a cluster that differ materially. Long
    answers are compared in one vectorised batch. Clusters with more than
    ``MAX_PAIRWISE_ANSWERS`` answers are left out: the caller treats them as conflicting
    throughout."""
    differ: set[tuple[str, str]] = set()
    long_pairs: list[tuple[str, str]] = []
    for members in clusters:
        answers = sorted({outputs[m] for m in members})
        if len(answers) > MAX_PAIRWISE_ANSWERS:
            continue
        for i, a in enumerate(answers):
            for b in answers[i + 1 :]:
                if len(a) < SHORT_ANSWER and len(b) < SHORT_ANSWER:
                    if answer_similarity(a, b) < output_similarity:
                        differ.add((a, b))
                else:
                    long_pairs.append((a, b))
    if long_pairs:
        index: dict[str, int] = {}
        pairs = np.array(
            [
                (index.setdefault(a, len(index)), index.setdefault(b, len(index)))
                for a, b in long_pairs
            ],
            dtype=np.int64,
        )
        similarity = minhash.exact_jaccard(list(index), pairs)
        differ.update(
            p for p, s in zip(long_pairs, similarity.tolist(), strict=True) if s < output_similarity
        )
    return differ


def _cluster_conflicts(
    members: list[int], outputs: Sequence[str], differ: set[tuple[str, str]]
) -> dict[int, list[int]]:
    """For each member, the members whose answer differs materially from its own (at most
    ``MAX_LISTED``; members with the same answer share one list)."""
    by_answer: dict[str, list[int]] = {}
    for member in members:
        by_answer.setdefault(outputs[member], []).append(member)
    everyone_differs = len(by_answer) > MAX_PAIRWISE_ANSWERS
    result: dict[int, list[int]] = {}
    for answer, owners in by_answer.items():
        others: list[int] = []
        for other, holders in by_answer.items():
            pair = (answer, other) if answer < other else (other, answer)
            if other != answer and (everyone_differs or pair in differ):
                others.extend(holders[: MAX_LISTED - len(others)])
                if len(others) >= MAX_LISTED:
                    break
        if others:
            result.update(dict.fromkeys(owners, sorted(others)))
    return result


def find_conflicts_by_key(
    prompts: Sequence[str],
    outputs: Sequence[str],
    *,
    prompt_threshold: float = DEFAULT_THRESHOLD,
    output_similarity: float = DEFAULT_OUTPUT_SIMILARITY,
    contexts: Sequence[Hashable] | None = None,
    signatures: np.ndarray | None = None,
) -> list[ConflictGroup]:
    """Conflicts among already-normalised prompt and answer keys (empty ones are skipped);
    ``signatures`` are the prompts' MinHash signatures when the caller has them."""
    keys = [prompt if outputs[i] else "" for i, prompt in enumerate(prompts)]
    groups = _groups_by_key(keys, contexts)
    representatives = [group[0] for group in groups]
    union = _UnionFind(len(groups))
    rep_contexts = [contexts[i] for i in representatives] if contexts else None
    rep_signatures = _rows(signatures, representatives)
    for pair in near_pairs(
        [keys[i] for i in representatives],
        threshold=prompt_threshold,
        contexts=rep_contexts,
        signatures=rep_signatures,
    ):
        union.union(pair.left, pair.right)
    by_root: dict[int, list[int]] = defaultdict(list)
    for group_index, group in enumerate(groups):
        by_root[union.find(group_index)].extend(group)
    clusters = [
        sorted(members) for members in by_root.values() if len({outputs[m] for m in members}) > 1
    ]
    differ = _answer_pairs(clusters, outputs, output_similarity)
    result = []
    for members in clusters:
        conflicts = _cluster_conflicts(members, outputs, differ)
        if conflicts:
            result.append(ConflictGroup(members, conflicts))
    return result


def find_conflicts(
    items: Sequence[DedupItem],
    *,
    prompt_threshold: float = DEFAULT_THRESHOLD,
    output_similarity: float = DEFAULT_OUTPUT_SIMILARITY,
) -> list[ConflictGroup]:
    """Same or nearly the same prompt with materially different answers; indices into ``items``."""
    return find_conflicts_by_key(
        [comparison_key(item.prompt_text) for item in items],
        [comparison_key(item.output_text) for item in items],
        prompt_threshold=prompt_threshold,
        output_similarity=output_similarity,
    )


def find_cross_duplicates(
    left: Sequence[DedupItem],
    right: Sequence[DedupItem],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    on: Literal["full", "prompt"] = "full",
) -> list[CrossMatch]:
    """Items of ``right`` that duplicate (exactly or nearly) an item of ``left`` — e.g. test
    examples leaking from the training set. ``on="prompt"`` compares prompts only: a test
    question that is a near copy of a training question inflates scores even if the answers
    differ."""

    def text(item: DedupItem) -> str:
        return item.full_text if on == "full" else item.prompt_text

    keys = [comparison_key(text(item)) for item in (*left, *right)]
    side = np.array([0] * len(left) + [1] * len(right), dtype=np.int64)
    matches: list[CrossMatch] = []
    by_key: dict[str, list[int]] = defaultdict(list)
    for index in range(len(left)):
        if keys[index]:
            by_key[keys[index]].append(index)
    for offset, item in enumerate(right):
        for index in by_key.get(keys[len(left) + offset], ()):
            matches.append(CrossMatch(left[index].key, item.key, "exact", 1.0))
    signatures = minhash.signatures(keys)
    candidates = minhash.plausible(
        signatures, minhash.candidate_pairs(signatures, groups=side), threshold
    )
    for pair in verified_pairs(keys, candidates, threshold):
        if keys[pair.left] != keys[pair.right]:
            matches.append(
                CrossMatch(
                    left[pair.left].key, right[pair.right - len(left)].key, "near", pair.similarity
                )
            )
    return matches
