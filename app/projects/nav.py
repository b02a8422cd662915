"""The project's tab bar. Each domain adds its tab here (one line), in the order users work."""

from __future__ import annotations

from dataclasses import dataclass

from app.i18n import N_
from app.projects.permissions import Permission
from app.review import labels as review_labels


@dataclass(frozen=True)
class NavItem:
    route: str  # route name; it takes ``project_id``
    label: str  # marked with N_, translated when shown
    permission: Permission
    section: str  # the tab is highlighted on every route whose name starts with this


PROJECT_NAV: list[NavItem] = [
    NavItem("projects:detail", N_("Overview"), Permission.VIEW, "projects:detail"),
    NavItem("datasets:list", N_("Datasets"), Permission.VIEW, "datasets:"),
    NavItem("mine:list", review_labels.MY_EXAMPLES_TAB, Permission.EDIT_EXAMPLES, "mine:"),
    NavItem("review:home", review_labels.REVIEW_TAB, Permission.REVIEW, "review:"),
    NavItem("versions:list", review_labels.VERSIONS_TAB, Permission.VIEW, "versions:"),
    NavItem("projects:members", N_("Members"), Permission.VIEW, "projects:member"),
    NavItem("tuning:jobs", N_("Tuning"), Permission.VIEW, "tuning:"),
    NavItem("evaluations:list", N_("Evaluations"), Permission.VIEW, "evaluations:"),
    NavItem("projects:settings", N_("Settings"), Permission.MANAGE, "projects:settings"),
]
