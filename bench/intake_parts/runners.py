"""The timed runs, each in its own process so peak memory is its own.

* ``ours``: the full check exactly as ``tunedesk check`` does it (read the CSV, every per-example
  check, exact/near duplicates, conflicts, statistics), then the near-duplicate stage alone.
* ``ours-dedup``: the baseline's scope with our code — reading, comparison keys, exact and near
  duplicates — for a like-for-like comparison.
* ``baseline``: the same reading and comparison keys, then near duplicates with datasketch's
  MinHash (xxhash, 128 permutations) and MinHashLSH over the same character 3–5-gram shingles,
  verified with the same exact Jaccard ≥ 0.8, grouped with union-find.

Each prints one JSON object: timings, peak RSS and what it found (spreadsheet row numbers).
"""

from __future__ import annotations

import resource
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from app.datasets.quality import dedup
from app.datasets.quality.checks import check_examples
from app.datasets.quality.normalize import example_keys
from app.datasets.reading.files import read_file
from app.datasets.records import ExampleDraft, Finding

PII = {
    "pii_email": "email",
    "pii_phone": "phone",
    "pii_credit_card": "card",
    "pii_my_number": "my_number",
}


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _read(path: Path) -> tuple[list[ExampleDraft], list[Finding]]:
    examples: list[ExampleDraft] = []
    found: list[Finding] = []
    with read_file(path) as reading:
        for item in reading:
            if isinstance(item, ExampleDraft):
                examples.append(item)
            else:
                found.append(item)
    return examples, found


def _cpu() -> float:
    return time.process_time()


def run_ours(path: Path) -> dict[str, Any]:
    cpu = _cpu()
    start = time.perf_counter()
    examples, found = _read(path)
    read_seconds = time.perf_counter() - start
    report = check_examples(examples, reader_findings=found)
    wall = time.perf_counter() - start
    cpu = _cpu() - cpu
    peak = _peak_rss_mib()
    keys = [example_keys(example) for example in examples]
    stage_start = time.perf_counter()
    dedup.find_duplicates_by_key([k.full for k in keys], contexts=[k.system for k in keys])
    stage = time.perf_counter() - stage_start
    conflicts: dict[int, list[int]] = defaultdict(list)
    pii: list[tuple[int, str]] = []
    for finding in report.findings:
        if finding.code == "conflict":
            conflicts[finding.row] += [ref.row for ref in finding.related_rows]
        elif finding.code in PII:
            pii.append((finding.row, PII[finding.code]))
    return {
        "wall": wall,
        "cpu": cpu,
        "read": read_seconds,
        "stage": stage,
        "peak_rss_mib": peak,
        "rows": report.rows,
        "findings": len(report.findings),
        "exact_groups": [
            [r.row for r in g.rows] for g in report.duplicate_groups if g.kind == "exact"
        ],
        "near_groups": [
            [r.row for r in g.rows] for g in report.duplicate_groups if g.kind == "near"
        ],
        "conflicts": conflicts,
        "pii": pii,
    }


def run_ours_dedup(path: Path) -> dict[str, Any]:
    cpu = _cpu()
    start = time.perf_counter()
    examples, _found = _read(path)
    keys = [example_keys(example) for example in examples]
    stage_start = time.perf_counter()
    report = dedup.find_duplicates_by_key([k.full for k in keys], contexts=[k.system for k in keys])
    end = time.perf_counter()
    row = [example.row for example in examples]
    return {
        "wall": end - start,
        "cpu": _cpu() - cpu,
        "stage": end - stage_start,
        "peak_rss_mib": _peak_rss_mib(),
        "rows": len(examples),
        "exact_groups": [[row[i] for i in g] for g in report.exact_groups],
        "near_groups": [[row[i] for i in g] for g in report.near_groups],
    }


def _shingles(key: str) -> set[bytes]:
    found = {key[i : i + n].encode("utf-8") for n in (3, 4, 5) for i in range(len(key) - n + 1)}
    return found or ({key.encode("utf-8")} if key else set())


def _near_with_datasketch(keys: list[str]) -> list[tuple[int, int]]:
    import xxhash
    from datasketch import LeanMinHash, MinHash, MinHashLSH  # type: ignore[import-untyped]

    index = MinHashLSH(num_perm=128, params=(14, 9))  # the same ≈0.7 index threshold as ours
    sketches = []
    batches = (list(_shingles(key)) for key in keys)
    for number, sketch in enumerate(
        MinHash.generator(batches, num_perm=128, hashfunc=xxhash.xxh32_intdigest)
    ):
        lean = LeanMinHash(sketch)
        index.insert(number, lean)
        sketches.append(lean)
    pairs: list[tuple[int, int]] = []
    for number, sketch in enumerate(sketches):
        for other in index.query(sketch):
            if other > number:
                a, b = _shingles(keys[number]), _shingles(keys[other])
                if len(a & b) / len(a | b) >= dedup.DEFAULT_THRESHOLD:
                    pairs.append((number, other))
    return pairs


def run_baseline(path: Path) -> dict[str, Any]:
    cpu = _cpu()
    start = time.perf_counter()
    examples, _found = _read(path)
    keys = [example_keys(example).full for example in examples]
    groups: dict[str, list[int]] = {}
    for number, key in enumerate(keys):
        groups.setdefault(key, []).append(number)
    representatives = [members[0] for members in groups.values()]
    stage_start = time.perf_counter()
    pairs = _near_with_datasketch([keys[i] for i in representatives])
    parent = list(range(len(representatives)))

    def find(item: int) -> int:
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    for a, b in pairs:
        parent[max(find(a), find(b))] = min(find(a), find(b))
    clusters: dict[int, list[int]] = defaultdict(list)
    for position, members in enumerate(groups.values()):
        clusters[find(position)].extend(members)
    end = time.perf_counter()
    row = [example.row for example in examples]
    return {
        "wall": end - start,
        "cpu": _cpu() - cpu,
        "stage": end - stage_start,
        "peak_rss_mib": _peak_rss_mib(),
        "rows": len(examples),
        "exact_groups": [[row[i] for i in g] for g in groups.values() if len(g) > 1],
        "near_groups": [
            [row[i] for i in sorted(c)] for c in clusters.values() if len({keys[i] for i in c}) > 1
        ],
    }
