"""The review table's filter names finding codes exactly as the report does (one table of labels,
in the datasets domain)."""

from __future__ import annotations

from app.datasets.quality import labels
from app.i18n import use_locale
from app.review import findings_view


def test_the_review_filter_names_codes_as_the_report_does() -> None:
    for locale in ("en", "ja"):
        with use_locale(locale):
            choices = dict(findings_view.filter_choices())
            for code in ("bad_role", "mojibake", "whitespace", "empty_output"):
                assert choices[code] == labels.code_label(code)
            assert choices["mojibake"] != "mojibake"
