"""Chinese numerals as digits, so that a claim's "4 人" is grounded by sources that say "四次入选", and a claim's
"两次" is compared with the sources' "2 次".

Only numerals that count or order something are rewritten: a run of numeral characters right before a measure
word ("四次", "二十四个", "两名") or right after 第 ("第六"), or a year ("二〇一五年"). Words that merely
contain a numeral character ("一些", "统一", "十分" meaning "very"), and a lone 一 before a measure word (一个,
一名: mostly "a"), stay as they are.
"""

from __future__ import annotations

import re

_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_UNITS = {"十": 10, "百": 100, "千": 1000}
NUMERALS = "零〇一二两三四五六七八九十百千"  # the characters a Chinese numeral is written with
# Measure words and units a count stands before (the common ones in news and encyclopaedia text).
_MEASURE_LIST = """
次 个 名 人 位 分 场 届 年 月 日 天 周 岁 码 项 条 种 座 家 支 本 部 首 枚 只 匹 件 号 节 局 轮 倍 米 公里 英里 千米 美元 元
磅 吨 层 所 间 辆 架 艘 门 球 秒 分钟 小时 世纪 代 季 度 成 步 张 份 组 队 国 州 城
"""
MEASURE_WORDS: frozenset[str] = frozenset(_MEASURE_LIST.split())
_COUNT = re.compile(rf"([{NUMERALS}]+)(?=({'|'.join(sorted(MEASURE_WORDS, key=len, reverse=True))}))")
_ORDINAL = re.compile(rf"(?<=第)([{NUMERALS}]+)")


def numeral_value(numeral: str) -> int | None:
    """``"二十四"`` → 24, ``"两"`` → 2, ``"二〇一五"`` → 2015 (digit by digit); None when it is not a number."""
    if not numeral or any(ch not in _DIGITS and ch not in _UNITS for ch in numeral):
        return None
    if not any(ch in _UNITS for ch in numeral):
        return int("".join(str(_DIGITS[ch]) for ch in numeral))
    total, digit = 0, None
    for ch in numeral:
        if ch in "零〇":  # a gap in the places: 一百零八
            continue
        if ch in _DIGITS:
            if digit is not None:
                return None  # two digits in a row with a unit elsewhere: not a well-formed numeral
            digit = _DIGITS[ch]
        else:
            total += (1 if digit is None else digit) * _UNITS[ch]
            digit = None
    return total + (digit or 0)


def digits_for_numerals(text: str) -> str:
    """``text`` with its counting numerals as digits: "完成了四次拦截" → "完成了 4 次拦截", "第六" → "第 6 "."""

    def count(m: re.Match[str]) -> str:
        if m.group(1) == "一" or (m.group(1) == "十" and m.group(2) == "分"):
            return m.group(1)  # 一个/一名 mostly mean "a"; 十分 means "very"
        return _digits(m.group(1))

    return _COUNT.sub(count, _ORDINAL.sub(lambda m: _digits(m.group(1)), text))


def _digits(numeral: str) -> str:
    value = numeral_value(numeral)
    return numeral if value is None else f" {value} "
