"""Every string a user can read has a Japanese translation, and placeholders survive it."""

from __future__ import annotations

import re

import pytest

from app.i18n import LOCALES, negotiate, translations, use_locale
from app.i18n import gettext as _
from app.i18n_catalogs import extract, load_po, missing_translations, po_path

PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def test_every_marked_string_is_translated_to_japanese() -> None:
    missing = missing_translations("ja")
    assert missing == [], "untranslated (run `make i18n`):\n" + "\n".join(
        f"  [{domain}] {message}" for domain, message in missing
    )


def test_translations_keep_their_placeholders() -> None:
    broken = []
    for domain in extract():
        for message in load_po(po_path("ja", domain), "ja"):
            if not message.id or not message.string:
                continue
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            wanted = set(PLACEHOLDER.findall(ids[-1]))
            for text in strings:
                if set(PLACEHOLDER.findall(text)) != wanted:
                    broken.append((domain, ids[0], text))
    assert broken == []


def test_catalogs_load_and_translate() -> None:
    with use_locale("ja"):
        assert _("Projects") == "プロジェクト"
    with use_locale("en"):
        assert _("Projects") == "Projects"
    assert set(LOCALES) == {"en", "ja"}
    assert translations("ja").gettext("Log in") == "ログイン"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("ja-JP,ja;q=0.9,en-US;q=0.8", "ja"),
        ("en-GB,en;q=0.9,ja;q=0.8", "en"),
        ("fr-FR,fr;q=0.9,ja;q=0.5", "ja"),
        ("de-DE", "en"),
        ("", "en"),
        ("ja;q=0.1,en;q=0.9", "en"),
        ("garbage;q=abc", "en"),
    ],
)
def test_language_is_negotiated_from_the_browser(header: str, expected: str) -> None:
    assert negotiate(header) == expected
