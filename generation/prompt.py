"""The grounded prompt: a strict system instruction and numbered sources packed to fit the context window."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ragqa.cjk import is_chinese
from ragqa.errors import InputError
from ragqa.generation.backend import Message
from ragqa.generation.conversation import instructions_block
from ragqa.types import Hit

SYSTEM_PROMPT = """You answer questions using only the numbered sources you are given.
Rules:
1. Use only facts stated in the sources. Never use outside knowledge.
2. After each sentence, cite the sources that support it with their numbers in square brackets, like [1] or [1][2].
3. If the sources do not contain the answer, reply with exactly: I don't know.
4. Answer in the language of the question. For a question in Chinese, answer in Chinese, and reply 我不知道。 when the sources do not contain the answer.
5. Be brief: one to three sentences."""

_SAFETY_TOKENS = 48  # chat-template tokens around each message


def refusal_text(question: str) -> str:
    return "我不知道。" if is_chinese(question) else "I don't know."


def _reminder(question: str) -> str:
    if is_chinese(question):
        return "请只根据上面的资料用中文回答，并在每句话后用方括号标注资料编号，例如 [1]。如果资料中没有答案，只回答：我不知道。"
    return (
        "Answer using only the sources above and put the source number in square brackets after each sentence, "
        "like [1]. If the sources do not contain the answer, reply only: I don't know."
    )


def _extractive_reminder(question: str) -> str:
    """The second ask after a decline: find and copy the answering sentence instead of composing one."""
    if is_chinese(question):
        return "请在上面的资料中找出回答这个问题的句子，原样抄写，并在句末用方括号标注资料编号，例如 [2]。如果没有任何句子回答这个问题，只回答：我不知道。"
    return (
        "Find the sentence in the sources above that answers the question and copy it word for word, followed "
        "by its source number in square brackets, like [2]. If no sentence answers the question, reply only: "
        "I don't know."
    )


REMINDERS: dict[str, Callable[[str], str]] = {"answer": _reminder, "extract": _extractive_reminder}


@dataclass(slots=True)
class PackedPrompt:
    messages: list[Message]
    sources: list[Hit]  # source n is sources[n - 1]
    dropped: int  # retrieved chunks that did not fit
    prompt_tokens: int


def _source_block(n: int, hit: Hit, text: str) -> str:
    title = f" {hit.title}" if hit.title else ""
    return f"[{n}]{title}\n{text.strip()}\n\n"


def pack_prompt(
    question: str,
    hits: Sequence[Hit],
    *,
    count_tokens: Callable[[str], int],
    context_window: int,
    max_new_tokens: int,
    reminder: str = "answer",
    instructions: str | None = None,
    texts: Sequence[str] | None = None,
) -> PackedPrompt:
    """Add sources in rank order while they fit beside the instruction, question and answer budget.
    ``reminder``: ``answer`` (compose a cited answer) or ``extract`` (copy the answering sentence);
    ``instructions``: the caller's own, placed under the grounding rules; ``texts``: what to show of each hit
    (compressed), instead of its whole text."""
    system = SYSTEM_PROMPT + instructions_block(instructions)
    question_part = f"Question: {question.strip()}\n\n{REMINDERS[reminder](question)}"
    fixed = count_tokens(system) + count_tokens("Sources:\n\n" + question_part) + 2 * _SAFETY_TOKENS
    budget = context_window - max_new_tokens - fixed
    if budget <= 0:
        raise InputError(
            f"the context window ({context_window} tokens) cannot hold the instruction, the question and "
            f"{max_new_tokens} answer tokens; lower max_tokens or raise the context size"
        )
    blocks: list[str] = []
    used: list[Hit] = []
    spent = 0
    for i, hit in enumerate(hits):
        text = texts[i] if texts is not None else hit.text
        block = _source_block(len(used) + 1, hit, text)
        cost = count_tokens(block)
        if spent + cost > budget:
            if used:
                break
            keep = int(len(text) * (budget - spent) / cost * 0.9)  # the best chunk alone is too big: cut it
            if keep < 20:
                break
            block = _source_block(1, hit, text[:keep])
            cost = count_tokens(block)
        blocks.append(block)
        used.append(hit)
        spent += cost
    user = "Sources:\n\n" + "".join(blocks) + question_part
    messages = [Message("system", system), Message("user", user)]
    return PackedPrompt(messages, used, len(hits) - len(used), fixed + spent)
