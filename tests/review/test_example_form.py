"""The example form refuses what makes an example meaningless, and nothing else."""

from __future__ import annotations

import pytest

from app.errors import ValidationFailed
from app.review.example_form import parse, validate


def _form(texts: list[str], roles: list[str] | None = None, **extra: str):  # type: ignore[no-untyped-def]
    roles = roles or ["user", "model"] * (len(texts) // 2)
    return parse(
        system_instruction=extra.get("system", ""),
        roles=roles,
        texts=texts,
        tag=extra.get("tag", ""),
        split=extra.get("split", ""),
    )


def test_a_question_and_answer_pass() -> None:
    form = _form(
        ["送料はいくらですか？\r\n", "5,000円以上で無料です。"], tag=" shipping ", split="test"
    )
    validate(form)
    assert form.turns[0]["text"] == "送料はいくらですか？\n"
    assert form.snapshot() == {
        "system_instruction": "",
        "turns": [
            {"role": "user", "text": "送料はいくらですか？\n"},
            {"role": "model", "text": "5,000円以上で無料です。"},
        ],
        "tag": "shipping",
        "split": "test",
    }


def test_empty_texts_are_refused_per_field() -> None:
    with pytest.raises(ValidationFailed) as refused:
        validate(_form(["  ", ""]))
    assert refused.value.errors == {
        "turn-0": "Write the question the model receives.",
        "turn-1": "Write the answer the model should give.",
    }


def test_an_empty_follow_up_pair_is_dropped_not_refused() -> None:
    form = _form(["Q", "A", "", " "])
    validate(form)
    assert len(form.turns) == 2


def test_a_conversation_must_alternate_and_end_with_the_answer() -> None:
    with pytest.raises(ValidationFailed) as refused:
        validate(_form(["Q", "A", "Q2"], roles=["user", "model", "user"]))
    assert "end with the model's answer" in refused.value.errors["__all__"]
    with pytest.raises(ValidationFailed) as out_of_order:
        validate(_form(["A", "Q"], roles=["model", "user"]))
    assert "__all__" in out_of_order.value.errors


def test_unknown_splits_fall_back_to_automatic() -> None:
    assert _form(["Q", "A"], split="golden").split == ""
