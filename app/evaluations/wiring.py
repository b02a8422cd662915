"""What evaluations add to the others (audit labels, the Evaluations tab, the "Compare" step,
template helpers, the tuned models' latest scores in the experiment log), registered once at
start-up by :func:`app.wiring.wire`."""

from __future__ import annotations

from app import web
from app.auth import audit
from app.evaluations import fixes, golden, scores, service, texts, votes
from app.i18n import N_
from app.projects import nav, overview
from app.projects.nav import NavItem
from app.projects.permissions import Permission
from app.tuning import experiments


def register() -> None:
    for module in (fixes, golden, service, votes):
        audit.register_actions(module.AUDIT_ACTIONS)
    nav.add_tab(80, NavItem("evaluations:list", N_("Evaluations"), Permission.VIEW, "evaluations:"))
    overview.add_step(60, service.compare_step)
    web.add_globals(**texts.templates_globals())
    experiments.set_score_source(scores.latest_scores_for_jobs)
