"""Duplicates, near duplicates, conflicts, and duplicates between two sets (leakage)."""

from __future__ import annotations

import random

from app.datasets.quality import minhash
from app.datasets.quality.dedup import (
    DedupItem,
    answer_similarity,
    find_conflicts,
    find_cross_duplicates,
    find_duplicates,
    find_duplicates_by_key,
)

BASE = (
    "お問い合わせいただいた件について、担当部署で確認いたしました。"
    "ご注文の商品は本日出荷済みで、明後日までにお届けする予定です。"
    "追跡番号は会員ページでご確認いただけます。"
)


def _edit(text: str, edits: int, seed: int) -> str:
    rng = random.Random(seed)
    chars = list(text)
    for _ in range(edits):
        chars[rng.randrange(len(chars))] = "あ"
    return "".join(chars)


def _item(key: str | int, prompt: str, answer: str) -> DedupItem:
    return DedupItem(key, prompt, f"{prompt}\n{answer}", answer)


def test_exact_and_near_groups_with_a_configurable_threshold() -> None:
    items = [
        _item("a", "配送状況は？", BASE),
        _item("b", "配送状況は?", BASE + "\n"),  # exact after the key
        _item("c", "配送状況は？", _edit(BASE, 1, 1)),  # near
        _item("d", "返品したい", "返品は8日以内に承ります。"),
    ]
    report = find_duplicates(items)
    assert report.exact_groups == [[0, 1]]
    assert report.near_groups == [[0, 1, 2]]
    [pair] = report.near_pairs
    assert (pair.left, pair.right) == (0, 2)
    assert 0.8 <= pair.similarity < 1
    assert find_duplicates(items, threshold=0.99).near_groups == []


def test_near_duplicate_recall_on_many_edited_copies() -> None:
    rng = random.Random(5)
    words = ["請求書", "配送", "確認", "返品", "invoice", "order", "です", "ます", "の", "を"]
    bases = ["".join(rng.choice(words) for _ in range(60)) for _ in range(300)]
    copies = [_edit(text, 2, i) for i, text in enumerate(bases[:100])]
    report = find_duplicates_by_key(bases + copies)
    found = {(p.left, p.right) for p in report.near_pairs}
    truth = [
        (i, 300 + i)
        for i in range(100)
        if minhash.jaccard(minhash.text_shingles(bases[i]), minhash.text_shingles(copies[i])) >= 0.8
    ]
    assert len(truth) >= 90
    assert sum(pair in found for pair in truth) / len(truth) >= 0.95
    assert all(p.similarity >= 0.8 for p in report.near_pairs)


def test_exact_jaccard_matches_set_arithmetic() -> None:
    import numpy as np

    keys = ["abcdefgh", "abcdefgx", "", "ab", "ab", "xyz" * 50]
    pairs = np.array([(0, 1), (2, 2), (3, 4), (0, 5), (2, 3)], dtype=np.int64)
    expected = [
        minhash.jaccard(minhash.text_shingles(keys[a]), minhash.text_shingles(keys[b]))
        for a, b in pairs.tolist()
    ]
    assert minhash.exact_jaccard(keys, pairs).tolist() == expected


def test_conflicts_need_materially_different_answers() -> None:
    items = [
        _item(1, "土曜日は営業していますか？", "はい、10時から17時まで営業しています。"),
        _item(2, "土曜日は営業していますか", "いいえ、土日祝日はお休みをいただいております。"),
        _item(3, "土曜日は営業していますか？", "はい、10時から17時まで営業しています"),
        _item(4, "日曜日は？", "お休みです。"),
    ]
    [group] = find_conflicts(items)
    assert group.members == [0, 1, 2]
    assert group.conflicts == {0: [1], 1: [0, 2], 2: [1]}


def test_short_answers_compare_by_characters() -> None:
    assert answer_similarity("はい", "はい。") >= 0.5
    assert answer_similarity("はい", "いいえ") < 0.5
    items = [
        _item(1, "同意しますか", "はい"),
        _item(2, "同意しますか", "はい。"),
        _item(3, "同意しますか", "いいえ"),
    ]
    [group] = find_conflicts(items)
    assert group.conflicts == {0: [2], 1: [2], 2: [0, 1]}


def test_contexts_keep_different_system_instructions_apart() -> None:
    keys = ["同じ質問\n同じ答え"] * 2
    assert find_duplicates_by_key(keys, contexts=["英語で", "日本語で"]).exact_groups == []
    assert find_duplicates_by_key(keys, contexts=["x", "x"]).exact_groups == [[0, 1]]


def test_cross_duplicates_find_test_items_leaking_from_training() -> None:
    train = [
        _item("t1", "配送状況は？", BASE),
        _item("t2", "返品したい", "8日以内にどうぞ。"),
        _item("t3", "営業時間は？", "平日9時から18時までです。"),
    ]
    test = [
        _item("v1", "配送状況は?", BASE),
        _item("v2", "配送状況は？", _edit(BASE, 3, 2)),
        _item("v3", "営業時間を教えて", "土日は休みです。"),
        _item("v4", "まったく別の質問です", "まったく別の答えです。"),
    ]
    matches = {(m.left_key, m.right_key, m.kind) for m in find_cross_duplicates(train, test)}
    assert matches == {("t1", "v1", "exact"), ("t1", "v2", "near")}
    prompts = find_cross_duplicates(train, test, on="prompt", threshold=0.5)
    assert {(m.left_key, m.right_key) for m in prompts} >= {("t1", "v1"), ("t1", "v2")}
    assert all(str(m.left_key)[0] == "t" and str(m.right_key)[0] == "v" for m in prompts)
