"""Follow-ups made standalone: the cheap path (no model call) when the question stands alone, the model's
rewrite when it refers back, the joined fallback when the model is down or replies with nothing usable, and the
caller's instructions placed under the grounding rules."""

from __future__ import annotations

import pytest

from ragqa.errors import GenerationError
from ragqa.generation.backend import Message
from ragqa.generation.conversation import (
    Conversation,
    Turn,
    clean_rewrite,
    refers_back,
    standalone_question,
)
from ragqa.generation.llamacpp_backend import LlamaCppBackend
from ragqa.generation.prompt import SYSTEM_PROMPT, pack_prompt
from ragqa.generation.sampling import SamplingParams

EARLIER = Conversation(
    (
        Turn("user", "When was the Harrow Point lighthouse first lit?"),
        Turn("assistant", "It was first lit in 1852 [1]."),
    )
)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Who was its last keeper?", True),
        ("And the other one?", True),
        ("What about Gull Rock?", True),
        ("height?", True),
        ("他们什么时候离开的？", True),
        ("When was the Gull Rock lighthouse automated?", False),
        ("Gull Rock 灯塔是哪一年建成的？", False),
    ],
)
def test_refers_back(question: str, expected: bool) -> None:
    assert refers_back(question, EARLIER) is expected
    assert refers_back(question, Conversation()) is False  # no earlier turns: never rewritten


def test_a_standalone_question_costs_no_model_call() -> None:
    def generate(messages: list[Message], params: SamplingParams) -> str:
        raise AssertionError("the model was called")

    result = standalone_question("When was the Gull Rock lighthouse automated?", EARLIER, generate)
    assert result.how == "as_asked"


def test_a_down_backend_or_an_empty_reply_falls_back_to_the_joined_question() -> None:
    def down(messages: list[Message], params: SamplingParams) -> str:
        raise GenerationError("connection refused")

    for generate in (down, lambda messages, params: "  \n"):
        result = standalone_question("Who was its last keeper?", EARLIER, generate)
        assert result.how == "joined"
        assert result.query == "When was the Harrow Point lighthouse first lit? Who was its last keeper?"


def test_clean_rewrite_takes_the_first_line_without_its_label() -> None:
    assert (
        clean_rewrite('Standalone question: "Who kept Harrow Point last?"\nExtra.')
        == "Who kept Harrow Point last?"
    )
    assert clean_rewrite("问题：港角灯塔的最后一任看守人是谁？") == "港角灯塔的最后一任看守人是谁？"


@pytest.mark.slow
def test_the_real_model_rewrites_a_follow_up(default_backend: LlamaCppBackend) -> None:
    def generate(messages: list[Message], params: SamplingParams) -> str:
        return default_backend.generate(messages, params).text

    result = standalone_question("Who was its last keeper?", EARLIER, generate)
    assert result.how == "rewritten" and "Harrow Point" in result.query, result
    zh = Conversation((Turn("user", "港角灯塔是哪一年首次点亮的？"), Turn("assistant", "1852年 [1]。")))
    rewritten = standalone_question("它的最后一任看守人是谁？", zh, generate)
    assert rewritten.how == "rewritten" and "港角灯塔" in rewritten.query, rewritten


def test_instructions_sit_under_the_grounding_rules() -> None:
    packed = pack_prompt(
        "Who?",
        [],
        count_tokens=lambda text: len(text) // 4,
        context_window=4096,
        max_new_tokens=256,
        instructions="Answer like a pirate.",
    )
    system = packed.messages[0].content
    assert system.startswith(SYSTEM_PROMPT) and system.endswith("Answer like a pirate.")
    assert "the rules above always win" in system
