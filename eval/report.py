"""One report format for every eval: ``report.json`` (headline numbers under ``"metrics"``), ``report.md`` and a
self-contained ``report.html`` (see :mod:`ragqa.eval.report_html`)."""

from __future__ import annotations

import json
import platform
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from ragqa import __version__
from ragqa.errors import InputError

_PACKAGES = (
    "numpy",
    "faiss-cpu",
    "bm25s",
    "pymilvus",
    "xllamacpp",
    "openvino",
    "sentence-transformers",
    "torch",
)


def versions() -> dict[str, str]:
    found = {"ragqa": __version__, "python": platform.python_version(), "platform": platform.platform()}
    for name in _PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


@dataclass(slots=True)
class Table:
    title: str
    columns: list[str]
    rows: list[list[Any]]
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "columns": self.columns, "rows": self.rows, "note": self.note}


@dataclass(slots=True)
class Report:
    kind: str  # "retrieval" | "qa" | "hallucination"
    dataset: str
    metrics: dict[str, Any]
    config: dict[str, Any]
    tables: list[Table] = field(default_factory=list)
    distributions: dict[str, list[float]] = field(default_factory=dict)  # plotted as histograms
    latency_ms: dict[str, list[float]] = field(default_factory=dict)  # per stage, plotted as p50/p95 bars
    items: list[dict[str, Any]] = field(default_factory=list)  # per question / per record
    extra: dict[str, Any] = field(default_factory=dict)
    created: str = field(default_factory=lambda: time.strftime("%Y-%m-%d %H:%M:%S"))
    path: Path | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "dataset": self.dataset,
            "created": self.created,
            "metrics": self.metrics,
            "config": self.config,
            "versions": versions(),
            "tables": [t.to_json() for t in self.tables],
            "distributions": self.distributions,
            "latency_ms": self.latency_ms,
            "items": self.items,
            **self.extra,
        }

    def text_summary(self) -> str:
        """The metrics and tables as plain text, for the terminal."""
        lines = [f"{self.kind} eval — {self.dataset}"]
        lines += [f"  {k:<28} {fmt(v)}" for k, v in flat(self.metrics).items()]
        for table in self.tables:
            lines += ["", table.title, text_table(table.columns, table.rows)]
        return "\n".join(lines)

    def write(self, out: Path) -> Path:
        """Write report.json, report.md and report.html into ``out``; returns the JSON path."""
        from ragqa.eval.report_html import render_html

        out.mkdir(parents=True, exist_ok=True)
        data = self.to_json()
        self.path = out / "report.json"
        self.path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
        (out / "report.md").write_text(render_markdown(data), encoding="utf-8")
        (out / "report.html").write_text(render_html(data), encoding="utf-8")
        return self.path


def flat(metrics: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested metric groups (``{"raw": {...}}``) as dotted keys (``raw.token_f1``)."""
    out: dict[str, Any] = {}
    for key, value in metrics.items():
        if isinstance(value, dict):
            out.update(flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def fmt(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "—" if value is None else str(value).lower()
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def text_table(columns: list[str], rows: list[list[Any]]) -> str:
    cells = [[str(c) for c in columns], *[[fmt(v) for v in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    return "\n".join(
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in cells
    )


def markdown_table(columns: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(v).replace("|", "\\|") for v in row) + " |" for row in rows]
    return "\n".join(lines)


def render_markdown(data: dict[str, Any]) -> str:
    parts = [
        f"# {data['kind']} eval — {data['dataset']}",
        "",
        f"Created {data['created']}.",
        "",
        "## Metrics",
        "",
    ]
    parts.append(markdown_table(["metric", "value"], [[k, v] for k, v in flat(data["metrics"]).items()]))
    for table in data.get("tables", []):
        parts += ["", f"## {table['title']}", ""]
        if table.get("note"):
            parts += [table["note"], ""]
        parts.append(markdown_table(table["columns"], table["rows"]))
    parts += [
        "",
        "## Config",
        "",
        "```json",
        json.dumps(data["config"], indent=2, ensure_ascii=False, default=str),
    ]
    parts += [
        "```",
        "",
        "## Versions",
        "",
        markdown_table(["package", "version"], list(data["versions"].items())),
    ]
    return "\n".join(parts) + "\n"


def load_report(path: Path) -> dict[str, Any]:
    """A run folder or its report.json."""
    file = path / "report.json" if path.is_dir() else path
    if not file.is_file():
        raise InputError(f"no report at {path} (expected a run folder holding report.json)")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{file} is not valid JSON ({exc.msg})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("metrics"), dict):
        raise InputError(f"{file} is not a ragqa report (no top-level 'metrics' object)")
    return data
