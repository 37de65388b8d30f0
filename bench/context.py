"""What the model is shown per question, by context strategy: prompt tokens and whether the gold answer is
still in the prompt, on SQuAD-format sets (XQuAD-en, CMRC trial), against today's default (five whole sources)
in the same run. Retrieval and tokenization only — no generation — so it runs in minutes.

    python bench/context.py                                 # questions 200–399 of each set
    python bench/context.py --smoke                         # 10 XQuAD-en questions (CI)

Strategies: ``whole-5`` (default: the five best distinct chunks), ``whole-3``, ``compressed-5`` and
``compressed-3`` (``generation/compress.py``: the best-ranked source whole, the others by their best sentence;
variants with two whole, or one sentence either side of the best),
``falloff-X`` (``generation/source_count.py``: of the five, those whose dense score is at least X of the way
from the worst candidate to the best, and never fewer than three).
Prefill time on 2 cores is ≈ prompt tokens / 65 tok/s with the default runtime (``bench/generation.py``).
Prints a table, writes bench/results/context.json.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, machine, shared_data, table, write_json

from ragqa.config import load_settings
from ragqa.eval.qa_eval import load_questions
from ragqa.eval.retrieval_eval import collection_for
from ragqa.generation.answerer import distinct_hits
from ragqa.generation.compress import compress
from ragqa.generation.llamacpp_backend import LlamaCppBackend
from ragqa.generation.models import resolve_model_file
from ragqa.generation.prompt import pack_prompt
from ragqa.generation.source_count import close_to_best
from ragqa.retrieval.service import open_searcher

STRATEGIES = {  # sources, compression (None, or: sources shown whole, sentences either side of the best one),
    # ANSWER_FALLOFF (with the settings' ANSWER_MIN_K)
    "whole-5": (5, None, 0.0),
    "whole-3": (3, None, 0.0),
    "compressed-5": (5, (1, 0), 0.0),
    "compressed-3": (3, (1, 0), 0.0),
    "compressed-5, two whole": (5, (2, 0), 0.0),
    "compressed-5, one whole, ±1 sentence": (5, (1, 1), 0.0),
    "falloff-0.3": (5, None, 0.3),
    "falloff-0.4": (5, None, 0.4),
    "falloff-0.5": (5, None, 0.5),
}


def measure(
    squad: Path, start: int, count: int, data_dir: Path, backend: LlamaCppBackend
) -> list[dict[str, Any]]:
    settings = load_settings(data_dir=data_dir)
    eval_settings, _ = collection_for(settings, squad=squad, progress=False)
    searcher = open_searcher(eval_settings)
    questions = load_questions(squad)[start : start + count]
    tokens: dict[str, list[int]] = {name: [] for name in STRATEGIES}
    found = dict.fromkeys(STRATEGIES, 0)
    for _, question, golds in questions:
        ranked = searcher.search(question, k=10).hits
        for name, (k, compressed, falloff) in STRATEGIES.items():
            hits = close_to_best(distinct_hits(ranked, k), ranked, settings.answer_min_k, falloff)
            texts = None
            if compressed is not None:
                kept = compress(question, hits, *compressed)
                hits, texts = kept.hits, kept.texts
            packed = pack_prompt(
                question,
                hits,
                count_tokens=backend.count_tokens,
                context_window=backend.context_window,
                max_new_tokens=384,
                texts=texts,
            )
            tokens[name].append(packed.prompt_tokens)
            found[name] += any(gold in packed.messages[1].content for gold in golds)
    base = statistics.mean(tokens["whole-5"])
    return [
        {
            "dataset": squad.stem,
            "questions": f"{start}-{start + len(questions) - 1}",
            "strategy": name,
            "prompt_tokens_p50": statistics.median(tokens[name]),
            "prompt_tokens_mean": round(statistics.mean(tokens[name]), 1),
            "x_default": round(statistics.mean(tokens[name]) / base, 3),
            "gold_in_prompt": found[name],
            "of": len(questions),
        }
        for name in STRATEGIES
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--start", type=int, default=200)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--data-dir", type=Path, default=Path(".ragqa-bench"))
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    sets = [
        shared_data() / "xquad" / "xquad.en.json",
        shared_data() / "cmrc2018" / "cmrc2018_trial.squad.json",
        shared_data() / "xquad" / "xquad.zh.json",
    ]
    if args.smoke:
        sets, args.start, args.count = sets[:1], 0, 10
    settings = load_settings()
    model = resolve_model_file("qwen2.5-coder-1.5b", settings.model_cache)
    backend = LlamaCppBackend(model, context=4096, threads=1)  # the tokenizer only
    try:
        rows = [
            row for squad in sets for row in measure(squad, args.start, args.count, args.data_dir, backend)
        ]
    finally:
        backend.close()
    print(
        table(
            ["set", "questions", "strategy", "tokens p50", "× default", "gold in prompt"],
            [
                [
                    r["dataset"],
                    r["questions"],
                    r["strategy"],
                    r["prompt_tokens_p50"],
                    r["x_default"],
                    f"{r['gold_in_prompt']}/{r['of']}",
                ]
                for r in rows
            ],
        )
    )
    out = args.out or RESULTS / f"context{'-smoke' if args.smoke else ''}.json"
    write_json(out, {"machine": machine(), "results": rows})
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
