"""The shared example-editing service: revisions, re-checks, refused roles."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from app.datasets.editing import examples
from app.errors import ValidationFailed
from tests.factories import create_dataset, create_example, create_project, create_user


def test_edit_records_a_revision_and_rechecks(session: Session) -> None:
    user = create_user(session)
    dataset = create_dataset(session, project=create_project(session))
    example = create_example(session, dataset=dataset, question="返品できますか？", answer="")
    examples.recheck(example)
    assert [issue["code"] for issue in example.issues] == ["empty_output"]
    old_hash = example.content_hash
    revision = examples.edit(
        session,
        example=example,
        actor=user,
        kind="edit",
        note="answer written",
        change=examples.Change(
            turns=[
                {"role": "user", "text": "返品できますか？"},
                {"role": "model", "text": "到着後14日以内なら返品できます。"},
            ]
        ),
    )
    session.commit()
    assert revision is not None and revision.revision == 2 == example.revision
    assert revision.before["turns"][1]["text"] == ""
    assert revision.after["turns"][1]["text"] == "到着後14日以内なら返品できます。"
    assert example.issues == [] and example.error_count == 0
    assert example.content_hash != old_hash and len(example.content_hash) == 32
    assert example.token_estimate > 0
    assert [r.kind for r in examples.history(session, example_id=example.id)] == ["edit"]


def test_unchanged_content_writes_no_revision(session: Session) -> None:
    dataset = create_dataset(session, project=create_project(session))
    example = create_example(session, dataset=dataset, tag="billing")
    assert (
        examples.edit(session, example=example, actor=None, change=examples.Change(tag="billing"))
        is None
    )
    assert example.revision == 1


def test_dataset_wide_findings_survive_a_single_recheck(session: Session) -> None:
    dataset = create_dataset(session, project=create_project(session))
    example = create_example(session, dataset=dataset)
    example.issues = [
        {
            "code": "exact_duplicate",
            "severity": "warning",
            "row": 3,
            "related_rows": [[7, ""]],
            "params": {},
        }
    ]
    examples.recheck(example)
    assert [issue["code"] for issue in example.issues] == ["exact_duplicate"]
    assert example.warning_count == 1


def test_full_width_and_spacing_variants_hash_alike(session: Session) -> None:
    dataset = create_dataset(session, project=create_project(session))
    first = create_example(session, dataset=dataset, question="送料は？", answer="５００円です。")
    second = create_example(session, dataset=dataset, question=" 送料は？ ", answer="500円です。")
    examples.recheck(first)
    examples.recheck(second)
    assert first.content_hash == second.content_hash


def test_unknown_roles_are_refused_with_a_message(session: Session) -> None:
    dataset = create_dataset(session, project=create_project(session))
    example = create_example(session, dataset=dataset)
    with pytest.raises(ValidationFailed, match="use user"):
        examples.edit(
            session,
            example=example,
            actor=None,
            change=examples.Change(turns=[{"role": "assistant", "text": "x"}]),
        )
