"""``tunedesk check FILE``: the same reading and checks as an upload, on one file, without a
server or database. ``--format json`` prints one JSON object (a contract for automation);
``--format table`` a report for people. Exit code 0 when the check ran (whatever it found), 2 for
unusable arguments or a file that cannot be opened."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, TextIO

from app.i18n import _, use_locale

ARGUMENT_CODES = ("sheet_not_found", "column_not_found", "encoding_not_supported")
EXIT_OK, EXIT_USAGE = 0, 2


def register(commands: Any) -> None:
    """Add the ``check`` sub-command to the ``tunedesk`` parser's sub-parsers."""
    parser = commands.add_parser(
        "check",
        help="Check a dataset file (CSV, TSV, XLSX, JSONL) and print the report.",
        description="Read one dataset file and run every quality check on it, offline.",
    )
    parser.add_argument("file", help="the CSV, TSV, Excel (.xlsx) or JSONL file")
    parser.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="table for people (default), json for programs",
    )
    parser.add_argument("--sheet", help="Excel sheet name (default: the active sheet)")
    parser.add_argument("--input-column", help="column of the input (name, letter or number)")
    parser.add_argument("--output-column", help="column of the output")
    parser.add_argument("--system-column", help="column of the system instruction")
    parser.add_argument("--encoding", help="text encoding, e.g. utf-8 or cp932 (default: detect)")
    parser.add_argument(
        "--lang", choices=("en", "ja"), default="en", help="language of messages (default: en)"
    )
    parser.add_argument(
        "--max-tokens", type=int, default=None, help="token limit per example (default: 131072)"
    )
    parser.set_defaults(handler=run_check)


def _usage_error(message: str) -> int:
    print(f"tunedesk check: {message}", file=sys.stderr)
    return EXIT_USAGE


def _file_problem(path: str) -> str | None:
    if not os.path.exists(path):
        return _("%(path)s does not exist.") % {"path": path}
    if os.path.isdir(path):
        return _("%(path)s is a folder, not a file.") % {"path": path}
    try:
        with open(path, "rb"):
            return None
    except OSError as error:
        return _("%(path)s cannot be opened: %(reason)s") % {"path": path, "reason": error.strerror}


def run_check(args: argparse.Namespace) -> int:
    with use_locale(args.lang):
        problem = _file_problem(args.file)
        if problem:
            return _usage_error(problem)
        if args.max_tokens is not None and args.max_tokens < 1:
            return _usage_error(_("--max-tokens must be a positive number."))
        return _check(args, sys.stdout)


def _mapping(args: argparse.Namespace) -> Any:
    from app.datasets.reading.files import inspect_file

    overrides = {
        "input": args.input_column,
        "output": args.output_column,
        "system": args.system_column,
    }
    if not any(overrides.values()):
        return None
    inspection = inspect_file(args.file, sheet=args.sheet, encoding=args.encoding)
    if inspection.format == "jsonl":
        return None
    from app.datasets.reading.column_mapping import ColumnMapping

    base = inspection.guess.mapping if inspection.guess else ColumnMapping()
    return base.with_columns(**overrides)


def _check(args: argparse.Namespace, out: TextIO) -> int:
    from app.datasets.quality import findings as catalogue
    from app.datasets.quality.checks import CheckOptions, check_examples
    from app.datasets.reading.files import read_file
    from app.datasets.records import ExampleDraft, Finding

    reading = read_file(args.file, mapping=_mapping(args), sheet=args.sheet, encoding=args.encoding)
    unusable = [f for f in reading.findings if f.code in ARGUMENT_CODES]
    if unusable:
        reading.close()
        return _usage_error(" ".join(catalogue.message(f) for f in unusable))
    examples: list[ExampleDraft] = []
    found: list[Finding] = []
    for item in reading:
        if isinstance(item, ExampleDraft):
            examples.append(item)
        else:
            found.append(item)
    options = CheckOptions(max_tokens=args.max_tokens) if args.max_tokens else CheckOptions()
    report = check_examples(examples, options=options, reader_findings=found)
    document = {
        "format": reading.format or "unknown",
        "encoding": reading.encoding,
        "rows": report.rows,
        "usable": report.usable,
        "findings": [
            {
                "row": f.row,
                "column": f.column,
                "code": f.code,
                "severity": f.severity,
                "message": catalogue.message(f),
                "related_rows": [ref.row for ref in f.related_rows],
            }
            for f in report.findings
        ],
        "stats": report.stats,
    }
    if args.format == "json":
        json.dump(document, out, ensure_ascii=False)
        out.write("\n")
    else:
        from app.datasets.quality.command_table import write_table

        write_table(out, args.file, document, [catalogue.hint(f) for f in report.findings])
    return EXIT_OK
