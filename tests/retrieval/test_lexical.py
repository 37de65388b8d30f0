from __future__ import annotations

import json
from pathlib import Path

from ragqa.cjk import CJK_RUN
from ragqa.retrieval.lexical import LexicalTokenizer


def test_english_is_stemmed_and_stopwords_dropped() -> None:
    tokens = LexicalTokenizer().tokenize("The Running dogs are running to the Houses!")
    assert tokens == ["run", "dog", "run", "hous"]  # Lucene's English stop set, as Anserini uses


def test_mixed_chinese_and_english() -> None:
    tokens = LexicalTokenizer("precise").tokenize("我们在北京大学学习 Machine Learning 的课程")
    assert tokens == ["北京大学", "学习", "machin", "learn", "课程"]
    search = LexicalTokenizer("search").tokenize("北京大学")
    assert {"北京", "大学", "北京大学"} <= set(search)


def test_bigrams_add_every_adjacent_pair_to_the_dictionary_words() -> None:
    words = LexicalTokenizer("search").tokenize("猢狲树开花 in spring")
    tokens = LexicalTokenizer("search+bigrams").tokenize("猢狲树开花 in spring")
    assert words == ["猢狲", "树", "开花", "spring"]
    # the dictionary's words, then every pair (a two-character word counts twice), Latin words unpaired
    assert tokens == ["猢狲", "树", "开花", "猢狲", "狲树", "树开", "开花", "spring"]
    assert LexicalTokenizer("search+bigrams").tokenize("猫") == ["猫"]


def test_rjieba_matches_jieba_on_real_chinese_text(shared_data: Path) -> None:
    import jieba
    import rjieba

    data = json.loads((shared_data / "cmrc2018" / "cmrc2018_trial.squad.json").read_text(encoding="utf-8"))
    contexts = [p["context"] for article in data["data"][:20] for p in article["paragraphs"]]
    runs = [run for c in contexts for run in CJK_RUN.findall(c)]  # we segment CJK runs only
    same = sum(rjieba.cut(run) == list(jieba.cut(run)) for run in runs)
    assert len(runs) > 500 and same / len(runs) >= 0.99
