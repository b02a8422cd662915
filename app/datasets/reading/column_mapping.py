"""Column mapping for spreadsheets: which column holds the input, the output, the system
instruction, the split and the tag.

The guess comes from header names in English and Japanese; the user confirms or changes it and the
dataset remembers it (``ColumnMapping.to_dict``/``from_dict``). Columns are referred to by header
name; a column letter (``B``) or a 1-based number also works when no header has that name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Literal

from app.datasets.quality.normalize import comparison_key
from app.datasets.records import Split

Field = Literal["input", "output", "system", "split", "tag"]
FIELDS: tuple[Field, ...] = ("input", "output", "system", "split", "tag")
REQUIRED: tuple[Field, ...] = ("input", "output")

SYNONYMS: dict[Field, tuple[str, ...]] = {
    "input": (
        "input",
        "prompt",
        "question",
        "query",
        "text_input",
        "user",
        "request",
        "user input",
        "質問",
        "入力",
        "お客様の質問",
        "問い合わせ",
        "問合せ",
        "お問い合わせ",
        "質問文",
        "プロンプト",
        "ユーザー",
        "問い",
        "依頼",
        "入力文",
    ),
    "output": (
        "output",
        "response",
        "answer",
        "completion",
        "reply",
        "model",
        "assistant",
        "target",
        "ideal answer",
        "回答",
        "出力",
        "模範回答",
        "応答",
        "返答",
        "答え",
        "回答文",
        "正解",
        "理想の回答",
    ),
    "system": (
        "system",
        "system instruction",
        "system_instruction",
        "system prompt",
        "instruction",
        "システム指示",
        "システムプロンプト",
        "システム",
        "指示",
    ),
    "split": ("split", "subset", "set", "data split", "分割", "区分", "データ区分", "用途"),
    "tag": (
        "tag",
        "tags",
        "category",
        "label",
        "topic",
        "カテゴリ",
        "カテゴリー",
        "タグ",
        "分類",
        "ラベル",
    ),
}
EXAMPLE_NAMES: dict[Field, str] = {
    "input": '"input", "question", "質問"',
    "output": '"output", "answer", "回答"',
    "system": '"system", "システム指示"',
    "split": '"split", "分割"',
    "tag": '"tag", "カテゴリ"',
}

SPLIT_VALUES: dict[str, Split] = {
    **dict.fromkeys(
        ("train", "training", "trn", "学習", "訓練", "トレーニング", "学習用", "訓練用"), "train"
    ),
    **dict.fromkeys(
        ("validation", "valid", "val", "dev", "検証", "検証用", "バリデーション"), "validation"
    ),
    **dict.fromkeys(("test", "testing", "テスト", "評価", "テスト用", "評価用"), "test"),
}

_PUNCT = re.compile(r"[\s_\-・:：()（）\[\]【】「」\"'*]+")
EXACT, CONTAINS, POSITION = 1.0, 0.7, 0.3


def _header_key(text: str) -> str:
    return _PUNCT.sub("", comparison_key(text))


_SYNONYM_KEYS: dict[Field, frozenset[str]] = {
    name: frozenset(_header_key(word) for word in words) for name, words in SYNONYMS.items()
}


@dataclass(frozen=True, slots=True)
class ColumnMapping:
    input: str | None = None
    output: str | None = None
    system: str | None = None
    split: str | None = None
    tag: str | None = None

    def get(self, name: Field) -> str | None:
        value: str | None = getattr(self, name)
        return value

    def with_columns(self, **columns: str | None) -> ColumnMapping:
        """A copy with some fields changed (``None`` values are ignored)."""
        return replace(self, **{k: v for k, v in columns.items() if v is not None})

    def to_dict(self) -> dict[str, str | None]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> ColumnMapping:
        values = {name: str(data[name]) for name in FIELDS if data.get(name) not in (None, "")}
        return cls(**values)


@dataclass(frozen=True, slots=True)
class MappingGuess:
    """A guessed mapping with a confidence per mapped field: 1.0 exact header name, 0.7 header
    contains a known name, 0.3 chosen by position because nothing matched."""

    mapping: ColumnMapping
    confidence: dict[str, float] = field(default_factory=dict)
    by_position: bool = False

    @property
    def overall(self) -> float:
        return min((self.confidence.get(name, 0.0) for name in REQUIRED), default=0.0)


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA (as Excel names columns)."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def header_labels(cells: Sequence[str]) -> list[str]:
    """Column names as shown: the header text, or the column letter for an empty header cell."""
    return [cell.strip() or column_letter(i) for i, cell in enumerate(cells)]


def _match(header: str) -> tuple[Field, float] | None:
    key = _header_key(header)
    if not key:
        return None
    for name in FIELDS:
        if key in _SYNONYM_KEYS[name]:
            return name, EXACT
    for name in FIELDS:
        if any(len(word) >= 2 and word in key for word in _SYNONYM_KEYS[name]):
            return name, CONTAINS
    return None


def header_score(cells: Sequence[str]) -> int:
    """How many cells of a row are known column names (used to find the header row)."""
    return sum(1 for cell in cells if _match(cell) is not None)


def guess_mapping(headers: Sequence[str]) -> MappingGuess:
    candidates = sorted(
        (
            (-score, FIELDS.index(name), index, name)
            for index, header in enumerate(headers)
            if (found := _match(header))
            for name, score in [found]
        ),
    )
    chosen: dict[str, str] = {}
    confidence: dict[str, float] = {}
    used: set[int] = set()
    for negative_score, _order, index, name in candidates:
        if name in chosen or index in used:
            continue
        chosen[name], confidence[name] = headers[index], -negative_score
        used.add(index)
    by_position = False
    free = [i for i, header in enumerate(headers) if i not in used and header]
    for name in REQUIRED:
        if name not in chosen and free:
            chosen[name], confidence[name] = headers[free.pop(0)], POSITION
            by_position = True
    return MappingGuess(ColumnMapping(**chosen), confidence, by_position)


def resolve_column(spec: str, headers: Sequence[str]) -> int | None:
    """The index of the column ``spec`` names: header name (exactly, then ignoring width and
    case), then column letter, then 1-based number."""
    if spec in headers:
        return headers.index(spec)
    key = comparison_key(spec)
    for index, header in enumerate(headers):
        if comparison_key(header) == key:
            return index
    upper = spec.strip().upper()
    if upper.isalpha() and upper.isascii():
        for index in range(len(headers)):
            if column_letter(index) == upper:
                return index
    if spec.strip().isdigit() and 1 <= int(spec) <= len(headers):
        return int(spec) - 1
    return None


def normalize_split(value: str) -> tuple[Split | None, bool]:
    """(split, known): an empty value is known and unassigned; an unknown one is (None, False)."""
    key = comparison_key(value)
    if not key:
        return None, True
    split = SPLIT_VALUES.get(key) or SPLIT_VALUES.get(_header_key(value))
    return split, split is not None
