from __future__ import annotations

import pytest

from ragqa.generation.verify.chinese_numbers import digits_for_numerals, numeral_value


@pytest.mark.parametrize(
    ("numeral", "value"),
    [
        ("四", 4),
        ("两", 2),
        ("十一", 11),
        ("二十四", 24),
        ("三百零八", 308),
        ("一千", 1000),
        ("二〇一五", 2015),
    ],
)
def test_numeral_values(numeral: str, value: int) -> None:
    assert numeral_value(numeral) == value


def test_a_word_with_numeral_characters_is_no_number() -> None:
    assert numeral_value("一些") is None and numeral_value("二二十") is None


def test_counts_and_ordinals_become_digits() -> None:
    assert digits_for_numerals("他完成了四次拦截") == "他完成了 4 次拦截"
    assert digits_for_numerals("两名球员") == " 2 名球员"
    assert digits_for_numerals("排名第六。") == "排名第 6 。"
    assert digits_for_numerals("二〇一五年") == " 2015 年"


def test_words_that_only_contain_numerals_stay() -> None:
    for text in ("一些人", "统一", "这十分重要", "他是一名球员"):
        assert digits_for_numerals(text) == text
