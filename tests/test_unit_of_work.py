"""The transaction rule (CONTRIBUTING.md, "One unit of work"), checked over the code itself:
services never commit, and every request handler that turns a refusal into a page discards
what the refused action wrote before it builds that page."""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest

import app.wiring  # noqa: F401  (every domain imported, so every refusal class exists)
from app.config import PROJECT_ROOT
from app.errors import AppError

APP = PROJECT_ROOT / "app"


def _refusal_names() -> set[str]:
    names: set[str] = set()
    stack: list[type] = [AppError]
    while stack:
        cls = stack.pop()
        names.add(cls.__name__)
        stack.extend(cls.__subclasses__())
    return names


def _handler_modules() -> Iterator[Path]:
    for path in sorted(APP.rglob("*.py")):
        if path.name in ("api.py",) or "router" in path.name:
            yield path


def _caught(handler: ast.ExceptHandler) -> set[str]:
    kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    names = set()
    for kind in kinds:
        if isinstance(kind, ast.Name):
            names.add(kind.id)
        elif isinstance(kind, ast.Attribute):
            names.add(kind.attr)
    return names


def _discards_first(handler: ast.ExceptHandler) -> bool:
    first = handler.body[0]
    return (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Call)
        and getattr(first.value.func, "id", getattr(first.value.func, "attr", ""))
        == "discard_changes"
    )


def test_every_handler_that_catches_a_refusal_discards_the_action_first() -> None:
    refusals = _refusal_names() - {"NotFound", "PermissionDenied"}  # raised before any write
    offenders = []
    for path in _handler_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        handlers = [n for n in ast.walk(tree) if isinstance(n, ast.ExceptHandler) and n.type]
        for handler in handlers:
            if _caught(handler) & refusals and not _discards_first(handler):
                offenders.append(f"{path.relative_to(PROJECT_ROOT)}:{handler.lineno}")
    assert not offenders, (
        "catch a refusal, then call app.db.discard_changes(session) before building the page: "
        + ", ".join(offenders)
    )


def _calls(tree: ast.AST, attribute: str) -> list[int]:
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == attribute
    ]


@pytest.mark.parametrize("attribute", ["commit", "rollback"])
def test_only_the_boundaries_and_background_flows_end_transactions(attribute: str) -> None:
    """``commit``/``rollback`` belong to the unit-of-work helpers (``app/db.py``) and to background
    flows (``tasks.py`` and the modules they drive, which run several units of work); services,
    routers and pages never end a transaction themselves."""
    flows = {"ingest.py", "runner.py", "phase.py", "delivery.py"}
    offenders = []
    for path in sorted(APP.rglob("*.py")):
        if (path.name == "db.py" and path.parent == APP) or path.name in flows:
            continue
        for line in _calls(ast.parse(path.read_text(encoding="utf-8")), attribute):
            offenders.append(f"{path.relative_to(PROJECT_ROOT)}:{line}")
    assert not offenders, f"{attribute}() outside the unit-of-work helpers: " + ", ".join(offenders)


def test_the_rule_names_its_helper() -> None:
    from app import db

    assert "discard_changes" in (PROJECT_ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    assert inspect.getdoc(db.discard_changes)
