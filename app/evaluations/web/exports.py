"""An evaluation's results as files: CSV (one row per question × model, for a spreadsheet) and
JSONL (one line per question with every model's answer, for scripts).

Both carry the scores, the judge's verdict and reason, and the blind votes per question. They
stream in batches from their own session (the request's session is closed before a streamed
body is sent). The CSV is UTF-8 with a BOM and its cells are formula-escaped with the datasets'
``escape_cell`` (a cell starting with ``= + - @`` is shown as text, never run).
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from itertools import islice
from typing import Any
from urllib.parse import quote

from fastapi.responses import StreamingResponse
from sqlalchemy import select

from app.datasets.report.downloads import escape_cell
from app.db import new_session
from app.evaluations import fixes
from app.evaluations.models import EvalItem, EvalOutput, Evaluation
from app.evaluations.web.results import candidates_of, pair_of, prompt_text, vote_records
from app.i18n import _, get_locale, set_locale

BATCH = 500
VOTE_KEYS = ("tuned", "baseline", "tie", "both_bad")


def _header() -> list[str]:
    return [
        _("Question #"),
        _("Tag"),
        _("Question"),
        _("Reference answer"),
        _("Model"),
        _("Role"),
        _("Answer"),
        _("Status"),
        "chrF",
        "BLEU",
        "ROUGE-L",
        _("Exact match"),
        _("Length ratio"),
        _("Judge verdict"),
        _("Judge reason"),
        _("Votes: tuned better"),
        _("Votes: original better"),
        _("Votes: tie"),
        _("Votes: both bad"),
        _("Fixed"),
    ]


def _csv_line(cells: list[object]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([escape_cell(cell) for cell in cells])
    return buffer.getvalue()


def _number(value: Any, digits: int = 2) -> str:
    return "" if value is None else f"{float(value):.{digits}f}"


def _score_cells(scores: dict[str, Any]) -> list[object]:
    return [
        _number(scores.get("chrf")),
        _number(scores.get("bleu")),
        _number(scores.get("rouge_l"), 4),
        "" if "exact_match" not in scores else int(bool(scores["exact_match"])),
        _number(scores.get("length_ratio"), 3),
    ]


class _Context:
    """What every row needs besides its item: candidates, votes per item."""

    def __init__(self, session: Any, evaluation: Evaluation) -> None:
        self.candidates = candidates_of(session, evaluation.id)
        pair = pair_of(self.candidates)
        self.votes: dict[int, Counter[str]] = defaultdict(Counter)
        for record in vote_records(session, evaluation, pair):
            self.votes[record.item_id][record.outcome] += 1


def _items(session: Any, evaluation_id: int) -> Iterator[list[EvalItem]]:
    """Items in order, a batch at a time (ids first, so no cursor stays open between batches)."""
    ids = list(
        session.scalars(
            select(EvalItem.id)
            .where(EvalItem.evaluation_id == evaluation_id, EvalItem.excluded.is_(False))
            .order_by(EvalItem.position)
        )
    )
    chunks = iter(ids)
    while chunk := list(islice(chunks, BATCH)):
        yield list(
            session.scalars(
                select(EvalItem).where(EvalItem.id.in_(chunk)).order_by(EvalItem.position)
            )
        )


def _outputs(session: Any, items: list[EvalItem]) -> dict[tuple[int, int], EvalOutput]:
    rows = session.scalars(select(EvalOutput).where(EvalOutput.item_id.in_([i.id for i in items])))
    return {(o.item_id, o.candidate_id): o for o in rows}


def _csv_rows(item: EvalItem, ctx: _Context, outputs: dict[Any, EvalOutput], fixed: bool) -> str:
    votes = ctx.votes.get(item.id, Counter())
    judge = item.judge or {}
    lines = []
    for candidate in ctx.candidates:
        output = outputs.get((item.id, candidate.id))
        lines.append(
            _csv_line(
                [
                    item.position + 1,
                    item.tag or "",
                    prompt_text(item),
                    item.reference,
                    candidate.label,
                    candidate.role or "",
                    output.text if output else "",
                    output.status if output else "",
                    *_score_cells(output.scores if output else {}),
                    item.judge_winner or "",
                    judge.get("reason", ""),
                    *(votes.get(key, 0) for key in VOTE_KEYS),
                    int(fixed),
                ]
            )
        )
    return "".join(lines)


def csv_chunks(evaluation_id: int, locale: str) -> Iterator[bytes]:
    with new_session() as session:
        set_locale(locale)
        evaluation = session.get(Evaluation, evaluation_id)
        if evaluation is None:
            return
        ctx = _Context(session, evaluation)
        yield ("\ufeff" + _csv_line(list(_header()))).encode()
        for batch in _items(session, evaluation_id):
            set_locale(locale)
            outputs = _outputs(session, batch)
            fixed = fixes.fixed_item_ids(session, [item.id for item in batch])
            yield "".join(_csv_rows(i, ctx, outputs, i.id in fixed) for i in batch).encode()


def item_record(
    item: EvalItem, ctx: _Context, outputs: dict[Any, EvalOutput], fixed: bool
) -> dict[str, Any]:
    """One question with every model's answer and scores, the verdict and the votes."""
    return {
        "position": item.position + 1,
        "item_id": item.id,
        "tag": item.tag,
        "system_instruction": item.system_instruction,
        "turns": item.turns,
        "reference": item.reference,
        "leak": item.leak,
        "outputs": [
            {
                "candidate_id": c.id,
                "label": c.label,
                "role": c.role,
                "kind": c.kind,
                "status": o.status if o else None,
                "text": o.text if o else None,
                "scores": o.scores if o else None,
            }
            for c in ctx.candidates
            for o in [outputs.get((item.id, c.id))]
        ],
        "judge": {"winner": item.judge_winner, "verdict": item.judge} if item.judge else None,
        "votes": {key: ctx.votes.get(item.id, Counter()).get(key, 0) for key in VOTE_KEYS},
        "fixed": fixed,
    }


def jsonl_chunks(evaluation_id: int) -> Iterator[bytes]:
    with new_session() as session:
        evaluation = session.get(Evaluation, evaluation_id)
        if evaluation is None:
            return
        ctx = _Context(session, evaluation)
        for batch in _items(session, evaluation_id):
            outputs = _outputs(session, batch)
            fixed = fixes.fixed_item_ids(session, [item.id for item in batch])
            yield "".join(
                json.dumps(
                    item_record(i, ctx, outputs, i.id in fixed),
                    ensure_ascii=False,
                    separators=(",", ":"),
                )
                + "\n"
                for i in batch
            ).encode()


def response(evaluation: Evaluation, kind: str) -> StreamingResponse:
    """The download (``kind`` is ``csv`` or ``jsonl``)."""
    name = quote(f"{evaluation.name}-results.{kind}")
    headers = {"Content-Disposition": f"attachment; filename*=UTF-8''{name}"}
    if kind == "csv":
        return StreamingResponse(
            csv_chunks(evaluation.id, get_locale()),
            media_type="text/csv; charset=utf-8",
            headers=headers,
        )
    return StreamingResponse(
        jsonl_chunks(evaluation.id), media_type="application/x-ndjson", headers=headers
    )
