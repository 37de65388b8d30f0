import pytest

from ragqa.cjk import is_chinese
from ragqa.errors import InputError
from ragqa.generation.prompt import SYSTEM_PROMPT, pack_prompt, refusal_text
from ragqa.types import Hit


def _hit(i: int, words: int) -> Hit:
    return Hit(
        f"c{i}", f"d{i}", 1.0, " ".join(f"w{i}x{j}" for j in range(words)), f"Title {i}", "src", (0, 1)
    )


def _count(text: str) -> int:
    return len(text.split())


def test_sources_are_numbered_and_packed_within_the_window() -> None:
    hits = [_hit(i, 100) for i in range(10)]
    packed = pack_prompt("What?", hits, count_tokens=_count, context_window=700, max_new_tokens=100)
    assert packed.messages[0].content == SYSTEM_PROMPT
    user = packed.messages[1].content
    assert user.startswith("Sources:\n\n[1] Title 0\n") and "[2] Title 1" in user
    assert 0 < len(packed.sources) < 10 and packed.dropped == 10 - len(packed.sources)
    assert sum(_count(m.content) for m in packed.messages) + 100 <= 700
    assert packed.prompt_tokens <= 600


def test_a_single_oversized_source_is_cut_to_fit() -> None:
    packed = pack_prompt(
        "What?", [_hit(0, 5000)], count_tokens=_count, context_window=800, max_new_tokens=100
    )
    assert len(packed.sources) == 1 and _count(packed.messages[1].content) < 700


def test_window_too_small_is_an_error() -> None:
    with pytest.raises(InputError, match="context window"):
        pack_prompt("What?", [_hit(0, 10)], count_tokens=_count, context_window=120, max_new_tokens=100)


def test_language_detection_and_refusal_text() -> None:
    assert is_chinese("长城有多长？") and not is_chinese("How long is the Great Wall?")
    assert refusal_text("长城有多长？") == "我不知道。" and refusal_text("Why?") == "I don't know."
