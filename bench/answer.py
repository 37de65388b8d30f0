"""Whole answers as ``ragqa ask --stream`` gives them, on real questions, with the answer runtimes side by side
in one run: the question searched, the prompt built, the answer streamed, checked and verified — the default
settings throughout (five sources, ``VERIFY=drop``, the retries), only the runtime differs.

    python bench/answer.py                 # 20 XQuAD-en + 20 CMRC 2018 trial questions; llamacpp (the
                                           # runtime before 2026-11-29) against auto (what it picks here)
    python bench/answer.py --variants llamacpp auto auto/3   # and auto with three sources, not five
    python bench/answer.py --variants auto auto/5/0.4        # and up to five, those close to the best
    python bench/answer.py --busy          # the same beside `python3 -c "while True: pass"` (one core taken)
    python bench/answer.py --smoke         # 1 XQuAD-en question, the 0.5B model on llama.cpp (CI)

Per set and runtime: end-to-end latency and time to the first streamed token (p50 and p90, from the question
to the first word the user sees: search, prompt and the model reading it), the prompt's tokens, prefill and
decode tokens/s of the first generation, the share of answers holding a gold answer (served text, refusals
count as misses) and of refusals, and the ratios of latency and TTFT to the first runtime's. The questions
are the first N of each set; their articles are indexed whole, as ``ragqa eval qa`` does. Writes
``bench/results/answer[-busy].json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, machine, shared_data, table, write_json

from ragqa.config import Settings, load_settings
from ragqa.eval.qa_eval import gold_recall, load_questions
from ragqa.eval.retrieval_eval import collection_for
from ragqa.generation.answerer import Answerer
from ragqa.generation.factory import backend_name, create_backend
from ragqa.generation.sampling import SamplingParams
from ragqa.retrieval.service import open_searcher

SETS = {"xquad-en": "xquad/xquad.en.json", "cmrc": "cmrc2018/cmrc2018_trial.squad.json"}


def ask(answerer: Answerer, question: str, golds: list[str], params: SamplingParams) -> dict[str, Any]:
    """One streamed answer, timed as its user sees it."""
    t0 = time.perf_counter()
    first: float | None = None
    final = None
    for event in answerer.stream(question, params=params):
        if event.kind == "token" and event.delta and first is None:
            first = time.perf_counter()
        elif event.kind == "done":
            final = event.answer
    end = time.perf_counter()
    assert final is not None
    timings, usage = final.timings_ms, final.usage
    row: dict[str, Any] = {
        "latency_ms": (end - t0) * 1000,
        "ttft_ms": ((first or end) - t0) * 1000,
        "refused": final.refused,
        "status": final.status,
        "gold": 0.0 if final.refused or final.status != "ok" else gold_recall(final.answer, golds),
        "prompt_tokens": usage.prompt_tokens if usage else 0,
        "retried": "retry" in timings,
    }
    model_ttft, generation = timings.get("ttft"), timings.get("generation")
    if usage and model_ttft and generation and not row["retried"]:  # the first generation alone
        row["prefill_tok_s"] = usage.prompt_tokens / (model_ttft / 1000)
        if usage.completion_tokens > 1 and generation > model_ttft:
            row["decode_tok_s"] = (usage.completion_tokens - 1) / ((generation - model_ttft) / 1000)
    return row


def _median(rows: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in rows if key in r]
    return round(statistics.median(values), 1) if values else None


def _p90(rows: list[dict[str, Any]], key: str) -> float:
    values = sorted(r[key] for r in rows)
    return round(values[min(len(values) - 1, int(0.9 * len(values)))], 1)


def summarize(name: str, runtime: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(rows)
    return {
        "set": name,
        "runtime": runtime,
        "questions": n,
        "p50_ms": _median(rows, "latency_ms"),
        "p90_ms": _p90(rows, "latency_ms"),
        "ttft_p50_ms": _median(rows, "ttft_ms"),
        "ttft_p90_ms": _p90(rows, "ttft_ms"),
        "prompt_tokens_p50": _median(rows, "prompt_tokens"),
        "prefill_tok_s": _median(rows, "prefill_tok_s"),
        "decode_tok_s": _median(rows, "decode_tok_s"),
        "gold_recall": round(sum(r["gold"] for r in rows) / n, 3),
        "refused": round(sum(r["refused"] for r in rows) / n, 3),
        "retried": sum(r["retried"] for r in rows),
        "failed": sum(r["status"] != "ok" for r in rows),
    }


def _first_articles(squad: Path, articles: int | None, folder: Path) -> Path:
    """The set itself, or a copy of its first ``articles`` articles in ``folder`` (for a quick run)."""
    if articles is None:
        return squad
    data = json.loads(squad.read_text(encoding="utf-8"))
    trimmed = folder / f"{squad.stem}-first-{articles}.json"
    trimmed.write_text(
        json.dumps({**data, "data": data["data"][:articles]}, ensure_ascii=False), encoding="utf-8"
    )
    return trimmed


def run_variant(
    settings: Settings, variant: str, sets: dict[str, tuple[Settings, list[tuple[str, str, list[str]]]]]
) -> list[dict[str, Any]]:
    """``RUNTIME``, ``RUNTIME/K`` or ``RUNTIME/K/FALLOFF`` (``LLM_BACKEND``, ``ANSWER_K``, ``ANSWER_FALLOFF``)
    over every set."""
    requested, _, rest = variant.partition("/")
    k, _, falloff = rest.partition("/")
    update: dict[str, Any] = {"llm_backend": requested}
    if k:
        update["answer_k"] = int(k)
    if falloff:
        update["answer_falloff"] = float(falloff)
    variant_settings = settings.model_copy(update=update)
    picked = backend_name(variant_settings)
    label = (requested if picked == requested else f"{requested} → {picked}") + (
        f", {k} sources" if k else ""
    )
    label += f", falloff {falloff}" if falloff else ""
    backend = create_backend(variant_settings)
    params = SamplingParams(seed=0)
    out = []
    try:
        for name, (set_settings, questions) in sets.items():
            answerer = Answerer(set_settings.model_copy(update=update), open_searcher(set_settings), backend)
            ask(
                answerer, questions[0][1], questions[0][2], params
            )  # warm up: weights paged in, prefix cached
            rows = [ask(answerer, q, golds, params) for _, q, golds in questions]
            out.append({**summarize(name, label, rows), "variant": variant})
            print(f"{label} {name}: p50 {out[-1]['p50_ms'] / 1000:.1f} s", file=sys.stderr)
    finally:
        backend.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sets", nargs="+", choices=list(SETS), default=list(SETS))
    parser.add_argument("--questions", type=int, default=20, help="the first N of each set")
    parser.add_argument(
        "--variants",
        nargs="+",
        default=["llamacpp", "auto"],
        help="LLM_BACKEND values, each optionally /ANSWER_K[/ANSWER_FALLOFF] (auto/3: auto with three sources; "
        "auto/5/0.4: up to five, those close to the best); the first is the base of the ratios",
    )
    parser.add_argument("--model", default=None, help="LLM_MODEL [the packaged default]")
    parser.add_argument("--busy", action="store_true", help="keep one core busy with another process")
    parser.add_argument("--data-dir", type=Path, default=None, help="where the sets are indexed [a temp dir]")
    parser.add_argument("--articles", type=int, default=None, help="index only the first N articles [all]")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--smoke", action="store_true", help="1 question, the 0.5B model on llama.cpp (CI)")
    args = parser.parse_args()
    if args.smoke:
        args.sets, args.questions, args.articles = ["xquad-en"], 1, 1
        args.variants, args.model = ["llamacpp"], "qwen2.5-coder-0.5b"
    out = args.out or RESULTS / f"answer{'-busy' if args.busy else ''}{'-smoke' if args.smoke else ''}.json"

    with tempfile.TemporaryDirectory(prefix="ragqa-answer-bench-") as tmp:
        settings = load_settings(data_dir=args.data_dir or Path(tmp), llm_model=args.model)
        sets = {}
        for name in args.sets:
            squad = _first_articles(shared_data() / SETS[name], args.articles, Path(tmp))
            set_settings, _ = collection_for(settings, squad=squad, progress=True)
            sets[name] = (set_settings, load_questions(squad)[: args.questions])
        spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if args.busy else None
        try:
            results = [row for variant in args.variants for row in run_variant(settings, variant, sets)]
        finally:
            if spinner is not None:
                spinner.kill()
    base = {r["set"]: r for r in results if r["variant"] == args.variants[0]}
    for r in results:
        r["latency_x_first"] = round(base[r["set"]]["p50_ms"] / r["p50_ms"], 2)
        r["ttft_x_first"] = round(base[r["set"]]["ttft_p50_ms"] / r["ttft_p50_ms"], 2)
    columns = [
        "set",
        "runtime",
        "p50 s",
        "p90 s",
        "TTFT p50 s",
        "prompt tok",
        "prefill tok/s",
        "decode tok/s",
    ]
    columns += ["gold", "refused", f"× {args.variants[0]} (latency / TTFT)"]
    print(
        table(
            columns,
            [
                [
                    r["set"],
                    r["runtime"],
                    round(r["p50_ms"] / 1000, 1),
                    round(r["p90_ms"] / 1000, 1),
                    round(r["ttft_p50_ms"] / 1000, 2),
                    r["prompt_tokens_p50"],
                    r["prefill_tok_s"],
                    r["decode_tok_s"],
                    r["gold_recall"],
                    r["refused"],
                    f"{r['latency_x_first']} / {r['ttft_x_first']}",
                ]
                for r in results
            ],
        )
    )
    write_json(
        out,
        {"machine": machine(), "busy": args.busy, "questions": args.questions, "results": results},
    )
    print(f"results: {out}")


if __name__ == "__main__":
    main()
