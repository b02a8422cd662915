"""The sample datasets are what the manifest says they are.

Standard library + PyYAML only (the intake parser is built separately): file encodings and
shapes, counts and splits, the brand voice, every planted problem at the row the manifest names
and nowhere else, and the leakage bounds of scripts/check_samples.py.
"""

from __future__ import annotations

import csv
import functools
import importlib.util
import io
import json
import re
import subprocess
import sys
import unicodedata
from collections import defaultdict
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SAMPLES_DIR = ROOT / "app" / "datasets" / "samples"
CHECK_SCRIPT = ROOT / "scripts" / "check_samples.py"
JA_HEADER = ["カテゴリ", "お客様の質問", "模範回答", "区分"]
JA_CATEGORIES = {
    "配送",
    "注文・キャンセル",
    "返品・交換",
    "支払い",
    "会員・ログイン",
    "製品の使い方",
    "保証・修理",
    "キャンペーン",
    "お問い合わせ",
}
FACT_LABELS = ("Product: ", "Category: ", "Materials: ", "Key features: ", "Price: $")
# ASCII classes on purpose: Python's \w would swallow the Japanese text around an address.
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
JP_PHONE = re.compile(r"(?<![\dA-Za-z-])0\d{1,4}-\d{1,4}-\d{3,4}(?!\d)")


def _load_check_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_samples", CHECK_SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("check_samples", module)
    spec.loader.exec_module(module)
    return module


check = _load_check_module()
MANIFEST: list[dict[str, Any]] = yaml.safe_load(
    (SAMPLES_DIR / "samples.yaml").read_text(encoding="utf-8")
)["samples"]
SAMPLES = {sample["id"]: sample for sample in MANIFEST}
JA = SAMPLES["support-faq-ja"]
EN = SAMPLES["brand-voice-en"]


def examples_of(sample: dict[str, Any]) -> list[Any]:
    return _examples(sample["id"])


@functools.cache
def _examples(sample_id: str) -> list[Any]:
    return list(check.load_examples(SAMPLES[sample_id], SAMPLES_DIR))


@functools.cache
def _report(sample_id: str) -> dict[str, Any]:
    """All pairwise similarities of a sample, computed once (the slowest part of this module)."""
    report: dict[str, Any] = check.similarity_report(_examples(sample_id))
    return report


def planted_rows(sample: dict[str, Any], kind: str) -> list[tuple[str, int]]:
    return sorted(
        (problem["file"], row)
        for problem in sample["planted_problems"]
        if problem["kind"] == kind
        for row in problem["rows"]
    )


def planted(example: Any, sample: dict[str, Any]) -> bool:
    return any(
        example.file == problem["file"] and example.row in problem["rows"]
        for problem in sample["planted_problems"]
    )


# --- the manifest -------------------------------------------------------------------------------


@pytest.mark.parametrize("sample", MANIFEST, ids=lambda sample: sample["id"])
def test_manifest_entry_is_complete_in_both_languages(sample: dict[str, Any]) -> None:
    for field in ("title", "description", "dataset_name"):
        assert set(sample[field]) == {"en", "ja"}
        assert all(text.strip() for text in sample[field].values())
    assert sample["format"] in {"csv", "jsonl"}
    assert {"input", "output", "category", "split"} <= set(sample["columns"])
    for entry in sample["files"]:
        assert (SAMPLES_DIR / entry["path"]).is_file()
    kinds = {problem["kind"] for problem in sample["planted_problems"]}
    assert {"exact_duplicate", "conflict", "pii_email", "empty_output"} <= kinds
    for problem in sample["planted_problems"]:
        assert set(problem["note"]) == {"en", "ja"}
        assert all(
            str(row) in problem["note"][lang] for lang in ("en", "ja") for row in problem["rows"]
        ), "each note names the rows it is about"


@pytest.mark.parametrize("sample", MANIFEST, ids=lambda sample: sample["id"])
def test_counts_and_splits_match_the_manifest(sample: dict[str, Any]) -> None:
    examples = examples_of(sample)
    counts = {split: sum(e.split == split for e in examples) for split in ("train", "test")}
    assert counts == sample["counts"]
    assert len(examples) == counts["train"] + counts["test"]
    assert 25 <= counts["test"] <= 35
    assert counts["train"] + counts["test"] >= 150


# --- the Japanese CSV ---------------------------------------------------------------------------


def _ja_text() -> str:
    raw = (SAMPLES_DIR / "support_faq_ja.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "Excel's CSV UTF-8 starts with a BOM"
    return raw[3:].decode("utf-8")  # strict: no invalid byte anywhere


def _ja_rows() -> list[list[str]]:
    return list(csv.reader(io.StringIO(_ja_text(), newline="")))


def test_ja_csv_is_excel_csv_utf8() -> None:
    text = _ja_text()
    rows = _ja_rows()
    assert rows[0] == JA_HEADER
    # Writing the parsed rows back the way Excel does (CRLF after each record, quotes only where
    # a field needs them) must give the file byte for byte.
    rewritten = io.StringIO(newline="")
    csv.writer(rewritten, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL).writerows(rows)
    assert rewritten.getvalue() == text
    assert text.count("\r\n") >= len(rows)
    assert any("\n" in cell for row in rows for cell in row), "some answers hold line breaks"
    assert any('"' in cell for row in rows for cell in row), "some cells need escaped quotes"


def test_ja_rows_have_known_categories_and_splits() -> None:
    examples = examples_of(JA)
    assert len(examples) >= 170
    assert {e.category for e in examples} == JA_CATEGORIES
    assert {e.category for e in examples if e.split == "test"} == JA_CATEGORIES
    assert {row[3] for row in _ja_rows()[1:]} == {"学習", "テスト"}


def test_ja_answers_are_polite_and_two_to_six_sentences() -> None:
    for example in examples_of(JA):
        if planted(example, JA) and not example.answer:
            continue
        sentences = [s for s in re.split(r"[。\n]", example.answer) if s.strip()]
        assert 2 <= len(sentences) <= 6, (example.row, len(sentences))
        assert re.search(r"(ます|です|ません|ください)。", example.answer), example.row


def test_ja_policies_are_consistent() -> None:
    """The same policy always comes with the same numbers."""
    answers = unicodedata.normalize(
        "NFKC", "\n".join(e.answer for e in examples_of(JA) if not planted(e, JA))
    )
    # Shipping is 550 yen, free from 5,000 yen; "追加送料"/"返送料" are other fees.
    assert set(re.findall(r"(?<!追加)(?<!返)送料(?:は全国一律)?(\d[\d,]*)円", answers)) == {"550"}
    assert set(re.findall(r"合計が?(\d[\d,]*)円\(税込\)以上", answers)) == {"5,000"}
    assert set(re.findall(r"到着後(\d+)日以内", answers)) == {"14"}
    assert set(re.findall(r"(\d+)円\(税込\)です", answers)) >= {"330"}
    cod_fee = r"手数料(?:として|は、ご注文金額にかかわらず)(\d+)円"
    assert set(re.findall(cod_fee, answers)) == {"330"}
    assert set(re.findall(r"1点(?:につき)?(\d+)円", answers)) == {"220"}
    assert set(re.findall(r"平日(\d+時〜\d+時)", answers)) == {"10時〜18時"}
    assert set(re.findall(r"ご注文日から(\d+)日以内", answers)) == {"3", "7"}  # konbini, bank
    assert set(re.findall(r"SM-\d{4}-\d{6}", answers)) == {"SM-2024-000123"}


# --- the English JSONL --------------------------------------------------------------------------


def _jsonl_lines(path: str) -> list[str]:
    raw = (SAMPLES_DIR / path).read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert b"\r" not in raw
    assert raw.endswith(b"\n")
    return raw.decode("utf-8").splitlines()


@pytest.mark.parametrize("entry", EN["files"], ids=lambda entry: entry["path"])
def test_every_jsonl_line_has_the_vertex_shape(entry: dict[str, Any]) -> None:
    lines = _jsonl_lines(entry["path"])
    if entry["split"] == "train":
        assert len(lines) >= 170
    else:
        assert 25 <= len(lines) <= 35
    instructions = set()
    for number, line in enumerate(lines, start=1):
        record = json.loads(line)
        assert set(record) == {"systemInstruction", "contents"}, number
        system = record["systemInstruction"]
        assert system["role"] == "system"
        assert len(system["parts"]) == 1
        instructions.add(system["parts"][0]["text"])
        assert [turn["role"] for turn in record["contents"]] == ["user", "model"], number
        for turn in record["contents"]:
            assert len(turn["parts"]) == 1
            assert set(turn["parts"][0]) == {"text"}
            assert isinstance(turn["parts"][0]["text"], str)
        facts = record["contents"][0]["parts"][0]["text"].split("\n")
        assert [line[: len(label)] for line, label in zip(facts, FACT_LABELS, strict=True)] == list(
            FACT_LABELS
        ), number
    assert len(instructions) == 1, "one brand voice, one system instruction"


def test_descriptions_keep_the_brand_voice() -> None:
    for example in examples_of(EN):
        if planted(example, EN) and not example.answer:
            continue
        words = len(example.answer.split())
        assert 60 <= words <= 140, (example.file, example.row, words)
        assert example.answer.split("\n")[-1].startswith("Trail note: "), example.row
        assert "!" not in example.answer
        assert re.search(r"\byou(r)?\b", example.answer, re.IGNORECASE), example.row
        price = example.question.rsplit("Price: ", 1)[1]
        assert price in example.answer, (example.row, price)


# --- planted problems ---------------------------------------------------------------------------


def _groups(examples: list[Any], key: Any) -> list[list[tuple[str, int]]]:
    groups: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for example in examples:
        groups[key(example)].append((example.file, example.row))
    return sorted(sorted(group) for group in groups.values() if len(group) > 1)


@pytest.mark.parametrize("sample", MANIFEST, ids=lambda sample: sample["id"])
def test_exactly_one_duplicate_pair_where_the_manifest_says(sample: dict[str, Any]) -> None:
    train = [e for e in examples_of(sample) if e.split == "train"]
    duplicates = _groups(train, lambda e: check.comparison_key(e.full_text))
    assert duplicates == [planted_rows(sample, "exact_duplicate")]
    if sample["format"] == "csv":
        first, second = (e for e in train if (e.file, e.row) in duplicates[0])
        # In the CSV the copy differs by whitespace and character width, not byte for byte.
        assert first.question != second.question
        assert first.answer != second.answer


@pytest.mark.parametrize("sample", MANIFEST, ids=lambda sample: sample["id"])
def test_exactly_one_conflict_where_the_manifest_says(sample: dict[str, Any]) -> None:
    train = [e for e in examples_of(sample) if e.split == "train"]
    same_question = _groups(train, lambda e: check.comparison_key(e.question))
    conflicts = [
        group for group in same_question if group != planted_rows(sample, "exact_duplicate")
    ]
    assert conflicts == [planted_rows(sample, "conflict")]
    answers = {e.answer for e in train if (e.file, e.row) in conflicts[0]}
    assert len(answers) == 2


@pytest.mark.parametrize("sample", MANIFEST, ids=lambda sample: sample["id"])
def test_personal_data_only_where_the_manifest_says(sample: dict[str, Any]) -> None:
    examples = examples_of(sample)
    for kind, pattern in (("pii_email", EMAIL), ("pii_phone", JP_PHONE)):
        found = sorted(
            (e.file, e.row)
            for e in examples
            if pattern.search(unicodedata.normalize("NFKC", f"{e.question}\n{e.answer}"))
        )
        assert found == planted_rows(sample, kind), kind
        for problem in (p for p in sample["planted_problems"] if p["kind"] == kind):
            (row,) = problem["rows"]
            (example,) = (e for e in examples if (e.file, e.row) == (problem["file"], row))
            assert problem["value"] in example.answer
    assert planted_rows(JA, "pii_phone"), "the Japanese set plants a phone number"


@pytest.mark.parametrize("sample", MANIFEST, ids=lambda sample: sample["id"])
def test_one_empty_answer_where_the_manifest_says(sample: dict[str, Any]) -> None:
    empty = sorted((e.file, e.row) for e in examples_of(sample) if not e.answer.strip())
    assert empty == planted_rows(sample, "empty_output")
    assert all(e.question.strip() for e in examples_of(sample))


@pytest.mark.parametrize("sample", MANIFEST, ids=lambda sample: sample["id"])
def test_planted_problems_are_all_in_the_training_part(sample: dict[str, Any]) -> None:
    splits = {(e.file, e.row): e.split for e in examples_of(sample)}
    rows = [(p["file"], row) for p in sample["planted_problems"] for row in p["rows"]]
    assert rows
    assert all(splits[row] == "train" for row in rows)


# --- leakage ------------------------------------------------------------------------------------


@pytest.mark.parametrize("sample", MANIFEST, ids=lambda sample: sample["id"])
def test_test_part_is_related_but_not_a_near_copy(sample: dict[str, Any]) -> None:
    examples = examples_of(sample)
    report = _report(sample["id"])
    question, _ = report["test vs train, question"]
    example, _ = report["test vs train, question+answer"]
    assert question.score < 0.6
    assert example.score < 0.8
    # Related: every test example shares its topic with the training part.
    train_topics = {e.category or e.question.split("\n")[1] for e in examples if e.split == "train"}
    assert all(
        (e.category or e.question.split("\n")[1]) in train_topics
        for e in examples
        if e.split == "test"
    )


@pytest.mark.parametrize("sample", MANIFEST, ids=lambda sample: sample["id"])
def test_no_accidental_near_duplicates_in_the_training_part(sample: dict[str, Any]) -> None:
    report = _report(sample["id"])
    for name, (match, bound) in report.items():
        assert match.score < bound, (name, match.describe())


def test_similarity_measure_sees_width_and_whitespace_as_equal() -> None:
    width_and_space = check.comparison_key("返品は１４日以内？\u3000 ")
    assert width_and_space == check.comparison_key("返品は14日以内?")
    same = check.shingles("Ｔrail  note")
    assert check.jaccard(same, check.shingles("trail note")) == 1.0
    assert check.jaccard(check.shingles("abcdef"), check.shingles("uvwxyz")) == 0.0


def test_check_script_prints_the_maxima_and_passes() -> None:
    result = subprocess.run(
        [sys.executable, str(CHECK_SCRIPT)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for sample in MANIFEST:
        assert sample["id"] in result.stdout
    assert result.stdout.count("test vs train, question+answer") == len(MANIFEST)
    assert "TOO SIMILAR" not in result.stdout
