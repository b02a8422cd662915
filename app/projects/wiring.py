"""What projects add to the others (audit labels, the "added to a project" notification, the
overview and member tabs, template helpers), registered once at start-up by
:func:`app.wiring.wire`."""

from __future__ import annotations

from app import web
from app.auth import audit
from app.notifications import service as notifications
from app.projects import nav, overview, router, service


def register() -> None:
    audit.register_actions(service.AUDIT_ACTIONS)
    notifications.register_kinds(service.NOTIFICATION_KINDS)
    notifications.register_param_words("role", service.role_label)
    for position, tab in nav.PROJECT_TABS.items():
        nav.add_tab(position, tab)
    overview.add_step(10, overview.invite_step)
    web.add_globals(**router.TEMPLATE_GLOBALS)
