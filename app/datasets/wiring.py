"""What datasets add to the others (audit labels, import notifications, the Datasets tab, the
"Upload examples" step), registered once at start-up by :func:`app.wiring.wire`."""

from __future__ import annotations

from app.auth import audit
from app.datasets import service
from app.datasets.editing import fixes
from app.datasets.intake import notices
from app.datasets.versions import service as versions_service
from app.i18n import N_
from app.notifications import service as notifications
from app.projects import nav, overview
from app.projects.nav import NavItem
from app.projects.permissions import Permission


def register() -> None:
    audit.register_actions(fixes.AUDIT_ACTIONS)
    audit.register_actions(versions_service.AUDIT_ACTIONS)
    notifications.register_kinds(notices.NOTIFICATION_KINDS)
    nav.add_tab(20, NavItem("datasets:list", N_("Datasets"), Permission.VIEW, "datasets:"))
    overview.add_step(20, service.upload_step)
