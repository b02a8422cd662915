"""Check the sample datasets for leakage and accidental near-duplicates.

    python scripts/check_samples.py

For every sample in ``app/datasets/samples/samples.yaml`` this prints the highest similarity
between a held-out test row and any training row (question alone, and question + answer), and
the highest similarity between two training rows that are not a planted problem. Similarity is
the Jaccard index of character 3-5-gram sets after NFKC + casefold + whitespace collapse, the
same comparison key the upload checks use.

Why the bounds: a test question that is a near-copy of a training question (>= 0.6) or a test
example that nearly repeats a training example (>= 0.8) would make the tuned model look better
than it is; a near-duplicate between training rows (>= 0.8) would show the user a problem we did
not plant. Exits with status 1 when a bound is broken.
"""

from __future__ import annotations

import csv
import json
import re
import sys
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SAMPLES_DIR = Path(__file__).resolve().parent.parent / "app" / "datasets" / "samples"
MANIFEST = SAMPLES_DIR / "samples.yaml"
NGRAM_SIZES = (3, 4, 5)
TEST_QUESTION_BOUND = 0.6
TEST_EXAMPLE_BOUND = 0.8
TRAIN_NEAR_DUPLICATE_BOUND = 0.8
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Example:
    """One example as the user sees it: file, row (CSV: spreadsheet row; JSONL: line), texts."""

    file: str
    row: int
    split: str
    question: str
    answer: str
    category: str = ""

    @property
    def full_text(self) -> str:
        return f"{self.question}\n{self.answer}"


@dataclass(frozen=True)
class Match:
    score: float
    left: Example | None
    right: Example | None

    def describe(self) -> str:
        if self.left is None or self.right is None:
            return f"{self.score:.3f}"
        return (
            f"{self.score:.3f}  ({self.left.file} row {self.left.row} "
            f"~ {self.right.file} row {self.right.row})"
        )


def comparison_key(text: str) -> str:
    """NFKC, casefold, every whitespace run collapsed to one space (and trimmed)."""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def shingles(text: str) -> frozenset[str]:
    key = comparison_key(text)
    grams = {key[i : i + n] for n in NGRAM_SIZES for i in range(len(key) - n + 1)}
    # A text shorter than the smallest n-gram still compares by itself.
    return frozenset(grams or ({key} if key else set()))


def jaccard(left: frozenset[str], right: frozenset[str]) -> float:
    if not left and not right:
        return 1.0
    shared = len(left & right)  # the union's size follows; building it would double the cost
    return shared / (len(left) + len(right) - shared)


def load_manifest(path: Path = MANIFEST) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        manifest = yaml.safe_load(handle)
    samples: list[dict[str, Any]] = manifest["samples"]
    return samples


def load_examples(sample: dict[str, Any], directory: Path = SAMPLES_DIR) -> list[Example]:
    """Every example of a sample, read through the manifest's column mapping."""
    loaders: dict[str, Callable[[dict[str, Any], dict[str, Any], Path], list[Example]]] = {
        "csv": _load_csv,
        "jsonl": _load_jsonl,
    }
    load = loaders[sample["format"]]
    examples: list[Example] = []
    for file_entry in sample["files"]:
        examples.extend(load(sample, file_entry, directory / file_entry["path"]))
    return examples


def _load_csv(sample: dict[str, Any], file_entry: dict[str, Any], path: Path) -> list[Example]:
    columns = sample["columns"]
    split_values: dict[str, str] = sample["split_values"]
    with path.open(encoding=sample.get("encoding", "utf-8-sig"), newline="") as handle:
        records = list(csv.DictReader(handle))
    return [
        Example(
            file=file_entry["path"],
            row=index + 2,  # the header is spreadsheet row 1
            split=split_values[record[columns["split"]]],
            question=record[columns["input"]],
            answer=record[columns["output"]],
            category=record[columns["category"]] if columns.get("category") else "",
        )
        for index, record in enumerate(records)
    ]


def _load_jsonl(sample: dict[str, Any], file_entry: dict[str, Any], path: Path) -> list[Example]:
    examples = []
    with path.open(encoding=sample.get("encoding", "utf-8")) as handle:
        for number, line in enumerate(handle, start=1):
            record = json.loads(line)
            turns = {turn["role"]: _turn_text(turn) for turn in record["contents"]}
            examples.append(
                Example(
                    file=file_entry["path"],
                    row=number,
                    split=file_entry["split"],
                    question=turns["user"],
                    answer=turns["model"],
                )
            )
    return examples


def _turn_text(turn: dict[str, Any]) -> str:
    return "".join(part.get("text", "") for part in turn["parts"])


def best_match(
    lefts: Sequence[Example],
    rights: Sequence[Example],
    text_of: Callable[[Example], str],
    *,
    same_list: bool = False,
    skip: Callable[[Example, Example], bool] | None = None,
) -> Match:
    """The most similar (left, right) pair; with ``same_list`` each unordered pair once."""
    right_sets = [shingles(text_of(example)) for example in rights]
    best = Match(0.0, None, None)
    for i, left in enumerate(lefts):
        left_set = right_sets[i] if same_list else shingles(text_of(left))
        start = i + 1 if same_list else 0
        for j in range(start, len(rights)):
            if skip is not None and skip(left, rights[j]):
                continue
            score = jaccard(left_set, right_sets[j])
            if score > best.score:
                best = Match(score, left, rights[j])
    return best


def _same_question(left: Example, right: Example) -> bool:
    # Pairs that share a question key are the planted duplicate and conflict, checked elsewhere.
    return comparison_key(left.question) == comparison_key(right.question)


def similarity_report(examples: Iterable[Example]) -> dict[str, tuple[Match, float]]:
    """Named maxima with their bound (a result passes when its score is below the bound)."""
    train = [example for example in examples if example.split == "train"]
    test = [example for example in examples if example.split == "test"]
    return {
        "test vs train, question": (
            best_match(test, train, lambda e: e.question),
            TEST_QUESTION_BOUND,
        ),
        "test vs train, question+answer": (
            best_match(test, train, lambda e: e.full_text),
            TEST_EXAMPLE_BOUND,
        ),
        "train vs train, question (planted pairs aside)": (
            best_match(train, train, lambda e: e.question, same_list=True, skip=_same_question),
            TRAIN_NEAR_DUPLICATE_BOUND,
        ),
        "train vs train, question+answer (planted pairs aside)": (
            best_match(train, train, lambda e: e.full_text, same_list=True, skip=_same_question),
            TRAIN_NEAR_DUPLICATE_BOUND,
        ),
    }


def main() -> int:
    failed = False
    for sample in load_manifest():
        examples = load_examples(sample)
        splits = {name: sum(e.split == name for e in examples) for name in ("train", "test")}
        print(
            f"{sample['id']}: {len(examples)} examples "
            f"({splits['train']} train, {splits['test']} test)"
        )
        for name, (match, bound) in similarity_report(examples).items():
            verdict = "ok" if match.score < bound else "TOO SIMILAR"
            failed = failed or match.score >= bound
            print(f"  {name:<54} max {match.describe()}  bound < {bound}  {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
