"""What tuning adds to the others (audit labels, job notifications, the Tuning tab, the "Tune a
model" step, template helpers), registered once at start-up by :func:`app.wiring.wire`."""

from __future__ import annotations

from app import web
from app.auth import audit
from app.genai import check_steps
from app.i18n import N_
from app.notifications import service as notifications
from app.projects import nav, overview
from app.projects.nav import NavItem
from app.projects.permissions import Permission
from app.tuning import budget, catalog, checkpoints, regions, router, service, sync


def register() -> None:
    for module in (budget, catalog, checkpoints, service):
        audit.register_actions(module.AUDIT_ACTIONS)
    # Test connection counts tokens on the default model and checks the region tunes it.
    check_steps.set_check_model(regions.check_model)
    check_steps.add_step(regions.connection_step)
    notifications.register_kinds(service.NOTIFICATION_KINDS)
    notifications.register_kinds(sync.NOTIFICATION_KINDS)
    nav.add_tab(70, NavItem("tuning:jobs", N_("Tuning"), Permission.VIEW, "tuning:"))
    overview.add_step(50, service.tuning_step)
    web.add_globals(**router.TEMPLATE_GLOBALS)
