"""The JSON format check: when it applies, parsing, and shape comparison."""

from __future__ import annotations

import json

import pytest

from app.evaluations.scoring.json_format import JsonCheck, json_check
from app.i18n import use_locale

ORDER = json.dumps(
    {"status": "shipped", "days": 3, "items": [{"sku": "A-1", "qty": 2}], "note": None},
    ensure_ascii=False,
)


def check(reference: str, output: str) -> JsonCheck:
    result = json_check(reference, output)
    assert result is not None
    return result


def problems(result: JsonCheck) -> set[tuple[str, str]]:
    return {(problem.code, problem.path) for problem in result.problems}


class TestWhenItApplies:
    @pytest.mark.parametrize("reference", ["こんにちは", "42", '"text"', "true", "{not json", ""])
    def test_references_that_are_not_objects_or_arrays(self, reference: str) -> None:
        assert json_check(reference, "{}") is None

    def test_object_and_array_references(self) -> None:
        assert json_check('{"a": 1}', "") is not None
        assert json_check("[1, 2]", "") is not None
        assert json_check('```json\n{"a": 1}\n```', "") is not None


class TestParsing:
    def test_same_shape_is_valid(self) -> None:
        output = '{"status": "配送中", "days": 1.5, "items": [], "note": "置き配"}'
        result = check(ORDER, output)
        assert result.valid
        assert result.shape_matches
        assert not result.fenced
        assert result.problems == ()

    def test_invalid_json_reports_where(self) -> None:
        result = check(ORDER, '{"status": "shipped",\n "days": }')
        assert not result.valid
        assert not result.shape_matches
        assert (result.error_line, result.error_column) == (2, 10)
        with use_locale("en"):
            assert result.describe() == "The answer is not valid JSON (line 2, column 10)."
        with use_locale("ja"):
            assert result.describe() == "回答は有効なJSONではありません（2行目、10文字目）。"

    def test_prose_answer_is_not_json(self) -> None:
        result = check(ORDER, "The order has shipped.")
        assert not result.valid

    def test_code_fence_the_reference_does_not_have_is_flagged(self) -> None:
        output = '```json\n{"status": "shipped", "days": 3, "items": [], "note": null}\n```'
        result = check(ORDER, output)
        assert result.fenced
        assert not result.valid
        assert result.shape_matches  # the content itself is right
        with use_locale("en"):
            assert "``` marks" in result.describe()

    def test_fenced_reference_accepts_fenced_answer(self) -> None:
        result = check('```json\n{"a": 1}\n```', '```\n{"a": 2}\n```')
        assert result.valid
        assert result.shape_matches
        assert not result.fenced

    def test_nan_is_not_json(self) -> None:
        assert not check('{"a": 1}', '{"a": NaN}').valid


class TestShape:
    def test_missing_unexpected_and_wrong_type(self) -> None:
        output = '{"status": 1, "items": [{"sku": "A-1", "qty": "2", "colour": "red"}], "x": 0}'
        result = check(ORDER, output)
        assert result.valid
        assert not result.shape_matches
        assert problems(result) == {
            ("wrong_type", "$.status"),
            ("missing_key", "$.days"),
            ("missing_key", "$.note"),
            ("wrong_type", "$.items[0].qty"),
            ("unexpected_key", "$.items[0].colour"),
            ("unexpected_key", "$.x"),
        }
        assert result.problem_count == 6

    def test_messages_in_both_languages(self) -> None:
        result = check('{"qty": 1}', '{"qty": "1"}')
        (problem,) = result.problems
        with use_locale("en"):
            assert problem.describe() == "$.qty should be a number but is text."
        with use_locale("ja"):
            expected = "$.qty は数値である必要がありますが、テキストになっています。"
            assert problem.describe() == expected

    def test_japanese_keys_are_quoted_in_paths(self) -> None:
        result = check('{"住所": "東京都"}', '{"住所": 1}')
        assert problems(result) == {("wrong_type", '$["住所"]')}

    def test_keys_present_in_only_some_reference_elements_are_optional(self) -> None:
        reference = '[{"name": "a", "tel": "03"}, {"name": "b"}]'
        assert check(reference, '[{"name": "c"}, {"name": "d", "tel": "06"}]').shape_matches
        assert problems(check(reference, '[{"tel": "03"}]')) == {("missing_key", "$[0].name")}

    def test_null_in_the_reference_accepts_anything_and_marks_nullable(self) -> None:
        assert check('{"note": null}', '{"note": "text"}').shape_matches
        reference = '[{"due": "2024-01-01"}, {"due": null}]'
        assert check(reference, '[{"due": null}, {"due": "2024-02-02"}]').shape_matches
        assert not check('{"due": "2024-01-01"}', '{"due": null}').shape_matches

    def test_integers_and_decimals_are_both_numbers(self) -> None:
        assert check('{"price": 100}', '{"price": 99.5}').shape_matches

    def test_booleans_are_not_numbers(self) -> None:
        assert problems(check('{"ok": true}', '{"ok": 1}')) == {("wrong_type", "$.ok")}

    def test_top_level_type_mismatch(self) -> None:
        assert problems(check("[1, 2]", '{"a": 1}')) == {("wrong_type", "$")}

    def test_problem_list_is_capped_but_counted(self) -> None:
        reference = json.dumps({"rows": [{"n": 1}]})
        output = json.dumps({"rows": [{"n": "x"}] * 50})
        result = check(reference, output)
        assert len(result.problems) == 20
        assert result.problem_count == 50

    def test_deep_nesting_does_not_crash(self) -> None:
        deep = "[" * 5000 + "]" * 5000
        result = check("[[1]]", deep)  # beyond the parser's nesting limit: not readable JSON
        assert not result.valid
        assert not result.shape_matches
        assert json_check(deep, "[]") is None
