"""The check report as a table for people (``tunedesk check --format table``)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any, TextIO

from app.i18n import _, format_number

MAX_CELL = 24  # characters of a column name shown in the table


def display_width(text: str) -> int:
    """Terminal columns: East Asian wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))


def _short(text: str) -> str:
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def _summary(document: dict[str, Any]) -> list[str]:
    stats = document["stats"]
    tokens = stats["tokens"]
    pii = stats["pii"]
    lines = [
        _("Rows: %(rows)s · usable: %(usable)s · errors: %(errors)s · warnings: %(warnings)s")
        % {
            "rows": format_number(document["rows"]),
            "usable": format_number(document["usable"]),
            "errors": format_number(stats["errors"]),
            "warnings": format_number(stats["warnings"]),
        },
        _("Duplicate groups: %(exact)s exact, %(near)s near · conflicting answers: %(conflicts)s")
        % {
            "exact": stats["exact_duplicate_groups"],
            "near": stats["near_duplicate_groups"],
            "conflicts": stats["conflict_groups"],
        },
        _("Personal data: %(email)s e-mail, %(phone)s phone, %(card)s card, %(my)s My Number")
        % {
            "email": pii["email"],
            "phone": pii["phone"],
            "card": pii["credit_card"],
            "my": pii["my_number"],
        },
    ]
    if tokens.get("max") is not None:
        lines.append(
            _(
                "Tokens (estimate): total %(total)s, median %(median)s, largest %(max)s "
                "(limit %(limit)s per example)"
            )
            % {
                "total": format_number(tokens["total"]),
                "median": format_number(tokens["median"]),
                "max": format_number(tokens["max"]),
                "limit": format_number(tokens["limit"]),
            }
        )
    return lines


def write_table(out: TextIO, path: str, document: dict[str, Any], hints: Sequence[str]) -> None:
    """Header lines, one table row per finding with its hint underneath, then the summary."""
    encoding = document["encoding"] or "-"
    out.write(
        _("File: %(path)s (format: %(format)s, encoding: %(encoding)s)")
        % {"path": path, "format": document["format"], "encoding": encoding}
        + "\n\n"
    )
    headings = [_("Row"), _("Column"), _("Severity"), _("Code"), _("Message")]
    severity = {"error": _("error"), "warning": _("warning")}
    rows = [
        [
            str(f["row"]) if f["row"] else "-",
            _short(f["column"] or "-"),
            severity[f["severity"]],
            f["code"],
            f["message"],
        ]
        for f in document["findings"]
    ]
    if not rows:
        out.write(_("No problems found.") + "\n")
    else:
        widths = [max(display_width(r[i]) for r in [headings, *rows]) for i in range(4)]
        indent = sum(widths) + 2 * 4
        out.write(
            "  ".join(_pad(h, w) for h, w in zip(headings, [*widths, 0], strict=True)).rstrip()
            + "\n"
        )
        out.write("  ".join("-" * w for w in [*widths, 7]) + "\n")
        for row, hint in zip(rows, hints, strict=True):
            cells = [_pad(cell, width) for cell, width in zip(row[:4], widths, strict=True)]
            out.write("  ".join([*cells, row[4]]) + "\n")
            if hint:
                out.write(" " * indent + "→ " + hint + "\n")
    out.write("\n" + "\n".join(_summary(document)) + "\n")
