"""The emulator's simulated judge: it recognises TuneDesk's judge prompts and replies with the JSON
they ask for, deterministically and independently of the answers' order; and through the real
SDK the judge protocol reads those replies."""

from __future__ import annotations

import json

import pytest

from app.emulator.judge import REFUSAL_TRIGGER, judge_reply
from app.evaluations.judge.phase import judge_generate
from app.evaluations.judge.prompts import pairwise_prompt, rubric_prompt
from app.evaluations.judge.protocol import Side, VerdictStatus, judge_pairwise
from app.evaluations.judge.rubric import RubricOutcome, judge_rubric
from app.genai import common
from tests.emulator_fixture import EmulatorServer, emulator, emulator_server  # noqa: F401

QUESTION = "How long does delivery take to Hokkaido?"
REFERENCE = "Hokkaido deliveries arrive in 3 to 5 business days by Yamato; tracking is emailed."
GOOD = "Deliveries to Hokkaido arrive in 3 to 5 business days with Yamato; tracking is emailed."
GENERIC = "Thank you for your question. In general, the answer depends on your situation."


def reply(prompt: str) -> dict[str, object]:
    text = judge_reply(prompt)
    assert text is not None
    parsed: dict[str, object] = json.loads(text)
    return parsed


def test_pairwise_the_answer_closer_to_the_reference_wins_in_either_order() -> None:
    first = reply(pairwise_prompt(QUESTION, REFERENCE, GENERIC, GOOD))
    second = reply(pairwise_prompt(QUESTION, REFERENCE, GOOD, GENERIC))
    assert (first["winner"], second["winner"]) == ("B", "A")
    assert "Answer B" in str(first["reason"])
    assert reply(pairwise_prompt(QUESTION, REFERENCE, GOOD, GOOD))["winner"] == "tie"


def test_reason_follows_the_question_language() -> None:
    verdict = reply(
        pairwise_prompt(
            "北海道への配送日数は？", "3〜5営業日です。", "3〜5営業日です。", "不明です。"
        )
    )
    assert verdict["winner"] == "A" and "回答A" in str(verdict["reason"])


def test_rubric_scores_follow_similarity_format_and_language() -> None:
    good = reply(rubric_prompt(QUESTION, REFERENCE, GOOD))
    generic = reply(rubric_prompt(QUESTION, REFERENCE, GENERIC))
    assert good["facts"] == 5 and int(generic["facts"]) < 5  # type: ignore[call-overload]
    assert good["tone"] == 5
    japanese = reply(rubric_prompt(QUESTION, REFERENCE, "北海道へは3〜5営業日でお届けします。"))
    assert japanese["tone"] == 2
    as_json = reply(rubric_prompt("Order?", '{"id": 1}', "not json"))
    assert as_json["format"] == 1


def test_only_judge_prompts_are_answered_and_the_trigger_refuses() -> None:
    assert judge_reply("How long does delivery take?") is None
    assert judge_reply("<<<QUESTION>>>\nhi\n<<<END QUESTION>>>") is None
    refusal = judge_reply(
        pairwise_prompt(f"{QUESTION} {REFUSAL_TRIGGER}", REFERENCE, GOOD, GENERIC)
    )
    assert refusal is not None and refusal.startswith("I can't")


def test_the_protocol_reads_the_emulator_judge_through_the_sdk(
    emulator: EmulatorServer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emulator.use(monkeypatch)
    monkeypatch.setattr(common, "current_config", emulator.config)
    generate = judge_generate("gemini-3.5-flash")
    verdict = judge_pairwise(
        question=QUESTION, reference=REFERENCE, baseline=GENERIC, tuned=GOOD, generate=generate
    )
    assert (verdict.winner, verdict.status) == (Side.TUNED, VerdictStatus.AGREED)
    assert verdict.reason.startswith("Answer")
    rubric = judge_rubric(question=QUESTION, reference=REFERENCE, answer=GOOD, generate=generate)
    assert rubric.outcome == RubricOutcome.SCORED and rubric.facts == 5
    assert emulator.counters()["generate"] == 3
