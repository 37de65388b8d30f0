"""Conversations that remember, with the real default model: a follow-up ("Who was its last keeper?") over a
corpus with two lighthouses is made standalone from the earlier turn and answered with Harrow Point's keeper,
not the other one's — over ``/v1/query`` with ``history`` and over the OpenAI client with a message list."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from openai import OpenAI

from ragqa.client import Client
from tests.api.lighthouses import FIRST, FOLLOW_UP

pytestmark = pytest.mark.slow


def test_query_with_history_answers_the_follow_up_about_the_same_lighthouse(lighthouse_server: str) -> None:
    with httpx.Client(base_url=lighthouse_server, timeout=300) as client:
        greedy = {"temperature": 0, "seed": 0}  # the same answers every run
        first = client.post("/v1/query", json={"question": FIRST, "sampling": greedy}).json()
        assert "1852" in first["answer"] and first["retrieval_query"] == FIRST  # nothing to rewrite
        history = [{"role": "user", "content": FIRST}, {"role": "assistant", "content": first["answer"]}]
        body = client.post(
            "/v1/query", json={"question": FOLLOW_UP, "history": history, "sampling": greedy}
        ).json()
    assert "Harrow Point" in body["retrieval_query"] and body["retrieval_query"] != FOLLOW_UP
    assert "Marlow" in body["answer"] and "Brenn" not in body["answer"], body
    assert body["question"] == FOLLOW_UP and not body["refused"]
    assert {c["doc_id"] for c in body["citations"]} == {"harrow-point"}
    with Client(lighthouse_server, timeout=300) as ragqa:  # the Python client sends the same history
        done = list(ragqa.stream(FOLLOW_UP, history=history))[-1]
    assert done.kind == "done" and done.answer is not None and "Marlow" in done.answer.answer, done
    assert "Harrow Point" in done.answer.retrieval_query


def test_openai_client_uses_the_whole_message_list(lighthouse_server: str) -> None:
    client = OpenAI(base_url=f"{lighthouse_server}/v1", api_key="unused", timeout=300)
    messages: list[Any] = [
        {"role": "system", "content": "Answer in one short sentence."},
        {"role": "user", "content": FIRST},
        {"role": "assistant", "content": "The Harrow Point lighthouse was first lit in 1852 [1]."},
        {"role": "user", "content": FOLLOW_UP},
    ]
    # greedy: at the default temperature one full-suite run also cited the other lighthouse
    completion = client.chat.completions.create(model="ragqa", messages=messages, temperature=0, seed=0)
    answer = completion.choices[0].message.content or ""
    extra = completion.model_extra or {}
    assert "Marlow" in answer and "Brenn" not in answer, answer
    assert "Harrow Point" in extra["retrieval_query"]
    assert {c["doc_id"] for c in extra["citations"]} == {"harrow-point"}
