"""The mapping step: what TuneDesk found in an uploaded file before importing it, as the JSON
cached on the upload (the page never re-reads a large file).

The column mapping offered is the one the dataset remembers when it fits the file's header row,
else the guess from the headers (English and Japanese names).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.datasets.quality import findings
from app.datasets.reading.column_mapping import FIELDS, ColumnMapping
from app.datasets.reading.files import FileInspection, inspect_file
from app.datasets.records import Finding

CELL_PREVIEW = 300  # characters of a cell shown in the preview
ENCODINGS = ("utf-8", "cp932", "euc_jp", "utf-16")


@dataclass(frozen=True, slots=True)
class Settings:
    """What the user can choose in the mapping step (None: detect / guess / keep)."""

    encoding: str | None = None
    sheet: str | None = None
    mapping: ColumnMapping | None = None


def _short(text: str) -> str:
    return text if len(text) <= CELL_PREVIEW else text[: CELL_PREVIEW - 1] + "…"


def _blocking(found: list[Finding]) -> bool:
    return any(f.severity == "error" and findings.scope_of(f.code) == "file" for f in found)


def _run(path: Path, file_name: str, settings: Settings) -> tuple[FileInspection, str]:
    """Inspect with the chosen mapping, else the remembered one when it fits, else a guess."""
    result = inspect_file(
        path,
        filename=file_name,
        sheet=settings.sheet,
        encoding=settings.encoding,
        mapping=settings.mapping,
    )
    source = "chosen" if settings.mapping else "guessed"
    return result, source


def inspect(
    path: Path, file_name: str, settings: Settings, remembered: ColumnMapping | None = None
) -> dict[str, Any]:
    """The cached inspection of an upload."""
    result, source = _run(path, file_name, settings)
    if settings.mapping is None and remembered is not None and result.format != "jsonl":
        fitted = inspect_file(
            path,
            filename=file_name,
            sheet=settings.sheet,
            encoding=settings.encoding or result.encoding,
            mapping=remembered,
        )
        if not _blocking(fitted.findings):
            result, source = fitted, "remembered"
    return to_json(result, source)


def to_json(result: FileInspection, source: str) -> dict[str, Any]:
    mapping = result.mapping.to_dict() if result.mapping else {}
    guess = result.guess
    return {
        "format": result.format,
        "encoding": result.encoding,
        "delimiter": result.delimiter,
        "sheet_names": list(result.sheet_names),
        "sheet": result.sheet,
        "header_row": result.header_row,
        "headers": list(result.headers),
        "preview": [[_short(cell) for cell in row] for row in result.preview],
        "examples": [
            {
                "row": draft.row,
                "system": _short(draft.system),
                "turns": [{"role": t.role, "text": _short(t.text)} for t in draft.turns],
                "split": draft.split,
                "tag": draft.tag,
            }
            for draft in result.examples
        ],
        "mapping": {name: mapping.get(name) for name in FIELDS},
        "confidence": dict(guess.confidence) if guess else {},
        "by_position": bool(guess and guess.by_position),
        "mapping_source": source,
        "findings": [finding.to_dict() for finding in result.findings],
        "blocking": _blocking(result.findings),
    }


def stripped(inspection: dict[str, Any]) -> dict[str, Any]:
    """What is kept after ingestion: the facts about the file, not its content."""
    return {k: v for k, v in inspection.items() if k not in ("preview", "examples", "findings")}


def stored_findings(inspection: dict[str, Any]) -> list[Finding]:
    return [Finding.from_dict(item) for item in inspection.get("findings", [])]
