"""Money guardrails: a project's optional monthly budget and per-job approval threshold.

Spend is counted per calendar month (UTC) from the jobs that reached Vertex or are on their way:
Vertex's billable count when known, else the estimate made at launch. A launch that would take
the month over the budget, or whose estimate is above the threshold, waits for a manager.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, not_, select
from sqlalchemy.orm import Session

from app.auth import audit
from app.auth.models import User
from app.db import utcnow
from app.errors import ValidationFailed
from app.i18n import N_, _, format_currency
from app.projects.models import Project
from app.tuning.models import JobState, TuningBudget, TuningJob

AUDIT_ACTIONS = {"tuning_budget.update": N_("Changed the tuning budget")}

CURRENCY = "USD"  # the catalog's prices are in US dollars
MAX_AMOUNT = 10_000_000
_AMOUNT = re.compile(r"^\d+(\.\d{1,2})?$")

APPROVAL_REASONS = {
    "over_budget": N_(
        "This job (%(cost)s) would take the month's spend to %(total)s, over the monthly "
        "budget of %(budget)s."
    ),
    "over_threshold": N_(
        "The estimate (%(cost)s) is above the %(threshold)s that needs a manager's approval."
    ),
}


@dataclass(frozen=True)
class BudgetView:
    monthly_budget: float | None
    approval_threshold: float | None
    spent_this_month: float
    currency: str = CURRENCY

    @property
    def remaining(self) -> float | None:
        if self.monthly_budget is None:
            return None
        return self.monthly_budget - self.spent_this_month

    @property
    def used_fraction(self) -> float | None:
        if not self.monthly_budget:
            return None
        return self.spent_this_month / self.monthly_budget


def month_start(now: datetime | None = None) -> datetime:
    now = now or utcnow()
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def counts_as_spend() -> Any:
    """Jobs that cost (or will cost) money: not waiting for approval, and not stopped before a
    remote job existed."""
    stopped_early = and_(
        TuningJob.state.in_((JobState.CANCELLED, JobState.FAILED)),
        TuningJob.remote_name.is_(None),
    )
    return and_(TuningJob.state != JobState.AWAITING_APPROVAL, not_(stopped_early))


def spend_expression() -> Any:
    return func.coalesce(
        func.sum(func.coalesce(TuningJob.actual_cost, TuningJob.estimated_cost)), 0.0
    )


def month_spend(session: Session, *, project_id: int, now: datetime | None = None) -> float:
    total = session.scalar(
        select(spend_expression()).where(
            TuningJob.project_id == project_id,
            TuningJob.created_at >= month_start(now),
            counts_as_spend(),
        )
    )
    return round(float(total or 0.0), 2)


def view(session: Session, *, project_id: int) -> BudgetView:
    row = session.get(TuningBudget, project_id)
    return BudgetView(
        monthly_budget=row.monthly_budget if row else None,
        approval_threshold=row.approval_threshold if row else None,
        spent_this_month=month_spend(session, project_id=project_id),
    )


def approval_reasons(budget: BudgetView, cost: float | None) -> list[dict[str, Any]]:
    """Why a launch estimated at ``cost`` needs a manager's approval ([] when it does not)."""
    if cost is None:
        return []
    reasons = []
    total = budget.spent_this_month + cost
    if budget.monthly_budget is not None and total > budget.monthly_budget:
        reasons.append(
            {
                "code": "over_budget",
                "params": {"cost": cost, "total": round(total, 2), "budget": budget.monthly_budget},
            }
        )
    if budget.approval_threshold is not None and cost > budget.approval_threshold:
        reasons.append(
            {
                "code": "over_threshold",
                "params": {"cost": cost, "threshold": budget.approval_threshold},
            }
        )
    return reasons


def reason_text(reason: dict[str, Any]) -> str:
    params = {
        key: format_currency(value, CURRENCY) if isinstance(value, int | float) else value
        for key, value in (reason.get("params") or {}).items()
    }
    template = APPROVAL_REASONS.get(str(reason.get("code")))
    return _(template) % params if template else str(reason.get("code"))


def _amount(raw: str, field: str, errors: dict[str, str]) -> float | None:
    text = raw.strip().replace(",", "").replace("$", "")
    if not text:
        return None
    if not _AMOUNT.match(text) or float(text) > MAX_AMOUNT:
        errors[field] = _(
            "Write an amount in US dollars such as 500 or 1250.50, or leave it empty for no limit."
        )
        return None
    return float(text)


def save(
    session: Session, *, actor: User, project: Project, monthly_budget: str, approval_threshold: str
) -> TuningBudget:
    """Set the project's budget and threshold from form text (empty means no limit)."""
    errors: dict[str, str] = {}
    budget = _amount(monthly_budget, "monthly_budget", errors)
    threshold = _amount(approval_threshold, "approval_threshold", errors)
    if errors:
        raise ValidationFailed(errors)
    row = session.get(TuningBudget, project.id)
    if row is None:
        row = TuningBudget(project_id=project.id)
        session.add(row)
    before = {"monthly_budget": row.monthly_budget, "approval_threshold": row.approval_threshold}
    row.monthly_budget, row.approval_threshold = budget, threshold
    row.updated_by_id, row.updated_at = actor.id, utcnow()
    audit.record(
        session,
        actor=actor,
        action="tuning_budget.update",
        object_type="project",
        object_id=project.id,
        project_id=project.id,
        details={
            "before": before,
            "after": {"monthly_budget": budget, "approval_threshold": threshold},
        },
    )
    return row
