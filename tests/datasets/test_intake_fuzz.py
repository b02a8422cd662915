"""Property tests of the app's side of intake: whatever the bytes and the file name, the mapping
step's inspection never raises, is JSON for the upload row, and says something (examples to
preview or findings); and the import's reading either yields examples or a finding that stops
it — never an exception."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.datasets.intake import inspection
from app.datasets.intake.ingest import Job, fatal_findings
from app.datasets.reading.files import read_file
from app.datasets.records import ExampleDraft, Finding
from tests.datasets.support import excel_csv, jsonl, workbook

CELLS = st.text(alphabet=st.characters(exclude_categories=("Cc", "Cs")), max_size=30)
NAMES = st.sampled_from(["a.csv", "a.tsv", "a.jsonl", "a.xlsx", "a.txt", "a", "a.xls"])
PIECES = st.one_of(
    st.binary(max_size=2048),
    st.lists(st.tuples(st.text(max_size=40), st.text(max_size=40)), max_size=6).map(
        lambda rows: excel_csv([["質問", "回答"], *rows], "utf-8")
    ),
    st.lists(
        st.dictionaries(st.sampled_from(["text_input", "output", "x"]), st.text(max_size=20)),
        max_size=5,
    ).map(jsonl),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=PIECES, cut=st.floats(0, 1), name=NAMES)
def test_inspection_never_raises_and_is_stored_as_json(
    tmp_path: Path, data: bytes, cut: float, name: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data[: int(len(data) * cut)] if cut < 1 else data)
    result = inspection.inspect(path, name, inspection.Settings())
    json.dumps(result)  # the upload row stores it as JSON
    assert result["examples"] or result["findings"] or result["format"] == "xlsx"


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.tuples(CELLS, CELLS), max_size=30),
    cut=st.floats(0, 1),
)
def test_a_cut_workbook_is_imported_whole_or_refused(
    tmp_path: Path, rows: list[tuple[str, str]], cut: float
) -> None:
    book = workbook({"FAQ": [["question", "answer"], *rows]})
    path = tmp_path / "cut.xlsx"
    path.write_bytes(book[: max(1, int(len(book) * cut))])
    job = Job(
        1,
        1,
        1,
        None,
        "cut.xlsx",
        "",
        "xlsx",
        {"input": "question", "output": "answer"},
        None,
        None,
        None,
    )
    with read_file(path, filename="cut.xlsx") as reading:
        for item in reading:
            (job.drafts if isinstance(item, ExampleDraft) else job.found).append(item)  # type: ignore[arg-type]
    fatal = fatal_findings(job)
    assert all(isinstance(f, Finding) and f.severity == "error" for f in fatal)
    assert fatal or job.drafts  # imported whole, or refused with a reason
    assert not [f for f in job.found if f.code == "read_failed"]
