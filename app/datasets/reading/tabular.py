"""What CSV, TSV and Excel have in common: rows of cells, a header row somewhere near the top, a
column mapping, and one single-turn example per row."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from app.datasets.quality import findings
from app.datasets.quality.normalize import comparison_key
from app.datasets.reading.column_mapping import (
    EXAMPLE_NAMES,
    FIELDS,
    REQUIRED,
    ColumnMapping,
    Field,
    MappingGuess,
    column_letter,
    guess_mapping,
    header_labels,
    header_score,
    normalize_split,
    resolve_column,
)
from app.datasets.records import ExampleDraft, Finding, Split, Turn

HEADER_SCAN_ROWS = 20  # the header row is looked for among this many non-blank rows


@dataclass(frozen=True, slots=True)
class Cell:
    """A cell as text. ``kind`` is None for text, else what the value really was (``number``,
    ``date``, ``boolean``) or ``error`` for an Excel error such as ``#N/A``."""

    text: str
    kind: str | None = None


@dataclass(frozen=True, slots=True)
class RawRow:
    """One row as text. ``kinds`` (one per cell, see :class:`Cell`) is None when every cell is
    text, as always in CSV: rows are made by the hundred thousand, so they stay lean."""

    number: int  # as the spreadsheet shows it (header = row 1 when it is the first row)
    texts: tuple[str, ...]
    kinds: tuple[str | None, ...] | None = None

    @property
    def blank(self) -> bool:
        return all(not text.strip() for text in self.texts)

    def cell(self, index: int | None) -> Cell:
        if index is None or index >= len(self.texts):
            return Cell("")
        return Cell(self.texts[index], self.kinds[index] if self.kinds else None)

    @classmethod
    def of_cells(cls, number: int, cells: Sequence[Cell]) -> RawRow:
        kinds = tuple(cell.kind for cell in cells)
        return cls(
            number,
            tuple(cell.text for cell in cells),
            kinds if any(kind is not None for kind in kinds) else None,
        )


def _looks_like_header(row: RawRow) -> bool:
    cells = [row.cell(i) for i, text in enumerate(row.texts) if text.strip()]
    return len(cells) >= 2 and all(cell.kind is None and not _numeric(cell.text) for cell in cells)


def _numeric(text: str) -> bool:
    try:
        float(text.replace(",", ""))
    except ValueError:
        return False
    return True


def find_header(rows: Sequence[RawRow], names: Sequence[str] = ()) -> int | None:
    """Index (in ``rows``) of the header row among the first non-blank rows: the first row
    holding every column name of a remembered mapping (``names``); else the row naming the most
    known columns; else the first row of two or more non-numeric texts; else the first."""
    candidates = [(i, row) for i, row in enumerate(rows) if not row.blank][:HEADER_SCAN_ROWS]
    if not candidates:
        return None
    wanted = {comparison_key(name) for name in names}
    for i, row in candidates if wanted else ():
        if wanted <= {comparison_key(text) for text in row.texts}:
            return i
    scores = [(header_score(row.texts), i) for i, row in candidates]
    best_score = max(score for score, _i in scores)
    if best_score > 0:
        return next(i for score, i in scores if score == best_score)
    return next((i for i, row in candidates if _looks_like_header(row)), candidates[0][0])


_SENTENCE_END = ("。", "？", "！", "?", "!", ".")


def is_data_row(row: RawRow) -> bool:
    """Whether a would-be header row is really the first example: no known column name, and a
    cell reads like content (a line break, a sentence ending, or more than 40 characters)."""
    if header_score(row.texts) > 0:
        return False
    return any(
        "\n" in text or len(text) > 40 or text.rstrip().endswith(_SENTENCE_END)
        for text in row.texts
    )


def letter_header(rows: Sequence[RawRow]) -> RawRow:
    """A stand-in header for a table without one: the column letters (row 0, not in the file)."""
    width = max((len(row.texts) for row in rows), default=0)
    return RawRow(0, tuple(column_letter(i) for i in range(width)))


_PATHS: tuple[tuple[str, Field], ...] = (
    ("turns.0", "input"),
    ("turns.1", "output"),
    ("system", "system"),
    ("split", "split"),
    ("tag", "tag"),
)


@dataclass(frozen=True, slots=True)
class TableLayout:
    """Where the header is, what the columns are called, and which column feeds which field.
    ``labels`` (field → column name) and ``paths`` (draft field path → column name) are shared
    by every draft of the table."""

    header_row: int
    headers: tuple[str, ...]
    mapping: ColumnMapping
    columns: dict[Field, int]
    labels: dict[Field, str]
    paths: dict[str, str]

    @classmethod
    def build(
        cls, header_row: int, headers: tuple[str, ...], columns: dict[Field, int]
    ) -> TableLayout:
        labels = {name: headers[index] for name, index in columns.items()}
        paths = {path: labels[name] for path, name in _PATHS if name in labels}
        return cls(header_row, headers, ColumnMapping(**labels), columns, labels, paths)


def layout_findings(header_row: int, headers: Sequence[str]) -> list[Finding]:
    seen: set[str] = set()
    found: list[Finding] = []
    for name in headers:
        if name in seen:
            found.append(findings.make("duplicate_header", header_row, column=name))
        seen.add(name)
    return found


def plan_layout(
    header: RawRow, mapping: ColumnMapping | None
) -> tuple[TableLayout | None, MappingGuess | None, list[Finding]]:
    """Resolve the column mapping against the header row. Returns no layout when a required
    field has no column; every problem is a finding on the header row."""
    headers = tuple(header_labels(header.texts))
    problems = layout_findings(header.number, headers)
    guess = None
    if mapping is None:
        guess = guess_mapping(headers)
        mapping = guess.mapping
    columns: dict[Field, int] = {}
    for name in FIELDS:
        spec = mapping.get(name)
        if spec is None:
            continue
        index = resolve_column(spec, headers)
        if index is None:
            problems.append(
                findings.make(
                    "column_not_found",
                    header.number,
                    column=spec,
                    field=name,
                    headers=", ".join(headers),
                )
            )
        else:
            columns[name] = index
    for name in REQUIRED:
        if name not in columns and mapping.get(name) is None:
            problems.append(
                findings.make(
                    "missing_column", header.number, field=name, examples=EXAMPLE_NAMES[name]
                )
            )
    if any(f.severity == "error" for f in problems):
        return None, guess, problems
    if guess is not None and guess.by_position:
        problems.append(
            findings.make(
                "mapping_guessed",
                header.number,
                input=headers[columns["input"]],
                output=headers[columns["output"]],
            )
        )
    return TableLayout.build(header.number, headers, columns), guess, problems


def _value_findings(row: int, column: str, field_name: str, cell: Cell) -> list[Finding]:
    if cell.kind == "error":
        return [findings.make("excel_error", row, column=column, field=field_name, value=cell.text)]
    if cell.kind is not None:
        return [
            findings.make(
                "non_text_value",
                row,
                column=column,
                field=field_name,
                kind=cell.kind,
                text=cell.text,
            )
        ]
    return []


def _text_row_to_draft(
    row: RawRow, layout: TableLayout, origin: str
) -> tuple[ExampleDraft | None, list[Finding]]:
    """``row_to_draft`` for a row of plain text cells (every CSV row): the hot path of reading,
    without per-cell objects."""
    texts, width = row.texts, len(row.texts)
    values = {name: texts[index] if index < width else "" for name, index in layout.columns.items()}
    user, model = values.get("input", ""), values.get("output", "")
    if not user.strip() and not model.strip():
        return None, []
    found: list[Finding] = []
    split: Split | None = None
    if "split" in values:
        split, known = normalize_split(values["split"])
        if not known:
            found.append(
                findings.make(
                    "unknown_split",
                    row.number,
                    origin=origin,
                    column=layout.labels["split"],
                    value=values["split"].strip(),
                )
            )
    draft = ExampleDraft(
        row=row.number,
        system=values.get("system", ""),
        turns=(Turn("user", user), Turn("model", model)),
        split=split,
        tag=values.get("tag", "").strip(),
        cells={layout.labels[name]: text for name, text in values.items()},
        columns=layout.paths,
        origin=origin,
    )
    return draft, found


def row_to_draft(
    row: RawRow, layout: TableLayout, origin: str = ""
) -> tuple[ExampleDraft | None, list[Finding]]:
    """One example from one data row; None for a row whose input and output are both blank."""
    if row.kinds is None:
        return _text_row_to_draft(row, layout, origin)
    get = {name: row.cell(index) for name, index in layout.columns.items()}
    empty = Cell("")
    user, model = get.get("input", empty).text, get.get("output", empty).text
    if not user.strip() and not model.strip():
        return None, []
    label = layout.labels
    found: list[Finding] = []
    if row.kinds is not None:
        for name in ("input", "output", "system"):
            if name in label:
                found += _value_findings(row.number, label[name], name, get[name])
    split: Split | None = None
    if "split" in get:
        split, known = normalize_split(get["split"].text)
        if not known:
            found.append(
                findings.make(
                    "unknown_split",
                    row.number,
                    column=label["split"],
                    value=get["split"].text.strip(),
                )
            )
    draft = ExampleDraft(
        row=row.number,
        system=get.get("system", empty).text,
        turns=(Turn("user", user), Turn("model", model)),
        split=split,
        tag=get.get("tag", empty).text.strip(),
        cells={label[name]: cell.text for name, cell in get.items()},
        columns=layout.paths,
        origin=origin,
    )
    return draft, [replace(f, origin=origin) for f in found] if origin else found
