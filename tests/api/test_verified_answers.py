"""Verified answers as served: an invented claim, injected through a model server that speaks the OpenAI
protocol and gives a fixed answer, is removed (``drop``), refused (``strict``), listed (``annotate``) or left
alone (``off``) — over JSON, SSE and the official OpenAI client."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from ragqa.generation.openai_backend import OpenAIBackend
from tests.fixed_model import FixedAnswerServer
from tests.processes import wait_for_job

ServerFactory = Callable[..., Any]
HARROW = (
    "The Harrow Point lighthouse was first lit in 1852. It stands on a granite ledge at the mouth of the "
    "estuary. Its last keeper was Edith Marlow, who left the station in 1961 when the light was automated."
)
SUPPORTED = "The Harrow Point lighthouse was first lit in 1852 [1]."
INVENTED = "Its keeper kept forty goats and a brass telescope on the island [1]."
QUESTION = "When was the Harrow Point lighthouse first lit?"


@pytest.fixture
def model() -> Iterator[FixedAnswerServer]:
    server = FixedAnswerServer(f"{SUPPORTED} {INVENTED}")
    yield server
    server.close()


def _harrow_client(live_server: ServerFactory, model: FixedAnswerServer, **settings: Any) -> httpx.Client:
    """A server answering with ``model``, its collection holding the Harrow Point passage."""
    backend = OpenAIBackend(model.url, model="fixed", timeout=30, context_window=4096)
    server = live_server(backend, **settings)
    client = httpx.Client(base_url=server.url, timeout=120)
    files = [("files", ("harrow.txt", HARROW.encode(), "text/plain"))]
    wait_for_job(client, client.post("/v1/documents", files=files).json()["id"])
    return client


@pytest.fixture
def client(live_server: ServerFactory, model: FixedAnswerServer) -> httpx.Client:
    return _harrow_client(live_server, model)


def _ask(client: httpx.Client, **extra: Any) -> dict[str, Any]:
    response = client.post("/v1/query", json={"question": QUESTION, **extra})
    assert response.status_code == 200, response.text
    return response.json()


def test_drop_removes_the_invented_claim_and_lists_its_verdict(client: httpx.Client) -> None:
    body = _ask(client)  # the default mode is drop
    assert body["answer"] == SUPPORTED and not body["refused"] and body["cited"]
    invented = next(c for c in body["claims"] if "goats" in c["text"])
    assert invented["verdict"] != "supported" and invented["citations"] == [1]
    supported = next(c for c in body["claims"] if "1852" in c["text"])
    assert supported["evidence"]["n"] == 1 and "1852" in supported["evidence"]["text"]
    start, end = supported["evidence"]["span"]
    assert HARROW[start:end] == supported["evidence"]["text"]
    assert body["verification"] == {"mode": "drop", "claims": 2, "supported": 1, "removed": 1}


def test_strict_refuses_off_and_annotate_leave_it(client: httpx.Client) -> None:
    strict = _ask(client, verify="strict")
    assert (
        strict["refused"]
        and strict["refusal_reason"] == "unsupported"
        and strict["answer"] == "I don't know."
    )
    assert strict["citations"] == [] and len(strict["claims"]) == 2
    off = _ask(client, verify="off")
    assert "goats" in off["answer"] and off["verification"] is None and off["claims"] == []
    annotate = _ask(client, verify="annotate")
    assert "goats" in annotate["answer"] and annotate["verification"]["removed"] == 0
    assert {c["verdict"] for c in annotate["claims"]} != {"supported"}


def test_streaming_clients_see_the_verified_text_last(client: httpx.Client) -> None:
    with client.stream("POST", "/v1/query", json={"question": QUESTION, "stream": True}) as response:
        text = "".join(response.iter_text())
    events = [block.split("\n", 1) for block in text.strip().split("\n\n")]
    kinds = [head.removeprefix("event: ") for head, _ in events]
    assert kinds[0] == "sources" and kinds[-2:] == ["claims", "done"]
    streamed = "".join(
        json.loads(data.removeprefix("data: "))["delta"] for head, data in events if "token" in head
    )
    assert "goats" in streamed  # tokens go out as generated …
    done = json.loads(events[-1][1].removeprefix("data: "))
    assert done["answer"] == SUPPORTED and done["verification"]["removed"] == 1  # … the last word is verified


def test_the_openai_client_sees_claims(client: httpx.Client) -> None:
    from openai import OpenAI

    api = OpenAI(base_url=f"{str(client.base_url).rstrip('/')}/v1", api_key="unused")
    completion = api.chat.completions.create(model="ragqa", messages=[{"role": "user", "content": QUESTION}])
    extra = completion.model_extra or {}
    assert completion.choices[0].message.content == SUPPORTED
    assert extra["verification"]["removed"] == 1 and any("goats" in c["text"] for c in extra["claims"])
    strict = api.chat.completions.create(
        model="ragqa", messages=[{"role": "user", "content": QUESTION}], extra_body={"verify": "strict"}
    )
    assert (strict.model_extra or {})["refusal_reason"] == "unsupported"
    chunks = list(
        api.chat.completions.create(
            model="ragqa", messages=[{"role": "user", "content": QUESTION}], stream=True
        )
    )
    last = chunks[-1].model_extra or {}
    assert last["verified_answer"] == SUPPORTED and last["verification"]["removed"] == 1


@pytest.mark.parametrize("retry", [False, True])
def test_a_declined_answer_is_asked_again_to_copy_the_sentence(
    live_server: ServerFactory, retry: bool
) -> None:
    model = FixedAnswerServer("I don't know.", when=(("word for word", SUPPORTED),))
    try:
        client = _harrow_client(live_server, model, retry_declined=retry)
        body = _ask(client)
        if retry:
            assert body["answer"] == SUPPORTED and not body["refused"] and "retry" in body["timings"]
            assert body["verification"]["supported"] == 1
            with client.stream("POST", "/v1/query", json={"question": QUESTION, "stream": True}) as response:
                done = "".join(response.iter_text()).strip().split("\n\n")[-1]
            assert done.startswith("event: done")  # the streamed answer is retried too
            assert json.loads(done.split("\n", 1)[1].removeprefix("data: "))["answer"] == SUPPORTED
        else:
            assert body["refused"] and body["refusal_reason"] == "model_declined"
    finally:
        model.close()


@pytest.mark.parametrize("retry", [False, True])
def test_an_answer_verification_left_nothing_of_is_asked_again_to_copy_the_sentence(
    live_server: ServerFactory, retry: bool
) -> None:
    """The model's own wording is all invented; asked to copy, it gives the source's sentence, which passes."""
    model = FixedAnswerServer(INVENTED, when=(("word for word", SUPPORTED),))
    try:
        client = _harrow_client(live_server, model, retry_unsupported=retry)
        body = _ask(client)
        if retry:
            assert body["answer"] == SUPPORTED and not body["refused"] and "retry" in body["timings"]
            assert body["verification"] == {"mode": "drop", "claims": 1, "supported": 1, "removed": 0}
            with client.stream("POST", "/v1/query", json={"question": QUESTION, "stream": True}) as response:
                blocks = "".join(response.iter_text()).strip().split("\n\n")
            streamed = "".join(
                json.loads(b.split("data: ", 1)[1])["delta"] for b in blocks if b.startswith("event: token")
            )
            assert "goats" in streamed  # tokens stream as generated; the final event carries what is served
            assert json.loads(blocks[-1].split("data: ", 1)[1])["answer"] == SUPPORTED
        else:
            assert (
                body["refused"] and body["refusal_reason"] == "unsupported" and "retry" not in body["timings"]
            )
    finally:
        model.close()


def test_a_copy_that_does_not_answer_the_question_is_not_served(live_server: ServerFactory) -> None:
    """Asked to copy, the model gives a supported sentence about something else: the refusal stands."""
    aside = "It stands on a granite ledge at the mouth of the estuary [1]."
    model = FixedAnswerServer(INVENTED, when=(("word for word", aside),))
    try:
        body = _ask(_harrow_client(live_server, model))
        assert body["refused"] and body["refusal_reason"] == "unsupported" and "retry" in body["timings"]
        assert "granite" not in body["answer"]
    finally:
        model.close()


def test_streams_stay_alive_while_the_model_reads(live_server: ServerFactory) -> None:
    """A model silent for 1.5 s before its first token: the stream sends keep-alive comments meanwhile, which an
    SSE client (our parser, the OpenAI client) skips."""
    from openai import OpenAI

    slow = FixedAnswerServer(f"{SUPPORTED} {INVENTED}", first_token_delay=1.5)
    try:
        client = _harrow_client(live_server, slow, api_sse_keepalive=0.3)
        with client.stream("POST", "/v1/query", json={"question": QUESTION, "stream": True}) as response:
            text = "".join(response.iter_text())
        blocks = text.strip().split("\n\n")
        first_token = next(i for i, b in enumerate(blocks) if b.startswith("event: token"))
        assert sum(b == ": keep-alive" for b in blocks[:first_token]) >= 2
        assert (
            blocks[-1].startswith("event: done")
            and json.loads(blocks[-1].split("data: ", 1)[1])["answer"] == SUPPORTED
        )
        api = OpenAI(base_url=f"{str(client.base_url).rstrip('/')}/v1", api_key="unused")
        stream = api.chat.completions.create(
            model="ragqa", messages=[{"role": "user", "content": QUESTION}], stream=True
        )
        chunks = list(stream)
        assert (chunks[-1].model_extra or {})["verified_answer"] == SUPPORTED
    finally:
        slow.close()


def test_a_full_model_queue_answers_429_with_retry_after(live_server: ServerFactory) -> None:
    """One model thread and room for one waiting answer: while one streams and one waits, a third question is
    refused at once with 429 ``model_busy`` and a Retry-After, instead of queueing for minutes; the two admitted
    ones finish."""
    import threading

    slow = FixedAnswerServer(SUPPORTED, first_token_delay=2.0)
    try:
        client = _harrow_client(live_server, slow, api_model_concurrency=1, api_model_queue=1)
        finished: list[str] = []

        def stream() -> None:
            body = {"question": QUESTION, "stream": True}
            with httpx.Client(base_url=client.base_url, timeout=60) as own:
                text = own.post("/v1/query", json=body).text
            finished.append(text.strip().split("\n\n")[-1])

        threads = [threading.Thread(target=stream) for _ in range(2)]
        for thread in threads:  # the first takes the model thread, the second waits for it
            thread.start()
            time.sleep(0.5)
        busy = client.post("/v1/query", json={"question": QUESTION})
        assert busy.status_code == 429 and busy.json()["error"]["code"] == "model_busy"
        assert int(busy.headers["Retry-After"]) >= 1
        chat = client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": QUESTION}]})
        assert chat.status_code == 429
        for thread in threads:
            thread.join(60)
        assert len(finished) == 2 and all(block.startswith("event: done") for block in finished)
        assert client.post("/v1/query", json={"question": QUESTION}).status_code == 200  # room again
    finally:
        slow.close()


def test_an_answer_of_another_kind_is_refused_with_its_own_reason(live_server: ServerFactory) -> None:
    """ "In what year …?" answered with the keeper's name: supported, but not what was asked — refused as
    ``not_an_answer`` (the second ask gets the same answer back and does not change that); served with the
    check off."""
    model = FixedAnswerServer("Its last keeper was Edith Marlow [1].")
    question = {"question": "In what year was the Harrow Point lighthouse first lit?"}
    try:
        checked = _harrow_client(live_server, model)
        body = checked.post("/v1/query", json=question).json()
        checked.close()
        assert body["refused"] and body["refusal_reason"] == "not_an_answer", body
        assert body["answer"] == "I don't know." and body["claims"][0]["verdict"] == "contradicted"
        unchecked = _harrow_client(live_server, model, verify_answer_kind=False)
        served = unchecked.post("/v1/query", json=question).json()
        unchecked.close()
        assert not served["refused"] and "Edith Marlow" in served["answer"], served
    finally:
        model.close()
