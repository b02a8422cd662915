"""Downloads of a version besides the Vertex JSONL it trains from: OpenAI chat JSONL and a CSV
for spreadsheets. Pure: rows in, text out (streamed line by line).

The CSV is safe to open in Excel: a cell that starts with ``= + - @``, a tab or a carriage
return (also their full-width forms, which Excel normalises) is prefixed with an apostrophe so it
is never run as a formula, and the file starts with a BOM so Excel reads it as UTF-8.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = ("example_id", "split", "tag", "system_instruction", "input", "output", "turns_json")
BOM = "\ufeff"


def openai_line(system_instruction: str, turns: Sequence[Mapping[str, str]]) -> dict[str, Any]:
    """One example in OpenAI's chat fine-tuning format (``messages`` with roles)."""
    messages = []
    if system_instruction.strip():
        messages.append({"role": "system", "content": system_instruction})
    for turn in turns:
        role = "assistant" if turn["role"] == "model" else "user"
        messages.append({"role": role, "content": turn["text"]})
    return {"messages": messages}


def jsonl_lines(records: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    for record in records:
        yield json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"


def escape_formula(value: str) -> str:
    """Neutralise a cell a spreadsheet would evaluate (checked after NFKC, so ＝ counts)."""
    if not value:
        return value
    first = unicodedata.normalize("NFKC", value[:1])
    if value.startswith(FORMULA_STARTS) or first.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _input_output(turns: Sequence[Mapping[str, str]]) -> tuple[str, str, str]:
    """(input, output, turns_json): single-turn examples fill input/output; longer conversations
    keep their last answer as output and the whole conversation as JSON."""
    if len(turns) == 2 and turns[0]["role"] == "user" and turns[1]["role"] == "model":
        return turns[0]["text"], turns[1]["text"], ""
    output = turns[-1]["text"] if turns and turns[-1]["role"] == "model" else ""
    asked = [t["text"] for t in (turns[:-1] if output else turns) if t["role"] == "user"]
    return "\n".join(asked), output, json.dumps(list(turns), ensure_ascii=False)


def csv_lines(rows: Iterable[tuple[int, str, Mapping[str, Any]]]) -> Iterator[str]:
    """The CSV (BOM, header, one line per example) for rows ``(example id, split, content)``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(CSV_COLUMNS)
    yield BOM + flush()
    for example_id, split, content in rows:
        question, answer, turns_json = _input_output(content.get("turns") or [])
        cells = [
            str(example_id),
            split,
            content.get("tag") or "",
            content.get("system_instruction") or "",
            question,
            answer,
            turns_json,
        ]
        writer.writerow([escape_formula(cell) for cell in cells])
        yield flush()
