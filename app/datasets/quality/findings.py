"""The catalogue of finding codes: severity, message and hint for each.

Messages and hints are marked with ``N_()`` here and translated with ``gettext`` when shown, so
the browser shows them in the user's language and the CLI in English (or Japanese with
``--lang ja``). Stored findings keep only the code and parameters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from app.datasets.records import Finding, ParamValue, RowRef, Severity, Span
from app.i18n import N_, format_number, gettext

Scope = Literal["file", "row", "example"]

# How many related rows a message lists before it says "and N more".
MESSAGE_ROWS = 10


@dataclass(frozen=True, slots=True)
class FindingKind:
    """``scope``: ``file`` is about the whole file; ``row`` means the row could not be read into
    an example at all (it still counts as a row with an error); ``example`` is about an example
    that was read."""

    code: str
    severity: Severity
    message: str
    hint: str
    scope: Scope = "example"


_SAVE_AS_UTF8 = N_(
    'In Excel choose "Save As" → "CSV UTF-8 (comma delimited)" '
    '(Japanese Excel: "CSV UTF-8 (コンマ区切り)") and upload the new file.'
)

_KINDS = (
    # --- the whole file ---
    FindingKind(
        "file_unreadable",
        "error",
        N_("The file could not be read: %(reason)s."),
        N_("Check that the file exists and is not open in another program, then try again."),
        "file",
    ),
    FindingKind(
        "file_empty",
        "error",
        N_("The file is empty."),
        N_("Choose the file that contains your examples."),
        "file",
    ),
    FindingKind(
        "unknown_encoding",
        "error",
        N_("The character encoding of the file could not be recognised."),
        _SAVE_AS_UTF8,
        "file",
    ),
    FindingKind(
        "encoding_not_supported",
        "error",
        N_("The character encoding %(encoding)s is not known."),
        N_("Use utf-8, cp932 (Shift_JIS), euc_jp or utf-16, or let TuneDesk detect it."),
        "file",
    ),
    FindingKind(
        "unsupported_format",
        "error",
        N_("This kind of file is not supported (%(detail)s)."),
        N_("Upload a CSV or TSV file, an Excel workbook (.xlsx) or a JSONL file."),
        "file",
    ),
    FindingKind(
        "legacy_excel",
        "error",
        N_("This is an old Excel 97–2003 workbook (.xls), which cannot be read."),
        N_('Open it in Excel and save it as "Excel Workbook (.xlsx)" or "CSV UTF-8".'),
        "file",
    ),
    FindingKind(
        "format_mismatch",
        "warning",
        N_(
            "The file name ends in %(extension)s but the file is really %(actual)s; "
            "it was read as %(actual)s."
        ),
        N_("Nothing to fix here, but renaming the file to match its content avoids confusion."),
        "file",
    ),
    FindingKind(
        "workbook_unreadable",
        "error",
        N_("The Excel workbook could not be opened: %(reason)s."),
        N_("Open the file in Excel, save it again as .xlsx and upload the new file."),
        "file",
    ),
    FindingKind(
        "sheet_not_found",
        "error",
        N_("There is no sheet named %(sheet)s. Sheets in this workbook: %(sheets)s."),
        N_("Choose one of the listed sheets."),
        "file",
    ),
    FindingKind(
        "missing_column",
        "error",
        N_("No column was found for the %(field)s."),
        N_(
            "Choose the column in the column mapping, or name it in the header row, "
            "for example %(examples)s."
        ),
        "file",
    ),
    FindingKind(
        "column_not_found",
        "error",
        N_("The column %(column)s chosen for the %(field)s is not in this file."),
        N_("Choose one of the columns of the header row: %(headers)s."),
        "file",
    ),
    FindingKind(
        "duplicate_header",
        "warning",
        N_("The column name %(column)s appears more than once; the first one is used."),
        N_("Give every column a different name in the header row."),
        "file",
    ),
    FindingKind(
        "mapping_guessed",
        "warning",
        N_(
            "The columns were not recognised by name, so %(input)s was taken as the input "
            "and %(output)s as the output."
        ),
        N_(
            'Check the column mapping, or name the columns "input" and "output" (or 質問 and 回答).'
        ),
        "file",
    ),
    FindingKind(
        "read_failed",
        "error",
        N_(
            "The file could not be read to the end (%(reason)s); rows after row "
            "%(after_row)s are missing."
        ),
        N_(
            "Open the file in the program that made it, save it again and upload the new "
            "file. If this keeps happening, send the file to your administrator."
        ),
        "file",
    ),
    FindingKind(
        "too_many_errors",
        "error",
        N_(
            "Reading stopped at row %(stopped_at)s: the last %(count)s rows could not be read, "
            "so the rest of the file was not read either."
        ),
        N_(
            "Check that the file really is a CSV or TSV file and that the right character "
            "encoding is chosen, then upload it again."
        ),
        "file",
    ),
    FindingKind(
        "ingestion_failed",
        "error",
        N_("Something went wrong while importing this file (%(reason)s); nothing was imported."),
        N_(
            "Try again. If it keeps happening, tell your administrator the name of the file "
            "and when you uploaded it."
        ),
        "file",
    ),
    FindingKind(
        "ingestion_interrupted",
        "error",
        N_(
            "The import was interrupted %(count)s times (the server restarted); nothing was "
            "imported."
        ),
        N_("Upload the file again. If it keeps happening, tell your administrator."),
        "file",
    ),
    FindingKind(
        "no_examples",
        "error",
        N_("The file contains no examples."),
        N_("Check that the examples are below the header row and that the right sheet is chosen."),
        "file",
    ),
    # --- a row that could not be read ---
    FindingKind(
        "invalid_json",
        "error",
        N_("This line is not valid JSON: %(error)s (column %(col)s)."),
        N_(
            'Each line must be one complete JSON object, such as {"text_input": "…", '
            '"output": "…"}. Check the quotes, commas and brackets.'
        ),
        "row",
    ),
    FindingKind(
        "unknown_schema",
        "error",
        N_("This line is valid JSON but not in a supported format (keys found: %(keys)s)."),
        N_(
            'Use one of: {"contents": […]} (Vertex AI / Gemini), {"text_input": …, '
            '"output": …} (AI Studio) or {"messages": […]} (OpenAI chat).'
        ),
        "row",
    ),
    FindingKind(
        "csv_syntax",
        "error",
        N_("This row could not be read: %(error)s."),
        N_(
            "Check the quotation marks: a cell containing a comma, a line break or a quote "
            'must be enclosed in double quotes, with quotes inside it doubled ("").'
        ),
        "row",
    ),
    FindingKind(
        "row_too_large",
        "error",
        N_("This row is larger than %(limit)s characters and was skipped."),
        N_("Shorten the text or split it into several examples."),
        "row",
    ),
    # --- an example ---
    FindingKind(
        "empty_input",
        "error",
        N_("The input (question) is empty."),
        N_("Write the question or instruction the model receives, or delete the row."),
    ),
    FindingKind(
        "empty_output",
        "error",
        N_("The output (ideal answer) is empty."),
        N_("Write the answer the model should give, or delete the row."),
    ),
    FindingKind(
        "bad_role",
        "error",
        N_("The role %(role)s is not allowed here; turns must be user or model."),
        N_(
            "Use user and model (in OpenAI chat format: user and assistant; system only "
            "for the system instruction)."
        ),
    ),
    FindingKind(
        "bad_role_order",
        "error",
        N_("The conversation is out of order: %(reason)s."),
        N_(
            "Turns must start with the user, alternate between user and model, and end "
            "with the model's answer."
        ),
    ),
    FindingKind(
        "too_long",
        "error",
        N_("This example is about %(tokens)s tokens (estimate), more than the limit of %(limit)s."),
        N_("Shorten the example or split it into several examples."),
    ),
    FindingKind(
        "exact_duplicate",
        "warning",
        N_("This example is the same as row %(rows)s (ignoring width, spacing and case)."),
        N_(
            "Keep one of them and delete the others: repeated examples get too much "
            "weight in tuning."
        ),
    ),
    FindingKind(
        "near_duplicate",
        "warning",
        N_("This example is almost the same as row %(rows)s (similarity %(similarity)s)."),
        N_("Check whether they are copies of each other and keep the best one."),
    ),
    FindingKind(
        "conflict",
        "warning",
        N_("The same or almost the same input has a different answer in row %(rows)s."),
        N_(
            "Decide which answer is right and make them consistent: contradictory "
            "answers confuse the model."
        ),
    ),
    FindingKind(
        "pii_email",
        "warning",
        N_("The %(field)s contains an e-mail address."),
        N_(
            "Remove personal data or replace it with a placeholder such as [EMAIL], "
            "unless the model really needs it."
        ),
    ),
    FindingKind(
        "pii_phone",
        "warning",
        N_("The %(field)s contains a phone number."),
        N_(
            "Remove personal data or replace it with a placeholder such as [PHONE], "
            "unless the model really needs it."
        ),
    ),
    FindingKind(
        "pii_credit_card",
        "warning",
        N_("The %(field)s contains a credit card number."),
        N_(
            "Remove the card number or replace it with a placeholder such as [CARD]; "
            "card numbers must never be used for training."
        ),
    ),
    FindingKind(
        "pii_my_number",
        "warning",
        N_("The %(field)s contains an individual number (My Number)."),
        N_(
            "Remove it or replace it with a placeholder such as [MY_NUMBER]: the law "
            "strictly limits how individual numbers may be used."
        ),
    ),
    FindingKind(
        "mojibake",
        "warning",
        N_("The %(field)s looks wrongly decoded (garbled characters such as %(sample)s)."),
        N_(
            "Choose the right character encoding when uploading, or save the file as "
            "CSV UTF-8 and upload it again."
        ),
    ),
    FindingKind(
        "non_text_value",
        "warning",
        N_("The %(field)s is a %(kind)s, not text; it was read as %(text)s."),
        N_(
            "Format the column as Text in Excel (numbers lose leading zeros and dates "
            "change format otherwise), or check that this is the intended value."
        ),
    ),
    FindingKind(
        "whitespace",
        "warning",
        N_("The %(field)s starts or ends with spaces or line breaks."),
        N_("Remove them: the model learns them as part of the example."),
    ),
    FindingKind(
        "control_chars",
        "warning",
        N_("The %(field)s contains invisible control characters (%(chars)s)."),
        N_("Delete them; they usually come from copying text out of other programs."),
    ),
    FindingKind(
        "unknown_split",
        "warning",
        N_("The split %(value)s is not known, so the example was left unassigned."),
        N_("Use train, validation or test (or 学習, 検証, テスト)."),
    ),
    FindingKind(
        "unsupported_part",
        "warning",
        N_("Part %(part)s is not text (%(kind)s) and was ignored."),
        N_("Only text can be used for tuning here; remove the part or describe it in words."),
    ),
    FindingKind(
        "excel_error",
        "warning",
        N_("The %(field)s shows the Excel error %(value)s instead of a value."),
        N_("Fix the formula in Excel, or paste the values as text."),
    ),
)

CATALOGUE: dict[str, FindingKind] = {kind.code: kind for kind in _KINDS}

# Parameters whose values are words for people (field names, value kinds, reasons…): their
# values are translated with PARAM_LABELS when a message is rendered. Other parameters (cell
# text, column names, keys) are shown exactly as given.
TRANSLATED_PARAMS = frozenset({"field", "kind", "reason", "actual", "detail", "error"})
PARAM_LABELS: dict[str, str] = {
    "input": N_("input"),
    "output": N_("output"),
    "system": N_("system instruction"),
    "split": N_("split"),
    "tag": N_("tag"),
    "number": N_("number"),
    "date": N_("date"),
    "boolean": N_("true/false value"),
    "list or object": N_("list or object"),
    "first_not_user": N_("the first turn must be the user's"),
    "not_alternating": N_("two turns in a row have the same role"),
    "last_not_model": N_("the last turn must be the model's answer"),
    "system_not_first": N_("a system message may only come before the conversation"),
    "CSV": N_("CSV"),
    "Excel workbook": N_("Excel workbook"),
    "JSONL": N_("JSONL"),
    "ZIP archive": N_("ZIP archive"),
    "image": N_("image"),
    "file": N_("file"),
    "function call": N_("function call"),
    # json module messages (the parser's own words, shown with the position)
    "Expecting value": N_("a value was expected"),
    "Expecting ',' delimiter": N_("a comma was expected"),
    "Expecting ':' delimiter": N_("a colon was expected"),
    "Expecting property name enclosed in double quotes": N_("a key in double quotes was expected"),
    "Unterminated string starting at": N_("a string is not closed"),
    "Extra data": N_("there is more text after the JSON object"),
    "Invalid control character at": N_("a string contains a raw control character or line break"),
    "Invalid \\escape": N_("a string contains an invalid backslash escape"),
    "Invalid \\uXXXX escape": N_("a string contains an invalid \\u escape"),
    "nested too deeply": N_("it is nested too deeply"),
    "the file ends inside a quoted cell (a closing quote is missing)": N_(
        "the file ends inside a quoted cell (a closing quote is missing)"
    ),
    "a quoted cell is followed by more text before the next delimiter": N_(
        "a quoted cell is followed by more text before the next delimiter"
    ),
}


def make(
    code: str,
    row: int,
    *,
    column: str | None = None,
    span: Span | None = None,
    related: Iterable[RowRef] = (),
    origin: str = "",
    params: Mapping[str, ParamValue] | None = None,
    **more: ParamValue,
) -> Finding:
    """A finding with the catalogue's severity for ``code``; message parameters come as
    ``params`` and/or keyword arguments."""
    kind = CATALOGUE[code]
    values = {**(params or {}), **more}
    return Finding(
        code=code,
        severity=kind.severity,
        row=row,
        column=column,
        params=values,
        related_rows=tuple(related),
        span=span,
        origin=origin,
    )


def scope_of(code: str) -> Scope:
    kind = CATALOGUE.get(code)
    return kind.scope if kind else "example"


def _render_param(name: str, value: ParamValue) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return format_number(value)
    if isinstance(value, float):
        return format_number(value, decimals=2)
    label = PARAM_LABELS.get(value) if name in TRANSLATED_PARAMS else None
    return gettext(label) if label else value


def _rows_text(related: tuple[RowRef, ...]) -> str:
    shown = ", ".join(str(ref.row) for ref in related[:MESSAGE_ROWS])
    if len(related) > MESSAGE_ROWS:
        more = gettext("and %(count)s more") % {"count": format_number(len(related) - MESSAGE_ROWS)}
        shown = f"{shown} {more}"
    return shown


class _Params(dict[str, str]):
    """Missing parameters render as "?" instead of raising: a stored finding from an older
    version must still be displayable."""

    def __missing__(self, key: str) -> str:
        return "?"


def _params(finding: Finding, rows: str | None = None) -> Mapping[str, str]:
    values = _Params({name: _render_param(name, value) for name, value in finding.params.items()})
    if rows is not None:
        values["rows"] = rows
    elif "rows" not in values:
        values["rows"] = _rows_text(finding.related_rows)
    if "column" not in values:
        values["column"] = finding.column or ""
    return values


def _kind(code: str) -> FindingKind:
    return CATALOGUE.get(code) or FindingKind(code, "warning", code, "")


def message(finding: Finding, *, rows: str | None = None) -> str:
    """The finding's message in the current locale. ``rows`` replaces the list of related rows
    (the app names rows of other files as "row 12 in faq.csv")."""
    template = gettext(_kind(finding.code).message)
    try:
        return template % _params(finding, rows)
    except (TypeError, ValueError):
        return template


def hint(finding: Finding) -> str:
    """What to do about it, in the current locale."""
    template = _kind(finding.code).hint
    if not template:
        return ""
    try:
        return gettext(template) % _params(finding)
    except (TypeError, ValueError):
        return gettext(template)
