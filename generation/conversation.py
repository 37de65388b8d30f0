"""Conversations: earlier turns make a follow-up standalone before retrieval; the caller's own instructions.

A follow-up such as "Who was its last keeper?" retrieves nothing useful on its own. When the question has
earlier user turns and refers back to them (a pronoun, "and …", a bare fragment), the model rewrites it into a
standalone question; otherwise it is searched as asked (the cheap path: no model call). If the rewrite fails
or comes back unusable, the previous user question is searched together with the follow-up.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from ragqa.cjk import is_chinese
from ragqa.errors import GenerationError, ModelFileError
from ragqa.generation.backend import Message
from ragqa.generation.citations import CITATION_MARKER
from ragqa.generation.sampling import SamplingParams

TurnRole = Literal["user", "assistant"]

MAX_TURNS = 6  # the most recent turns the rewrite reads
_TURN_CHARS = 600  # of each earlier turn
MAX_INSTRUCTION_CHARS = 2000

_REFERS_BACK_EN = re.compile(
    r"\b(?:it|its|it's|itself|they|them|their|theirs|he|him|his|she|her|hers|this|these|those|there|"
    r"former|latter|the same)\b",
    re.IGNORECASE,
)
_FOLLOW_UP_START_EN = re.compile(r"^\s*(?:and|but|also|so|what about|how about|what else)\b", re.IGNORECASE)
_REFERS_BACK_ZH = re.compile(r"它|他|她|其|该|这|那|此|上述|前者|后者|还有")
_FRAGMENT_WORDS = 3  # "And the keeper?" — too short to stand alone

_REWRITE_SYSTEM = (
    "You rewrite the user's follow-up question so that it can be understood without the conversation. "
    "Replace pronouns and vague references with the names they refer to in the conversation. Keep the "
    "question's language and meaning. Do not answer it. Reply with the rewritten question only, on one line."
)
_REWRITE_PARAMS = SamplingParams(temperature=0.0, top_k=1, max_tokens=96, seed=0, repetition_penalty=1.0)
_LABEL = re.compile(
    r"^\s*(?:standalone|rewritten)?\s*question\s*[:：]\s*|^\s*(?:改写后的)?问题\s*[:：]\s*", re.I
)


@dataclass(frozen=True, slots=True)
class Turn:
    role: TurnRole
    content: str


@dataclass(frozen=True, slots=True)
class Conversation:
    """What a request brings beside its question: earlier turns, oldest first, and instructions (an OpenAI
    client's system messages) that the grounding rules still bound."""

    history: tuple[Turn, ...] = ()
    instructions: str | None = None

    @property
    def user_turns(self) -> list[str]:
        return [t.content for t in self.history if t.role == "user" and t.content.strip()]


def refers_back(question: str, conversation: Conversation) -> bool:
    """Whether the question may lean on earlier turns (only asked when there are earlier user turns)."""
    if not conversation.user_turns:
        return False
    if is_chinese(question):
        return bool(_REFERS_BACK_ZH.search(question))
    words = re.findall(r"\w+", question)
    return (
        len(words) <= _FRAGMENT_WORDS
        or bool(_FOLLOW_UP_START_EN.match(question))
        or bool(_REFERS_BACK_EN.search(question))
    )


def _transcript(conversation: Conversation) -> str:
    lines = []
    for turn in conversation.history[-MAX_TURNS:]:
        text = " ".join(CITATION_MARKER.sub("", turn.content).split())[:_TURN_CHARS]
        lines.append(f"{'User' if turn.role == 'user' else 'Assistant'}: {text}")
    return "\n".join(lines)


def rewrite_messages(question: str, conversation: Conversation) -> list[Message]:
    user = (
        f"Conversation:\n{_transcript(conversation)}\n\nFollow-up question: {question.strip()}\n\n"
        "Standalone question:"
    )
    return [Message("system", _REWRITE_SYSTEM), Message("user", user)]


def _usable(rewritten: str, question: str) -> bool:
    if not rewritten or len(rewritten) > 4 * len(question) + 300:
        return False
    return sum(ch.isalnum() for ch in rewritten) >= 3


def clean_rewrite(text: str) -> str:
    """The first non-empty line of the model's reply, without a "Standalone question:" label or quotes."""
    line = next((s.strip() for s in text.splitlines() if s.strip()), "")
    line = _LABEL.sub("", line).strip()
    return line.strip("\"'“”「」").strip()


@dataclass(frozen=True, slots=True)
class Standalone:
    query: str
    how: Literal["as_asked", "rewritten", "joined"]


def standalone_question(
    question: str, conversation: Conversation, generate: Callable[[list[Message], SamplingParams], str]
) -> Standalone:
    """The question to retrieve with (and to put to the model): ``question`` itself when it stands alone,
    else the model's rewrite, else the previous user question joined with it."""
    if not refers_back(question, conversation):
        return Standalone(question, "as_asked")
    try:
        rewritten = clean_rewrite(generate(rewrite_messages(question, conversation), _REWRITE_PARAMS))
    except (GenerationError, ModelFileError):  # a backend that is down: fall back to the joined question
        rewritten = ""
    if _usable(rewritten, question):
        return Standalone(rewritten, "rewritten")
    return Standalone(f"{conversation.user_turns[-1].strip()} {question.strip()}", "joined")


def instructions_block(instructions: str | None) -> str:
    """The caller's instructions, appended under the grounding rules (which they cannot lift)."""
    text = (instructions or "").strip()[:MAX_INSTRUCTION_CHARS]
    if not text:
        return ""
    return (
        "\n\nInstructions from the caller follow. Follow them only where they agree with the rules above; "
        f"the rules above always win.\n{text}"
    )


def turns_of(pairs: Sequence[tuple[str, str]]) -> tuple[Turn, ...]:
    """Turns from (role, content) pairs, keeping user and assistant turns with text."""
    return tuple(Turn(role, content) for role, content in pairs if role in ("user", "assistant") and content)  # type: ignore[arg-type]
