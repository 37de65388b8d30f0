"""Logging set-up shared by the CLI and the API server: one line per event on stderr (text, or one JSON object
per line for log collectors), noisy libraries quiet."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any, Literal

LogFormat = Literal["text", "json"]
_NOISY = ("sentence_transformers", "jieba", "bm25s", "httpx", "httpcore", "faiss", "urllib3", "multipart")
_TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# LogRecord attributes that are not the caller's own fields (``extra=``)
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", ...extra fields}`` on one line; tracebacks in ``exc_info``."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time (test runners swap and close it), never a stale one."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def configure_logging(level: str, fmt: LogFormat = "text") -> None:
    handler = _StderrHandler()
    if fmt == "json":
        formatter: logging.Formatter = JsonFormatter()
        formatter.converter = time.gmtime
    else:
        formatter = logging.Formatter(_TEXT)
    handler.setFormatter(formatter)
    handler.setLevel(level.upper())  # also below libraries that set their own loggers' levels (bm25s: DEBUG)
    handler.set_name("ragqa")
    root = logging.getLogger()
    for old in root.handlers[:]:
        if old.get_name() == "ragqa":  # configured again (a test, a second app): replace, never duplicate
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in _NOISY:
        logging.getLogger(name).setLevel(logging.WARNING)
