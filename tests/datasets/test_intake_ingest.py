"""Ingesting uploads into the database: every format, the whole dataset checked across files,
findings indexed, all or nothing when a file is broken. The ingestion function here is the one
the worker runs (tests/datasets/test_intake_worker.py runs it in a real worker)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import get_settings
from app.datasets.intake import storage, uploads
from app.datasets.models import (
    Dataset,
    DatasetChange,
    DatasetFinding,
    Example,
    ExampleStatus,
    UploadStatus,
)
from app.datasets.report.summary import summarize
from app.errors import ValidationFailed
from tests.datasets.conftest import Team
from tests.datasets.factories import csv_bytes, distinct_rows, import_file, receive
from tests.datasets.support import jsonl, workbook


def _examples(session: Session, dataset: Dataset) -> list[Example]:
    return list(
        session.scalars(
            select(Example).where(Example.dataset_id == dataset.id).order_by(Example.id)
        )
    )


def _codes(session: Session, example: Example) -> set[str]:
    return set(
        session.scalars(select(DatasetFinding.code).where(DatasetFinding.example_id == example.id))
    )


def test_a_shift_jis_csv_as_excel_saves_it(session: Session, team: Team) -> None:
    rows = [
        ["お客様の質問", "模範回答", "カテゴリ"],
        ["送料はいくらですか？", "全国一律550円（税込）です。", "配送"],
        ["返品できますか？", "", "返品"],  # empty answer: an error, the row stays a draft
        ["  保証期間は？", "お買い上げから1年間です。", "保証"],  # leading spaces: a warning
        ["①の番号は？", "㈱さくらマートの①です。", "その他"],  # CP932-only characters
    ]
    upload = import_file(
        session,
        dataset=team.dataset,
        user=team.expert,
        name="faq.csv",
        data=csv_bytes(rows, "cp932"),
    )
    assert (upload.status, upload.encoding, upload.format) == ("ready", "cp932", "csv")
    assert upload.mapping["input"] == "お客様の質問" and upload.mapping["tag"] == "カテゴリ"
    examples = _examples(session, team.dataset)
    assert [e.source_row for e in examples] == [2, 3, 4, 5]
    assert examples[3].turns[1]["text"] == "㈱さくらマートの①です。"  # decoded, not normalised
    assert [e.status for e in examples] == ["pending", "draft", "pending", "pending"]
    assert examples[0].tag == "配送" and examples[0].author_id == team.expert.id
    assert _codes(session, examples[1]) == {"empty_output"}
    assert examples[1].issues[0]["column"] == "模範回答"
    assert _codes(session, examples[2]) == {"whitespace"}
    assert upload.counts["rows"] == 4 and upload.counts["usable"] == 3
    # The file is gone once imported; the preview with its content too.
    assert not storage.absolute(upload.stored_path).exists()
    assert "preview" not in upload.inspection and upload.inspection["format"] == "csv"
    # The mapping is remembered for the next file of this dataset.
    session.refresh(team.dataset)
    assert team.dataset.column_mapping["output"] == "模範回答"


def test_a_workbook_with_several_sheets(session: Session, team: Team) -> None:
    data = workbook(
        {
            "README": [["This sheet explains the columns."]],
            "FAQ": [["", ""], ["Question", "Answer"], ["Where is my order?", 42]],
        },
        active="README",
    )
    upload = receive(session, dataset=team.dataset, user=team.expert, name="book.xlsx", data=data)
    assert upload.inspection["sheet_names"] == ["README", "FAQ"]
    uploads.change_settings(
        session,
        actor=team.expert,
        dataset=team.dataset,
        upload=upload,
        choices=uploads.Choices(sheet="FAQ"),
    )
    assert upload.inspection["header_row"] == 2
    assert upload.inspection["mapping"]["input"] == "Question"
    uploads.confirm(
        session,
        actor=team.expert,
        dataset=team.dataset,
        upload=upload,
        choices=uploads.Choices(sheet="FAQ", columns={"input": "Question", "output": "Answer"}),
    )
    session.commit()
    from app.datasets.intake import ingest

    assert ingest.ingest_upload(upload.id) == "ready"
    [example] = _examples(session, team.dataset)
    assert example.source_row == 3 and example.turns[1]["text"] == "42"
    assert _codes(session, example) == {"non_text_value"}


def test_each_jsonl_schema(session: Session, team: Team) -> None:
    lines = [
        {
            "systemInstruction": {"parts": [{"text": "Be brief."}]},
            "contents": [
                {"role": "user", "parts": [{"text": "Hi"}]},
                {"role": "model", "parts": [{"text": "Hello."}]},
                {"role": "user", "parts": [{"text": "Shipping?"}]},
                {"role": "model", "parts": [{"text": "550 yen."}]},
            ],
        },
        {"text_input": "Returns?", "output": "Within 14 days."},
        {
            "messages": [
                {"role": "system", "content": "Polite."},
                {"role": "user", "content": "Warranty?"},
                {"role": "assistant", "content": "One year."},
            ]
        },
    ]
    data = jsonl(lines) + b"\n" + b'{"text_input": "broken"\n'
    upload = import_file(session, dataset=team.dataset, user=team.expert, name="x.jsonl", data=data)
    examples = _examples(session, team.dataset)
    assert [e.source_row for e in examples] == [1, 2, 3]
    assert examples[0].system_instruction == "Be brief." and len(examples[0].turns) == 4
    assert examples[2].system_instruction == "Polite."
    assert examples[2].turns == [
        {"role": "user", "text": "Warranty?"},
        {"role": "model", "text": "One year."},
    ]
    # The broken line (5; line 4 is blank) is an unreadable row of the report.
    [broken] = session.scalars(
        select(DatasetFinding).where(DatasetFinding.example_id.is_(None))
    ).all()
    assert (broken.code, broken.row, broken.upload_id) == ("invalid_json", 5, upload.id)
    summary = summarize(session, team.dataset)
    assert (summary.rows, summary.usable, summary.with_errors, summary.unreadable) == (4, 3, 1, 1)


def test_duplicates_are_found_across_files(session: Session, team: Team) -> None:
    rows = [[q, a] for q, a in distinct_rows(3)]
    first = import_file(
        session,
        dataset=team.dataset,
        user=team.expert,
        name="first.csv",
        data=csv_bytes([["question", "answer"], *rows]),
    )
    second_file = csv_bytes([["question", "answer"], ["New question?", "New answer."], rows[1]])
    peek = receive(session, dataset=team.dataset, user=team.expert, name="x.csv", data=second_file)
    assert peek.inspection["mapping_source"] == "remembered"
    second = import_file(
        session, dataset=team.dataset, user=team.expert, name="second.csv", data=second_file
    )
    examples = _examples(session, team.dataset)
    old = next(e for e in examples if e.upload_id == first.id and e.source_row == 3)
    new = next(e for e in examples if e.upload_id == second.id and e.source_row == 3)
    assert old.issues[0]["code"] == "exact_duplicate"
    assert old.issues[0]["related_rows"] == [[3, f"u{second.id}"]]
    assert new.issues[0]["related_rows"] == [[3, f"u{first.id}"]]
    from app.datasets.report import rows as report_rows

    [view] = report_rows.row_views(session, team.dataset.id, [new])
    assert view.findings[0].message.startswith("This example is the same as row 3 in first.csv")
    assert [r.label for r in view.findings[0].related] == ["first.csv, row 3"]
    assert view.findings[0].related[0].example_id == old.id
    assert summarize(session, team.dataset).exact_groups == 1


def _cut_sheet(book: bytes) -> bytes:
    """The workbook with its sheet's XML cut off at two thirds: it opens, and the first rows
    read fine, but it breaks long before the end."""
    source = zipfile.ZipFile(io.BytesIO(book))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                data = data[: len(data) * 2 // 3]
            target.writestr(item, data)
    return out.getvalue()


def test_a_broken_file_leaves_nothing_but_its_error_report(session: Session, team: Team) -> None:
    good = csv_bytes([["question", "answer"], *[[q, a] for q, a in distinct_rows(2)]])
    import_file(session, dataset=team.dataset, user=team.expert, name="ok.csv", data=good)
    before = len(_examples(session, team.dataset))
    broken = _cut_sheet(workbook({"FAQ": [["question", "answer"], *distinct_rows(3000)]}))
    peek = receive(session, dataset=team.dataset, user=team.expert, name="cut.xlsx", data=broken)
    assert not peek.inspection["blocking"] and len(peek.inspection["examples"]) == 10
    upload = import_file(
        session, dataset=team.dataset, user=team.expert, name="cut.xlsx", data=broken
    )
    assert upload.status == UploadStatus.FAILED
    assert upload.error is not None and upload.error["code"] == "workbook_unreadable"
    assert len(_examples(session, team.dataset)) == before  # not one row of the 2,000 read
    report_rows = list(
        session.scalars(select(DatasetFinding).where(DatasetFinding.upload_id == upload.id))
    )
    assert report_rows and all(r.example_id is None for r in report_rows)
    assert not storage.absolute(upload.stored_path).exists()
    # The dataset's report does not count the failed file.
    assert summarize(session, team.dataset).rows == before


def test_a_csv_that_stops_being_csv_is_refused_whole(session: Session, team: Team) -> None:
    lines = ["question,answer"] + [f'"q{i}","a{i}"' for i in range(10)]
    lines += ['"unclosed,' + "x" * 10 + '"y' for _ in range(60)]
    upload = import_file(
        session,
        dataset=team.dataset,
        user=team.expert,
        name="bad.csv",
        data="\n".join(lines).encode(),
        columns={"input": "question", "output": "answer"},
    )
    assert upload.status == "failed" and upload.error
    assert upload.error["code"] == "too_many_errors"
    assert _examples(session, team.dataset) == []


def test_files_over_the_limit_are_refused_with_the_limit(
    session: Session, team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "max_upload_mb", 1)
    data = csv_bytes([["question", "answer"], ["q", "a" * (1024 * 1024)]])
    stored = set(Path(storage.uploads_dir()).glob("*"))
    with pytest.raises(ValidationFailed) as refused:
        receive(session, dataset=team.dataset, user=team.expert, name="big.csv", data=data)
    assert "larger than the limit of 1 MB" in refused.value.errors["file"]
    assert set(Path(storage.uploads_dir()).glob("*")) == stored  # nothing kept


def test_a_test_file_marks_every_row_as_held_out(session: Session, team: Team) -> None:
    data = jsonl({"text_input": q, "output": a} for q, a in distinct_rows(3))
    import_file(
        session, dataset=team.dataset, user=team.expert, name="t.jsonl", data=data, split="test"
    )
    assert {e.split for e in _examples(session, team.dataset)} == {"test"}


def test_confirming_records_the_upload_in_the_change_log(session: Session, team: Team) -> None:
    import_file(
        session,
        dataset=team.dataset,
        user=team.expert,
        name="a.csv",
        data=csv_bytes([["question", "answer"], ["q?", "a."]]),
    )
    [entry] = session.scalars(select(DatasetChange)).all()
    assert (entry.action, entry.actor_id) == ("upload", team.expert.id)
    assert entry.after["file"] == "a.csv"


def test_examples_without_errors_enter_the_review_queue(session: Session, team: Team) -> None:
    data = csv_bytes([["question", "answer"], ["Ok?", "Yes."], ["", "No question."]])
    import_file(session, dataset=team.dataset, user=team.expert, name="q.csv", data=data)
    counts = dict(
        session.execute(select(Example.status, func.count()).group_by(Example.status)).all()
    )
    assert counts == {ExampleStatus.PENDING: 1, ExampleStatus.DRAFT: 1}
    pending = session.scalar(select(Example).where(Example.status == "pending"))
    assert pending is not None and pending.submitted_at is not None


def test_a_workbook_saved_on_its_cover_sheet_opens_on_the_sheet_with_examples(
    session: Session, team: Team
) -> None:
    data = workbook(
        {
            "Read me": [["How to fill in the FAQ sheet"]],
            "FAQ": [["質問", "回答"], ["送料は？", "550円です。"]],
        },
        active="Read me",
    )
    upload = receive(session, dataset=team.dataset, user=team.expert, name="b.xlsx", data=data)
    assert upload.inspection["sheet"] == "FAQ" and upload.inspection["sheet_chosen_for_you"]
    assert not upload.inspection["blocking"]
    assert upload.inspection["mapping"]["output"] == "回答"


REQUIRED_CODES = {
    "invalid_json",
    "unknown_schema",
    "empty_input",
    "empty_output",
    "bad_role",
    "bad_role_order",
    "too_long",
    "exact_duplicate",
    "near_duplicate",
    "conflict",
    "pii_email",
    "pii_phone",
    "pii_credit_card",
    "pii_my_number",
    "mojibake",
    "non_text_value",
    "whitespace",
    "control_chars",
}


def test_every_required_code_reaches_the_report(session: Session, team: Team) -> None:
    """Three files of one dataset, as Excel and chat tools write them, imported through the app:
    every finding code of the issue is in the report's index."""
    near = (
        "ご注文の商品は通常、ご入金の確認後三営業日以内に発送いたします。お届けまでの日数は"
        "地域によって異なりますので、配送状況は会員ページからご確認ください。"
    )
    garbled = "ありがとうございます".encode().decode("cp932", errors="ignore")
    rows = [
        ["質問", "回答"],
        ["", "回答だけがあります。"],
        ["質問だけがあります。", ""],
        ["送料はいくらですか？", "全国一律550円です。"],
        ["送料はいくらですか?", "全国一律５５０円です。"],
        ["配送にはどのくらいかかりますか？", near],
        ["配送にはどのくらいかかりますか", near.replace("三営業日", "3営業日")],
        ["返品できますか？", "到着後14日以内なら返品できます。"],
        ["返品できますか？", "返品は一切お受けしておりません。"],
        ["連絡先は？", "tanaka@example.jp までご連絡ください。"],
        ["電話番号は？", "03-1234-5678 までお電話ください。"],
        ["カードは？", "4111 1111 1111 1111 で登録済みです。"],
        ["マイナンバーは？", "123456789018 です。"],
        ["  空白つきの質問", "空白の回答です。"],
        ["文字化けは？", garbled],
        ["長い回答は？", "長" * 131_100],
    ]
    import_file(
        session,
        dataset=team.dataset,
        user=team.expert,
        name="faq.csv",
        data=csv_bytes(rows, "cp932"),
    )
    book = workbook(
        {"Notes": [["see the other sheet"]], "FAQ": [["question", "answer"], ["Price?", 42]]},
        active="FAQ",
    )
    import_file(session, dataset=team.dataset, user=team.expert, name="faq.xlsx", data=book)
    lines = jsonl(
        [
            {"messages": [{"role": "user", "content": "Hi"}, {"role": "tool", "content": "x"}]},
            {"contents": [{"role": "model", "parts": [{"text": "Hello"}]}]},
            {"text_input": "Zero\u200bwidth?", "output": "Yes."},
            {"question": "q", "answer": "a"},
        ]
    )
    import_file(
        session, dataset=team.dataset, user=team.expert, name="chat.jsonl", data=lines + b"{oops\n"
    )
    found = set(session.scalars(select(DatasetFinding.code)))
    assert found >= REQUIRED_CODES, REQUIRED_CODES - found


def test_the_uploader_is_told_when_the_import_ends(session: Session, team: Team) -> None:
    from app.notifications.models import Notification
    from app.notifications.service import render

    data = csv_bytes([["question", "answer"], ["q?", "a."], ["", "x"]])
    import_file(session, dataset=team.dataset, user=team.expert, name="n.csv", data=data)
    [notice] = session.scalars(select(Notification)).all()
    assert notice.user_id == team.expert.id and notice.kind == "datasets.import_ready"
    title, body = render(notice)
    assert title == "n.csv is imported"
    assert body == "2 rows of n.csv were added to FAQ: 1 usable, 1 with errors to fix."
