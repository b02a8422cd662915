"""Short names of finding codes for filters, badges and summary cards (the catalogue in
:mod:`app.datasets.quality.findings` has the full messages and hints)."""

from __future__ import annotations

from app.i18n import N_, gettext

FILE_CODE_LABELS: dict[str, str] = {
    "file_unreadable": N_("File cannot be read"),
    "file_empty": N_("Empty file"),
    "unknown_encoding": N_("Unknown encoding"),
    "encoding_not_supported": N_("Unsupported encoding"),
    "unsupported_format": N_("Unsupported file type"),
    "legacy_excel": N_("Old Excel format"),
    "format_mismatch": N_("File name does not match"),
    "workbook_unreadable": N_("Workbook cannot be read"),
    "sheet_not_found": N_("Sheet not found"),
    "missing_column": N_("Missing column"),
    "column_not_found": N_("Column not found"),
    "duplicate_header": N_("Column name used twice"),
    "mapping_guessed": N_("Columns guessed"),
    "read_failed": N_("Reading stopped"),
    "too_many_errors": N_("Not a readable table"),
    "ingestion_failed": N_("Import failed"),
    "ingestion_interrupted": N_("Import interrupted"),
    "no_examples": N_("No examples"),
}
ROW_CODE_LABELS: dict[str, str] = {
    "invalid_json": N_("Not valid JSON"),
    "unknown_schema": N_("Unknown JSON format"),
    "csv_syntax": N_("Unreadable row"),
    "row_too_large": N_("Row too large"),
    "empty_input": N_("Empty question"),
    "empty_output": N_("Empty answer"),
    "bad_role": N_("Wrong role"),
    "bad_role_order": N_("Turns out of order"),
    "too_long": N_("Too long"),
    "exact_duplicate": N_("Duplicate"),
    "near_duplicate": N_("Near duplicate"),
    "conflict": N_("Conflicting answers"),
    "pii_email": N_("E-mail address"),
    "pii_phone": N_("Phone number"),
    "pii_credit_card": N_("Credit card number"),
    "pii_my_number": N_("My Number"),
    "mojibake": N_("Garbled characters"),
    "non_text_value": N_("Not text"),
    "whitespace": N_("Extra spaces"),
    "control_chars": N_("Invisible characters"),
    "unknown_split": N_("Unknown split"),
    "unsupported_part": N_("Non-text part"),
    "excel_error": N_("Excel error value"),
}
CODE_LABELS = {**FILE_CODE_LABELS, **ROW_CODE_LABELS}
PII_CODES = ("pii_email", "pii_phone", "pii_credit_card", "pii_my_number")
DUPLICATE_CODES = ("exact_duplicate", "near_duplicate")
RELATION_CODES = ("exact_duplicate", "near_duplicate", "conflict")
# The order codes are offered in the filter: errors people fix first, then the rest.
CODE_ORDER = tuple(ROW_CODE_LABELS)

SPLIT_LABELS: dict[str, str] = {
    "train": N_("Training"),
    "validation": N_("Validation"),
    "test": N_("Test (held out)"),
}
STATUS_LABELS: dict[str, str] = {
    "draft": N_("Needs a fix"),
    "pending": N_("Waiting for review"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "excluded": N_("Excluded"),
}
STATUS_BADGES = {
    "draft": "error",
    "pending": "info",
    "approved": "success",
    "rejected": "warning",
    "excluded": "neutral",
}


def code_label(code: str) -> str:
    label = CODE_LABELS.get(code)
    return gettext(label) if label else code


def split_label(split: str | None) -> str:
    if not split:
        return gettext(N_("Not assigned"))
    label = SPLIT_LABELS.get(split)
    return gettext(label) if label else split


def status_label(status: str) -> str:
    label = STATUS_LABELS.get(status)
    return gettext(label) if label else status
