"""Log lines as users and collectors read them: JSON per line with the request's fields, text otherwise."""

from __future__ import annotations

import json
import logging

import pytest

from ragqa.logs import configure_logging


def _emit(capsys: pytest.CaptureFixture[str], fmt: str) -> str:
    configure_logging("INFO", fmt)  # type: ignore[arg-type]
    logging.getLogger("ragqa.test").info("GET %s", "/v1/x", extra={"request_id": "r1", "status": 200})
    logging.getLogger("bm25s").debug("library chatter below the level")
    return capsys.readouterr().err


def test_json_logs_are_one_object_per_line_with_extra_fields(capsys: pytest.CaptureFixture[str]) -> None:
    lines = [line for line in _emit(capsys, "json").splitlines() if line]
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["message"] == "GET /v1/x" and entry["level"] == "INFO" and entry["logger"] == "ragqa.test"
    assert entry["request_id"] == "r1" and entry["status"] == 200 and entry["time"].endswith("Z")


def test_text_logs_and_reconfiguring_does_not_duplicate(capsys: pytest.CaptureFixture[str]) -> None:
    _emit(capsys, "json")
    out = _emit(capsys, "text")
    assert out.count("GET /v1/x") == 1 and "INFO ragqa.test: GET /v1/x" in out and "chatter" not in out
