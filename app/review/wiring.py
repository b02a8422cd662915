"""What review adds to the others (audit labels, the "returned to you" notification, the My
examples, Review and Versions tabs, the review and version steps, template constants),
registered once at start-up by :func:`app.wiring.wire`."""

from __future__ import annotations

from app import web
from app.auth import audit
from app.notifications import service as notifications
from app.projects import nav, overview
from app.projects.nav import NavItem
from app.projects.permissions import Permission
from app.review import authoring, bulk, decisions, labels, progress, router, settings


def register() -> None:
    for module in (authoring, bulk, decisions, settings):
        audit.register_actions(module.AUDIT_ACTIONS)
    notifications.register_kinds(decisions.NOTIFICATION_KINDS)
    nav.add_tab(30, NavItem("mine:list", labels.MY_EXAMPLES_TAB, Permission.EDIT_EXAMPLES, "mine:"))
    nav.add_tab(40, NavItem("review:home", labels.REVIEW_TAB, Permission.REVIEW, "review:"))
    nav.add_tab(50, NavItem("versions:list", labels.VERSIONS_TAB, Permission.VIEW, "versions:"))
    overview.add_step(30, progress.review_step)
    overview.add_step(40, progress.version_step)
    web.add_globals(**router.TEMPLATE_GLOBALS)
