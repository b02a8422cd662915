"""Finished evaluations built directly in the database with the real pure building blocks.

``finished_evaluation`` freezes a dataset version with a test split, then writes what a run
leaves behind: a baseline and a tuned candidate, one item per test question, both answers per
item scored with ``metrics.score_item``, a pairwise judge verdict built with
``judge.combine_orders`` and the stored summaries from ``aggregate.aggregate``. In the default
shape (20 items) the tuned model wins 15, ties 1 and loses 4 — all four on billing questions —
so the verdict is "better overall, worse on billing".
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.datasets.versions.models import DatasetVersion, DatasetVersionExample
from app.datasets.versions.service import VersionRequest, create_version
from app.db import utcnow
from app.evaluations.judge.protocol import Outcome, PairwiseReply, combine_orders
from app.evaluations.models import (
    CandidateKind,
    EvalCandidate,
    EvalItem,
    EvalOutput,
    EvalStatus,
    Evaluation,
    HumanVote,
    OutputStatus,
)
from app.evaluations.schemas import CandidateSummary, RunSummary
from app.evaluations.scoring import aggregate, metrics
from app.evaluations.scoring.stats import count_outcomes
from app.projects.models import Project
from app.tuning.models import JobState, TuningJob
from tests.factories import create_dataset, create_example
from tests.tuning.factories import job_row

_counter = itertools.count(1)


@dataclass(frozen=True)
class Topic:
    tag: str
    question: str
    reference: str
    tuned: str  # the tuned model's answer when it does well
    baseline: str  # the original model's generic answer
    wrong: str  # the tuned model's answer when it does worse


EN_TOPICS = (
    Topic(
        "shipping",
        "When will my order arrive?",
        "Orders ship within 2 business days and arrive 3 to 5 days later. Track them under "
        "My orders.",
        "Orders ship within 2 business days and usually arrive 3 to 5 days later. Track them "
        "under My orders.",
        "Delivery times vary. Please contact the seller for more information about your order.",
        "Orders arrive the same day.",
    ),
    Topic(
        "shipping",
        "Do you ship abroad?",
        "We ship to 40 countries; duties and taxes are shown at checkout before you pay.",
        "We ship to 40 countries; duties are shown at checkout before you pay.",
        "Many online shops ship internationally. Check the store's shipping policy.",
        "We only ship within the country.",
    ),
    Topic(
        "shipping",
        "Can I change the delivery address?",
        "Yes, edit it under Account > Addresses until the order has shipped.",
        "Yes, you can edit it under Account > Addresses until the order has shipped.",
        "Address changes depend on the company. You may need to contact support.",
        "No, the address cannot be changed.",
    ),
    Topic(
        "shipping",
        "My parcel is damaged. What should I do?",
        "Send us a photo of the parcel within 7 days and we will replace the item for free.",
        "Send us a photo of the parcel within 7 days and we replace the item free of charge.",
        "Sorry to hear that. Contact the courier to file a claim for the damage.",
        "Damaged parcels are your responsibility.",
    ),
    Topic(
        "billing",
        "How do I get a refund?",
        "Request a refund under My orders within 30 days; the money is back on your card in "
        "5 business days.",
        "Request a refund under My orders within 30 days; the money returns to your card "
        "within 5 business days.",
        "Refund policies differ. Request a refund under My orders; the money is back on your "
        "card in some days.",
        "Refunds are not possible.",
    ),
    Topic(
        "billing",
        "Why was I charged twice?",
        "A second charge is a temporary hold that disappears within 3 days; only one payment "
        "is taken.",
        "The second charge is a temporary hold that disappears within 3 days; only one payment "
        "is taken.",
        "A second charge is usually a temporary hold; it disappears within days.",
        "You were charged for two orders.",
    ),
    Topic(
        "billing",
        "Can I pay by invoice?",
        "Business customers can pay by invoice within 14 days after a one-time credit check.",
        "Business customers can pay by invoice within 14 days after a one-time credit check.",
        "Invoice payment may be available for business customers after a credit check.",
        "Only credit cards are accepted.",
    ),
    Topic(
        "account",
        "How do I reset my password?",
        "Use the Forgot password link on the sign-in page; the email arrives within minutes.",
        "Use the Forgot password link on the sign-in page; the email arrives within a few minutes.",
        "Most websites offer a password reset option on their login page.",
        "Passwords cannot be reset.",
    ),
    Topic(
        "account",
        "How do I delete my account?",
        "Go to Account > Privacy and choose Delete account; your data is erased within 30 days.",
        "Go to Account > Privacy and choose Delete account; your data is erased within 30 days.",
        "You can usually delete your account in the settings of the service.",
        "Accounts cannot be deleted.",
    ),
    Topic(
        "account",
        "Can two people share one account?",
        "Each account is personal, but you can invite a family member under Account > Family.",
        "Each account is personal; you can invite a family member under Account > Family.",
        "Sharing accounts is often against the terms of service of most companies.",
        "Yes, share your password with them.",
    ),
)

JA_TOPICS = (
    Topic(
        "配送",
        "注文した商品はいつ届きますか？",
        "ご注文から2営業日以内に発送し、3〜5日でお届けします。「注文履歴」から追跡できます。",
        "ご注文から2営業日以内に発送し、通常3〜5日でお届けします。「注文履歴」から追跡できます。",
        "配送日数は販売者によって異なります。詳しくは販売者にお問い合わせください。",
        "当日中にお届けします。",
    ),
    Topic(
        "配送",
        "海外への発送はできますか？",
        "40か国へ発送しています。関税はお支払い前の確認画面に表示されます。",
        "40か国へ発送しております。関税はお支払い前の確認画面に表示されます。",
        "多くのショップは海外発送に対応しています。ショップの配送ポリシーをご確認ください。",
        "国内のみの発送となります。",
    ),
    Topic(
        "配送",
        "お届け先の住所を変更できますか？",
        "発送前であれば「アカウント」＞「住所」から変更できます。",
        "発送前であれば「アカウント」＞「住所」から変更いただけます。",
        "住所変更の可否は会社によって異なります。サポートにお問い合わせください。",
        "住所は変更できません。",
    ),
    Topic(
        "配送",
        "荷物が破損していました。どうすればよいですか？",
        "7日以内に荷物の写真をお送りください。無料で交換いたします。",
        "7日以内に荷物の写真をお送りいただければ、無料で交換いたします。",
        "ご迷惑をおかけしました。配送業者に損害の申告をしてください。",
        "破損はお客様の責任となります。",
    ),
    Topic(
        "請求",
        "返金はどうすれば受けられますか？",
        "30日以内に「注文履歴」から返金をお申し込みください。5営業日以内にカードへ返金されます。",
        "30日以内に「注文履歴」から返金をお申し込みください。5営業日以内にカードへ返金いたします。",
        "返金条件は店舗により異なります。「注文履歴」から返金をお申し込みください。",
        "返金はできません。",
    ),
    Topic(
        "請求",
        "二重に請求されています。なぜですか？",
        "2件目は一時的な与信で、3日以内に消えます。実際のお支払いは1回のみです。",
        "2件目は一時的な与信で、3日以内に消えます。お支払いは1回のみです。",
        "2件目の請求は一時的な与信であることが多く、数日で消えます。",
        "2回分のご注文として請求しております。",
    ),
    Topic(
        "請求",
        "請求書払いはできますか？",
        "法人のお客様は、初回の与信審査後に14日以内の請求書払いをご利用いただけます。",
        "法人のお客様は、初回の与信審査後に14日以内の請求書払いをご利用いただけます。",
        "法人のお客様は与信審査の後に請求書払いを利用できる場合があります。",
        "クレジットカードのみご利用いただけます。",
    ),
    Topic(
        "アカウント",
        "パスワードを再設定するには？",
        "ログイン画面の「パスワードをお忘れの方」から再設定できます。メールは数分で届きます。",
        "ログイン画面の「パスワードをお忘れの方」から再設定いただけます。メールは数分で届きます。",
        "多くのサイトではログイン画面にパスワード再設定の案内があります。",
        "パスワードは再設定できません。",
    ),
    Topic(
        "アカウント",
        "アカウントを削除するには？",
        "「アカウント」＞「プライバシー」から削除できます。データは30日以内に消去されます。",
        "「アカウント」＞「プライバシー」から削除できます。データは30日以内に消去されます。",
        "通常はサービスの設定画面からアカウントを削除できます。",
        "アカウントは削除できません。",
    ),
    Topic(
        "アカウント",
        "家族と1つのアカウントを共有できますか？",
        "アカウントは個人用ですが、「アカウント」＞「家族」からご家族を招待できます。",
        "アカウントは個人用ですが、「アカウント」＞「家族」からご家族を招待いただけます。",
        "アカウントの共有は多くのサービスで利用規約違反となります。",
        "はい、パスワードを共有してください。",
    ),
)

# Item positions (of the default 20) where the tuned model is worse: four of the six billing
# questions. Position 9 is a tie (the judge changed its mind when the answers were swapped).
WORSE_POSITIONS = frozenset({4, 5, 14, 15})
TIE_POSITIONS = frozenset({9})


@dataclass
class Built:
    evaluation: Evaluation
    baseline: EvalCandidate
    tuned: EvalCandidate
    items: list[EvalItem]
    version: DatasetVersion
    job: TuningJob | None


def eval_version(
    session: Session,
    *,
    project: Project,
    actor: User,
    count: int = 20,
    language: str = "en",
    dataset_name: str = "Support FAQ",
) -> DatasetVersion:
    """A version with a few training examples and ``count`` test questions from the topics."""
    topics = JA_TOPICS if language == "ja" else EN_TOPICS
    dataset = create_dataset(session, project=project, name=dataset_name)
    for _ in range(3):
        create_example(session, dataset=dataset, split="train")
    for index in range(count):
        topic = topics[index % len(topics)]
        suffix = "" if index < len(topics) else f" ({index // len(topics) + 1})"
        create_example(
            session,
            dataset=dataset,
            question=f"{topic.question}{suffix}",
            answer=topic.reference,
            tag=topic.tag,
            split="test",
        )
    version = create_version(session, actor=actor, dataset=dataset, request=VersionRequest())
    session.commit()
    return version


def _verdict(winner: str, tie_by_disagreement: bool, language: str) -> dict[str, object]:
    """A judge verdict in both orders (first: A = baseline, second: A = tuned)."""
    reasons = {
        ("en", "tuned"): "The tuned answer states the policy with the right figures.",
        ("en", "baseline"): "The original answer is closer to the reference; the other is wrong.",
        ("ja", "tuned"): "チューニング済みの回答は正しい数値で方針を説明しています。",
        ("ja", "baseline"): "元のモデルの回答の方が参照回答に近く、もう一方は誤りです。",
    }
    if tie_by_disagreement:
        first, second = Outcome.B, Outcome.B  # B is tuned, then B is baseline: no agreement
    elif winner == "tuned":
        first, second = Outcome.B, Outcome.A
    else:
        first, second = Outcome.A, Outcome.B
    reason = reasons[(language, "tuned" if first == Outcome.B else "baseline")]
    verdict = combine_orders(
        PairwiseReply(outcome=first, reason=reason, raw="{}"),
        PairwiseReply(outcome=second, reason=reason, raw="{}"),
    )
    return verdict.model_dump(mode="json")


def _candidate(
    session: Session, evaluation: Evaluation, position: int, role: str, **values: object
) -> EvalCandidate:
    label = str(values.get("label"))
    candidate = EvalCandidate(
        evaluation_id=evaluation.id,
        position=position,
        role=role,
        answer_key=hashlib.sha256(f"{label}:{next(_counter)}".encode()).hexdigest(),
        prompt_config={},
        **values,
    )
    session.add(candidate)
    session.flush()
    return candidate


def _frozen_tests(session: Session, version: DatasetVersion) -> list[DatasetVersionExample]:
    return list(
        session.scalars(
            select(DatasetVersionExample)
            .where(
                DatasetVersionExample.version_id == version.id,
                DatasetVersionExample.split == "test",
            )
            .order_by(DatasetVersionExample.position)
        )
    )


def _answers(topic: Topic, position: int, worse: frozenset[int]) -> tuple[str, str, str | None]:
    """(baseline answer, tuned answer, judge winner) for one item."""
    if position in worse:
        return topic.baseline, topic.wrong, "baseline"
    if position in TIE_POSITIONS:
        return topic.baseline, topic.tuned, "tie"
    return topic.baseline, topic.tuned, "tuned"


def _output(item: EvalItem, candidate: EvalCandidate, text: str) -> metrics.ItemScores:
    scores = metrics.score_item(item.reference, text)
    candidate_output = EvalOutput(
        item_id=item.id,
        candidate_id=candidate.id,
        status=OutputStatus.DONE,
        text=text,
        prompt_tokens=40,
        output_tokens=max(1, len(text) // 4),
        latency_ms=420.0,
        scores=scores.model_dump(mode="json"),
        overall=scores.chrf,
        answered_at=utcnow(),
    )
    item_session = Session.object_session(item)
    assert item_session is not None
    item_session.add(candidate_output)
    return scores


def _summary(scores: list[metrics.ItemScores]) -> dict[str, object]:
    return CandidateSummary(
        scores=aggregate.aggregate(scores, resamples=200),
        answered=len(scores),
        failed=0,
        reused=0,
        prompt_tokens=40 * len(scores),
        output_tokens=10 * len(scores),
    ).model_dump(mode="json")


def finished_evaluation(
    session: Session,
    *,
    project: Project,
    actor: User,
    language: str = "en",
    count: int = 20,
    judge: bool = True,
    version: DatasetVersion | None = None,
    job: TuningJob | None = None,
    with_job: bool = True,
    name: str | None = None,
    finished_at_offset: timedelta = timedelta(0),
    worse: frozenset[int] = WORSE_POSITIONS,
) -> Built:
    """A succeeded evaluation of a baseline and a tuned model (see the module docstring)."""
    topics = JA_TOPICS if language == "ja" else EN_TOPICS
    version = version or eval_version(
        session, project=project, actor=actor, count=count, language=language
    )
    if job is None and with_job:
        job = job_row(
            session,
            project=project,
            version=version,
            state=JobState.SUCCEEDED,
            display_name=f"Support tuned {next(_counter)}",
            tuned_endpoint=f"projects/1/locations/us-central1/endpoints/{next(_counter)}",
        )
    finished = utcnow() + finished_at_offset
    evaluation = Evaluation(
        project_id=project.id,
        name=name
        or ("サポート回答の比較" if language == "ja" else "Support replies: tuned vs base"),
        test_version_id=version.id,
        training_version_id=version.id,
        judge_model="gemini-2.5-pro" if judge else None,
        status=EvalStatus.SUCCEEDED,
        created_by_id=actor.id,
        started_at=finished - timedelta(minutes=4),
        finished_at=finished,
        created_at=finished - timedelta(minutes=5),
    )
    session.add(evaluation)
    session.flush()
    baseline = _candidate(
        session,
        evaluation,
        0,
        "baseline",
        kind=CandidateKind.ZERO_SHOT,
        label="Gemini 3.5 Flash (zero-shot)",
        base_model="gemini-3.5-flash",
        model="gemini-3.5-flash",
    )
    tuned = _candidate(
        session,
        evaluation,
        1,
        "tuned",
        kind=CandidateKind.TUNED,
        label=job.display_name if job else "Tuned model",
        base_model="gemini-3.5-flash",
        model=(job.tuned_endpoint or "endpoint") if job else "endpoint",
        tuning_job_id=job.id if job else None,
    )
    items, baseline_scores, tuned_scores, outcomes = [], [], [], []
    by_tag: dict[str, list[str]] = {}
    for frozen in _frozen_tests(session, version):
        position = frozen.position
        topic = topics[position % len(topics)]
        turns = frozen.content["turns"]
        item = EvalItem(
            evaluation_id=evaluation.id,
            position=position,
            example_id=frozen.example_id,
            system_instruction=frozen.content.get("system_instruction") or "",
            turns=turns[:-1],
            reference=turns[-1]["text"],
            tag=frozen.content.get("tag"),
            prompt_hash=hashlib.sha256(json.dumps(turns[:-1]).encode()).hexdigest(),
        )
        session.add(item)
        session.flush()
        baseline_text, tuned_text, winner = _answers(topic, position, worse)
        baseline_scores.append(_output(item, baseline, baseline_text))
        tuned_scores.append(_output(item, tuned, tuned_text))
        if judge and winner:
            item.judge = _verdict(winner, winner == "tie", language)
            item.judge_winner = winner
            item.judged_at = finished
            outcomes.append(winner)
            by_tag.setdefault(item.tag or "", []).append(winner)
        items.append(item)
    baseline.summary = _summary(baseline_scores)
    tuned.summary = _summary(tuned_scores)
    run = RunSummary(
        judge=count_outcomes(outcomes) if judge else None,
        judge_by_tag={tag: count_outcomes(values) for tag, values in by_tag.items()},
        items=len(items),
    )
    evaluation.summary = run.model_dump(mode="json")
    evaluation.outputs_total = evaluation.outputs_done = 2 * len(items)
    evaluation.judged_total = evaluation.judged_done = len(outcomes)
    session.commit()
    return Built(evaluation, baseline, tuned, items, version, job)


def running_evaluation(
    session: Session, *, project: Project, actor: User, done: int = 3, total: int = 10
) -> Evaluation:
    """A run in progress (no outputs stored: the pages only read the counters)."""
    version = eval_version(session, project=project, actor=actor, count=5)
    evaluation = Evaluation(
        project_id=project.id,
        name="Running comparison",
        test_version_id=version.id,
        status=EvalStatus.RUNNING,
        outputs_total=total,
        outputs_done=done,
        created_by_id=actor.id,
        started_at=utcnow(),
    )
    session.add(evaluation)
    session.commit()
    return evaluation


def vote(session: Session, *, built: Built, item: EvalItem, voter: User, outcome: str) -> HumanVote:
    """A stored blind vote whose outcome (tuned | baseline | tie | both_bad) is given directly."""
    a, b = built.tuned, built.baseline
    choice = {"tuned": "a", "baseline": "b", "tie": "tie", "both_bad": "both_bad"}[outcome]
    row = HumanVote(
        item_id=item.id, voter_id=voter.id, a_candidate_id=a.id, b_candidate_id=b.id, choice=choice
    )
    session.add(row)
    session.commit()
    return row
