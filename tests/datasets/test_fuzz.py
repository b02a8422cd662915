"""Property tests: whatever the bytes, reading never raises and always says something.

Random bytes, truncated files, wrong encodings, huge cells and deeply nested JSON go through the
real readers. ``read_failed`` is the reader's last-resort finding for an unexpected exception, so
it must never appear: every problem has to be reported by the code that understands it.
"""

from __future__ import annotations

import io
import json

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app.datasets.quality.checks import check_examples
from app.datasets.reading.files import inspect_file, read_file
from app.datasets.reading.jsonl_schemas import convert
from app.datasets.records import ExampleDraft, Finding
from tests.datasets.support import excel_csv, jsonl, workbook

FILENAMES = st.sampled_from(
    ["data.csv", "data.tsv", "data.jsonl", "data.xlsx", "data.txt", "data", "data.json", "data.xls"]
)
HIRAGANA = st.text(
    alphabet=st.characters(min_codepoint=0x3041, max_codepoint=0x3093), min_size=2, max_size=40
)
# Characters CP932 can encode but not decode back to themselves are left out.
CELL = st.text(
    alphabet=st.characters(codec="cp932", exclude_characters="\x00\r¢£¬‖−〜"), max_size=60
)
SHEET_CELL = st.text(
    alphabet=st.characters(codec="cp932", exclude_categories=["Cc"], exclude_characters="¢£¬‖−〜"),
    max_size=60,
)
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _read(
    data: bytes, filename: str | None, encoding: str | None = None
) -> tuple[list[ExampleDraft], list[Finding]]:
    """Read and check like an upload; the report's findings include the reader's."""
    examples: list[ExampleDraft] = []
    found: list[Finding] = []
    for item in read_file(io.BytesIO(data), filename=filename, encoding=encoding):
        if isinstance(item, ExampleDraft):
            examples.append(item)
        else:
            found.append(item)
    report = check_examples(examples, reader_findings=found)
    assert "read_failed" not in {f.code for f in report.findings}, report.findings
    return examples, report.findings


@FUZZ
@given(data=st.binary(max_size=4096), filename=FILENAMES)
@example(data=b"", filename="data.csv")
@example(data=b"PK\x03\x04garbage", filename="data.csv")
@example(data=b"\xef\xbb\xbf", filename="data.jsonl")
@example(data=b"\xff\xfe\x00", filename="data.txt")
@example(data=b'"', filename="data.csv")
@example(data=b"\r\r\r,", filename="data.tsv")
def test_random_bytes_always_give_a_finding(data: bytes, filename: str) -> None:
    _examples, found = _read(data, filename)
    assert found
    inspection = inspect_file(io.BytesIO(data), filename=filename)
    assert (
        inspection.examples
        or inspection.findings
        or inspection.format is None
        or inspection.header_row is not None
    )


@FUZZ
@given(rows=st.lists(st.tuples(CELL, CELL), min_size=1, max_size=8), cut=st.floats(0, 1))
def test_truncated_shift_jis_csv(rows: list[tuple[str, str]], cut: float) -> None:
    data = excel_csv([["質問", "回答"], *rows])
    _read(data[: int(len(data) * cut)], "data.csv")


@settings(max_examples=25, deadline=None)
@given(
    rows=st.lists(st.tuples(SHEET_CELL, SHEET_CELL), min_size=1, max_size=5),
    cut=st.integers(min_value=1, max_value=10_000),
)
def test_truncated_workbook_is_always_a_finding(rows: list[tuple[str, str]], cut: int) -> None:
    data = workbook({"Q&A": [["質問", "回答"], *rows]})
    truncated = data[: max(0, len(data) - cut)]
    _examples, found = _read(truncated, "data.xlsx")
    assert found


@FUZZ
@given(
    lines=st.lists(st.tuples(HIRAGANA, HIRAGANA), min_size=1, max_size=6),
    cut=st.integers(min_value=1, max_value=40),
)
def test_truncated_jsonl_reports_the_cut_line(lines: list[tuple[str, str]], cut: int) -> None:
    data = jsonl({"text_input": q, "output": a} for q, a in lines)
    truncated = data[: len(data) - 1 - cut]  # drop the last newline and part of the last line
    examples, found = _read(truncated, "data.jsonl")
    last = len(lines)
    if truncated.endswith(b"\n") or not truncated:
        return  # the cut fell on a line boundary: a shorter, valid file
    assert ("invalid_json", last) in {(f.code, f.row) for f in found}
    assert all(e.row < last for e in examples)


@FUZZ
@given(
    rows=st.lists(st.tuples(HIRAGANA, HIRAGANA), min_size=1, max_size=6),
    wrong=st.sampled_from(["utf-8", "euc_jp", "latin-1"]),
)
def test_a_wrong_encoding_shows_as_mojibake(rows: list[tuple[str, str]], wrong: str) -> None:
    data = excel_csv([["質問", "回答"], *rows])  # CP932
    _examples, found = _read(data, "data.csv", encoding=wrong)
    codes = {f.code for f in found}
    assert codes & {"mojibake", "missing_column", "mapping_guessed", "no_examples"}, codes


@FUZZ
@given(rows=st.lists(st.tuples(HIRAGANA, HIRAGANA), min_size=1, max_size=6))
def test_utf8_read_as_cp932_shows_as_mojibake(rows: list[tuple[str, str]]) -> None:
    data = excel_csv([["input", "output"], *rows], "utf-8")
    _examples, found = _read(data, "data.csv", encoding="cp932")
    assert "mojibake" in {f.code for f in found}


@settings(max_examples=10, deadline=None)
@given(size=st.integers(min_value=140_000, max_value=600_000), quoted=st.booleans())
def test_huge_cells(size: int, quoted: bool) -> None:
    cell = "長" * size
    data = excel_csv([["質問", "回答"], ["q", cell if not quoted else cell + "\n,"]])
    examples, found = _read(data, "data.csv")
    assert [(f.code, f.row) for f in found if f.code == "too_long"] == [("too_long", 2)]
    assert len(examples[0].turns[1].text) >= size


@settings(max_examples=30, deadline=None)
@given(
    depth=st.integers(min_value=1, max_value=200_000),
    opener=st.sampled_from(['{"a":', "[", '{"contents":[', '{"messages":[{"content":']),
)
def test_deeply_nested_json(depth: int, opener: str) -> None:
    closer = {"{": "}", "[": "]"}
    tail = "".join(closer[c] for c in reversed(opener) if c in closer)
    line = opener * depth + "1" + tail * depth
    _examples, found = _read(line.encode() + b"\n", "data.jsonl")
    assert found


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "contents",
                    "messages",
                    "role",
                    "parts",
                    "text",
                    "content",
                    "text_input",
                    "output",
                    "systemInstruction",
                    "split",
                    "tag",
                    "type",
                    "x",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=25,
)


@settings(max_examples=400, deadline=None)
@given(value=JSON)
def test_any_json_value_becomes_an_example_or_findings(value: object) -> None:
    draft, found = convert(value, 1)
    assert draft is not None or found
    if draft is not None:
        assert all(isinstance(turn.text, str) for turn in draft.turns)
        check_examples([draft])
    json.dumps([f.to_dict() for f in found])
