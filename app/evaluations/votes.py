"""Blind human votes: a reviewer compares two answers labelled A and B without knowing which
model wrote which.

Which model stands behind A is decided by an HMAC of (item, voter) under the application's
secret key: stable for one person and one question (reloading never swaps the sides), different
across questions and people, and impossible to work out from the page, which carries neither
model names nor candidate ids. The vote form posts only the item and the choice; the server
recomputes the sides when it records the vote. Re-voting replaces the earlier vote.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session, aliased

from app.auth import audit
from app.auth.models import User
from app.config import get_settings
from app.errors import Conflict, ValidationFailed
from app.evaluations.models import (
    EvalCandidate,
    EvalItem,
    EvalOutput,
    EvalStatus,
    Evaluation,
    HumanVote,
    OutputStatus,
)
from app.evaluations.scoring.stats import HumanVote as Choice
from app.evaluations.web.results import Pair, candidates_of, get_evaluation, pair_of, prompt_text
from app.i18n import N_, _

AUDIT_ACTIONS = {"evaluation.vote": N_("Voted blind on an evaluation question")}

MAX_COMMENT = 2000


def a_is_tuned(item_id: int, voter_id: int) -> bool:
    """Whether the tuned model's answer is labelled A for this voter on this item."""
    key = get_settings().resolved_secret_key().encode()
    digest = hmac.new(key, f"blind-vote:{item_id}:{voter_id}".encode(), hashlib.sha256).digest()
    return bool(digest[0] & 1)


def voting_pair(session: Session, evaluation: Evaluation) -> Pair:
    """The baseline and tuned candidates, or a clear refusal when the run cannot be voted on."""
    pair = pair_of(candidates_of(session, evaluation.id))
    if not pair.complete:
        raise Conflict(
            _("This evaluation has no original and tuned model pair, so there is nothing to vote.")
        )
    if evaluation.status != EvalStatus.SUCCEEDED:
        raise Conflict(_("Voting opens when the evaluation has finished."))
    return pair


def _votable(evaluation: Evaluation, pair: Pair):  # type: ignore[no-untyped-def]
    """Included items where both models answered."""
    assert pair.baseline is not None and pair.tuned is not None
    base, tuned = aliased(EvalOutput), aliased(EvalOutput)
    return (
        select(EvalItem)
        .join(base, and_(base.item_id == EvalItem.id, base.candidate_id == pair.baseline.id))
        .join(tuned, and_(tuned.item_id == EvalItem.id, tuned.candidate_id == pair.tuned.id))
        .where(
            EvalItem.evaluation_id == evaluation.id,
            EvalItem.excluded.is_(False),
            base.status == OutputStatus.DONE,
            tuned.status == OutputStatus.DONE,
        )
    )


@dataclass(frozen=True)
class Progress:
    voted: int
    total: int


def progress(session: Session, evaluation: Evaluation, pair: Pair, voter_id: int) -> Progress:
    votable = _votable(evaluation, pair).subquery()
    total = session.scalar(select(func.count()).select_from(votable)) or 0
    voted = (
        session.scalar(
            select(func.count())
            .select_from(HumanVote)
            .where(HumanVote.voter_id == voter_id, HumanVote.item_id.in_(select(votable.c.id)))
        )
        or 0
    )
    return Progress(int(voted), int(total))


def next_item(
    session: Session, evaluation: Evaluation, pair: Pair, voter_id: int
) -> EvalItem | None:
    """The first question this voter has not voted on yet."""
    voted = exists().where(HumanVote.item_id == EvalItem.id, HumanVote.voter_id == voter_id)
    return session.scalar(
        _votable(evaluation, pair).where(~voted).order_by(EvalItem.position).limit(1)
    )


def votable_item(session: Session, evaluation: Evaluation, pair: Pair, item_id: int) -> EvalItem:
    item = session.scalar(_votable(evaluation, pair).where(EvalItem.id == item_id))
    if item is None:
        raise ValidationFailed({"item": _("This question cannot be voted on. Open the next one.")})
    return item


@dataclass(frozen=True)
class Ballot:
    """What the voter sees: no model names and no ids until ``revealed``."""

    item: EvalItem
    prompt: str
    answer_a: str
    answer_b: str
    vote: HumanVote | None  # this voter's vote on the item, if any
    label_a: str = ""  # model names: only filled once the voter has voted
    label_b: str = ""

    @property
    def revealed(self) -> bool:
        return self.vote is not None


def _answer(session: Session, item_id: int, candidate: EvalCandidate) -> str:
    text = session.scalar(
        select(EvalOutput.text).where(
            EvalOutput.item_id == item_id, EvalOutput.candidate_id == candidate.id
        )
    )
    return text or ""


def ballot(session: Session, *, pair: Pair, item: EvalItem, voter_id: int) -> Ballot:
    assert pair.baseline is not None and pair.tuned is not None
    tuned_first = a_is_tuned(item.id, voter_id)
    a, b = (pair.tuned, pair.baseline) if tuned_first else (pair.baseline, pair.tuned)
    vote = session.scalar(
        select(HumanVote).where(HumanVote.item_id == item.id, HumanVote.voter_id == voter_id)
    )
    ballot = Ballot(
        item, prompt_text(item), _answer(session, item.id, a), _answer(session, item.id, b), vote
    )
    if vote is None:
        return ballot
    # Reveal what stood behind the letters when this vote was cast.
    labels = {pair.tuned.id: pair.tuned.label, pair.baseline.id: pair.baseline.label}
    return Ballot(
        item,
        ballot.prompt,
        ballot.answer_a,
        ballot.answer_b,
        vote,
        labels.get(vote.a_candidate_id, a.label),
        labels.get(vote.b_candidate_id, b.label),
    )


def parse_choice(raw: str) -> Choice:
    try:
        return Choice(raw)
    except ValueError:
        raise ValidationFailed(
            {"choice": _("Choose A, B, “equally good” or “both bad”, then vote.")}
        ) from None


def record_vote(
    session: Session,
    *,
    evaluation: Evaluation,
    pair: Pair,
    item_id: int,
    voter: User,
    choice: str,
    comment: str = "",
) -> HumanVote:
    """Store (or replace) the voter's vote on the item, with the sides they were shown."""
    picked = parse_choice(choice)
    item = votable_item(session, evaluation, pair, item_id)
    assert pair.baseline is not None and pair.tuned is not None
    tuned_first = a_is_tuned(item.id, voter.id)
    a, b = (pair.tuned, pair.baseline) if tuned_first else (pair.baseline, pair.tuned)
    vote = session.scalar(
        select(HumanVote).where(HumanVote.item_id == item.id, HumanVote.voter_id == voter.id)
    )
    if vote is None:
        vote = HumanVote(item_id=item.id, voter_id=voter.id)
        session.add(vote)
    vote.a_candidate_id, vote.b_candidate_id = a.id, b.id
    vote.choice = picked.value
    vote.comment = comment.strip()[:MAX_COMMENT]
    session.flush()
    audit.record(
        session,
        actor=voter,
        action="evaluation.vote",
        object_type="eval_item",
        object_id=item.id,
        project_id=evaluation.project_id,
        summary=f"{evaluation.name} #{item.position + 1}",
    )
    return vote


__all__ = ["get_evaluation"]
