"""Writing examples: manual entry, the rejection round trip (returned → fixed → resubmitted →
approved), reviewer edits as revisions, versions untouched by later edits, and the exported
training file read back by the intake checker without a single finding."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.datasets.models import Dataset, Example, ExampleRevision, ExampleStatus
from app.datasets.quality.checks import check_examples
from app.datasets.reading.files import read_file
from app.datasets.records import ExampleDraft
from app.datasets.versions import service
from app.notifications.models import Notification
from app.review import authoring
from app.review.example_form import parse
from tests.review.factories import approved_set, pending, team
from tests.support import get_page, login, soup, text_of, toasts


def _answer(example: Example) -> str:
    return example.turns[-1]["text"]


class TestManualEntry:
    def test_an_expert_adds_an_example_that_enters_the_queue(
        self, client: TestClient, session: Session, htmx: bool
    ) -> None:
        t = team(session)
        login(client, t.expert)
        form = soup(get_page(client, f"/projects/{t.project.id}/my-examples/new", htmx))
        assert form.select_one("#f-turn-0") is not None and form.select_one("#f-turn-1")
        response = client.post(
            f"/projects/{t.project.id}/my-examples",
            data={
                "turn_role": ["user", "model"],
                "dataset_id": str(t.dataset.id),
                "turn_text": ["領収書は発行できますか？", "はい、マイページから発行できます。"],
                "tag": "billing",
                "split": "",
                "then": "another",
            },
        )
        assert response.status_code == 303
        assert response.headers["location"] == f"/projects/{t.project.id}/my-examples/new"
        example = session.scalar(select(Example))
        assert example is not None
        assert (example.status, example.origin, example.author_id, example.tag) == (
            "pending",
            "manual",
            t.expert.id,
            "billing",
        )
        assert example.content_hash and example.prompt_hash and example.token_estimate > 0
        assert example.submitted_at is not None
        # The dataset-wide duplicate and conflict check is due again.
        session.expire_all()
        dataset = session.get(Dataset, t.dataset.id)
        assert dataset is not None and dataset.check_status == "pending"
        assert dataset.check_requested >= 1
        login(client, t.reviewer)
        card = soup(client.get(f"/projects/{t.project.id}/review/examples/{example.id}"))
        assert card.select_one(".origin-manual").get_text(strip=True) == "Added by hand"

    def test_empty_texts_come_back_with_messages(
        self, client: TestClient, session: Session
    ) -> None:
        t = team(session)
        login(client, t.expert)
        response = client.post(
            f"/projects/{t.project.id}/my-examples",
            data={"turn_role": ["user", "model"], "turn_text": ["Where is my order?", "  "]},
        )
        assert response.status_code == 422
        page = soup(response)
        assert "Write the answer" in page.select_one("#f-turn-1-error").get_text()
        assert page.select_one("#f-turn-0").get_text() == "Where is my order?"
        assert session.scalar(select(Example)) is None

    def test_a_project_without_a_dataset_gets_one(self, session: Session) -> None:
        t = team(session)
        session.delete(t.dataset)
        session.commit()
        form = parse(
            system_instruction="", roles=["user", "model"], texts=["Q?", "A."], tag="", split="test"
        )
        example = authoring.add_example(session, actor=t.expert, project=t.project, form=form)
        session.commit()
        assert example.split == "test" and example.dataset_id is not None


class TestRoundTrip:
    def test_returned_fixed_resubmitted_approved(
        self, client: TestClient, session: Session
    ) -> None:
        t = team(session)
        example = pending(
            session, t, question="Can I return a gift?", answer="Returns cost 100 yen."
        )
        card_url = f"/projects/{t.project.id}/review/examples/{example.id}"
        login(client, t.reviewer)
        client.post(
            f"{card_url}/reject", data={"revision": "1", "reason": "Gift returns are free."}
        )

        login(client, t.expert)
        mine = soup(client.get(f"/projects/{t.project.id}/my-examples"))
        returned = mine.select_one(f"#returned-{example.id}")
        assert "Gift returns are free." in returned.get_text()
        assert t.reviewer.name in returned.get_text()
        note = session.scalar(select(Notification).where(Notification.user_id == t.expert.id))
        assert note is not None and note.link.endswith(f"/my-examples/{example.id}/edit")
        edit = soup(client.get(note.link))
        assert "Gift returns are free." in edit.select_one("#return-reason").get_text()
        saved = client.post(
            note.link,
            data={
                "revision": "1",
                "turn_role": ["user", "model"],
                "turn_text": ["Can I return a gift?", "Yes, gift returns are free of charge."],
                "note": "Fixed the fee.",
            },
        )
        assert saved.status_code == 303
        assert f"Example #{example.id} was resubmitted for review." in toasts(client.get("/"))
        session.refresh(example)
        assert (example.status, example.revision) == ("pending", 2)
        revision = session.scalar(select(ExampleRevision))
        assert revision is not None and (revision.kind, revision.actor_id, revision.note) == (
            "resubmit",
            t.expert.id,
            "Fixed the fee.",
        )
        assert revision.before["turns"][1]["text"] == "Returns cost 100 yen."

        login(client, t.reviewer)
        card = soup(client.get(card_url))
        assert "Gift returns are free." in card.select_one(".returned-before").get_text()
        stale = client.post(f"{card_url}/approve", data={"revision": "1"})
        assert stale.status_code == 409 and "changed after you opened it" in text_of(stale)
        assert client.post(f"{card_url}/approve", data={"revision": "2"}).status_code == 303
        session.refresh(example)
        assert example.status == ExampleStatus.APPROVED

        history = soup(client.get(f"{card_url}/history"))
        kinds = [li["class"][1] for li in history.select("#timeline li")]
        assert kinds == ["kind-created", "kind-reject", "kind-resubmit", "kind-approve"]
        assert "free of charge" in history.select_one("#timeline .kind-resubmit").get_text()

    def test_only_the_author_edits_from_my_examples(
        self, client: TestClient, session: Session
    ) -> None:
        t = team(session)
        example = pending(session, t, author=t.second_reviewer)
        login(client, t.expert)
        response = client.get(f"/projects/{t.project.id}/my-examples/{example.id}/edit")
        assert response.status_code == 403 and "Only the author" in text_of(response)


class TestReviewerEdits:
    def test_save_and_approve_keeps_a_revision_by_the_reviewer(
        self, client: TestClient, session: Session
    ) -> None:
        t = team(session)
        example = pending(session, t, question="Opening hours?", answer="9-5")
        login(client, t.reviewer)
        url = f"/projects/{t.project.id}/review/examples/{example.id}/edit"
        assert soup(client.get(url)).select_one("#save-approve") is not None
        response = client.post(
            url,
            data={
                "revision": "1",
                "turn_role": ["user", "model"],
                "turn_text": ["Opening hours?", "We are open from 9:00 to 17:00 on weekdays."],
                "then": "approve",
            },
        )
        assert response.status_code == 303
        session.refresh(example)
        assert (example.status, example.revision, example.author_id) == ("approved", 2, t.expert.id)
        revision = session.scalar(select(ExampleRevision))
        assert revision is not None and (revision.kind, revision.actor_id) == (
            "review_edit",
            t.reviewer.id,
        )

    def test_an_edit_invalidates_earlier_approvals(self, session: Session) -> None:
        t = team(session, approvals_required=2)
        example = pending(session, t)
        from app.review import decisions

        decisions.approve(
            session, actor=t.reviewer, project=t.project, example_id=example.id, revision=1
        )
        form = parse(
            system_instruction="",
            roles=["user", "model"],
            texts=[example.turns[0]["text"], "A better answer."],
            tag="",
            split="",
        )
        authoring.save_by_reviewer(
            session, actor=t.second_reviewer, example=example, revision=1, form=form
        )
        session.commit()
        outcome = decisions.approve(
            session, actor=t.reviewer, project=t.project, example_id=example.id, revision=2
        )
        assert (outcome.status, outcome.approvals) == ("pending", 1)


class TestVersionsAndEdits:
    def test_later_edits_never_change_an_existing_version(self, session: Session) -> None:
        t = team(session)
        examples = approved_set(session, t, 10)
        target = examples[0]
        original = _answer(target)
        version = service.create_version(
            session, actor=t.manager, dataset=t.dataset, request=service.VersionRequest()
        )
        session.commit()
        files = {split: service.file_path(version, split).read_bytes() for split in version.files}
        form = parse(
            system_instruction="",
            roles=["user", "model"],
            texts=[target.turns[0]["text"], "Edited after the version."],
            tag="",
            split="",
        )
        authoring.save_by_reviewer(session, actor=t.reviewer, example=target, revision=1, form=form)
        session.commit()
        session.refresh(version)
        frozen = {f.example_id: f for f in service.frozen_examples(session, version_id=version.id)}
        assert frozen[target.id].content["turns"][1]["text"] == original
        assert frozen[target.id].revision == 1
        for split, data in files.items():
            assert service.file_path(version, split).read_bytes() == data
            assert b"Edited after the version." not in data
        assert target.status == ExampleStatus.PENDING  # changed content is reviewed again

    def test_the_exported_jsonl_round_trips_through_the_intake_checker(
        self, session: Session
    ) -> None:
        t = team(session)
        approved_set(session, t, 25)
        for question, answer in [
            ("営業時間を教えてください。", "平日の9時から18時まで営業しております。"),
            ("ギフト包装はできますか？", "はい、1点につき200円で承ります。"),
        ]:
            pending(session, t, question=question, answer=answer, status=ExampleStatus.APPROVED)
        multi = pending(session, t, status=ExampleStatus.APPROVED)
        multi.system_instruction = "You answer for Example Shop, politely and briefly."
        multi.turns = [
            {"role": "user", "text": "Do you sell umbrellas?"},
            {"role": "model", "text": "Yes, in the rain goods corner."},
            {"role": "user", "text": "How much is the cheapest one?"},
            {"role": "model", "text": "The folding umbrella costs 1,200 yen."},
        ]
        session.commit()
        version = service.create_version(
            session, actor=t.manager, dataset=t.dataset, request=service.VersionRequest()
        )
        session.commit()
        for split in service.training_files(version):
            path = service.file_path(version, split)
            items = list(read_file(path))
            drafts = [item for item in items if isinstance(item, ExampleDraft)]
            reader_findings = [item for item in items if not isinstance(item, ExampleDraft)]
            assert len(drafts) == version.counts[split]
            report = check_examples(drafts, reader_findings=reader_findings)
            assert report.findings == [], [f.code for f in report.findings]
            assert report.usable == version.counts[split]
        frozen = {f.example_id: f for f in service.frozen_examples(session, version_id=version.id)}
        drafts = [
            d
            for split in service.training_files(version)
            for d in read_file(service.file_path(version, split))
            if isinstance(d, ExampleDraft)
        ]
        multi_draft = next(d for d in drafts if d.system)
        assert multi_draft.system == multi.system_instruction
        assert [turn.text for turn in multi_draft.turns] == [
            turn["text"] for turn in frozen[multi.id].content["turns"]
        ]
