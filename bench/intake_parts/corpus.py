"""A synthetic, mixed Japanese/English example set with planted problems and their ground truth.

Base examples are a question (an instruction prefix and Zipf-weighted words) and an answer, about
200 characters together. Planted on top, as shares of N:

* 5 % near duplicates: copies of a base with 1–6 character edits (some also with width changes);
* 1.5 % exact duplicates after normalisation: full-width ASCII, half-width katakana, U+3000 and
  doubled spaces, upper case;
* 1 % conflicts: a base question (sometimes width-changed) with a newly written answer;
* 2 % personal data: an e-mail address, phone number, card number or My Number in the answer.

Bases may receive several copies. Everything is deterministic for a given seed.
"""

from __future__ import annotations

import csv
import json
import random
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


PREFIXES = (
    "次の文章を要約してください：",
    "以下の質問に答えてください：",
    "Translate into Japanese: ",
    "お客様への返信を書いてください：",
    "Summarise this: ",
    "次の内容を丁寧に言い換えてください：",
    "Answer the customer: ",
    "この問い合わせを分類してください：",
    "Explain briefly: ",
    "以下のメールに回答してください：",
)
KANJI = _words("""請求書 確認 配送 返品 注文 在庫 契約 更新 解約 料金 支払 期限 担当者 会議 資料
    予定 変更 登録 削除 設定 画面 操作 方法 手続 申請 承認 連絡 対応 問題 原因 改善 提案 見積
    納期 品質 保証 修理 交換 部品 工場 出荷 到着 受付 窓口 営業 顧客 会員 特典 割引 期間 利用
    規約 個人 情報 管理 安全 障害 復旧 通知 案内""")
KATAKANA = _words("""パスワード アカウント ログイン メール サポート システム データ ファイル
    アップロード ダウンロード サービス プラン オプション キャンペーン ポイント カード アプリ
    ブラウザ エラー メッセージ チーム プロジェクト レポート""")
PARTICLES = _words("は が を に で と の も から まで について により")
ENDINGS = _words("""します。 してください。 できます。 ありません。 になります。 をお願いします。
    でしょうか？ いたします。""")
ENGLISH = (
    "invoice",
    "order",
    "delivery",
    "refund",
    "account",
    "password",
    "please",
    "check",
    "update",
    "the",
    "customer",
    "support",
    "request",
    "payment",
    "contract",
    "schedule",
    "meeting",
    "report",
    "issue",
    "error",
    "service",
    "plan",
    "team",
    "data",
    "file",
    "within",
    "days",
    "business",
    "confirm",
    "cancel",
    "change",
    "policy",
    "thank",
    "you",
)
HALF_KANA = {unicodedata.normalize("NFKC", chr(c)): chr(c) for c in range(0xFF66, 0xFF9E)}


def _zipf(words: tuple[str, ...]) -> tuple[tuple[str, ...], list[float]]:
    return words, [1.0 / (rank + 1) for rank in range(len(words))]


_POOLS = [_zipf(KANJI), _zipf(KATAKANA), _zipf(ENGLISH)]


@dataclass
class Corpus:
    rows: list[tuple[str, str]] = field(default_factory=list)
    family: dict[int, int] = field(default_factory=dict)  # row index → base index (dups)
    exact_of: dict[int, int] = field(default_factory=dict)  # normalisation-only copy → base
    conflict_of: dict[int, int] = field(default_factory=dict)  # conflicting copy → base
    pii: dict[int, str] = field(default_factory=dict)  # row index → planted kind


def _sentence(rng: random.Random, length: int) -> str:
    out: list[str] = []
    size = 0
    while size < length:
        words, weights = rng.choice(_POOLS)
        word = rng.choices(words, weights)[0]
        piece = word + (" " if words is _POOLS[2][0] else rng.choice(PARTICLES))
        if rng.random() < 0.08:
            piece += f"{rng.randint(1, 99)}日"
        out.append(piece)
        size += len(piece)
    return "".join(out) + rng.choice(ENDINGS)


def _base(rng: random.Random) -> tuple[str, str]:
    return rng.choice(PREFIXES) + _sentence(rng, rng.randint(45, 75)), _sentence(
        rng, rng.randint(95, 125)
    )


def _edit(rng: random.Random, text: str, edits: int) -> str:
    chars = list(text)
    for _ in range(edits):
        position = rng.randrange(len(chars))
        action = rng.random()
        replacement = rng.choice("あいうえおかきくけこ的性化abcdeXYZ、。")
        if action < 0.4:
            chars[position] = replacement
        elif action < 0.7:
            chars.insert(position, replacement)
        elif len(chars) > 10:
            del chars[position]
    return "".join(chars)


def _width_variant(rng: random.Random, text: str) -> str:
    """The same text for the comparison key: width, spacing and case changes only."""
    out = []
    for char in text:
        if "!" <= char <= "~" and rng.random() < 0.5:
            out.append(chr(ord(char) + 0xFEE0))
        elif char in HALF_KANA and rng.random() < 0.5:
            out.append(HALF_KANA[char])
        elif char == " ":
            out.append(rng.choice(("\u3000", "  ", " ")))
        else:
            out.append(char.upper() if rng.random() < 0.2 else char)
    return "".join(out)


def _pii_value(rng: random.Random, kind: str) -> str:
    if kind == "email":
        return f"user{rng.randint(1, 99999)}@example.co.jp"
    if kind == "phone":
        return rng.choice(
            (
                f"03-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}",
                f"090-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}",
                f"+81 90-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}",
            )
        )
    if kind == "card":
        return _luhn_complete(rng, "4" + "".join(rng.choice("0123456789") for _ in range(14)))
    return _my_number(rng)


def _luhn_complete(rng: random.Random, partial: str) -> str:
    for check in "0123456789":
        digits = partial + check
        total = sum(
            (d * 2 - 9 if d * 2 > 9 else d * 2) if i % 2 else d
            for i, d in enumerate(int(c) for c in reversed(digits))
        )
        if total % 10 == 0:
            return " ".join(digits[i : i + 4] for i in range(0, 16, 4))
    raise AssertionError


def _my_number(rng: random.Random) -> str:
    body = "".join(rng.choice("0123456789") for _ in range(11))
    total = sum(int(body[10 - (n - 1)]) * (n + 1 if n <= 6 else n - 5) for n in range(1, 12))
    remainder = total % 11
    return body + str(0 if remainder <= 1 else 11 - remainder)


def generate(size: int, seed: int = 7) -> Corpus:
    rng = random.Random(seed)
    planted = {
        "near": int(size * 0.05),
        "exact": int(size * 0.015),
        "conflict": int(size * 0.01),
        "pii": int(size * 0.02),
    }
    base_count = size - planted["near"] - planted["exact"] - planted["conflict"]
    corpus = Corpus(rows=[_base(rng) for _ in range(base_count)])
    plan = [kind for kind in ("near", "exact", "conflict") for _ in range(planted[kind])]
    rng.shuffle(plan)
    for kind in plan:
        base = rng.randrange(base_count)
        prompt, answer = corpus.rows[base]
        index = len(corpus.rows)
        if kind == "near":
            prompt = _edit(rng, prompt, rng.randint(0, 3))
            answer = _edit(rng, answer, rng.randint(1, 3))
            if rng.random() < 0.3:
                prompt = _width_variant(rng, prompt)
            corpus.family[index] = base
        elif kind == "exact":
            prompt, answer = _width_variant(rng, prompt), _width_variant(rng, answer)
            corpus.family[index] = corpus.exact_of[index] = base
        else:
            prompt = _width_variant(rng, prompt) if rng.random() < 0.5 else prompt
            answer = _base(rng)[1]
            corpus.conflict_of[index] = base
        corpus.rows.append((prompt, answer))
    for index in rng.sample(range(base_count), planted["pii"]):
        kind = rng.choice(("email", "phone", "card", "my_number"))
        prompt, answer = corpus.rows[index]
        corpus.rows[index] = (prompt, f"{answer}連絡先は{_pii_value(rng, kind)}です。")
        corpus.pii[index] = kind
    return corpus


def write(corpus: Corpus, folder: Path) -> tuple[Path, Path]:
    """The examples as an Excel-style "CSV UTF-8" file, and the ground truth as JSON. A row's
    spreadsheet number is its index + 2 (the header is row 1)."""
    data, truth = folder / "examples.csv", folder / "truth.json"
    with data.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(("質問", "回答"))
        writer.writerows(corpus.rows)
    truth.write_text(
        json.dumps(
            {
                "family": corpus.family,
                "exact_of": corpus.exact_of,
                "conflict_of": corpus.conflict_of,
                "pii": corpus.pii,
            }
        )
    )
    return data, truth


def read(folder: Path) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """What :func:`write` wrote: the rows and the ground truth."""
    with (folder / "examples.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = [(prompt, answer) for prompt, answer in list(csv.reader(handle))[1:]]
    return rows, json.loads((folder / "truth.json").read_text())
