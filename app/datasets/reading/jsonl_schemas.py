"""The three JSONL example formats, detected per line, turned into one internal shape:
a system instruction and turns of ``user``/``model``.

* Vertex AI / Gemini: ``{"systemInstruction": {"parts": [{"text"}]}, "contents": [{"role",
  "parts": [{"text"}]}]}`` (multi-turn; roles ``user`` and ``model``)
* AI Studio: ``{"text_input": …, "output": …}``
* OpenAI chat: ``{"messages": [{"role", "content"}]}`` — ``system`` (or ``developer``) becomes the
  system instruction, ``assistant`` becomes ``model``.

Optional top-level ``split`` and ``tag`` keys are read in every format.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from app.datasets.quality import findings
from app.datasets.reading.column_mapping import normalize_split
from app.datasets.records import ExampleDraft, Finding, Split, Turn

OPENAI_ROLES = {"user": "user", "assistant": "model"}
OPENAI_SYSTEM_ROLES = ("system", "developer")
MAX_KEYS_SHOWN = 8
_JSON_TYPES: dict[type, str] = {
    list: "list",
    str: "string",
    int: "number",
    float: "number",
    bool: "true/false",
    type(None): "null",
}


@dataclass(slots=True)
class _Builder:
    """Collects one example's parts and the findings met on the way."""

    row: int
    origin: str
    system: list[str] = field(default_factory=list)
    system_column: str = ""
    turns: list[Turn] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    found: list[Finding] = field(default_factory=list)

    def add_turn(self, role: str, text: str, column: str) -> None:
        self.columns[f"turns.{len(self.turns)}"] = column
        self.turns.append(Turn(role, text))

    def finding(self, code: str, column: str | None = None, **params: str | int) -> None:
        self.found.append(
            findings.make(code, self.row, column=column, origin=self.origin, params=params)
        )

    def text(self, value: object, column: str, field_name: str) -> str:
        """A JSON value as text; anything but a string (or null) is reported as coerced."""
        if value is None:
            return ""
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            text, kind = ("true" if value else "false"), "boolean"
        elif isinstance(value, int | float):
            text, kind = json.dumps(value), "number"
        else:
            text, kind = json.dumps(value, ensure_ascii=False)[:1000], "list or object"
        self.finding("non_text_value", column, field=field_name, kind=kind, text=text[:80])
        return text

    def draft(self, obj: Mapping[str, object]) -> ExampleDraft:
        split: Split | None = None
        raw_split = obj.get("split")
        if isinstance(raw_split, str):
            split, known = normalize_split(raw_split)
            if not known:
                self.finding("unknown_split", "split", value=raw_split[:80])
        tag = obj.get("tag")
        if self.system:
            self.columns["system"] = self.system_column
        return ExampleDraft(
            row=self.row,
            system="\n\n".join(self.system),
            turns=tuple(self.turns),
            split=split,
            tag=tag.strip() if isinstance(tag, str) else "",
            columns=self.columns,
            origin=self.origin,
        )


def _parts_text(builder: _Builder, parts: object, column: str, field_name: str) -> str:
    """Text of a Vertex ``parts`` list; non-text parts (images, files, calls) are reported."""
    if isinstance(parts, str):
        return parts
    if not isinstance(parts, list):
        return builder.text(parts, column, field_name)
    texts: list[str] = []
    for index, part in enumerate(parts):
        where = f"{column}[{index}]"
        if isinstance(part, dict) and "text" in part:
            texts.append(builder.text(part["text"], f"{where}.text", field_name))
        elif isinstance(part, dict):
            kind = (
                "image"
                if "inlineData" in part
                else "file"
                if "fileData" in part
                else "function call"
            )
            builder.finding("unsupported_part", where, part=index + 1, kind=kind)
        else:
            texts.append(builder.text(part, where, field_name))
    return "".join(texts)


def _vertex(builder: _Builder, obj: Mapping[str, object]) -> bool:
    contents = obj.get("contents")
    if not isinstance(contents, list):
        return False
    key = "systemInstruction" if "systemInstruction" in obj else "system_instruction"
    system = obj.get(key)
    if system is not None:
        parts = system.get("parts") if isinstance(system, dict) else system
        builder.system_column = f"{key}.parts"
        builder.system.append(_parts_text(builder, parts, f"{key}.parts", "system"))
    for index, content in enumerate(contents):
        column = f"contents[{index}]"
        if not isinstance(content, dict):
            builder.add_turn("", builder.text(content, column, "input"), column)
            continue
        role = content.get("role")
        role_text = role if isinstance(role, str) else ""
        field_name = "output" if role_text == "model" else "input"
        text = _parts_text(builder, content.get("parts"), f"{column}.parts", field_name)
        builder.add_turn(role_text, text, f"{column}.parts")
    return True


def _openai_content(builder: _Builder, content: object, column: str, field_name: str) -> str:
    if isinstance(content, list):  # [{"type": "text", "text": "…"}]
        parts = [
            {"text": p.get("text")} if isinstance(p, dict) and p.get("type") == "text" else p
            for p in content
        ]
        return _parts_text(builder, parts, column, field_name)
    return builder.text(content, column, field_name)


def _openai(builder: _Builder, obj: Mapping[str, object]) -> bool:
    messages = obj.get("messages")
    if not isinstance(messages, list):
        return False
    for index, message in enumerate(messages):
        column = f"messages[{index}].content"
        if not isinstance(message, dict):
            builder.add_turn("", builder.text(message, f"messages[{index}]", "input"), column)
            continue
        role = message.get("role")
        role_text = role if isinstance(role, str) else ""
        if role_text in OPENAI_SYSTEM_ROLES:
            if builder.turns:
                builder.finding(
                    "bad_role_order", f"messages[{index}].role", reason="system_not_first"
                )
            builder.system_column = builder.system_column or column
            text = _openai_content(builder, message.get("content"), column, "system")
            builder.system.append(text)
            continue
        mapped = OPENAI_ROLES.get(role_text, role_text)
        field_name = "output" if mapped == "model" else "input"
        text = _openai_content(builder, message.get("content"), column, field_name)
        builder.add_turn(mapped, text, column)
    return True


def _ai_studio(builder: _Builder, obj: Mapping[str, object]) -> bool:
    if "text_input" not in obj and "output" not in obj:
        return False
    builder.add_turn(
        "user", builder.text(obj.get("text_input"), "text_input", "input"), "text_input"
    )
    builder.add_turn("model", builder.text(obj.get("output"), "output", "output"), "output")
    return True


def convert(obj: object, row: int, origin: str = "") -> tuple[ExampleDraft | None, list[Finding]]:
    """One parsed JSON line as an example, or an ``unknown_schema`` finding."""
    builder = _Builder(row, origin)
    if isinstance(obj, dict):
        for schema in (_vertex, _openai, _ai_studio):
            if schema(builder, obj):
                return builder.draft(obj), builder.found
        keys = ", ".join(str(k) for k in list(obj)[:MAX_KEYS_SHOWN]) or "{}"
    else:
        keys = f"({_JSON_TYPES.get(type(obj), 'value')})"
    return None, [findings.make("unknown_schema", row, origin=origin, keys=keys)]
