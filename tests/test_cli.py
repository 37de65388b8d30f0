"""The ``ragqa`` command as a user runs it: a real subprocess per call."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def _ragqa(*args: str, data_dir: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RAGQA_DATA_DIR": str(data_dir)}
    proc = subprocess.run(
        [sys.executable, "-m", "ragqa.cli", *args], env=env, capture_output=True, text=True, timeout=300
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_help_lists_the_commands(tmp_path: Path) -> None:
    out = _ragqa("--help", data_dir=tmp_path).stdout
    for command in ("ingest", "search", "ask", "chat", "delete", "stats", "eval"):
        assert command in out
    assert "--beir" in _ragqa("eval", "retrieval", "--help", data_dir=tmp_path).stdout


def test_ingest_search_delete_roundtrip(tmp_path: Path, docs_dir: Path) -> None:
    data = tmp_path / "data"
    report = json.loads(_ragqa("ingest", str(docs_dir), "--json", data_dir=data).stdout)
    assert report["files_ingested"] == report["files_seen"] and report["failed"] == []
    import sqlite3

    with sqlite3.connect(data / "jobs.sqlite") as db:  # the same job engine as the API's
        assert db.execute("SELECT state, files_total FROM jobs").fetchall() == [("succeeded", 1)]
    hits = json.loads(_ragqa("search", "Reciprocal Rank Fusion", "--json", "-k", "3", data_dir=data).stdout)[
        "hits"
    ]
    assert len(hits) == 3
    assert set(hits[0]) >= {"chunk_id", "doc_id", "score", "ranks", "title", "text", "source", "span"}
    assert set(hits[0]["ranks"]) == {"bm25", "dense"}
    bm25 = json.loads(_ragqa("search", "jieba", "--mode", "bm25", "--json", data_dir=data).stdout)["hits"]
    assert all(set(h["ranks"]) == {"bm25"} for h in bm25)
    quiet = _ragqa("search", "atomic rename", data_dir=data)
    assert quiet.stdout.startswith(" 1. [") and " INFO " not in quiet.stderr  # progress lines only with -v
    assert " INFO ragqa.retrieval" in _ragqa("-v", "search", "atomic rename", data_dir=data).stderr
    stats = json.loads(_ragqa("stats", "--json", data_dir=data).stdout)
    deleted = _ragqa("delete", hits[0]["doc_id"], data_dir=data)
    assert "deleted 1 document" in deleted.stdout
    after = json.loads(_ragqa("stats", "--json", data_dir=data).stdout)
    assert after["documents"] == stats["documents"] - 1


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("search", "anything"), 3, "run `ragqa ingest PATH` first"),
        (("stats",), 3, "does not exist"),
        (("ingest", "/no/such/folder"), 2, "no such file or folder"),
        (("eval", "retrieval"), 2, "exactly one of --beir"),
    ],
)
def test_errors_are_messages_not_tracebacks(
    tmp_path: Path, args: tuple[str, ...], code: int, message: str
) -> None:
    proc = _ragqa(*args, data_dir=tmp_path / "empty", check=False)
    assert proc.returncode == code
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_bad_setting_is_reported(tmp_path: Path) -> None:
    env = {**os.environ, "RAGQA_DATA_DIR": str(tmp_path), "RAGQA_TOP_K": "zero"}
    proc = subprocess.run(
        [sys.executable, "-m", "ragqa.cli", "stats"], env=env, capture_output=True, text=True
    )
    assert proc.returncode == 2 and "top_k" in proc.stderr and "Traceback" not in proc.stderr


def test_ask_json_and_stream(tmp_path: Path, docs_dir: Path, small_model: Path) -> None:
    data = tmp_path / "data"
    _ragqa("ingest", str(docs_dir / "configuration.md"), str(docs_dir / "overview.md"), data_dir=data)
    ask = [
        "ask",
        "What does RAGQA_DATA_DIR hold?",
        "--model",
        str(small_model),
        "--k",
        "2",
        "--temperature",
        "0",
        "--max-tokens",
        "40",
    ]
    answer = json.loads(_ragqa(*ask, "--json", data_dir=data).stdout)
    assert set(answer) >= {"answer", "refused", "citations", "sources", "timings", "model", "sampling"}
    assert len(answer["sources"]) == 2 and answer["status"] == "ok" and answer["answer"]
    assert answer["sampling"]["temperature"] == 0 and answer["sampling"]["max_tokens"] == 40
    assert answer["model"] == small_model.stem
    streamed = _ragqa(*ask, "--stream", data_dir=data)
    assert "Sources:" in streamed.stdout and "generation=" in streamed.stderr


def test_ask_rejects_bad_sampling_and_empty_questions(tmp_path: Path, docs_dir: Path) -> None:
    data = tmp_path / "data"
    _ragqa("ingest", str(docs_dir / "configuration.md"), data_dir=data)
    bad = _ragqa("ask", "Why?", "--temperature", "5", data_dir=data, check=False)
    assert bad.returncode == 2 and "temperature" in bad.stderr and "Traceback" not in bad.stderr
    empty = _ragqa("ask", "   ", data_dir=data, check=False)
    assert empty.returncode == 2 and "empty" in empty.stderr


def test_version() -> None:
    from ragqa import __version__

    proc = subprocess.run(
        [sys.executable, "-m", "ragqa.cli", "--version"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0 and proc.stdout.strip() == f"ragqa {__version__}"


def test_hash_key_reads_the_secret_from_stdin_not_argv() -> None:
    from ragqa.api.security import hash_key

    def run(*args: str, stdin: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "ragqa.cli", "hash-key", *args]
        return subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=60)

    ok = run(stdin="s3cret\n")
    assert ok.returncode == 0 and ok.stdout.strip() == hash_key("s3cret")
    assert (
        run("s3cret", stdin="").returncode == 2
    )  # a key on the command line would land in the shell history
    empty = run(stdin="\n")
    assert empty.returncode == 2 and "empty" in empty.stderr and "Traceback" not in empty.stderr


def test_help_shows_env_vars_and_defaults_as_written() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ragqa.cli", "ask", "--help"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0
    text = " ".join(proc.stdout.split())  # help wraps lines
    assert (
        "[env RAGQA_DATA_DIR]" in text
        and "[env RAGQA_COLLECTION]" in text
        and "Sources to give the model [5]" in text
    )


@pytest.mark.slow
def test_chat_remembers_the_conversation(tmp_path: Path, default_model: Path) -> None:
    data, docs = tmp_path / "data", tmp_path / "docs"
    docs.mkdir()
    (docs / "harrow-point.txt").write_text(
        "The Harrow Point lighthouse was first lit in 1852. Its last keeper was Edith Marlow, who left in 1961.\n"
    )
    (docs / "gull-rock.txt").write_text(
        "The Gull Rock lighthouse was first lit in 1874. Its last keeper was Tomas Brenn, who left in 1983.\n"
    )
    _ragqa("ingest", str(docs), data_dir=data)
    env = {**os.environ, "RAGQA_DATA_DIR": str(data)}
    lines = "When was the Harrow Point lighthouse first lit?\nWho was its last keeper?\n/reset\nits keeper?\n"
    chat = subprocess.run(
        [sys.executable, "-m", "ragqa.cli", "chat"],
        input=lines,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert chat.returncode == 0, chat.stderr
    _, first, follow_up, after_reset = chat.stdout.split("you> ")
    assert "1852" in first
    assert "Marlow" in follow_up and "Brenn" not in follow_up, chat.stdout
    searched = [line for line in chat.stderr.splitlines() if line.startswith("(searched: ")]
    assert len(searched) == 1 and "Harrow Point" in searched[0], chat.stderr  # /reset forgot the lighthouse
    assert "(new conversation)" in chat.stderr and after_reset
