"""What the evaluation screens show of a run: the summary (stored figures + live human votes)
and the compare screen's items, filtered and paginated.

Figures are never recomputed here: each candidate's ``CandidateSummary`` and the run's
``RunSummary`` were stored when the run finished. Only human votes are live (they arrive after
the run), so their win rate and the judge–human agreement are tallied per request.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session, aliased

from app.errors import NotFound
from app.evaluations import fixes
from app.evaluations.judge.protocol import PairwiseVerdict
from app.evaluations.models import (
    EvalCandidate,
    EvalItem,
    EvalOutput,
    Evaluation,
    HumanVote,
)
from app.evaluations.schemas import CandidateSummary, RunSummary
from app.evaluations.scoring import stats
from app.evaluations.scoring.metrics import ItemScores
from app.i18n import N_, _
from app.text.diff import Segment, diff_segments

ITEMS_PER_PAGE = 20
FILTERS: dict[str, str] = {
    "all": N_("All questions"),
    "worse": N_("Tuned worse than baseline"),
    "lowest": N_("Lowest scores first"),
    "disagree": N_("Judge and humans disagree"),
}


def get_evaluation(session: Session, *, project_id: int, evaluation_id: int) -> Evaluation:
    evaluation = session.get(Evaluation, evaluation_id)
    if evaluation is None or evaluation.project_id != project_id:
        raise NotFound(_("This evaluation does not exist in this project."))
    return evaluation


def candidates_of(session: Session, evaluation_id: int) -> list[EvalCandidate]:
    return candidates_by_run(session, [evaluation_id])[evaluation_id]


def candidates_by_run(
    session: Session, evaluation_ids: Sequence[int]
) -> dict[int, list[EvalCandidate]]:
    """The candidates of several runs in one query (a list page must not ask once per row)."""
    found: dict[int, list[EvalCandidate]] = {evaluation_id: [] for evaluation_id in evaluation_ids}
    for candidate in session.scalars(
        select(EvalCandidate)
        .where(EvalCandidate.evaluation_id.in_(found))
        .order_by(EvalCandidate.evaluation_id, EvalCandidate.position)
    ):
        found[candidate.evaluation_id].append(candidate)
    return found


@dataclass(frozen=True)
class Pair:
    """The two candidates the judge and the blind votes compare (either may be missing)."""

    baseline: EvalCandidate | None
    tuned: EvalCandidate | None

    @property
    def complete(self) -> bool:
        return self.baseline is not None and self.tuned is not None


def pair_of(candidates: list[EvalCandidate]) -> Pair:
    by_role = {candidate.role: candidate for candidate in candidates if candidate.role}
    return Pair(by_role.get("baseline"), by_role.get("tuned"))


# ---- human votes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class VoteRecord:
    item_id: int
    voter_id: int
    outcome: str  # the tuned model's point of view (stats.TUNED, BASELINE, TIE, BOTH_BAD)
    judge_winner: str | None
    tag: str | None


def vote_records(session: Session, evaluation: Evaluation, pair: Pair) -> list[VoteRecord]:
    """Every vote on the run's included items, as outcomes for the tuned model."""
    return votes_by_run(session, {evaluation.id: pair})[evaluation.id]


def votes_by_run(session: Session, pairs: Mapping[int, Pair]) -> dict[int, list[VoteRecord]]:
    """The votes of several runs in one query, each seen from its own tuned candidate."""
    found: dict[int, list[VoteRecord]] = {evaluation_id: [] for evaluation_id in pairs}
    voted = [run for run, pair in pairs.items() if pair.complete]
    if not voted:
        return found
    rows = session.execute(
        select(HumanVote, EvalItem.evaluation_id, EvalItem.judge_winner, EvalItem.tag)
        .join(EvalItem, EvalItem.id == HumanVote.item_id)
        .where(EvalItem.evaluation_id.in_(voted), EvalItem.excluded.is_(False))
        .order_by(HumanVote.id)
    ).all()
    for vote, evaluation_id, judge_winner, tag in rows:
        tuned = pairs[evaluation_id].tuned
        a_is_tuned = tuned is not None and vote.a_candidate_id == tuned.id
        outcome = stats.vote_outcome(vote.choice, a_is_tuned=a_is_tuned)
        found[evaluation_id].append(
            VoteRecord(vote.item_id, vote.voter_id, outcome, judge_winner, tag)
        )
    return found


def _same(judge: str, human: str) -> bool:
    return judge == (stats.TIE if human == stats.BOTH_BAD else human)


@dataclass(frozen=True)
class HumanResults:
    counts: stats.WinTieLoss
    rate: stats.WinRate
    agreement: stats.Agreement
    by_tag: dict[str, stats.WinTieLoss]
    voters: int
    items: int

    @property
    def any(self) -> bool:
        return self.counts.total > 0


def human_results(records: list[VoteRecord]) -> HumanResults:
    counts = stats.count_outcomes(record.outcome for record in records)
    by_tag: dict[str, list[str]] = defaultdict(list)
    for record in records:
        if record.tag:
            by_tag[record.tag].append(record.outcome)
    pairs = [(r.judge_winner, r.outcome) for r in records if r.judge_winner is not None]
    return HumanResults(
        counts=counts,
        rate=stats.win_rate(counts),
        agreement=stats.judge_human_agreement([(j, h) for j, h in pairs if j is not None]),
        by_tag={tag: stats.count_outcomes(values) for tag, values in sorted(by_tag.items())},
        voters=len({record.voter_id for record in records}),
        items=len({record.item_id for record in records}),
    )


def disagreeing_items(records: list[VoteRecord]) -> set[int]:
    """Items where at least one human vote differs from the judge's verdict."""
    return {
        r.item_id
        for r in records
        if r.judge_winner is not None and not _same(r.judge_winner, r.outcome)
    }


# ---- the summary ------------------------------------------------------------------------------


def _load(model: Any, data: dict[str, Any] | None) -> Any:
    """A stored summary, or None when the run has not stored one (yet, or in an older shape)."""
    if not data:
        return None
    try:
        return model.model_validate(data)
    except ValidationError:
        return None


@dataclass(frozen=True)
class Scorecard:
    candidate: EvalCandidate
    summary: CandidateSummary | None


@dataclass(frozen=True)
class TagRow:
    tag: str
    judge: stats.WinRate | None
    human: stats.WinRate | None


@dataclass(frozen=True)
class SummaryView:
    scorecards: list[Scorecard]
    pair: Pair
    run: RunSummary
    judge: stats.WinRate | None
    human: HumanResults
    verdict: str
    verdict_source: str  # "judge" | "humans" | "none"
    tags: list[TagRow] = field(default_factory=list)


def _verdict(run: RunSummary, human: HumanResults, judged: bool) -> tuple[str, str]:
    if run.judge is not None and run.judge.total:
        return stats.verdict_sentence(run.judge, run.judge_by_tag), "judge"
    if human.any:
        return stats.verdict_sentence(human.counts, human.by_tag), "humans"
    if judged:
        # The run has a judge that failed on every question: say so, not "no AI judge".
        return (
            _(
                "There is no verdict yet: the AI judge failed on every question and nobody "
                "has voted. Compare the scores below, resume the run, or ask reviewers to vote."
            ),
            "none",
        )
    return (
        _(
            "There is no verdict yet: this run has no AI judge and nobody has voted. "
            "Compare the scores below, or ask reviewers to vote blind."
        ),
        "none",
    )


def _tag_rows(run: RunSummary, human: HumanResults) -> list[TagRow]:
    tags = sorted(set(run.judge_by_tag) | set(human.by_tag))
    return [
        TagRow(
            tag,
            stats.win_rate(run.judge_by_tag[tag]) if tag in run.judge_by_tag else None,
            stats.win_rate(human.by_tag[tag]) if tag in human.by_tag else None,
        )
        for tag in tags
    ]


def summary_view(session: Session, evaluation: Evaluation) -> SummaryView:
    return summary_views(session, [evaluation])[evaluation.id]


def summary_views(session: Session, evaluations: Sequence[Evaluation]) -> dict[int, SummaryView]:
    """The summaries of several runs in two queries (candidates, votes), whatever their number."""
    candidates = candidates_by_run(session, [e.id for e in evaluations])
    pairs = {run: pair_of(listed) for run, listed in candidates.items()}
    votes = votes_by_run(session, pairs)
    return {e.id: _summary(e, candidates[e.id], pairs[e.id], votes[e.id]) for e in evaluations}


def _summary(
    evaluation: Evaluation,
    candidates: list[EvalCandidate],
    pair: Pair,
    votes: list[VoteRecord],
) -> SummaryView:
    run = _load(RunSummary, evaluation.summary) or RunSummary()
    human = human_results(votes)
    verdict, source = _verdict(run, human, bool(evaluation.judge_model))
    return SummaryView(
        scorecards=[Scorecard(c, _load(CandidateSummary, c.summary)) for c in candidates],
        pair=pair,
        run=run,
        judge=stats.win_rate(run.judge) if run.judge is not None and run.judge.total else None,
        human=human,
        verdict=verdict,
        verdict_source=source,
        tags=_tag_rows(run, human),
    )


# ---- the compare screen's items -------------------------------------------------------------


@dataclass(frozen=True)
class ItemFilters:
    show: str = "all"
    tag: str = ""
    page: int = 1

    @classmethod
    def parse(cls, show: str = "", tag: str = "", page: str | int = 1) -> ItemFilters:
        """Unknown values fall back to the defaults: a hand-edited URL never fails."""
        try:
            number = max(1, int(page))
        except (TypeError, ValueError):
            number = 1
        return cls(show if show in FILTERS else "all", tag.strip()[:100], number)

    def query(self, **changes: Any) -> dict[str, Any]:
        """URL parameters (defaults left out), with ``changes`` applied."""
        values = {"show": self.show, "tag": self.tag, "page": self.page, **changes}
        return {
            key: value
            for key, value in values.items()
            if value not in ("", None)
            and not (key == "show" and value == "all")
            and not (key == "page" and value == 1)
        }


@dataclass(frozen=True)
class OutputView:
    candidate: EvalCandidate
    output: EvalOutput | None
    segments: list[Segment]
    scores: ItemScores | None


@dataclass(frozen=True)
class ItemRow:
    item: EvalItem
    outputs: list[OutputView]
    verdict: PairwiseVerdict | None
    votes: stats.WinTieLoss
    fixed: bool
    disagreement: bool

    @property
    def prompt(self) -> str:
        return prompt_text(self.item)


@dataclass(frozen=True)
class ItemPage:
    rows: list[ItemRow]
    total: int
    page: int
    pages: int
    filters: ItemFilters
    tags: list[str]
    judged: bool  # "tuned worse" follows the judge (else: chrF)


def prompt_text(item: EvalItem) -> str:
    """The conversation the model was asked, user turns only, as one text."""
    return "\n\n".join(turn.get("text", "") for turn in item.turns if turn.get("role") == "user")


def item_tags(session: Session, evaluation_id: int) -> list[str]:
    return [
        tag
        for tag in session.scalars(
            select(EvalItem.tag)
            .where(EvalItem.evaluation_id == evaluation_id, EvalItem.tag.is_not(None))
            .distinct()
            .order_by(EvalItem.tag)
        )
        if tag
    ]


def _filtered(
    evaluation: Evaluation, pair: Pair, filters: ItemFilters, disagree: set[int]
) -> Select[EvalItem]:
    query = select(EvalItem).where(
        EvalItem.evaluation_id == evaluation.id, EvalItem.excluded.is_(False)
    )
    if filters.tag:
        query = query.where(EvalItem.tag == filters.tag)
    order: list[Any] = [EvalItem.position]
    if filters.show == "worse":
        query = _worse(query, evaluation, pair)
    elif filters.show == "disagree":
        query = query.where(EvalItem.id.in_(sorted(disagree) or [-1]))
    elif filters.show == "lowest":
        scored = pair.tuned or pair.baseline
        if scored is not None:
            own = aliased(EvalOutput)
            query = query.outerjoin(
                own, and_(own.item_id == EvalItem.id, own.candidate_id == scored.id)
            )
            order = [own.overall.is_(None), own.overall, EvalItem.position]
    return query.order_by(*order)


def _worse(query: Select[EvalItem], evaluation: Evaluation, pair: Pair) -> Select[EvalItem]:
    """Tuned worse than baseline: the judge's verdict, or lower chrF without a judge."""
    if evaluation.judge_model:
        return query.where(EvalItem.judge_winner == stats.BASELINE)
    if pair.tuned is None or pair.baseline is None:
        return query.where(EvalItem.id == -1)
    tuned, base = aliased(EvalOutput), aliased(EvalOutput)
    return (
        query.join(tuned, and_(tuned.item_id == EvalItem.id, tuned.candidate_id == pair.tuned.id))
        .join(base, and_(base.item_id == EvalItem.id, base.candidate_id == pair.baseline.id))
        .where(tuned.overall < base.overall)
    )


def _verdict_of(item: EvalItem) -> PairwiseVerdict | None:
    verdict: PairwiseVerdict | None = _load(PairwiseVerdict, item.judge)
    return verdict


def _output_views(
    item: EvalItem, candidates: list[EvalCandidate], outputs: dict[tuple[int, int], EvalOutput]
) -> list[OutputView]:
    views = []
    for candidate in candidates:
        output = outputs.get((item.id, candidate.id))
        answered = output is not None and output.status == "done"
        views.append(
            OutputView(
                candidate,
                output,
                diff_segments(item.reference, output.text) if answered and output else [],
                _load(ItemScores, output.scores) if output else None,
            )
        )
    return views


def item_page(session: Session, evaluation: Evaluation, filters: ItemFilters) -> ItemPage:
    """One page of items with every candidate's answer, scores, verdict, votes and whether a
    corrected example was already written from the item."""
    candidates = candidates_of(session, evaluation.id)
    pair = pair_of(candidates)
    records = vote_records(session, evaluation, pair)
    disagree = disagreeing_items(records)
    query = _filtered(evaluation, pair, filters, disagree)
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    pages = max(1, -(-total // ITEMS_PER_PAGE))
    page = min(filters.page, pages)
    items = list(session.scalars(query.limit(ITEMS_PER_PAGE).offset((page - 1) * ITEMS_PER_PAGE)))
    outputs = {
        (o.item_id, o.candidate_id): o
        for o in session.scalars(
            select(EvalOutput).where(EvalOutput.item_id.in_([i.id for i in items] or [-1]))
        )
    }
    fixed = fixes.fixed_item_ids(session, [item.id for item in items])
    votes_by_item: dict[int, list[str]] = defaultdict(list)
    for record in records:
        votes_by_item[record.item_id].append(record.outcome)
    rows = [
        ItemRow(
            item=item,
            outputs=_output_views(item, candidates, outputs),
            verdict=_verdict_of(item),
            votes=stats.count_outcomes(votes_by_item.get(item.id, [])),
            fixed=item.id in fixed,
            disagreement=item.id in disagree,
        )
        for item in items
    ]
    return ItemPage(
        rows=rows,
        total=total,
        page=page,
        pages=pages,
        filters=ItemFilters(filters.show, filters.tag, page),
        tags=item_tags(session, evaluation.id),
        judged=bool(evaluation.judge_model),
    )
