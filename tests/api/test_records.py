"""The API's response models are the domain records: what the code returns validates against the published
schema, field for field, and documents are listed without loading the embedder."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from ragqa.api.records import model_of
from ragqa.api.schemas import ClaimOut, DocumentOut, HitOut, JobOut, QueryResponse, SearchResponse
from ragqa.api.services import Services
from ragqa.config import load_settings
from ragqa.generation.answerer import Answer
from ragqa.generation.backend import Usage
from ragqa.generation.sampling import SamplingParams
from ragqa.generation.verify.served import Evidence, ServedClaim, Verification
from ragqa.ingest.jobs import Job
from ragqa.ingest.pipeline import Ingestor
from ragqa.retrieval import embedders
from ragqa.retrieval.docstore import DocumentRow
from ragqa.types import Hit


def _hit(n: int) -> Hit:
    return Hit(f"c{n}", f"d{n}", 0.5, "text", "title", "src.txt", (0, 4), {"bm25": n}, {"bm25": 1.0})


def test_a_full_answer_validates_against_the_query_response_field_for_field() -> None:
    claim = ServedClaim("Paris is in France.", "supported", (1,), Evidence(1, "Paris is in France.", (0, 18)))
    answer = Answer(
        "Where is Paris?",
        "Paris is in France [1].",
        False,
        None,
        "ok",
        [_hit(1), _hit(2)],
        cited=[1],
        model="m",
        sampling=SamplingParams(),
        usage=Usage(10, 5),
        verification=Verification("drop", [claim], removed=0),
    )
    data = answer.to_json()
    assert set(data) == set(QueryResponse.model_fields)
    parsed = QueryResponse.model_validate(data)  # extra="forbid": a key the schema lacks fails here
    assert parsed.claims[0].evidence.n == 1 and parsed.sources[1].n == 2
    refusal = Answer("Who?", "I don't know.", True, "no_sources", "ok", [])
    assert QueryResponse.model_validate(refusal.to_json()).verification is None


def test_response_models_carry_exactly_the_record_fields() -> None:
    assert set(HitOut.model_fields) == {f.name for f in dataclasses.fields(Hit)}
    assert set(DocumentOut.model_fields) == {f.name for f in dataclasses.fields(DocumentRow)}
    assert set(ClaimOut.model_fields) == {f.name for f in dataclasses.fields(ServedClaim)}
    assert set(JobOut.model_fields) == {f.name for f in dataclasses.fields(Job)} - {"files", "allowed_groups"}
    job = Job("j1", "default", "queued", ["/secret/path.txt"], 1)
    assert set(JobOut.model_validate(job, from_attributes=True).model_dump()) == set(job.to_json())
    SearchResponse.model_validate({"hits": [_hit(1).to_json()], "mode": "bm25", "timings_ms": {}})
    with pytest.raises(ValueError):
        SearchResponse.model_validate(
            {"hits": [{**_hit(1).to_json(), "extra": 1}], "mode": "bm25", "timings_ms": {}}
        )


def test_model_of_refuses_an_override_for_a_field_the_record_lacks() -> None:
    with pytest.raises(TypeError, match="no field"):
        model_of(Hit, "Bad", spam=int)


def test_listing_documents_does_not_load_the_embedder(tmp_path: Path, docs_dir: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data", embed_batch_size=7)  # a key no other test loads
    with Ingestor(settings, progress=False) as ingestor:
        ingestor.ingest_paths([docs_dir])
    for key in [key for key in embedders._CACHE if key[4] == 7]:  # the ingestion's own copy
        del embedders._CACHE[key]
    services = Services(settings)
    reader = services.reader()
    assert reader.document_count() > 0 and reader.documents(offset=0, limit=2)
    assert not any(key[4] == 7 for key in embedders._CACHE)
    assert services.searcher().reader is reader
    assert any(key[4] == 7 for key in embedders._CACHE)
