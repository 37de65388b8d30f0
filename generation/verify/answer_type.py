"""Does the answer say the kind of thing the question asks for?

"哪一年回到了辽宁队？" answered "辽宁队", "自2001年经营权归谁所有？" answered "1980年", "How many points…?" answered
"the Panthers' defense": every word stands in the sources, so no support check flags it, but the answer does not
say what was asked. Four kinds of question say plainly what their answer must hold:

- ``year`` (哪一年, in what year): a year — "1980", "一九八〇年", "the 1990s", 同年 / 次年;
- ``quantity`` (多少, 几, how many / much / long / old …): a number — digits, Chinese or English number words, a
  Roman numeral, an ordinal, or none at all (没有, no, never: "none" is a count);
- ``time`` (什么时候, 何时, when): a year, a date, a number, or a word of time (年代, century, after, during …);
- ``named`` (谁, 哪里, who, where): something other than a number or a date.

Only the question's own words decide (an English "who" counts where it opens the question, never a relative
"the man who …"), and an answer fails only when none of its text has the kind: read as an answer-level check,
never a claim's, so context sentences beside the answering one are never held against it.
"""

from __future__ import annotations

import re
from typing import Literal

from ragqa.generation.verify.chinese_numbers import NUMERALS
from ragqa.generation.verify.grounding import NUMBER_WORDS

Asked = Literal["year", "quantity", "time", "named"]

_YEAR_Q_ZH = re.compile(r"哪一?年|何年|哪个年份|什么年份|哪一个年份")
_YEAR_Q_EN = re.compile(r"\b(?:what|which) year\b")
# 几 but not in 几乎, 几何, 几内亚, 几率, 茶几; 多大 and the like not after 许 / 很 … (许多大城市: "many big cities");
# 多重 left out (多重国籍: "multiple")
_QUANTITY_Q_ZH = re.compile(
    r"多少|(?<!茶)几(?!乎|何|内亚|率)|(?<![许很众诸较更最好])多(?:大(?!程度)|长|高|远|久|深|宽|厚)"
)
_QUANTITY_Q_EN = re.compile(
    r"\bhow (?:many|much|long|old|far|large|big|tall|high|heavy|deep|wide)\b"
    r"|\bwhat (?:percentage|percent|proportion|fraction)\b"
)
_TIME_Q_ZH = re.compile(r"什么时候|何时|什么时间")
_TIME_Q_EN = re.compile(r"^\W*when (?:is|was|were|did|does|do|has|had|have|will|would|can|could)\b")
_NAMED_Q_ZH = re.compile(r"谁|哪位|何人|哪里|哪儿|何处|什么地方")
_NAMED_Q_EN = re.compile(r"^\W*(?:(?:by|to|with|for|from|in|at) )?(?:who|whom|whose|where)\b")
# "Are X and Y both directors?", "他是否…", "…吗？": answered yes or no, never by a span of the sources
_YES_NO_Q_EN = re.compile(
    r"^\W*(?:is|are|was|were|am|do|does|did|can|could|has|have|had|will|would|should|shall|may|might|must)\b"
)
_YES_NO_Q_ZH = re.compile(r"吗\W*$|是否|是不是|有没有|能不能|会不会|对不对")

_YEAR = re.compile(
    r"(?<!\d)\d{3,4}(?!\d)|\d0s\b|[〇零一二三四五六七八九]{2,4}年|年代|世纪|[元同次翌前去今明]年|\bcentury\b"
)
_ZH_NUMBER = re.compile(rf"[0-9０-９{NUMERALS}万亿半数几多无没]")
_EN_NUMBER = re.compile(
    r"\d|\b(?:" + "|".join(NUMBER_WORDS) + r"|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundreds?"
    r"|thousands?|millions?|billions?|trillions?|dozens?|half|once|twice|thrice|single|double|triple|several"
    r"|few|many|much|most|no|none|never|decades?|century|centuries|couple"
    r"|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|[0-9]+(?:st|nd|rd|th))\b"
)
_ROMAN = re.compile(r"\b[IVXLC]{1,7}\b")
_TIME_WORD = re.compile(
    r"[年月日时代朝期初末前后间季春夏秋冬晚早]"
    r"|\b(?:january|february|march|april|may|june|july|august|september|october|november|december|spring"
    r"|summer|autumn|fall|winter|before|after|during|until|since|when|while|ago|later|earlier|early|late"
    r"|mid|era|age|period|reign|war|today|now|then|once|time|times|day|days|week|weeks|month|months"
    r"|year|years|night|morning|evening|season)\b"
)
# what is left of a bare number or date once its digits, number words and date words are gone
_DATE_PARTS = re.compile(
    rf"[\W_0-9０-９{NUMERALS}万亿年月日号世纪代初末中旬时分秒点约]"
    r"|\b(?:in|on|at|the|of|about|around|year|years|january|february|march|april|may|june|july|august"
    r"|september|october|november|december|bc|bce|ad|ce|s)\b",
    re.IGNORECASE,
)


def asked_for(question: str) -> Asked | None:
    """The kind of answer ``question`` asks for, or None when its words do not say."""
    q = question.strip()
    low = q.lower()
    if _YEAR_Q_ZH.search(q) or _YEAR_Q_EN.search(low):
        return "year"
    if _QUANTITY_Q_ZH.search(q) or _QUANTITY_Q_EN.search(low):
        return "quantity"
    if _TIME_Q_ZH.search(q) or _TIME_Q_EN.search(low):
        return "time"
    if _NAMED_Q_ZH.search(q) or _NAMED_Q_EN.search(low):
        return "named"
    return None


def asks_yes_or_no(question: str) -> bool:
    """Whether ``question`` is answered yes or no (an English question opening with its verb, a Chinese one with
    吗 or 是否): its answer is no span of the sources, so the span reader has nothing to weigh it against."""
    q = question.strip()
    return bool(_YES_NO_Q_EN.match(q.lower()) or _YES_NO_Q_ZH.search(q))


def _has_number(text: str) -> bool:
    return bool(_ZH_NUMBER.search(text) or _EN_NUMBER.search(text.lower()) or _ROMAN.search(text))


def _only_number_or_date(text: str) -> bool:
    return bool(text.strip()) and not _DATE_PARTS.sub("", text)


def gives(answer: str, asked: Asked) -> bool:
    """Whether ``answer`` holds the kind of thing ``asked`` for."""
    if asked == "year":
        return bool(_YEAR.search(answer.lower()))
    if asked == "quantity":
        return _has_number(answer)
    if asked == "time":
        return _has_number(answer) or bool(_TIME_WORD.search(answer.lower()))
    return not _only_number_or_date(answer)


def answers_the_kind(question: str, answer: str) -> bool:
    """False only when the question says what kind of answer it wants and ``answer`` holds none of it."""
    asked = asked_for(question)
    return asked is None or gives(answer, asked)
