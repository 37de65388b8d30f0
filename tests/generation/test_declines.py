from __future__ import annotations

import pytest

from ragqa.generation.answerer import is_declined


@pytest.mark.parametrize(
    ("text", "cited", "declined"),
    [
        ("", False, True),
        ("[2].", True, True),  # only a citation marker: says nothing
        ("[1] [2][3] [4]", True, True),
        ("I don't know.", False, True),
        ("I don't know [1][2].", True, True),  # a bare decline stays a decline with citations
        ("文档中没有提到这一点。", False, True),
        ("Delhi[1].", True, False),
        (
            "The head office is in Delhi[1]; its founding year is not mentioned in the sources, but it grew fast[2].",
            True,
            False,
        ),
    ],
)
def test_is_declined(text: str, cited: bool, declined: bool) -> None:
    assert is_declined(text, cited=cited) is declined
