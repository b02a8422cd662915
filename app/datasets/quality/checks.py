"""The quality check of a whole dataset: every example on its own (:mod:`validation`), then
duplicates, near duplicates and conflicting answers across all of them (:mod:`dedup`), and the
statistics the report shows.

Several uploads make one dataset: pass the examples of all of them (``ExampleDraft.origin`` tells
their rows apart) and the checks run across the whole set.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Literal

import numpy as np

from app.datasets.quality import dedup, findings, minhash
from app.datasets.quality.normalize import ExampleKeys, example_keys, key_hash
from app.datasets.quality.tokens import DEFAULT_MAX_TOKENS, METHOD, histogram
from app.datasets.quality.validation import validate_example
from app.datasets.records import ExampleDraft, Finding, RowRef

MAX_RELATED_ROWS = 200  # per finding; the groups in the report always list every member
PII_CODES = {
    "pii_email": "email",
    "pii_phone": "phone",
    "pii_credit_card": "credit_card",
    "pii_my_number": "my_number",
}


@dataclass(frozen=True, slots=True)
class CheckOptions:
    """``max_tokens``: the chosen model's limit per example. ``near_duplicate_threshold``: the
    Jaccard similarity from which two examples are near duplicates. A conflict needs prompts at
    least ``conflict_prompt_threshold`` similar and answers less than
    ``conflict_output_similarity`` similar (see :mod:`app.datasets.quality.dedup`)."""

    max_tokens: int = DEFAULT_MAX_TOKENS
    near_duplicate_threshold: float = dedup.DEFAULT_THRESHOLD
    conflict_prompt_threshold: float = dedup.DEFAULT_THRESHOLD
    conflict_output_similarity: float = dedup.DEFAULT_OUTPUT_SIMILARITY


@dataclass(frozen=True, slots=True)
class DuplicateGroup:
    kind: Literal["exact", "near"]
    rows: list[RowRef]


@dataclass(slots=True)
class CheckReport:
    """``findings`` are sorted by upload and row (file-level ones, row 0, first). ``usable``
    counts rows without an error finding; duplicates are warnings, so they count as usable."""

    findings: list[Finding]
    rows: int
    usable: int
    duplicate_groups: list[DuplicateGroup] = field(default_factory=list)
    conflict_groups: list[list[RowRef]] = field(default_factory=list)
    token_counts: list[int] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    # Per example, in input order: (content hash, prompt hash) of its comparison keys, as stored
    # in the database for exact matches (see normalize.key_hash).
    hashes: list[tuple[str, str]] = field(default_factory=list)


def _ref_json(ref: RowRef) -> int | list[int | str]:
    return ref.row if not ref.origin else [ref.row, ref.origin]


def _duplicate_findings(
    examples: Sequence[ExampleDraft],
    keys: Sequence[ExampleKeys],
    options: CheckOptions,
    signatures: np.ndarray,
) -> tuple[list[Finding], list[DuplicateGroup]]:
    full = [k.full if (k.prompt or k.output) else "" for k in keys]
    report = dedup.find_duplicates_by_key(
        full,
        threshold=options.near_duplicate_threshold,
        contexts=[k.system for k in keys],
        signatures=signatures,
    )
    found: list[Finding] = []
    groups: list[DuplicateGroup] = []
    for group in report.exact_groups:
        refs = [examples[i].ref for i in group]
        groups.append(DuplicateGroup("exact", refs))
        for i in group:
            related = [r for r in refs[: MAX_RELATED_ROWS + 1] if r != examples[i].ref][
                :MAX_RELATED_ROWS
            ]
            found.append(
                findings.make(
                    "exact_duplicate",
                    examples[i].row,
                    related=related,
                    origin=examples[i].origin,
                    group_size=len(group),
                )
            )
    best: dict[str, float] = {}
    for pair in report.near_pairs:
        for index in (pair.left, pair.right):
            best[full[index]] = max(best.get(full[index], 0.0), pair.similarity)
    for group in report.near_groups:
        groups.append(DuplicateGroup("near", [examples[i].ref for i in group]))
        by_key: dict[str, list[RowRef]] = {}
        for i in group:
            by_key.setdefault(full[i], []).append(examples[i].ref)
        for i in group:
            others = (ref for key, refs in by_key.items() if key != full[i] for ref in refs)
            related = list(islice(others, MAX_RELATED_ROWS))
            found.append(
                findings.make(
                    "near_duplicate",
                    examples[i].row,
                    related=related,
                    origin=examples[i].origin,
                    group_size=len(group),
                    similarity=round(best.get(full[i], 0.0), 2),
                )
            )
    return found, groups


def _conflict_findings(
    examples: Sequence[ExampleDraft],
    keys: Sequence[ExampleKeys],
    options: CheckOptions,
    signatures: np.ndarray,
) -> tuple[list[Finding], list[list[RowRef]]]:
    groups = dedup.find_conflicts_by_key(
        [k.prompt for k in keys],
        [k.output for k in keys],
        prompt_threshold=options.conflict_prompt_threshold,
        output_similarity=options.conflict_output_similarity,
        contexts=[k.system for k in keys],
        signatures=signatures,
    )
    found: list[Finding] = []
    for group in groups:
        for member, others in group.conflicts.items():
            related = [examples[j].ref for j in others][:MAX_RELATED_ROWS]
            found.append(
                findings.make(
                    "conflict",
                    examples[member].row,
                    related=related,
                    origin=examples[member].origin,
                    group_size=len(group.members),
                )
            )
    return found, [[examples[i].ref for i in group.members] for group in groups]


def _token_stats(counts: Sequence[int], limit: int) -> dict[str, Any]:
    values = np.asarray(counts, dtype=np.int64)
    if not len(values):
        return {
            "method": METHOD,
            "total": 0,
            "limit": limit,
            "over_limit": 0,
            "histogram": histogram(()),
        }
    return {
        "method": METHOD,
        "total": int(values.sum()),
        "mean": round(float(values.mean()), 1),
        "median": int(np.median(values)),
        "p95": int(np.percentile(values, 95)),
        "max": int(values.max()),
        "limit": limit,
        "over_limit": int((values > limit).sum()),
        "histogram": histogram(values.tolist()),
    }


def _row_refs(examples: Sequence[ExampleDraft], found: Sequence[Finding]) -> set[RowRef]:
    refs = {RowRef(example.row, example.origin) for example in examples}
    refs.update(RowRef(f.row, f.origin) for f in found if findings.scope_of(f.code) == "row")
    return refs


def _stats(report: CheckReport, examples: Sequence[ExampleDraft], limit: int) -> dict[str, Any]:
    by_code = Counter(f.code for f in report.findings)
    splits = Counter(example.split or "unassigned" for example in examples)
    return {
        "rows": report.rows,
        "usable": report.usable,
        "errors": sum(1 for f in report.findings if f.severity == "error"),
        "warnings": sum(1 for f in report.findings if f.severity == "warning"),
        "by_code": dict(sorted(by_code.items())),
        "exact_duplicate_groups": sum(1 for g in report.duplicate_groups if g.kind == "exact"),
        "near_duplicate_groups": sum(1 for g in report.duplicate_groups if g.kind == "near"),
        "conflict_groups": len(report.conflict_groups),
        "duplicate_groups": [
            {"kind": g.kind, "rows": [_ref_json(r) for r in g.rows]}
            for g in report.duplicate_groups
        ],
        "conflicts": [[_ref_json(r) for r in group] for group in report.conflict_groups],
        "pii": {kind: by_code.get(code, 0) for code, kind in PII_CODES.items()},
        "splits": {
            name: splits.get(name, 0) for name in ("train", "validation", "test", "unassigned")
        },
        "multi_turn": sum(1 for example in examples if len(example.turns) > 2),
        "tokens": _token_stats(report.token_counts, limit),
    }


def check_examples(
    examples: Iterable[ExampleDraft],
    *,
    options: CheckOptions | None = None,
    reader_findings: Iterable[Finding] = (),
) -> CheckReport:
    """Check every example and the dataset as a whole. ``reader_findings`` (what reading the
    files reported) are merged into the report, and rows that could not be read count as rows
    with an error."""
    options = options or CheckOptions()
    examples = list(examples)
    found = list(reader_findings)
    token_counts: list[int] = []
    keys: list[ExampleKeys] = []
    for example in examples:
        problems, tokens = validate_example(example, max_tokens=options.max_tokens)
        found += problems
        token_counts.append(tokens)
        keys.append(example_keys(example))
    prompt_signatures, full_signatures = minhash.prompt_and_full_signatures(
        [k.prompt for k in keys], [k.output for k in keys]
    )
    duplicates, duplicate_groups = _duplicate_findings(examples, keys, options, full_signatures)
    del full_signatures
    conflicts, conflict_groups = _conflict_findings(examples, keys, options, prompt_signatures)
    found += duplicates + conflicts
    found.sort(key=lambda f: (f.origin, f.row))
    rows = _row_refs(examples, found)
    with_errors = {f.ref for f in found if f.severity == "error"} & rows
    report = CheckReport(
        found,
        len(rows),
        len(rows) - len(with_errors),
        duplicate_groups,
        conflict_groups,
        token_counts,
        hashes=[(key_hash(k.system, k.full), key_hash(k.system, k.prompt)) for k in keys],
    )
    report.stats = _stats(report, examples, options.max_tokens)
    return report
