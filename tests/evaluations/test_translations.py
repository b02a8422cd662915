"""Every user-facing string of the evaluations domain has a Japanese translation that keeps its
placeholders."""

from __future__ import annotations

import re

from app.i18n_catalogs import load_po, missing_translations, po_path

PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%%")


def test_evaluations_catalog_is_complete() -> None:
    assert [msgid for domain, msgid in missing_translations("ja") if domain == "evaluations"] == []


def test_placeholders_survive_translation() -> None:
    catalog = load_po(po_path("ja", "evaluations"), "ja")
    checked = 0
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = sorted(PLACEHOLDER.findall(str(ids[-1])))
        for translated in strings:
            assert sorted(PLACEHOLDER.findall(str(translated))) == expected, message.id
            checked += 1
    assert checked >= 40
