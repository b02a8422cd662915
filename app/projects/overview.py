"""The newcomer's checklist on the project overview ("Invite your team", "Upload examples"…),
ticked off from real counts. Each domain adds its step at start-up (``app/<domain>/wiring.py``)
with a position in the journey; this module imports none of them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.i18n import _
from app.projects import service
from app.projects.service import ProjectContext


@dataclass(frozen=True)
class Step:
    title: str
    hint: str
    done: bool
    href: str | None = None


StepProvider = Callable[[Session, ProjectContext], Step]
# Positions: 10 invite, 20 upload, 30 review, 40 version, 50 tune, 60 compare.
_STEPS: dict[int, StepProvider] = {}


def add_step(position: int, provider: StepProvider) -> None:
    _STEPS[position] = provider


def next_steps(session: Session, ctx: ProjectContext) -> list[Step]:
    return [provider(session, ctx) for _position, provider in sorted(_STEPS.items())]


def invite_step(session: Session, ctx: ProjectContext) -> Step:
    member_count = len(service.list_members(session, project_id=ctx.project.id))
    return Step(
        _("Invite your team"),
        _("Experts write examples, reviewers approve them, managers launch tuning."),
        member_count > 1,
        f"/projects/{ctx.project.id}/members",
    )
