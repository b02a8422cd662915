"""The shape of the code, checked like the routes are: domains import only the domains below them
(no cycles, ever), the pure rooms import no database, web or worker code, and production code
never imports the emulator."""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config import PROJECT_ROOT

APP = PROJECT_ROOT / "app"

# Lowest first: a domain may import the core and the domains before it, never one after it.
CORE = ("config", "errors", "i18n", "logs", "shutdown", "text", "db", "worker", "system", "web")
DOMAINS = (
    "auth",
    "notifications",
    "projects",
    "genai",
    "datasets",
    "review",
    "tuning",
    "evaluations",
    "dashboard",
)
# Start-up and entry points: they may import anything.
ENTRY_POINTS = ("main", "wiring", "cli", "__main__", "all_models", "api", "error_pages")
ENTRY_POINTS += ("core_tasks", "supervisor", "migrate", "i18n_catalogs", "emulator")
ORDER = {name: rank for rank, name in enumerate(CORE + DOMAINS)}

# Rooms that must stay pure: no database, web or worker code, so they run in the CLI, in
# benchmarks and in property tests without a server.
PURE = (
    "app/datasets/records.py",
    "app/datasets/reading",
    "app/datasets/quality",
    "app/evaluations/scoring",
    "app/evaluations/judge/protocol.py",
    "app/evaluations/judge/prompts.py",
    "app/evaluations/judge/replies.py",
    "app/evaluations/judge/rubric.py",
    "app/text",
)
IMPURE = ("sqlalchemy", "fastapi", "starlette", "celery", "kombu", "jinja2", "app.db", "app.web")
IMPURE += ("app.worker", "app.genai", "google")


def _module(path: Path) -> str:
    parts = list(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> Iterator[tuple[str, int]]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from ((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module, node.lineno


def _part(module: str) -> str:
    """The top-level module or domain of ``app.x.y`` (``x``)."""
    return module.split(".")[1] if module.count(".") else module


def _edges() -> dict[tuple[str, str], list[str]]:
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in APP.rglob("*.py"):
        source = _part(_module(path))
        for target, line in _imports(path):
            if target.startswith("app.") and _part(target) != source:
                edges[(source, _part(target))].append(f"{path.relative_to(PROJECT_ROOT)}:{line}")
    return edges


def test_every_part_of_app_has_a_place_in_the_order() -> None:
    parts = {_part(_module(path)) for path in APP.rglob("*.py")} - {"app"}
    assert parts <= set(ORDER) | set(ENTRY_POINTS), sorted(parts - set(ORDER) - set(ENTRY_POINTS))


def test_domains_import_only_downwards() -> None:
    backwards = [
        f"{source} → {target} ({', '.join(where)})"
        for (source, target), where in _edges().items()
        if source in ORDER and target in ORDER and ORDER[target] > ORDER[source]
    ]
    assert not backwards, "a domain imports one above it:\n" + "\n".join(backwards)


def test_no_domain_imports_an_entry_point() -> None:
    wrong = [
        f"{source} → {target} ({', '.join(where)})"
        for (source, target), where in _edges().items()
        if source in ORDER and target in ENTRY_POINTS
    ]
    assert not wrong, "\n".join(wrong)


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_graph_of_domains_has_no_cycle() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for source, target in _edges():
        if source not in ENTRY_POINTS:
            graph[source].add(target)
    assert _cycle(graph) is None, " → ".join(_cycle(graph) or [])


def test_the_cycle_finder_finds_a_back_edge() -> None:
    # The check above must be able to fail: a back edge from auth to evaluations closes a loop.
    graph = {"auth": {"evaluations"}, "evaluations": {"datasets"}, "datasets": {"auth"}}
    assert _cycle(graph) == ["auth", "evaluations", "datasets", "auth"]


def _pure_files() -> Iterator[Path]:
    for entry in PURE:
        path = PROJECT_ROOT / entry
        yield from sorted(path.rglob("*.py")) if path.is_dir() else [path]


@pytest.mark.parametrize("path", list(_pure_files()), ids=lambda p: str(p.relative_to(APP)))
def test_pure_rooms_import_no_database_web_or_worker_code(path: Path) -> None:
    impure = [
        f"{target} (line {line})"
        for target, line in _imports(path)
        if any(target == bad or target.startswith(bad + ".") for bad in IMPURE)
    ]
    assert not impure, f"{path.relative_to(PROJECT_ROOT)} imports {', '.join(impure)}"
