"""Property tests: nothing raises on arbitrary Unicode and every score stays in its range."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from app.evaluations.judge.protocol import Outcome, parse_pairwise_reply
from app.evaluations.judge.rubric import RubricOutcome, parse_rubric_reply
from app.evaluations.scoring.aggregate import aggregate
from app.evaluations.scoring.json_format import json_check
from app.evaluations.scoring.metrics import lcs_length, score_item
from app.evaluations.scoring.normalize import sanitize
from app.evaluations.scoring.stats import WinTieLoss, judge_human_agreement, verdict_sentence
from app.i18n import use_locale
from app.text.diff import answer_text, diff_segments, reference_text

# Everything, surrogates and control characters included …
ANY_CHAR = st.characters(exclude_categories=())
# … plus a dense mix of what real answers contain: kana, kanji, width variants, emoji, spaces.
TRICKY = (
    '東京都の天気は晴れです。ｶﾅＡＢ１😀👍🏽\u3000\n\t \x00\x1b\u200b。.,!?abcXYZ123{}[]":é\ud800'
)
TEXT = st.one_of(
    st.text(ANY_CHAR, max_size=60),
    st.text(st.sampled_from(TRICKY), max_size=60),
)


def naive_lcs(first: list[str], second: list[str]) -> int:
    table = [[0] * (len(second) + 1) for _row in range(len(first) + 1)]
    for i, a in enumerate(first):
        for j, b in enumerate(second):
            if a == b:
                table[i + 1][j + 1] = table[i][j] + 1
            else:
                table[i + 1][j + 1] = max(table[i][j + 1], table[i + 1][j])
    return table[-1][-1]


@settings(max_examples=300, deadline=None)
@given(reference=TEXT, output=TEXT)
def test_scores_never_raise_and_stay_in_range(reference: str, output: str) -> None:
    scores = score_item(reference, output)
    assert 0.0 <= scores.chrf <= 100.0
    assert 0.0 <= scores.bleu <= 100.0
    assert 0.0 <= scores.rouge_l <= 1.0
    assert scores.length_ratio is None or scores.length_ratio >= 0.0
    assert scores.bleu_tokenizer
    json.dumps(scores.model_dump(mode="json"))  # storable as it is


@settings(max_examples=200, deadline=None)
@given(text=TEXT)
def test_identical_texts_score_full_marks(text: str) -> None:
    scores = score_item(text, text)
    assert scores.exact_match
    assert scores.rouge_l == 1.0
    if "".join(sanitize(text).split()):
        assert scores.chrf == 100.0
    if scores.bleu_stats.sys_len > 0:
        assert scores.bleu == 100.0
    assert scores.length_ratio == 1.0


@settings(max_examples=200, deadline=None)
@given(
    first=st.lists(st.sampled_from("abcde東京"), max_size=40),
    second=st.lists(st.sampled_from("abcde東京"), max_size=40),
)
def test_bit_parallel_lcs_equals_dynamic_programming(first: list[str], second: list[str]) -> None:
    assert lcs_length(first, second) == naive_lcs(first, second)


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(reference=JSON_VALUES, output=JSON_VALUES)
def test_json_check_never_raises_on_json(reference: Any, output: Any) -> None:
    result = json_check(json.dumps(reference), json.dumps(output))
    if isinstance(reference, dict | list):
        assert result is not None
        assert result.valid
        assert result.shape_matches == (result.problem_count == 0)
    else:
        assert result is None


@settings(max_examples=200, deadline=None)
@given(value=JSON_VALUES)
def test_json_matches_itself(value: Any) -> None:
    text = json.dumps(value, ensure_ascii=False)
    result = json_check(text, text)
    assert result is None or (result.valid and result.shape_matches)


@settings(max_examples=200, deadline=None)
@given(reference=TEXT, output=TEXT)
def test_json_check_never_raises_on_text(reference: str, output: str) -> None:
    json_check(reference, output)
    json_check('{"a": [1]}', output)


@settings(max_examples=300, deadline=None)
@given(reply=TEXT)
def test_judge_replies_never_raise(reply: str) -> None:
    assert parse_pairwise_reply(reply).outcome in set(Outcome)
    assert parse_rubric_reply(reply).outcome in set(RubricOutcome)


@settings(max_examples=200, deadline=None)
@given(reference=TEXT, answer=TEXT)
def test_diff_reconstructs_both_texts(reference: str, answer: str) -> None:
    segments = diff_segments(reference, answer)
    assert answer_text(segments) == answer
    assert reference_text(segments) == reference
    assert all(text for _op, text in segments)


@settings(max_examples=100, deadline=None)
@given(
    counts=st.builds(
        WinTieLoss,
        wins=st.integers(0, 500),
        losses=st.integers(0, 500),
        ties=st.integers(0, 50),
        both_bad=st.integers(0, 50),
    ),
    categories=st.dictionaries(
        TEXT,
        st.builds(WinTieLoss, wins=st.integers(0, 20), losses=st.integers(0, 20)),
        max_size=4,
    ),
    locale=st.sampled_from(["en", "ja"]),
)
def test_verdict_sentence_never_raises(
    counts: WinTieLoss, categories: dict[str, WinTieLoss], locale: str
) -> None:
    with use_locale(locale):
        assert verdict_sentence(counts, categories)


@settings(max_examples=100, deadline=None)
@given(
    pairs=st.lists(
        st.tuples(
            st.sampled_from(["tuned", "baseline", "tie"]),
            st.sampled_from(["tuned", "baseline", "tie", "both_bad"]),
        ),
        max_size=30,
    )
)
def test_agreement_in_range(pairs: list[tuple[str, str]]) -> None:
    agreement = judge_human_agreement(pairs)
    assert agreement.percent is None or 0.0 <= agreement.percent <= 1.0
    assert agreement.kappa is None or -1.0 <= agreement.kappa <= 1.0 + 1e-12


@settings(max_examples=25, deadline=None)
@given(pairs=st.lists(st.tuples(TEXT, TEXT), max_size=12))
def test_aggregate_intervals_contain_values(pairs: list[tuple[str, str]]) -> None:
    result = aggregate([score_item(r, o) for r, o in pairs], resamples=200)
    for estimate in (
        result.exact_match,
        result.chrf,
        result.bleu,
        result.rouge_l,
        result.length_ratio,
        result.json_valid,
        result.json_shape,
    ):
        if estimate.value is None:
            assert estimate.n == 0
            continue
        assert estimate.low is not None
        assert estimate.high is not None
        assert estimate.low - 1e-9 <= estimate.value <= estimate.high + 1e-9
