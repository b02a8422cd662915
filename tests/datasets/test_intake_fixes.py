"""Fixing rows of the report: every fix changes the counts at once, is recorded (who, when,
before and after), and the dataset-wide recheck confirms the relations afterwards."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import AuditEvent
from app.datasets.checking import check_status, recheck
from app.datasets.editing import bulk, conflicts, examples, fixes, redaction
from app.datasets.intake.samples import SAMPLES_DIR
from app.datasets.models import (
    CheckStatus,
    Dataset,
    DatasetChange,
    DatasetFinding,
    Example,
    ExampleRevision,
    ExampleStatus,
)
from app.datasets.report.summary import summarize
from app.errors import Conflict
from tests.datasets.conftest import Team
from tests.datasets.factories import csv_bytes, distinct_rows, import_file
from tests.datasets.support import jsonl


@pytest.fixture
def faq(session: Session, team: Team) -> Dataset:
    """The Japanese sample FAQ, imported: planted duplicate 51/68, conflict 50/73, e-mail 165,
    phone 169, empty answer 179."""
    data = Path(SAMPLES_DIR / "support_faq_ja.csv").read_bytes()
    import_file(session, dataset=team.dataset, user=team.expert, name="faq.csv", data=data)
    return team.dataset


def row(session: Session, dataset: Dataset, number: int) -> Example:
    found = session.scalar(
        select(Example).where(Example.dataset_id == dataset.id, Example.source_row == number)
    )
    assert found is not None
    return found


def codes(example: Example) -> list[str]:
    return sorted(issue["code"] for issue in example.issues)


def test_an_inline_edit_fixes_the_row_and_is_recorded(
    session: Session, team: Team, faq: Dataset
) -> None:
    empty = row(session, faq, 179)
    assert empty.status == ExampleStatus.DRAFT and codes(empty) == ["empty_output"]
    assert summarize(session, faq).with_errors == 1
    question = empty.turns[0]["text"]
    change = examples.Change(
        turns=[
            {"role": "user", "text": question},
            {"role": "model", "text": "福袋の販売は、毎年1月1日からの予定です。"},
        ]
    )
    assert fixes.edit(session, actor=team.expert, dataset=faq, example=empty, change=change)
    session.commit()
    assert empty.status == ExampleStatus.PENDING and empty.issues == []
    assert (
        session.scalars(select(DatasetFinding).where(DatasetFinding.example_id == empty.id)).all()
        == []
    )
    summary = summarize(session, faq)
    assert (summary.with_errors, summary.usable) == (0, 187)
    [entry] = session.scalars(select(DatasetChange).where(DatasetChange.action == "edit")).all()
    assert (entry.actor_id, entry.row, entry.example_id) == (team.expert.id, 179, empty.id)
    assert entry.before["turns"][1]["text"] == "" and entry.before["status"] == "draft"
    assert (
        entry.after["turns"][1]["text"].startswith("福袋の販売は")
        and entry.after["status"] == "pending"
    )
    assert [r.kind for r in examples.history(session, example_id=empty.id)] == ["edit"]
    assert session.get(Dataset, faq.id).check_status == CheckStatus.PENDING  # type: ignore[union-attr]


def test_an_edit_that_breaks_a_row_sends_it_back_to_draft(
    session: Session, team: Team, faq: Dataset
) -> None:
    ok = row(session, faq, 2)
    fixes.edit(
        session,
        actor=team.expert,
        dataset=faq,
        example=ok,
        change=examples.Change(
            turns=[{"role": "user", "text": ok.turns[0]["text"]}, {"role": "model", "text": " "}]
        ),
    )
    assert ok.status == ExampleStatus.DRAFT and "empty_output" in codes(ok)


def test_keep_one_of_a_duplicate_group(session: Session, team: Team, faq: Dataset) -> None:
    kept, copy = row(session, faq, 51), row(session, faq, 68)
    assert "exact_duplicate" in codes(kept)
    before = summarize(session, faq)
    assert before.exact_groups == 1
    assert fixes.keep_one(session, actor=team.expert, dataset=faq, example=kept) == 1
    session.commit()
    assert copy.status == ExampleStatus.EXCLUDED
    assert "exact_duplicate" not in codes(kept)
    after = summarize(session, faq)
    assert (after.exact_groups, after.excluded, after.with_warnings) == (
        0,
        1,
        before.with_warnings - 2,
    )
    [entry] = session.scalars(select(DatasetChange).where(DatasetChange.action == "keep_one")).all()
    assert entry.example_id == copy.id and entry.after["status"] == "excluded"
    assert entry.after["why"] == {"code": "kept_row", "row": 51}
    with pytest.raises(Conflict):
        fixes.keep_one(session, actor=team.expert, dataset=faq, example=kept)


def test_exclude_and_include_again(session: Session, team: Team, faq: Dataset) -> None:
    fifty = row(session, faq, 50)
    fixes.exclude(session, actor=team.expert, dataset=faq, example=fifty)
    assert "conflict" not in codes(row(session, faq, 73))
    assert summarize(session, faq).conflict_groups == 0
    fixes.include(session, actor=team.expert, dataset=faq, example=fifty)
    session.commit()
    assert fifty.status == ExampleStatus.PENDING
    # The relation comes back with the dataset-wide recheck (the worker's task).
    assert recheck.recheck_dataset(faq.id).startswith("checked 187 examples")
    session.expire_all()
    assert "conflict" in codes(row(session, faq, 73))
    assert session.get(Dataset, faq.id).check_status == CheckStatus.CURRENT  # type: ignore[union-attr]
    actions = [c.action for c in session.scalars(select(DatasetChange).order_by(DatasetChange.id))]
    assert actions[-2:] == ["exclude", "include"]


def test_resolve_a_conflict_by_picking_and_editing_the_answer(
    session: Session, team: Team, faq: Dataset
) -> None:
    right, wrong = row(session, faq, 50), row(session, faq, 73)
    answer = right.turns[1]["text"] + "（開封済みの商品は対象外です。）"
    count = conflicts.resolve_conflict(
        session, actor=team.expert, dataset=faq, chosen=right, answer=answer, others="exclude"
    )
    session.commit()
    assert count == 2
    assert right.turns[1]["text"] == answer and "conflict" not in codes(right)
    assert wrong.status == ExampleStatus.EXCLUDED
    assert summarize(session, faq).conflict_groups == 0
    entries = session.scalars(
        select(DatasetChange).where(DatasetChange.action == "resolve_conflict")
    ).all()
    assert {e.example_id for e in entries} == {right.id, wrong.id}
    assert len({e.batch for e in entries}) == 1


def test_resolve_a_conflict_by_giving_every_wording_the_right_answer(
    session: Session, team: Team
) -> None:
    lines = [
        {
            "text_input": "How long is the warranty on the Breeze kettle, please?",
            "output": "One year from the date of purchase, and you can extend it to three.",
        },
        {
            "text_input": "How long is the warranty on the Breeze kettle?",
            "output": "There is no warranty on kettles; please buy insurance instead.",
        },
        *({"text_input": q, "output": a} for q, a in distinct_rows(3)),
    ]
    import_file(session, dataset=team.dataset, user=team.expert, name="k.jsonl", data=jsonl(lines))
    first, second = row(session, team.dataset, 1), row(session, team.dataset, 2)
    assert "conflict" in codes(first) and "conflict" in codes(second)
    conflicts.resolve_conflict(
        session,
        actor=team.expert,
        dataset=team.dataset,
        chosen=first,
        answer=first.turns[1]["text"],
        others="apply",
    )
    session.commit()
    assert second.status != ExampleStatus.EXCLUDED
    assert second.turns[1]["text"] == first.turns[1]["text"]
    assert second.turns[0]["text"] == "How long is the warranty on the Breeze kettle?"
    assert "conflict" not in codes(first) + codes(second)
    assert summarize(session, team.dataset).conflict_groups == 0


def _everything_stored(session: Session) -> str:
    revisions = session.scalars(select(ExampleRevision)).all()
    logged = session.scalars(select(DatasetChange)).all()
    audit = session.scalars(select(AuditEvent)).all()
    rows = session.scalars(select(Example)).all()
    index = session.scalars(select(DatasetFinding)).all()
    return json.dumps(
        [
            [[r.before, r.after] for r in revisions],
            [[c.before, c.after, c.note] for c in logged],
            [[a.summary, a.details] for a in audit],
            [[e.turns, e.issues] for e in rows],
            [[f.params] for f in index],
        ],
        ensure_ascii=False,
    )


def test_redaction_keeps_no_original(session: Session, team: Team, faq: Dataset) -> None:
    mail = row(session, faq, 165)
    original = mail.turns[1]["text"]
    # An earlier edit put the address in the history too.
    fixes.edit(
        session,
        actor=team.expert,
        dataset=faq,
        example=mail,
        change=examples.Change(turns=[mail.turns[0], {"role": "model", "text": original + "！"}]),
    )
    assert redaction.redact(session, actor=team.manager, dataset=faq, example=mail) == 1
    session.commit()
    assert "[EMAIL]" in mail.turns[1]["text"] and "t.yamada@example.jp" not in mail.turns[1]["text"]
    assert "pii_email" not in codes(mail)
    stored = _everything_stored(session)
    assert "t.yamada@example.jp" not in stored
    assert "•" * len("t.yamada@example.jp") in stored  # the history shows where it was
    assert summarize(session, faq).pii == 1  # the phone number of row 169 is left
    entry = session.scalars(select(DatasetChange).where(DatasetChange.action == "redact")).one()
    assert entry.actor_id == team.manager.id


def test_bulk_actions(session: Session, team: Team, faq: Dataset) -> None:
    assert bulk.redact_all(session, actor=team.expert, dataset=faq) == 2
    assert bulk.keep_first_duplicates(session, actor=team.expert, dataset=faq) == 1
    assert row(session, faq, 51).status != ExampleStatus.EXCLUDED
    assert row(session, faq, 68).status == ExampleStatus.EXCLUDED
    assert bulk.exclude_errors(session, actor=team.expert, dataset=faq) == 1
    session.commit()
    summary = summarize(session, faq)
    assert (summary.pii, summary.exact_groups, summary.with_errors, summary.excluded) == (
        0,
        0,
        0,
        2,
    )
    assert "090-0123-4567" not in _everything_stored(session)
    batches = {
        c.action: c.batch for c in session.scalars(select(DatasetChange)) if c.action != "upload"
    }
    assert set(batches) == {"redact", "keep_one", "exclude"} and all(batches.values())


def test_the_recheck_finds_duplicates_an_edit_created(session: Session, team: Team) -> None:
    pairs = distinct_rows(4)
    data = csv_bytes([["question", "answer"], *[[q, a] for q, a in pairs]])
    import_file(session, dataset=team.dataset, user=team.expert, name="d.csv", data=data)
    second = row(session, team.dataset, 3)
    fixes.edit(
        session,
        actor=team.expert,
        dataset=team.dataset,
        example=second,
        change=examples.Change(
            turns=[{"role": "user", "text": pairs[0][0]}, {"role": "model", "text": pairs[0][1]}]
        ),
    )
    session.commit()
    assert summarize(session, team.dataset).exact_groups == 0  # not yet: relations wait
    recheck.recheck_dataset(team.dataset.id)
    session.expire_all()
    assert codes(row(session, team.dataset, 2)) == ["exact_duplicate"]
    assert codes(row(session, team.dataset, 3)) == ["exact_duplicate"]
    assert summarize(session, team.dataset).exact_groups == 1
    assert recheck.recheck_dataset(team.dataset.id) == "current"


def test_an_unreadable_row_can_be_ignored(session: Session, team: Team) -> None:
    data = jsonl([{"text_input": "q?", "output": "a."}]) + b"{broken\n"
    import_file(session, dataset=team.dataset, user=team.expert, name="b.jsonl", data=data)
    assert summarize(session, team.dataset).with_errors == 1
    [broken] = session.scalars(select(DatasetFinding).where(DatasetFinding.example_id.is_(None)))
    fixes.dismiss_row(session, actor=team.expert, dataset=team.dataset, finding_id=broken.id)
    session.commit()
    summary = summarize(session, team.dataset)
    assert (summary.with_errors, summary.rows) == (0, 2)
    entry = session.scalars(
        select(DatasetChange).where(DatasetChange.action == "dismiss_row")
    ).one()
    assert (entry.row, entry.before["code"]) == (2, "invalid_json")


def test_examples_written_elsewhere_join_the_report_at_the_next_recheck(
    session: Session, team: Team
) -> None:
    from tests.factories import create_example

    manual = create_example(session, dataset=team.dataset, question="Hello", answer="")
    unindexed = select(DatasetFinding).where(DatasetFinding.example_id == manual.id)
    assert manual.issues and not session.scalars(unindexed).all()
    check_status.request(session, dataset_id=team.dataset.id)  # what the next change anywhere does
    session.commit()
    recheck.recheck_dataset(team.dataset.id)
    indexed = session.scalars(
        select(DatasetFinding.code).where(DatasetFinding.example_id == manual.id)
    ).all()
    assert indexed == ["empty_output"]
