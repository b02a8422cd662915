"""Training files: examples rendered as the JSONL Vertex AI tunes from (pure: no database)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def vertex_line(system_instruction: str, turns: Sequence[Mapping[str, str]]) -> dict[str, Any]:
    """One example in the Gemini supervised-tuning format (``systemInstruction`` + ``contents``)."""
    line: dict[str, Any] = {}
    if system_instruction.strip():
        line["systemInstruction"] = {"role": "system", "parts": [{"text": system_instruction}]}
    line["contents"] = [{"role": turn["role"], "parts": [{"text": turn["text"]}]} for turn in turns]
    return line


@dataclass(frozen=True)
class WrittenFile:
    path: Path
    sha256: str
    bytes: int
    lines: int

    def as_dict(self, relative_to: Path) -> dict[str, Any]:
        return {
            "path": str(self.path.relative_to(relative_to)),
            "sha256": self.sha256,
            "bytes": self.bytes,
            "lines": self.lines,
        }


def write_jsonl(path: Path, records: Iterable[Mapping[str, Any]]) -> WrittenFile:
    """Write one JSON object per line (UTF-8, no ASCII escaping) and hash what was written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = lines = 0
    with path.open("wb") as handle:
        for record in records:
            data = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
            handle.write(data)
            digest.update(data)
            size += len(data)
            lines += 1
    return WrittenFile(path, digest.hexdigest(), size, lines)
