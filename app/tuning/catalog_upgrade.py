"""Bringing an administrator's saved catalog up to date with Google's retirements, keeping
their edits: models that Google retired (per the shipped catalog) are flagged ``retired`` with
their date and successor, never deleted; successors the copy lacks are appended; a retired
default gives way to its successor. Everything else (prices, notes, comments, order) stays as
saved. Used by the 2026-12 migration (``0012_vertex_today``).

The YAML is edited as text at the positions PyYAML reports, so comments survive; if the result
does not read back as intended (an unusual layout), the whole copy is written out again from its
data instead, with a comment saying so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from app.tuning.catalog_parse import CatalogError, parse_catalog

RETIRED_FIELDS = ("status", "retirement_date", "successor")


@dataclass
class _Plan:
    flags: dict[str, dict[str, str]] = field(default_factory=dict)  # id → field → value
    added: list[dict[str, Any]] = field(default_factory=list)
    default: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.flags or self.added or self.default)


def _plan(data: Mapping[str, Any], shipped: dict[str, dict[str, Any]]) -> _Plan:
    plan = _Plan()
    models = [m for m in data["models"] if isinstance(m, Mapping)]
    listed = {str(m.get("id")) for m in models}
    for model in models:
        known = shipped.get(str(model.get("id")))
        if known is None or known.get("status") != "retired" or model.get("status") == "retired":
            continue
        plan.flags[str(model["id"])] = {
            "status": "retired",
            "retirement_date": str(known.get("retirement_date") or ""),
            "successor": str(known.get("successor") or ""),
        }
    needed = {f["successor"] for f in plan.flags.values() if f["successor"]} - listed
    plan.added = [shipped[i] for i in sorted(needed) if i in shipped]
    default = str(data.get("default_model") or "")
    if default in plan.flags and plan.flags[default]["successor"]:
        plan.default = plan.flags[default]["successor"]
    return plan


def _scalar(value: str) -> str:
    return value if value.replace("-", "").replace(".", "").isalnum() else repr(value)


def _edits(text: str, plan: _Plan) -> list[tuple[int, int, str]]:
    """(start, end, replacement) spans, from the nodes PyYAML composed."""
    root = yaml.compose(text)
    assert isinstance(root, yaml.MappingNode)
    edits: list[tuple[int, int, str]] = []
    top = {key.value: (key, value) for key, value in root.value}
    for item in top["models"][1].value:
        pairs = {key.value: (key, value) for key, value in item.value}
        model_id = pairs["id"][1].value if "id" in pairs else None
        if model_id not in plan.flags:
            continue
        id_key, id_value = pairs["id"]
        for name, value in plan.flags[model_id].items():
            if not value:
                continue
            if name in pairs and name != "status" and pairs[name][1].value:
                continue  # the administrator's own date or successor stays
            if name in pairs:
                node = pairs[name][1]
                edits.append((node.start_mark.index, node.end_mark.index, _scalar(value)))
            else:
                line = "\n" + " " * id_key.start_mark.column + f"{name}: {_scalar(value)}"
                edits.append((id_value.end_mark.index, id_value.end_mark.index, line))
    if plan.default:
        if "default_model" in top:
            node = top["default_model"][1]
            edits.append((node.start_mark.index, node.end_mark.index, plan.default))
        else:
            edits.append((0, 0, f"default_model: {plan.default}\n"))
    if plan.added:
        edits.append(_append(text, top["models"][1], plan.added))
    return edits


def _append(
    text: str, sequence: yaml.SequenceNode, models: list[dict[str, Any]]
) -> tuple[int, int, str]:
    indent = max(0, sequence.value[0].start_mark.column - 2) if sequence.value else 2
    dumped = yaml.safe_dump(models, sort_keys=False, allow_unicode=True, width=96)
    block = "".join(" " * indent + line + "\n" for line in dumped.splitlines())
    position = sequence.end_mark.index
    prefix = "" if position == 0 or text[position - 1] == "\n" else "\n"
    return (position, position, prefix + block)


def _note(plan: _Plan, rewritten: bool) -> str:
    parts = []
    if plan.flags:
        parts.append("marked retired: " + ", ".join(sorted(plan.flags)))
    if plan.added:
        parts.append("added their successors: " + ", ".join(m["id"] for m in plan.added))
    if plan.default:
        parts.append(f"default_model is now {plan.default}")
    how = "rewritten from its data (comments lost)" if rewritten else "everything else as saved"
    return f"# Updated by TuneDesk on upgrade (Google retired models): {'; '.join(parts)}; {how}.\n"


def _intended(text: str, plan: _Plan) -> bool:
    try:
        catalog = parse_catalog(text)
    except CatalogError:
        return False
    for model_id in plan.flags:
        found = catalog.get(model_id)
        if found is None or found.status != "retired":
            return False
    return all(catalog.get(m["id"]) is not None for m in plan.added)


def flag_retired(text: str, shipped_text: str) -> str | None:
    """The saved catalog with Google's retirements applied, or None when nothing changes (or
    the copy cannot be read at all, so there is nothing safe to do)."""
    try:
        data = yaml.safe_load(text)
        shipped_data = yaml.safe_load(shipped_text)
    except yaml.YAMLError:
        return None
    if not isinstance(data, Mapping) or not isinstance(data.get("models"), list):
        return None
    shipped = {str(m["id"]): m for m in shipped_data["models"]}
    plan = _plan(data, shipped)
    if plan.empty:
        return None
    try:
        edited = text
        for start, end, replacement in sorted(_edits(text, plan), reverse=True):
            edited = edited[:start] + replacement + edited[end:]
        if _intended(edited, plan):
            return _note(plan, rewritten=False) + edited
    except (yaml.YAMLError, AssertionError, KeyError, IndexError, AttributeError):
        pass
    return _rewrite(data, plan)


def _rewrite(data: Mapping[str, Any], plan: _Plan) -> str:
    copy = dict(data)
    models = []
    for model in copy["models"]:
        model = dict(model) if isinstance(model, Mapping) else model
        if isinstance(model, dict) and str(model.get("id")) in plan.flags:
            for name, value in plan.flags[str(model["id"])].items():
                if value and (name == "status" or not model.get(name)):
                    model[name] = value
        models.append(model)
    copy["models"] = models + plan.added
    if plan.default:
        copy["default_model"] = plan.default
    return _note(plan, rewritten=True) + yaml.safe_dump(copy, sort_keys=False, allow_unicode=True)
