"""Personal data: regular expressions with checksums, offsets in the original text."""

from __future__ import annotations

import pytest

from app.datasets.quality.pii import PiiMatch, find_pii, my_number_valid, redact


def _found(text: str) -> list[tuple[str, str]]:
    return [(m.kind, text[m.start : m.end]) for m in find_pii(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "メールはtaro.yamada@example.co.jpまでお願いします。",
            [("email", "taro.yamada@example.co.jp")],
        ),
        (
            "連絡先：ｈａｎａｋｏ＠ｅｘａｍｐｌｅ．ｊｐです",
            [("email", "ｈａｎａｋｏ＠ｅｘａｍｐｌｅ．ｊｐ")],
        ),
        ("a@b is not an address, nor is @example.com", []),
    ],
)
def test_email_addresses_next_to_japanese_text(text: str, expected: list[tuple[str, str]]) -> None:
    assert _found(text) == expected


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("電話03-1234-5678まで", "03-1234-5678"),
        ("携帯は090-1234-5678です", "090-1234-5678"),
        ("０９０ー１２３４ー５６７８にお電話を", "０９０ー１２３４ー５６７８"),
        ("(03)1234-5678", "(03)1234-5678"),
        ("03(1234)5678", "03(1234)5678"),
        ("フリーダイヤル0120-123-456", "0120-123-456"),
        ("+81 90-1234-5678", "+81 90-1234-5678"),
        ("+81-3-1234-5678", "+81-3-1234-5678"),
        ("Call +44 20 7946 0958 now", "+44 20 7946 0958"),
        ("US office: (415) 555-2671.", "(415) 555-2671"),
        ("Tel.03-1234-5678", "03-1234-5678"),
    ],
)
def test_phone_numbers_japanese_and_international(text: str, number: str) -> None:
    assert _found(text) == [("phone", number)]


@pytest.mark.parametrize(
    "text",
    [
        "2024-10-15 10:30に開始",
        "価格は12,800円",
        "注文番号 1234-5678",
        "円周率3.14159265358979",
        "郵便番号123-4567",
        "ID ABC0312345678",
        "1234567890123",
    ],
)
def test_numbers_that_are_not_personal_data(text: str) -> None:
    assert _found(text) == []


def test_two_numbers_side_by_side() -> None:
    assert _found("03-1234-5678 090-1234-5678") == [
        ("phone", "03-1234-5678"),
        ("phone", "090-1234-5678"),
    ]


@pytest.mark.parametrize(
    ("text", "card"),
    [
        ("4111 1111 1111 1111", "4111 1111 1111 1111"),
        (
            "カード番号：４１１１－１１１１－１１１１－１１１１です",
            "４１１１－１１１１－１１１１－１１１１",
        ),
        ("JCB 3530111333300000", "3530111333300000"),
        ("Amex 3782 822463 10005", "3782 822463 10005"),
        ("Mastercard 5555555555554444.", "5555555555554444"),
    ],
)
def test_card_numbers_need_an_issuer_range_and_luhn(text: str, card: str) -> None:
    assert _found(text) == [("credit_card", card)]


def test_luhn_invalid_or_unknown_issuer_is_not_a_card() -> None:
    assert _found("4111 1111 1111 1112") == []
    assert _found("1111 1111 1111 1117") == []  # Luhn-valid, but no card network starts with 1


def _amex_whose_first_twelve_digits_pass_my_number() -> str:
    for body in range(10**11, 10**11 + 10**6):
        head = "37" + str(body)[:10]
        if not my_number_valid(head):
            continue
        for tail in range(100):
            digits = f"{head}{tail:02d}"
            for check in "0123456789":
                number = digits + check
                total = sum(
                    (d * 2 - 9 if d * 2 > 9 else d * 2) if i % 2 else d
                    for i, d in enumerate(int(c) for c in reversed(number))
                )
                if total % 10 == 0:
                    return number
    raise AssertionError("no such number in the searched range")


def test_amex_grouped_4_4_4_3_is_a_card_and_never_a_my_number() -> None:
    number = _amex_whose_first_twelve_digits_pass_my_number()
    assert my_number_valid(number[:12])  # the trap: its first 12 digits pass the check
    grouped = f"{number[:4]} {number[4:8]} {number[8:12]} {number[12:]}"
    assert _found(f"カード {grouped} で支払い") == [("credit_card", grouped)]
    broken = number[:-1] + str((int(number[-1]) + 1) % 10)
    assert _found(f"{broken[:4]} {broken[4:8]} {broken[8:12]} {broken[12:]}") == []


def test_my_number_check_digit() -> None:
    assert my_number_valid("123456789018")
    assert not my_number_valid("123456789012")
    assert _found("個人番号は1234 5678 9018です") == [("my_number", "1234 5678 9018")]
    full_width = "１２３４５６７８９０１８"
    assert _found(f"個人番号は{full_width}です") == [("my_number", full_width)]
    assert _found("注文番号123456789012") == []


def test_redact_replaces_spans_with_placeholders() -> None:
    text = "山田様（taro@example.jp、090-1234-5678）カード4111111111111111、番号123456789018"
    matches = find_pii(text)
    assert redact(text, matches) == "山田様（[EMAIL]、[PHONE]）カード[CARD]、番号[MY_NUMBER]"
    assert redact("abc", [PiiMatch("email", 0, 2), PiiMatch("phone", 1, 3)]) == "[EMAIL]c"
