"""Generation speed of every packaged model on llama.cpp: time to first token and decode tokens/s at 1k, 2k and
4k prompt tokens, with answer quality from a QA eval report beside them when one is given.

    python bench/generation.py                                    # every packaged model, 1k/2k/4k, 2 threads
    python bench/generation.py --models qwen2.5-coder-1.5b --qa-report qwen2.5-coder-1.5b=RUN_DIR
    python bench/generation.py --smoke                            # the 0.5B model, one short prompt (CI)

Each prompt is SciFact text cut to the exact token count with the model's own tokenizer, and starts with a
unique line, so llama.cpp's prompt cache never serves a prefix: every run prefills in full. Greedy decoding,
64 new tokens. The comparison in the same run is between the packaged models (the choice a user makes with
``RAGQA_LLM_MODEL``). Prints a table, writes bench/results/generation.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, machine, shared_data, table, write_json

from ragqa.config import load_settings
from ragqa.errors import ModelFileError
from ragqa.generation.backend import Message
from ragqa.generation.llamacpp_backend import LlamaCppBackend
from ragqa.generation.models import PACKAGED, resolve_model_file
from ragqa.generation.sampling import SamplingParams

NEW_TOKENS = 64
PARAMS = SamplingParams(temperature=0, top_k=1, max_tokens=NEW_TOKENS, seed=0, repetition_penalty=1.0)


def source_text(corpus: Path, chars: int = 60_000) -> str:
    parts: list[str] = []
    with corpus.open(encoding="utf-8") as fh:
        for line in fh:
            parts.append(json.loads(line).get("text", ""))
            if sum(map(len, parts)) > chars:
                break
    return "\n".join(parts)


def prompt_of(backend: LlamaCppBackend, text: str, tokens: int, run: int) -> list[Message]:
    """A user turn of ``tokens`` prompt tokens (chat template included, ±1%), unique from its first line."""
    head = f"Run {run}-{tokens}. Read the text and summarise it in one sentence.\n\n"
    lo, hi = 0, len(text)
    while lo < hi:  # longest prefix of text that fits
        mid = (lo + hi + 1) // 2
        if backend.count_tokens(head + text[:mid]) + 12 <= tokens:
            lo = mid
        else:
            hi = mid - 1
    return [Message("user", head + text[:lo])]


def measure(backend: LlamaCppBackend, messages: list[Message]) -> dict[str, float]:
    t0 = time.perf_counter()
    first: float | None = None
    pieces: list[str] = []
    usage_tokens = 0
    for chunk in backend.stream(messages, PARAMS):
        if chunk.delta and first is None:
            first = time.perf_counter()
        pieces.append(chunk.delta)
        if chunk.usage is not None:
            usage_tokens = chunk.usage.completion_tokens
    end = time.perf_counter()
    generated = usage_tokens or backend.count_tokens("".join(pieces))
    first = first or end
    decode = (generated - 1) / (end - first) if generated > 1 and end > first else 0.0
    return {"ttft_ms": (first - t0) * 1000, "decode_tok_s": decode, "generated": float(generated)}


def quality(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    data = json.loads((path / "report.json" if path.is_dir() else path).read_text())
    m = data["metrics"]
    keep = ("token_f1", "gold_recall", "faithfulness", "refusal_rate", "correct_refusal_rate")
    return {
        "qa_dataset": data["dataset"],
        "qa_questions": int(m["questions"]),
        **{k: round(m[k], 4) for k in keep if k in m},
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", nargs="+", default=list(PACKAGED))
    parser.add_argument("--prompt-tokens", type=int, nargs="+", default=[1024, 2048, 4096])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=2, help="runs per size; the median is reported")
    parser.add_argument("--corpus", type=Path, default=shared_data() / "scifact" / "corpus.jsonl")
    parser.add_argument(
        "--qa-report", action="append", default=[], help="MODEL=RUN_DIR of a `ragqa eval qa` run"
    )
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--smoke", action="store_true", help="tiny run that only checks the script works")
    args = parser.parse_args()
    if args.smoke:
        args.models, args.prompt_tokens, args.repeat = ["qwen2.5-coder-0.5b"], [256], 1
    out = args.out or RESULTS / f"generation{'-smoke' if args.smoke else ''}.json"
    reports = dict(item.split("=", 1) for item in args.qa_report)

    settings = load_settings()
    text = source_text(args.corpus)
    results: list[dict[str, Any]] = []
    for name in args.models:
        try:
            path = resolve_model_file(name, settings.model_cache)
        except ModelFileError as exc:
            print(f"skipping {name}: {exc}", file=sys.stderr)
            continue
        backend = LlamaCppBackend(
            path, context=max(args.prompt_tokens) + NEW_TOKENS + 256, threads=args.threads
        )
        try:
            measure(backend, prompt_of(backend, text[:2000], 64, 0))  # warm up: weights paged in
            for size in args.prompt_tokens:
                runs = [
                    measure(backend, prompt_of(backend, text, size, r)) for r in range(1, args.repeat + 1)
                ]
                results.append(
                    {
                        "model": name,
                        "prompt_tokens": size,
                        "threads": args.threads,
                        "ttft_ms": round(statistics.median(r["ttft_ms"] for r in runs), 1),
                        "decode_tok_s": round(statistics.median(r["decode_tok_s"] for r in runs), 2),
                        "generated": int(statistics.median(r["generated"] for r in runs)),
                        **quality(Path(reports[name]) if name in reports else None),
                    }
                )
        finally:
            backend.close()
    print(
        table(
            ["model", "prompt tokens", "TTFT ms", "decode tok/s", "token-F1", "faithfulness", "refusal"],
            [
                [
                    r["model"],
                    r["prompt_tokens"],
                    r["ttft_ms"],
                    r["decode_tok_s"],
                    r.get("token_f1"),
                    r.get("faithfulness"),
                    r.get("refusal_rate"),
                ]
                for r in results
            ],
        )
    )
    write_json(out, {"machine": machine(), "new_tokens": NEW_TOKENS, "results": results})
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
