"""The display diff: characters for Japanese, words for English, exact reconstruction."""

from __future__ import annotations

import time

from app.text.diff import Segment, answer_text, diff_segments, reference_text


class TestDiff:
    def test_japanese_changes_are_single_characters(self) -> None:
        assert diff_segments("送料無料です。", "送料有料です。") == [
            Segment("equal", "送料"),
            Segment("delete", "無"),
            Segment("insert", "有"),
            Segment("equal", "料です。"),
        ]

    def test_english_changes_are_whole_words(self) -> None:
        assert diff_segments("The parcel arrives Monday.", "The parcel arrived on Monday.") == [
            Segment("equal", "The parcel "),
            Segment("delete", "arrives"),
            Segment("insert", "arrived on"),
            Segment("equal", " Monday."),
        ]

    def test_mixed_text(self) -> None:
        segments = diff_segments("Zoomのリンクを送ります", "Teamsのリンクを送ります")
        assert segments == [
            Segment("delete", "Zoom"),
            Segment("insert", "Teams"),
            Segment("equal", "のリンクを送ります"),
        ]

    def test_identical_and_empty(self) -> None:
        assert diff_segments("同じ", "同じ") == [Segment("equal", "同じ")]
        assert diff_segments("", "") == []
        assert diff_segments("", "新しい") == [Segment("insert", "新しい")]
        assert diff_segments("消えた", "") == [Segment("delete", "消えた")]

    def test_markup_is_plain_text(self) -> None:
        segments = diff_segments("<b>安全</b>", "<script>alert(1)</script>")
        assert answer_text(segments) == "<script>alert(1)</script>"  # escaped by the template
        assert reference_text(segments) == "<b>安全</b>"

    def test_a_small_edit_in_a_long_text_stays_a_small_segment(self) -> None:
        reference = "東京都の明日の天気は晴れです。" * 2000  # 30,000 characters, one line
        answer = reference[:15000] + "大阪" + reference[15000:]
        assert diff_segments(reference, answer) == [
            Segment("equal", reference[:15000]),
            Segment("insert", "大阪"),
            Segment("equal", reference[15000:]),
        ]

    def test_long_texts_changed_throughout_are_compared_by_sentence(self) -> None:
        sentences = [f"{i}番目の文です。" for i in range(1500)]
        reference = "".join(sentences)
        for index in (0, 700, 1499):
            sentences[index] = sentences[index].replace("文", "段落")
        answer = "".join(sentences)
        started = time.perf_counter()
        segments = diff_segments(reference, answer)
        assert time.perf_counter() - started < 2.0
        assert answer_text(segments) == answer
        assert reference_text(segments) == reference
        # The shared beginning (0番目の) and end (です。) are cut off first; the middle is then
        # too long for character units and is compared sentence by sentence.
        inserted = [text for op, text in segments if op == "insert"]
        assert inserted == ["段落です。", "700番目の段落です。", "1499番目の段落"]
