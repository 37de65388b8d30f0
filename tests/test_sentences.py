from ragqa.sentences import split_sentences


def _split(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def test_english_sentences_keep_abbreviations_and_decimals() -> None:
    text = "Dr. Smith paid $3.50 at 5 p.m. on Monday. He left! Did he come back? Yes, e.g. later."
    assert _split(text) == [
        "Dr. Smith paid $3.50 at 5 p.m. on Monday.",
        "He left!",
        "Did he come back?",
        "Yes, e.g. later.",
    ]


def test_chinese_terminators_without_spaces() -> None:
    text = "北京是中国的首都。上海呢？“好的！”他说；然后走了……最后一句"
    assert _split(text) == ["北京是中国的首都。", "上海呢？", "“好的！”", "他说；", "然后走了……", "最后一句"]


def test_paragraphs_headings_and_list_items_are_boundaries() -> None:
    text = "# Title\nIntro line without stop\n\nSecond para\n- item one\n- item two"
    assert _split(text) == ["# Title", "Intro line without stop", "Second para", "- item one", "- item two"]


def test_spans_point_into_the_original_text() -> None:
    text = "  First one.   Second one.\n\n第三句。 "
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == ["First one.", "Second one.", "第三句。"]
    assert all(0 <= s < e <= len(text) for s, e in spans)
    assert split_sentences("   \n ") == []
