"""Reading a tuning dataset the way Vertex does: validate the JSONL, then compute its statistics.

A file that is not a valid Gemini tuning dataset fails the job (``DatasetError``). Examples that
are usable but imperfect are reported the way Vertex reports them: ``truncatedExampleIndices``
(1-based) with one ``droppedExampleReasons`` entry per index. Over-long examples are cut to the
model's limit (and make the first training steps very lossy); examples without a model turn to
learn from are dropped.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from typing import Any

from app.emulator.tokens import FILE_PART_TOKENS, count_tokens, is_japanese

# Vertex accepts at most this many validation examples.
MAX_VALIDATION_EXAMPLES = 5000
# How many examples Vertex echoes back in ``userDatasetExamples``.
SAMPLE_EXAMPLES = 3


class DatasetError(Exception):
    """The file cannot be used for tuning at all; the message is what Vertex would say."""


@dataclass(frozen=True)
class Example:
    index: int  # 1-based line number among non-empty lines
    system: str
    turns: tuple[tuple[str, str], ...]
    input_tokens: int
    output_tokens: int
    contents: list[dict[str, Any]] = field(compare=False, repr=False)

    @property
    def question(self) -> str:
        """The last user turn: what a tuned model is asked."""
        users = [text for role, text in self.turns if role == "user"]
        return users[-1] if users else ""

    @property
    def answer(self) -> str:
        models = [text for role, text in self.turns if role == "model"]
        return models[-1] if models else ""


@dataclass(frozen=True)
class DatasetReport:
    examples: list[Example]  # the usable ones (truncated included, dropped excluded)
    line_count: int
    affected: list[tuple[int, str]]  # (1-based index, reason) for truncated and dropped examples
    truncated_count: int
    billable_tokens: int
    billable_characters: int
    total_characters: int

    @property
    def japanese(self) -> bool:
        return any(is_japanese(example.question) for example in self.examples[:20])


def _part_text(part: Any, where: str) -> tuple[str, int]:
    """The text of one part and its token count (file parts count as a fixed amount)."""
    if not isinstance(part, dict):
        raise DatasetError(f'{where}: every item of "parts" must be an object.')
    if isinstance(part.get("text"), str):
        return part["text"], count_tokens(part["text"])
    if isinstance(part.get("fileData"), dict) or isinstance(part.get("file_data"), dict):
        return "", FILE_PART_TOKENS
    raise DatasetError(f'{where}: a part needs "text" or "fileData".')


def _content_text(content: Any, where: str) -> tuple[str, str, int]:
    """(role, text, tokens) of one ``contents`` item."""
    if not isinstance(content, dict):
        raise DatasetError(f'{where}: every item of "contents" must be an object.')
    role = content.get("role", "user")
    if role not in ("user", "model"):
        raise DatasetError(f'{where}: role must be "user" or "model", not {json.dumps(role)}.')
    parts = content.get("parts")
    if not isinstance(parts, list) or not parts:
        raise DatasetError(f'{where}: "parts" must be a non-empty list.')
    texts, tokens = [], 0
    for part in parts:
        text, part_tokens = _part_text(part, where)
        texts.append(text)
        tokens += part_tokens
    return role, "".join(texts), tokens


def _system_text(record: dict[str, Any], where: str) -> tuple[str, int]:
    system = record.get("systemInstruction", record.get("system_instruction"))
    if system is None:
        return "", 0
    if not isinstance(system, dict):
        raise DatasetError(f'{where}: "systemInstruction" must be an object with "parts".')
    _role, text, tokens = _content_text({**system, "role": "user"}, where)
    return text, tokens


def _parse_line(line: str, index: int) -> Example:
    where = f"Line {index}"
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise DatasetError(
            f"{where} is not valid JSON ({error.msg} at column {error.colno})."
        ) from None
    if not isinstance(record, dict):
        raise DatasetError(f'{where} must be a JSON object with a "contents" list.')
    contents = record.get("contents")
    if not isinstance(contents, list) or not contents:
        raise DatasetError(f'{where} has no "contents" list (expected user and model turns).')
    system, input_tokens = _system_text(record, where)
    turns, output_tokens = [], 0
    for content in contents:
        role, text, tokens = _content_text(content, where)
        turns.append((role, text))
        if role == "model":
            output_tokens += tokens
        else:
            input_tokens += tokens
    return Example(index, system, tuple(turns), input_tokens, output_tokens, contents)


def read_dataset(
    data: bytes, *, max_example_tokens: int, validation: bool = False
) -> DatasetReport:
    """Validate a JSONL tuning file and measure it; raises ``DatasetError`` when unusable."""
    label = "validation" if validation else "training"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DatasetError(
            f"The {label} dataset is not UTF-8 text (invalid byte at position {error.start})."
        ) from None
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise DatasetError(f"The {label} dataset is empty.")
    if validation and len(lines) > MAX_VALIDATION_EXAMPLES:
        raise DatasetError(
            f"The validation dataset has {len(lines)} examples; at most "
            f"{MAX_VALIDATION_EXAMPLES} are allowed."
        )
    examples, affected = [], []
    truncated = billable_tokens = billable_chars = total_chars = 0
    for index, line in enumerate(lines, start=1):
        example = _parse_line(line, index)
        characters = len(example.system) + sum(len(t) for _r, t in example.turns)
        total_chars += characters
        if not example.answer:
            affected.append((index, "Example has no model turn to learn from; it was dropped."))
            continue
        tokens = example.input_tokens + example.output_tokens
        if tokens > max_example_tokens:
            truncated += 1
            affected.append(
                (
                    index,
                    f"Example has {tokens} tokens, more than the limit of "
                    f"{max_example_tokens}; it was truncated.",
                )
            )
            tokens = max_example_tokens
        examples.append(example)
        billable_tokens += tokens
        billable_chars += characters
    if not examples:
        raise DatasetError(f"The {label} dataset has no usable example: every example was dropped.")
    return DatasetReport(
        examples, len(lines), affected, truncated, billable_tokens, billable_chars, total_chars
    )


def distribution(values: list[int], *, billable: list[int] | None = None) -> dict[str, Any]:
    """A ``SupervisedTuningDatasetDistribution`` (int64 fields as strings, like the real API)."""
    ordered = sorted(values)

    def percentile(fraction: float) -> float:
        return float(ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))])

    low, high = ordered[0], ordered[-1]
    width = max(1.0, (high - low) / 10)
    buckets = []
    for bucket in range(10):
        left = low + bucket * width
        right = left + width
        count = sum(1 for v in ordered if left <= v < right or (bucket == 9 and v == right))
        if count:
            buckets.append({"count": float(count), "left": left, "right": right})
    return {
        "sum": str(sum(values)),
        "billableSum": str(sum(billable if billable else values)),
        "min": float(low),
        "max": float(high),
        "mean": statistics.fmean(values),
        "median": float(statistics.median(values)),
        "p5": percentile(0.05),
        "p95": percentile(0.95),
        "buckets": buckets,
    }


def supervised_stats(
    report: DatasetReport, *, steps: int, max_example_tokens: int
) -> dict[str, Any]:
    """``tuningDataStats.supervisedTuningDataStats`` for a job, as Vertex serialises it."""
    inputs = [e.input_tokens for e in report.examples]
    outputs = [e.output_tokens for e in report.examples]
    billable_in = [min(v, max_example_tokens) for v in inputs]
    return {
        "tuningDatasetExampleCount": str(report.line_count),
        "totalTuningCharacterCount": str(report.total_characters),
        # Per pass over the data; the bill is this times the number of epochs.
        "totalBillableCharacterCount": str(report.billable_characters),
        "totalBillableTokenCount": str(report.billable_tokens),
        "tuningStepCount": str(steps),
        "totalTruncatedExampleCount": str(len(report.affected)),
        "truncatedExampleIndices": [str(index) for index, _reason in report.affected],
        "droppedExampleReasons": [reason for _index, reason in report.affected],
        "userInputTokenDistribution": distribution(inputs, billable=billable_in),
        "userOutputTokenDistribution": distribution(outputs),
        "userMessagePerExampleDistribution": distribution(
            [sum(1 for role, _t in e.turns if role == "user") for e in report.examples]
        ),
        "userDatasetExamples": [
            content
            for e in report.examples[:SAMPLE_EXAMPLES]
            for content in e.contents
            if content.get("role", "user") == "user"
        ],
    }
