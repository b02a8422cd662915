"""The typed values every part of dataset intake shares.

A reader turns a file into :class:`ExampleDraft` values and :class:`Finding` values; the checker
adds findings about the whole dataset. Findings carry a code and parameters, never prose: the
catalogue in :mod:`app.datasets.quality.findings` renders them in the reader's language when shown.

Row numbers are what the user sees in their own tool: the spreadsheet row (header = row 1) for
CSV/TSV/XLSX, the line number for JSONL. Row 0 means "the whole file" (encoding, format, a missing
column). ``origin`` tells apart rows of different uploads when a whole dataset is checked; a single
file leaves it empty.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

Role = Literal["user", "model"]
Severity = Literal["error", "warning"]
Split = Literal["train", "validation", "test"]
FileFormat = Literal["csv", "tsv", "xlsx", "jsonl"]
ParamValue = str | int | float

VALID_ROLES: frozenset[str] = frozenset({"user", "model"})
FILE_ROW = 0  # the row number of findings about the whole file


@dataclass(frozen=True, slots=True)
class Turn:
    """One message of a conversation. ``role`` is ``user`` or ``model`` after mapping; anything
    else is kept as written so validation can name it in a ``bad_role`` finding."""

    role: str
    text: str

    def to_dict(self) -> dict[str, str]:
        return {"role": self.role, "text": self.text}


@dataclass(frozen=True, slots=True)
class ExampleDraft:
    """One example as read from a file, before any check.

    ``cells`` holds the original values of the mapped columns keyed by column name (for display);
    ``columns`` maps a field path (``system``, ``turns.0``, ``split``…) to where it came from in the
    file (a column name, or a JSON path such as ``messages[1].content``) so findings can say where.
    """

    row: int
    system: str
    turns: tuple[Turn, ...]
    split: Split | None = None
    tag: str = ""
    cells: Mapping[str, str] = field(default_factory=dict)
    columns: Mapping[str, str] = field(default_factory=dict)
    origin: str = ""

    def texts(self) -> Iterator[tuple[str, str]]:
        """(field path, text) for the system instruction (when present) and every turn."""
        if self.system:
            yield "system", self.system
        for index, turn in enumerate(self.turns):
            yield f"turns.{index}", turn.text

    def column_of(self, field_path: str) -> str | None:
        return self.columns.get(field_path)

    @property
    def ref(self) -> RowRef:
        return RowRef(self.row, self.origin)

    def to_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "system": self.system,
            "turns": [turn.to_dict() for turn in self.turns],
            "split": self.split,
            "tag": self.tag,
            "cells": dict(self.cells),
            "columns": dict(self.columns),
            "origin": self.origin,
        }


class RowRef(NamedTuple):
    """A row of a dataset: its number in the file, and which upload it came from."""

    row: int
    origin: str = ""


Span = tuple[str, int, int]  # (field path, start, end) inside ExampleDraft text, end exclusive


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem. ``span`` locates it inside a text (for highlighting or redaction);
    ``related_rows`` names the other rows of a duplicate group or conflict."""

    code: str
    severity: Severity
    row: int
    column: str | None = None
    params: Mapping[str, ParamValue] = field(default_factory=dict)
    related_rows: tuple[RowRef, ...] = ()
    span: Span | None = None
    origin: str = ""

    @property
    def ref(self) -> RowRef:
        return RowRef(self.row, self.origin)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form, for storing findings with an upload or an example."""
        return {
            "code": self.code,
            "severity": self.severity,
            "row": self.row,
            "column": self.column,
            "params": dict(self.params),
            "related_rows": [[ref.row, ref.origin] for ref in self.related_rows],
            "span": list(self.span) if self.span else None,
            "origin": self.origin,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        span = data.get("span")
        return cls(
            code=str(data["code"]),
            severity="error" if data.get("severity") == "error" else "warning",
            row=int(data["row"]),
            column=data.get("column"),
            params=dict(data.get("params") or {}),
            related_rows=tuple(RowRef(int(r), str(o)) for r, o in data.get("related_rows") or ()),
            span=(str(span[0]), int(span[1]), int(span[2])) if span else None,
            origin=str(data.get("origin") or ""),
        )
