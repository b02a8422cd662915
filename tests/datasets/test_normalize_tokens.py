"""Comparison keys and the offline token estimate."""

from __future__ import annotations

import pytest

from app.datasets.quality.normalize import comparison_key, example_keys, key_hash
from app.datasets.quality.tokens import estimate_example_tokens, estimate_text_tokens, histogram
from app.datasets.records import ExampleDraft, Turn


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("ＡＢＣ１２３", "abc123"),
        ("ﾊﾟｽﾜｰﾄﾞ", "パスワード"),
        ("  Hello\u3000\tWORLD \r\n", "hello world"),
        ("か\u3099", "が"),
        ("10〜20", "10~20"),
        ("10～20", "10~20"),
        ("A‐B−C–D", "a-b-c-d"),
        ("スーパー", "スーパー"),  # the prolonged sound mark is a letter, not a dash
    ],
)
def test_comparison_key(text: str, key: str) -> None:
    assert comparison_key(text) == key


def test_example_keys_and_hashes() -> None:
    single = ExampleDraft(row=2, system="丁寧に", turns=(Turn("user", "Ｑ"), Turn("model", "Ａ")))
    keys = example_keys(single)
    assert (keys.system, keys.prompt, keys.output, keys.full) == ("丁寧に", "q", "a", "q\na")
    multi = ExampleDraft(
        row=3,
        system="",
        turns=(Turn("user", "q1"), Turn("model", "a1"), Turn("user", "q2"), Turn("model", "a2")),
    )
    assert example_keys(multi).prompt == "q1\na1\nq2"
    unfinished = ExampleDraft(row=4, system="", turns=(Turn("user", "q"),))
    assert (example_keys(unfinished).prompt, example_keys(unfinished).output) == ("q", "")
    assert key_hash("a", "b") == key_hash("a", "b") != key_hash("ab", "")
    assert len(key_hash("x")) == 32


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("", 0),
        ("abcd", 1),
        ("abcde", 2),
        ("こんにちは", 5),
        ("Hello こんにちは", 7),
        ("\U0001f600", 1),
    ],
)
def test_token_estimate(text: str, tokens: int) -> None:
    assert estimate_text_tokens(text) == tokens


def test_token_estimate_is_capped_by_utf8_bytes() -> None:
    assert estimate_text_tokens("é") == 1
    assert estimate_text_tokens("ab") == 1


def test_example_tokens_include_per_turn_overhead() -> None:
    example = ExampleDraft(
        row=1, system="abcd", turns=(Turn("user", "abcd"), Turn("model", "こんにちは"))
    )
    assert estimate_example_tokens(example) == (1 + 4) + (1 + 4) + (5 + 4)


def test_histogram_buckets() -> None:
    buckets = histogram([1, 64, 65, 200_000])
    assert buckets[0] == {"max": 64, "count": 2}
    assert buckets[1] == {"max": 128, "count": 1}
    assert buckets[-1] == {"max": None, "count": 1}
    assert sum(b["count"] or 0 for b in buckets) == 4
