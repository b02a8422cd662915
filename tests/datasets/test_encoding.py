"""Encoding detection: BOM → strict UTF-8 → strict CP932 with a plausibility check → EUC-JP."""

from __future__ import annotations

import codecs
import io

import pytest

from app.datasets.reading.encoding import detect_encoding, normalize_name

JAPANESE = "質問,回答\r\n①の手続きは？,㈱髙橋商事の担当～山﨑がご案内します。\r\n"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (JAPANESE.encode("cp932"), "cp932"),
        (JAPANESE.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + JAPANESE.encode("utf-8"), "utf-8-sig"),
        (JAPANESE.replace(",", "\t").encode("utf-16"), "utf-16"),
        (
            "prompt\tresponse\r\nWhat is ①?\tThe circled digit one.\r\n".encode("utf-16-le"),
            "utf-16-le",
        ),
        ("質問,回答\r\nテスト,日本語の文章です\r\n".encode("euc_jp"), "euc_jp"),
        (b"prompt,response\r\nhello,world\r\n", "utf-8"),
    ],
)
def test_detects_what_excel_and_editors_write(data: bytes, expected: str) -> None:
    stream = io.BytesIO(data)
    assert detect_encoding(stream).name == expected
    assert stream.tell() == 0


def test_cp932_only_characters_survive_decoding() -> None:
    choice = detect_encoding(io.BytesIO(JAPANESE.encode("cp932")))
    assert choice.name is not None
    assert JAPANESE.encode("cp932").decode(choice.name) == JAPANESE


def test_euc_jp_is_not_mistaken_for_cp932() -> None:
    # EUC-JP decodes "successfully" as CP932 into half-width kana and private-use characters.
    data = "テストデータ,カタカナ\r\nありがとう,担当者\r\n".encode("euc_jp")
    assert data.decode("cp932", errors="strict")  # the trap is real
    assert detect_encoding(io.BytesIO(data)).name == "euc_jp"


def test_gives_up_on_bytes_no_text_encoding_explains() -> None:
    data = bytes(range(256)) * 8
    assert detect_encoding(io.BytesIO(data)).name is None


def test_utf8_damaged_late_in_a_large_file_is_not_utf8() -> None:
    data = ("a,b\r\n" * 400_000).encode() + "質問,回答\r\n".encode("cp932")
    assert detect_encoding(io.BytesIO(data)).name == "cp932"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Shift_JIS", "cp932"),
        ("sjis", "cp932"),
        ("cp932", "cp932"),
        ("UTF8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("EUC-JP", "euc_jp"),
        ("latin-1", "iso8859-1"),
        ("klingon", None),
        ("", None),
    ],
)
def test_override_names(name: str, expected: str | None) -> None:
    assert normalize_name(name) == expected
