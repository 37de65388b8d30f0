"""Self-contained HTML for a report: inline CSS and SVG plots, no scripts, no network."""

from __future__ import annotations

import json
from html import escape
from typing import Any

import numpy as np

from ragqa.eval.report import flat, fmt

MAX_ITEMS = 1000  # per-question rows rendered; report.json keeps them all
_VERDICT_COLOURS = {"supported": "#c8ecc9", "contradicted": "#f7b9b9", "unverifiable": "#fde9a9"}
_CSS = """
body{font:14px/1.45 system-ui,"PingFang SC","Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:24px auto;max-width:1180px;color:#1d1d1f;padding:0 16px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;vertical-align:top}
th{background:#f4f4f6;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
.plots{display:flex;flex-wrap:wrap;gap:18px}.plot{border:1px solid #e3e3e3;padding:6px}
.claim{padding:1px 2px;border-radius:3px}.best{color:#555;font-size:12px;display:block;margin:2px 0 4px 12px}
.legend span{margin-right:12px;padding:1px 6px;border-radius:3px}
table.items td{max-width:520px}pre{background:#f6f6f8;padding:8px;overflow:auto}
"""


def _metrics_table(metrics: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><th>{escape(str(k))}</th><td class=num>{escape(fmt(v))}</td></tr>"
        for k, v in flat(metrics).items()
    )
    return f'<table class="metrics">{rows}</table>'


def _table(table: dict[str, Any]) -> str:
    head = "".join(f"<th>{escape(str(c))}</th>" for c in table["columns"])
    body = "".join(
        "<tr>"
        + "".join(
            f"<td class={'num' if isinstance(v, int | float) else 'txt'}>{escape(fmt(v))}</td>" for v in row
        )
        + "</tr>"
        for row in table["rows"]
    )
    note = f"<p>{escape(table['note'])}</p>" if table.get("note") else ""
    return f"<h2>{escape(table['title'])}</h2>{note}<table><tr>{head}</tr>{body}</table>"


def histogram_svg(name: str, values: list[float], bins: int = 20, width: int = 360, height: int = 170) -> str:
    """Bars of a histogram with its axis range and count; an empty series says so."""
    if not values:
        return f'<svg class="hist" width="{width}" height="40"><text x="4" y="20">{escape(name)}: no data</text></svg>'
    arr = np.asarray(values, dtype=float)
    lo, hi = float(arr.min()), float(arr.max())
    if lo >= 0.0 and hi <= 1.0:  # shares and similarities: the whole unit range, so runs look alike
        lo, hi = 0.0, 1.0
    if hi <= lo:
        hi = lo + 1.0
    counts, _ = np.histogram(arr, bins=bins, range=(lo, hi))
    top = int(counts.max()) or 1
    plot_h, bar_w = height - 50, (width - 20) / bins
    bars = "".join(
        f'<rect x="{10 + i * bar_w:.1f}" y="{25 + plot_h - c / top * plot_h:.1f}" width="{bar_w - 1:.1f}" '
        f'height="{c / top * plot_h:.1f}" fill="#4f7cc8"><title>{c}</title></rect>'
        for i, c in enumerate(counts)
    )
    return (
        f'<svg class="hist" width="{width}" height="{height}" role="img" aria-label="{escape(name)}">'
        f'<text x="10" y="16" font-size="12" font-weight="600">{escape(name)} (n={len(values)})</text>{bars}'
        f'<text x="10" y="{height - 8}" font-size="11">{lo:.3g}</text>'
        f'<text x="{width - 10}" y="{height - 8}" font-size="11" text-anchor="end">{hi:.3g}</text></svg>'
    )


def latency_svg(latency: dict[str, list[float]], width: int = 520) -> str:
    """p50 (dark) and p95 (light) per stage, as horizontal bars in milliseconds."""
    stages = [(k, v) for k, v in latency.items() if v]
    if not stages:
        return ""
    stats = [(k, float(np.percentile(v, 50)), float(np.percentile(v, 95))) for k, v in stages]
    top = max(p95 for _, _, p95 in stats) or 1.0
    row_h, label_w, value_w = 22, 110, 130  # value_w: room right of the longest bar for "12345 / 23456 ms"
    height = 30 + row_h * len(stats)
    rows = []
    for i, (stage, p50, p95) in enumerate(stats):
        y = 24 + i * row_h
        w95 = (width - label_w - value_w) * p95 / top
        w50 = (width - label_w - value_w) * p50 / top
        rows.append(
            f'<text x="4" y="{y + 13}" font-size="12">{escape(stage)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w95:.1f}" height="16" fill="#b9cdf0"/>'
            f'<rect x="{label_w}" y="{y}" width="{w50:.1f}" height="16" fill="#2f5fb3"/>'
            f'<text x="{label_w + w95 + 4:.1f}" y="{y + 13}" font-size="11">{p50:.0f} / {p95:.0f} ms</text>'
        )
    return (
        f'<svg class="latency" width="{width}" height="{height}" role="img" aria-label="latency per stage">'
        f'<text x="4" y="14" font-weight="600">latency per stage, p50 / p95</text>{"".join(rows)}</svg>'
    )


def _claims_html(claims: list[dict[str, Any]]) -> str:
    parts = []
    for c in claims:
        colour = _VERDICT_COLOURS.get(c.get("verdict", ""), "#eee")
        cites = "".join(f"[{n}]" for n in c.get("citations", []))
        title = f"{c.get('verdict')} — decided by {c.get('decided_by')}"
        best = c.get("best_sentence") or ""
        parts.append(
            f'<span class="claim v-{escape(str(c.get("verdict")))}" style="background:{colour}" '
            f'title="{escape(title)}">{escape(c["claim"])}{escape(cites)}</span>'
            + (f'<span class="best">best source sentence: {escape(best)}</span>' if best else "")
        )
    return "".join(parts)


def _items_table(items: list[dict[str, Any]]) -> str:
    if not items:
        return ""
    shown = items[:MAX_ITEMS]
    rows = []
    for item in shown:
        answer = _claims_html(item["claims"]) if item.get("claims") else escape(str(item.get("answer", "")))
        fields = {k: v for k, v in item.items() if k not in {"id", "question", "answer", "claims"}}
        details = "<br>".join(
            f"{escape(k)}: {escape(fmt(v) if not isinstance(v, list | dict) else json.dumps(v, ensure_ascii=False))}"
            for k, v in fields.items()
        )
        rows.append(
            f"<tr><td>{escape(str(item.get('id', '')))}</td><td>{escape(str(item.get('question', '')))}</td>"
            f"<td>{answer}</td><td>{details}</td></tr>"
        )
    legend = "".join(f'<span style="background:{c}">{v}</span>' for v, c in _VERDICT_COLOURS.items())
    more = (
        f"<p>First {len(shown)} of {len(items)}; report.json has all.</p>" if len(items) > len(shown) else ""
    )
    return (
        f'<h2>Per question</h2><p class="legend">{legend}</p>{more}<table class="items">'
        f"<tr><th>id</th><th>question</th><th>answer (claims by verdict)</th><th>details</th></tr>"
        f"{''.join(rows)}</table>"
    )


def tradeoff_svg(table: dict[str, Any], width: int = 360, height: int = 260) -> str:
    """The operating-points table as a curve: answerable questions answered (x) against held-out questions
    refused (y), one point per value of the checker's bar the table sweeps, the chosen one filled."""
    pad = 40
    bar = escape(table["columns"][0])  # "coverage bar", "locality bar"
    xs = [float(row[1]) for row in table["rows"]]
    ys = [float(row[3]) for row in table["rows"]]
    x0, x1 = max(0.0, min(xs) - 0.05), min(1.0, max(xs) + 0.05)  # zoomed to the points, ticks at the ends
    y0, y1 = max(0.0, min(ys) - 0.05), min(1.0, max(ys) + 0.05)
    points = []
    for row, answered, refused in zip(table["rows"], xs, ys, strict=True):
        x = pad + (answered - x0) / (x1 - x0) * (width - 2 * pad)
        y = height - pad - (refused - y0) / (y1 - y0) * (height - 2 * pad)
        points.append((x, y, f"{row[0]}: answered {answered:.0%}, held-out refused {refused:.0%}"))
    ticks = (
        f'<text x="{pad}" y="{height - pad + 14}" font-size="10">{x0:.0%}</text>'
        f'<text x="{width - pad}" y="{height - pad + 14}" font-size="10" text-anchor="end">{x1:.0%}</text>'
        f'<text x="{pad - 4}" y="{height - pad}" font-size="10" text-anchor="end">{y0:.0%}</text>'
        f'<text x="{pad - 4}" y="{pad + 8}" font-size="10" text-anchor="end">{y1:.0%}</text>'
    )
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{"#1f6feb" if "chosen" in label else "white"}" '
        f'stroke="#1f6feb"><title>{escape(label)}</title></circle>'
        for x, y, label in points
    )
    return (
        f'<svg class="tradeoff" width="{width}" height="{height}" role="img" '
        f'aria-label="answerable answered against held-out refused, per {bar}">'
        f'<text x="4" y="14" font-weight="600">verification trade-off by {bar} (filled: chosen)</text>'
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#888"/>'
        f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="#888"/>'
        f'<text x="{width / 2}" y="{height - 8}" font-size="11" text-anchor="middle">answerable answered</text>'
        f'<text x="12" y="{height / 2}" font-size="11" transform="rotate(-90 12 {height / 2})" '
        'text-anchor="middle">held-out refused</text>'
        f'{ticks}<polyline points="{line}" fill="none" stroke="#1f6feb"/>{dots}</svg>'
    )


def render_html(data: dict[str, Any]) -> str:
    title = f"{data['kind']} eval — {data['dataset']}"
    plots = "".join(
        f'<div class="plot">{histogram_svg(k, v)}</div>' for k, v in data.get("distributions", {}).items()
    )
    latency = latency_svg(data.get("latency_ms", {}))
    if latency:
        plots += f'<div class="plot">{latency}</div>'
    for table in data.get("tables", []):
        if table["title"].startswith("Operating points") and table["rows"]:
            plots += f'<div class="plot">{tradeoff_svg(table)}</div>'
    body = [
        f"<h1>{escape(title)}</h1><p>Created {escape(data['created'])}.</p>",
        "<h2>Metrics</h2>",
        _metrics_table(data["metrics"]),
        f'<h2>Plots</h2><div class="plots">{plots}</div>' if plots else "",
        *(_table(t) for t in data.get("tables", [])),
        _items_table(data.get("items", [])),
        "<h2>Config</h2><pre>"
        + escape(json.dumps(data["config"], indent=2, ensure_ascii=False, default=str))
        + "</pre>",
        "<h2>Versions</h2>" + _metrics_table(data.get("versions", {})),
    ]
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{_CSS}</style></head><body>{''.join(body)}</body></html>\n"
    )
