"""Every message of the datasets domain is translated, with its placeholders intact."""

from __future__ import annotations

import re

from app.datasets.quality import findings
from app.datasets.records import Finding, RowRef
from app.i18n import gettext, use_locale
from app.i18n_catalogs import load_po, missing_translations, po_path

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def test_every_datasets_string_has_a_japanese_translation() -> None:
    assert [key for domain, key in missing_translations("ja") if domain == "datasets"] == []


def test_translations_keep_their_placeholders() -> None:
    catalog = load_po(po_path("ja", "datasets"), "ja")
    for message in catalog:
        if message.id and message.string:
            assert set(PLACEHOLDER.findall(str(message.id))) == set(
                PLACEHOLDER.findall(str(message.string))
            ), message.id


def test_every_code_renders_in_both_languages() -> None:
    for code, kind in findings.CATALOGUE.items():
        finding = findings.make(
            code,
            3,
            field="output",
            kind="number",
            reason="last_not_model",
            related=[RowRef(5), RowRef(8)],
        )
        for locale in ("en", "ja"):
            with use_locale(locale):
                text = findings.message(finding)
                assert text, (code, locale)
                assert "%(" not in text, (code, locale, text)
                assert "%(" not in findings.hint(finding)
        with use_locale("ja"):
            assert gettext(kind.message) != kind.message, code


def test_parameter_words_and_row_lists_are_translated() -> None:
    finding = Finding("conflict", "warning", 2, related_rows=tuple(RowRef(r) for r in range(3, 16)))
    with use_locale("ja"):
        assert findings.message(finding) == (
            "同じ、またはほぼ同じ入力に対して、行 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 ほか 3 件 では"
            "異なる回答になっています。"
        )
        empty = findings.make("non_text_value", 2, field="output", kind="date", text="2024-10-15")
        assert findings.message(empty) == (
            "出力の値が文字列ではなく日付のため、「2024-10-15」として読み込みました。"
        )
    assert findings.message(empty) == ("The output is a date, not text; it was read as 2024-10-15.")
