"""``ragqa eval compare RUN_A RUN_B``: the deltas of every numeric metric two reports share."""

from __future__ import annotations

import json
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from ragqa.errors import InputError
from ragqa.eval.report import flat, fmt, load_report, text_table

# Metrics where a smaller value is the better one; every other numeric metric is better when larger.
_LOWER_IS_BETTER = (
    "_ms",
    "latency",
    "contradicted",
    "unverifiable",
    "hallucination_rate",
    "fp",
    "fn",
    "unavailable",
    "false_refusal",
    "seconds",
)


def lower_is_better(metric: str) -> bool:
    # answerable questions refused: fewer is better; held-out ones refused ("correct_refusal_rate"): more is
    if metric.rsplit(".", 1)[-1] == "refusal_rate":
        return True
    return any(metric.endswith(s) or s in metric for s in _LOWER_IS_BETTER)


@dataclass(slots=True)
class Comparison:
    a: dict[str, Any]
    b: dict[str, Any]
    rows: list[tuple[str, float, float, float, str]]  # metric, A, B, B − A, better/worse/same

    def to_json(self) -> dict[str, Any]:
        return {
            "a": {"dataset": self.a["dataset"], "kind": self.a["kind"], "created": self.a.get("created")},
            "b": {"dataset": self.b["dataset"], "kind": self.b["kind"], "created": self.b.get("created")},
            "deltas": [
                {"metric": m, "a": va, "b": vb, "delta": d, "change": change}
                for m, va, vb, d, change in self.rows
            ],
        }

    def table(self) -> str:
        head = f"A: {self.a['kind']} {self.a['dataset']} ({self.a.get('created')})\n"
        head += f"B: {self.b['kind']} {self.b['dataset']} ({self.b.get('created')})\n"
        return head + text_table(["metric", "A", "B", "B − A", ""], [list(r) for r in self.rows])

    def html(self) -> str:
        colours = {"better": "#c8ecc9", "worse": "#f7b9b9", "same": "#ffffff"}
        rows = "".join(
            f'<tr style="background:{colours[c]}"><th>{escape(m)}</th><td>{fmt(va)}</td><td>{fmt(vb)}</td>'
            f"<td>{d:+.4f}</td><td>{c}</td></tr>"
            for m, va, vb, d, c in self.rows
        )
        title = f"{escape(self.a['dataset'])} → {escape(self.b['dataset'])}"
        return (
            f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>compare {title}</title>'
            "<style>body{font:14px system-ui,sans-serif;margin:24px}td,th{border:1px solid #ddd;padding:3px 8px}"
            "table{border-collapse:collapse}td{text-align:right}</style></head><body>"
            f"<h1>Compare {title}</h1><p>A created {escape(str(self.a.get('created')))}, "
            f"B created {escape(str(self.b.get('created')))}.</p><table class=deltas>"
            f"<tr><th>metric</th><th>A</th><th>B</th><th>B − A</th><th></th></tr>{rows}</table></body></html>\n"
        )

    def write(self, out: Path) -> Path:
        out.mkdir(parents=True, exist_ok=True)
        (out / "compare.json").write_text(json.dumps(self.to_json(), indent=2, ensure_ascii=False))
        (out / "compare.html").write_text(self.html(), encoding="utf-8")
        return out


def _numeric(metrics: dict[str, Any]) -> dict[str, float]:
    return {
        k: float(v)
        for k, v in flat(metrics).items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }


def compare_reports(run_a: Path, run_b: Path) -> Comparison:
    a, b = load_report(run_a), load_report(run_b)
    if a.get("kind") != b.get("kind"):
        raise InputError(f"cannot compare a {a.get('kind')} report with a {b.get('kind')} report")
    ma, mb = _numeric(a["metrics"]), _numeric(b["metrics"])
    shared = [k for k in ma if k in mb]
    if not shared:
        raise InputError("the two reports share no numeric metric")
    rows = []
    for metric in shared:
        delta = mb[metric] - ma[metric]
        if abs(delta) < 1e-12:
            change = "same"
        else:
            change = "better" if (delta < 0) == lower_is_better(metric) else "worse"
        rows.append((metric, ma[metric], mb[metric], delta, change))
    return Comparison(a, b, rows)
