from ragqa.generation.citations import check_citations


def test_valid_invalid_and_grouped_citations() -> None:
    report = check_citations("Paris is the capital [1]. It has 2M people [2, 7]. 北京是首都【3】。", 3)
    assert report.text == "Paris is the capital [1]. It has 2M people [2]. 北京是首都[3]。"
    assert report.cited == [1, 2, 3] and report.invalid == 1 and report.uncited_sentences == []


def test_citation_after_the_full_stop_counts_for_that_sentence() -> None:
    report = check_citations("The sky is blue. [2] Grass is green.", 2)
    assert report.text == "The sky is blue[2]. Grass is green."
    assert report.uncited_sentences == ["Grass is green."]


def test_all_invalid_citations_are_removed() -> None:
    report = check_citations("Made up [9][10].", 2)
    assert report.text == "Made up." and report.cited == [] and report.invalid == 2
