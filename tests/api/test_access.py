"""Per-document access over HTTP, as two teams would use one ragqa: each key sees its groups' documents and the
public ones — in hits, sources, answers, listings, fetches, deletes and jobs — and forbidden ones look absent."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from ragqa.api.security import hash_key
from ragqa.config import ApiKeyEntry
from ragqa.generation.llamacpp_backend import LlamaCppBackend
from tests.processes import wait_for_job

KEYS = {
    "hr-reader": ("read", ["hr"]),
    "eng-writer": ("write", ["eng"]),
    "boss": ("admin", []),
}


def _client(url: str, name: str) -> httpx.Client:
    return httpx.Client(base_url=url, timeout=300, headers={"Authorization": f"Bearer secret-{name}"})


@pytest.fixture
def clients(live_server: Any, small_backend: LlamaCppBackend) -> dict[str, httpx.Client]:
    entries = [
        ApiKeyEntry(hash=hash_key(f"secret-{name}"), name=name, role=role, groups=tuple(groups))
        for name, (role, groups) in KEYS.items()
    ]
    server = live_server(small_backend, api_keys=entries, api_key_hashes=[hash_key("legacy-admin")])
    out = {name: _client(server.url, name) for name in KEYS}
    out["legacy"] = httpx.Client(base_url=server.url, timeout=300, headers={"X-API-Key": "legacy-admin"})
    docs = [
        {"id": "holidays", "text": "Every employee gets 30 days of holiday a year."},
        {
            "id": "salaries",
            "text": "The salary review happens every March; raises average 4%.",
            "acl": ["hr"],
        },
        {"id": "deploys", "text": "Production deploys happen every Tuesday at 10:00.", "acl": ["eng"]},
    ]
    job = out["boss"].post("/v1/documents", json={"documents": docs})
    assert job.status_code == 202 and wait_for_job(out["boss"], job.json()["id"])["state"] == "succeeded"
    return out


def _ids(response: httpx.Response, key: str = "hits") -> set[str]:
    assert response.status_code == 200, response.text
    return {h["doc_id"] for h in response.json()[key]}


def test_each_key_sees_its_groups_and_the_public_documents(clients: dict[str, httpx.Client]) -> None:
    hr, eng, boss = clients["hr-reader"], clients["eng-writer"], clients["boss"]
    query = {"query": "when does it happen every year, week or month?", "k": 10}
    assert _ids(hr.post("/v1/search", json=query)) == {"holidays", "salaries"}
    assert _ids(eng.post("/v1/search", json=query)) == {"holidays", "deploys"}
    assert _ids(boss.post("/v1/search", json=query)) == {"holidays", "salaries", "deploys"}
    assert _ids(clients["legacy"].post("/v1/search", json=query)) == {"holidays", "salaries", "deploys"}
    # the filter narrows further, never widens: asking for another group's document by id finds nothing
    narrowed = hr.post("/v1/search", json={**query, "filter": {"doc_ids": ["deploys", "salaries"]}})
    assert _ids(narrowed) == {"salaries"}
    answer = hr.post(
        "/v1/query", json={"question": "When are production deploys?", "sampling": {"max_tokens": 40}}
    )
    assert "deploys" not in _ids(answer, "sources") and "Tuesday" not in answer.json()["answer"]
    assert "deploys" not in json.dumps(answer.json()["claims"])
    chat = hr.post(
        "/v1/chat/completions",
        json={"messages": [{"role": "user", "content": "When are deploys?"}], "max_tokens": 32},
    )
    assert "deploys" not in {s["doc_id"] for s in chat.json()["sources"]}
    page = hr.get("/v1/documents").json()
    assert page["total"] == 2 and {d["doc_id"] for d in page["documents"]} == {"holidays", "salaries"}
    missing, absent = hr.get("/v1/documents/deploys"), hr.get("/v1/documents/no-such-doc")
    assert missing.status_code == absent.status_code == 404  # forbidden looks exactly like absent
    assert hr.get("/v1/documents/deploys/content").status_code == 404  # and so does its text
    assert "Tuesday" in eng.get("/v1/documents/deploys/content").json()["text"]
    assert missing.json()["error"]["message"].replace("deploys", "X") == absent.json()["error"][
        "message"
    ].replace("no-such-doc", "X")


def test_roles_and_what_a_writer_may_grant(clients: dict[str, httpx.Client]) -> None:
    hr, eng, boss = clients["hr-reader"], clients["eng-writer"], clients["boss"]
    denied = hr.post("/v1/documents", json={"documents": [{"id": "x", "text": "x"}]})
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "forbidden"
    assert hr.delete("/v1/documents/holidays").status_code == 403
    foreign = eng.post("/v1/documents", json={"documents": [{"id": "y", "text": "y", "acl": ["hr"]}]})
    assert foreign.status_code == 403 and foreign.json()["error"]["code"] == "acl_not_allowed"
    sneaky = eng.post(
        "/v1/documents", json={"documents": [{"id": "y", "text": "y", "metadata": {"acl": ["hr"]}}]}
    )
    assert sneaky.status_code == 422  # acl only through the acl field
    form = eng.post(
        "/v1/documents", files={"files": ("plan.txt", b"The roadmap ships in Q3.")}, data={"acl": "eng"}
    )
    assert form.status_code == 202 and form.json()["acl"] == ["eng"] and form.json()["owner"] == "eng-writer"
    job = wait_for_job(eng, form.json()["id"])
    assert job["state"] == "succeeded" and "allowed_groups" not in job
    records = b'{"id": "leak", "text": "Secret HR note.", "acl": ["hr"]}\n{"id": "ok", "text": "Eng note.", "acl": ["eng"]}\n'
    upload = eng.post("/v1/documents", files={"files": ("notes.jsonl", records)})
    result = wait_for_job(eng, upload.json()["id"])
    assert result["state"] == "succeeded_with_errors" and "hr" in result["errors"][0]["reason"]
    assert (
        eng.get("/v1/documents/leak").status_code == 404 and boss.get("/v1/documents/leak").status_code == 404
    )
    # jobs: a key sees its own; another key's job looks absent; the admin sees all
    assert hr.get(f"/v1/jobs/{form.json()['id']}").status_code == 404
    assert {j["owner"] for j in eng.get("/v1/jobs").json()["jobs"]} == {"eng-writer"}
    assert {j["owner"] for j in boss.get("/v1/jobs").json()["jobs"]} == {"boss", "eng-writer"}
    # a writer cannot delete what it cannot see
    assert eng.delete("/v1/documents/salaries").status_code == 404
    assert boss.get("/v1/documents/salaries").status_code == 200
