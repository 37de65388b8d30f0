"""The answer-kind check: what a question asks for, and whether an answer says it."""

from __future__ import annotations

import pytest

from ragqa.generation.verify.answer_type import answers_the_kind, asked_for, asks_yes_or_no


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("张永海在哪一年回到了辽宁队？", "year"),
        ("In what year did the mill open?", "year"),
        ("西贡商信银行成立初时的注册资本是多少？", "quantity"),
        ("他获得过几次冠军？", "quantity"),
        ("How many points did the Panthers defense surrender?", "quantity"),
        ("尤金袋鼠最初是何时被发现的？", "time"),
        ("When was the mill built?", "time"),
        ("自2001年，萱侬律的经营权归谁所有？", "named"),
        ("Who founded the observatory?", "named"),
        ("Where was he born?", "named"),
        # a relative "who", a subordinate "when", "几乎", "多大程度": they do not ask for a kind
        ("What is the name of the man who founded it?", None),
        ("When considering Kelly Johnston and Bob Dole, which state was represented first?", None),
        ("他几乎赢得了什么？", None),
        ("这在多大程度上影响了战争？", None),
        ("几内亚的首都是哪里？", "named"),  # a country's name, not 几
        ("几何学研究什么？", None),
        ("哪些国家有许多大城市？", None),  # "many big cities", not 多大
        ("多重国籍是什么意思？", None),
        ("他是第几位总统？", "quantity"),
        ("埃尔维赢得第 33 届超级碗时多大？", "quantity"),
        ("为什么要将原先的剧情延长？", None),
    ],
)
def test_what_the_question_asks_for(question: str, kind: str | None) -> None:
    assert asked_for(question) == kind


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("张永海在哪一年回到了辽宁队？", "2014年"),
        ("张永海在哪一年回到了辽宁队？", "一九八〇年他回到了辽宁队。"),
        ("张永海在哪一年回到了辽宁队？", "同年"),
        ("In what year did the mill open?", "It opened in the 1880s."),
        ("西贡商信银行成立初时的注册资本是多少？", "三十亿越南盾"),
        ("托马斯·戴维斯有多少次迫使掉球？", "托马斯·戴维斯没有迫使掉球。"),
        ("How many studio albums had he released?", "seventh"),
        ("How many years after did he die?", "II"),
        ("How many points did they surrender?", "They surrendered twenty-four points."),
        ("When was the mill built?", "After the war."),
        ("尤金袋鼠最初是何时被发现的？", "十八世纪初"),
        ("自2001年，萱侬律的经营权归谁所有？", "Kampon Tansacha先生"),
        ("Who founded the observatory?", "Maria Keller"),
        ("Why did it close?", "1950"),  # no kind asked: never held against the answer
    ],
)
def test_answers_of_the_kind_pass(question: str, answer: str) -> None:
    assert answers_the_kind(question, answer)


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("张永海在哪一年回到了辽宁队？", "辽宁队"),  # another span of the same paragraph
        ("In what year did the mill open?", "It ground wheat for three valleys."),
        ("杨昊现效力于哪支球队？他进了多少球？", "中场"),
        ("How many points did the Panthers defense surrender?", "The Panthers defense"),
        ("尤金袋鼠最初是何时被发现的？", "浮龙属的化石发现于加州费雷斯诺县。"),
        ("自2001年，萱侬律的经营权归谁所有？", "1980年"),
        ("Who founded the observatory?", "In 1931."),
        ("Where was he born?", "March 2, 1997"),
    ],
)
def test_answers_of_another_kind_fail(question: str, answer: str) -> None:
    assert not answers_the_kind(question, answer)


@pytest.mark.parametrize(
    ("question", "yes_or_no"),
    [
        ("Are Youssef Chahine and Gordon Douglas both directors?", True),
        ("Was the mill built before the war?", True),
        ("  Did Splash win an award?", True),
        ("他们两人是否都是导演？", True),
        ("这座桥还在使用吗？", True),
        ("Which band was formed earlier, Marilyn Manson or Walk the Moon?", False),
        ("Who is the director?", False),
        ("Isabel founded which company?", False),  # "Is" only as a word of its own
        ("这是什么？", False),
        ("谁是导演？", False),
    ],
)
def test_yes_or_no_questions(question: str, yes_or_no: bool) -> None:
    assert asks_yes_or_no(question) is yes_or_no
