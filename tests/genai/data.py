"""Tuning files for the genai tests."""

from __future__ import annotations

import json
from collections.abc import Iterable


def example(question: str, answer: str, system: str = "") -> dict[str, object]:
    record: dict[str, object] = {
        "contents": [
            {"role": "user", "parts": [{"text": question}]},
            {"role": "model", "parts": [{"text": answer}]},
        ]
    }
    if system:
        record["systemInstruction"] = {"role": "system", "parts": [{"text": system}]}
    return record


def jsonl(records: Iterable[dict[str, object]]) -> bytes:
    return "\n".join(json.dumps(r, ensure_ascii=False) for r in records).encode()


def support_examples(count: int) -> bytes:
    """Distinct support questions, each with its own recognisable answer."""
    topics = [
        "password",
        "invoice",
        "refund",
        "delivery",
        "account",
        "warranty",
        "coupon",
        "address",
        "subscription",
        "receipt",
    ]
    return jsonl(
        example(
            f"How do I change my {topics[i % len(topics)]} (case {i})?",
            f"Open Settings, choose {topics[i % len(topics)].title()} and follow step {i}.",
        )
        for i in range(count)
    )


JAPANESE = jsonl(
    [
        example("請求書の再発行はできますか？", "はい、マイページの「請求書」から再発行できます。"),
        example(
            "パスワードを忘れました。",
            "ログイン画面の「パスワードをお忘れの方」から再設定してください。",
        ),
        example("配送状況を確認したいです。", "注文履歴の「配送状況」ボタンから確認できます。"),
    ]
)
