"""How long checking one claim takes: the binding verifier (trees over word positions, the claims of an answer
together) and the learned verifier (OpenVINO, one batch per answer; when a model is there) against the LLM judge
a user would otherwise ask (the packaged answer model on llama.cpp, one call per claim), and the word-overlap +
embedding cascade that runs on every answer anyway.

Claims are those of HaluEval QA records 1600–1999 (right and hallucinated answers), which neither the verifier
nor its thresholds were fitted on.

    python bench/verifier.py                 # 400 records; the judge on the first 20 claims
    python bench/verifier.py --smoke         # 10 records, the 0.5B judge on 2 claims (CI)
    python bench/verifier.py --model DIR     # also a learned verifier trained by `ragqa train verifier`
    python bench/verifier.py --reader DIR    # the span reader from DIR (default: the shipped one, if any)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from _common import RESULTS, machine, percentiles, shared_data, table, write_json

from ragqa.config import load_settings
from ragqa.eval.halueval import load_halueval
from ragqa.generation.llamacpp_backend import LlamaCppBackend
from ragqa.generation.models import resolve_model_file
from ragqa.generation.verify.binding_model import shipped_binding
from ragqa.generation.verify.checker import CHEAP_SIGNALS, SupportChecker
from ragqa.generation.verify.claims import split_claims
from ragqa.generation.verify.judge import LLMJudge
from ragqa.generation.verify.learned import MANIFEST, MODEL_DIR, ClaimScorer, LearnedVerifier
from ragqa.generation.verify.reader import MODEL_DIR as READER_DIR
from ragqa.generation.verify.reader import SpanReader
from ragqa.generation.verify.similarity import SentenceMatcher
from ragqa.retrieval.embedders import ENGLISH, get_embedder


def _per_claim_ms(scorer: ClaimScorer, answers: list[tuple[list[str], str, str]]) -> list[float]:
    """Each answer's claims scored together, after one warm-up answer; the time shared out per claim."""
    scorer.score_claims(answers[0][0], [answers[0][1]], answers[0][2])
    out: list[float] = []
    for claims, source, question in answers:
        t0 = time.perf_counter()
        scorer.score_claims(claims, [source], question)
        out += [(time.perf_counter() - t0) * 1000 / len(claims)] * len(claims)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=400)
    parser.add_argument("--judge-claims", type=int, default=20)
    parser.add_argument("--judge-model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--model", type=Path, default=MODEL_DIR, help="learned verifier folder (IR + manifest)"
    )
    parser.add_argument("--reader", type=Path, default=READER_DIR, help="span reader folder (IR + manifest)")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--smoke", action="store_true", help="tiny run that only checks the script works")
    args = parser.parse_args()
    if args.smoke:
        args.records, args.judge_claims, args.judge_model = 10, 2, "qwen2.5-coder-0.5b"
    out = args.out or RESULTS / f"verifier{'-smoke' if args.smoke else ''}.json"

    records = load_halueval(shared_data() / "halueval" / "qa_dev.jsonl", args.records, start=1600)
    answers = [
        ([c.text for c in split_claims(answer)], r.knowledge, r.question)
        for r in records
        for answer in (r.right_answer, r.hallucinated_answer)
    ]
    answers = [a for a in answers if a[0]]
    n_claims = sum(len(c) for c, _, _ in answers)

    learned_ms: list[float] = []
    if (args.model / MANIFEST).is_file():
        verifier = LearnedVerifier(args.model, threads=args.threads)
        verifier.load()
        learned_ms = _per_claim_ms(verifier, answers)
    reader_ms: list[float] = []
    if (args.reader / MANIFEST).is_file():
        reader = SpanReader(args.reader, threads=args.threads, remember=0)  # every answer read afresh
        reader.load()
        reader_ms = _per_claim_ms(reader, answers)
    binding_ms = _per_claim_ms(shipped_binding(), answers)

    settings = load_settings()
    cascade = SupportChecker(SentenceMatcher(get_embedder(settings, ENGLISH)), None, CHEAP_SIGNALS)
    cascade_ms: list[float] = []
    for claims, source, question in answers:
        parsed = split_claims(" ".join(claims))
        t0 = time.perf_counter()
        cascade.check(parsed, [source], question)
        cascade_ms += [(time.perf_counter() - t0) * 1000 / max(len(parsed), 1)] * max(len(parsed), 1)

    backend = LlamaCppBackend(
        resolve_model_file(args.judge_model, settings.model_cache), context=4096, threads=args.threads
    )
    try:
        judge = LLMJudge(backend)
        flat = [(c, s, q) for claims, s, q in answers for c in claims][: args.judge_claims]
        judge.verdict(flat[0][0], [flat[0][1]], flat[0][2])  # warm up (model load)
        judge_ms: list[float] = []
        for claim, source, question in flat:
            t0 = time.perf_counter()
            judge.verdict(claim, [source], question)
            judge_ms.append((time.perf_counter() - t0) * 1000)
    finally:
        backend.close()

    rows: list[dict[str, Any]] = [
        {"checker": "binding verifier (per answer)", "claims": len(binding_ms), **percentiles(binding_ms)},
        *(
            [
                {
                    "checker": "learned verifier (OpenVINO, batched per answer)",
                    "claims": len(learned_ms),
                    **percentiles(learned_ms),
                }
            ]
            if learned_ms
            else []
        ),
        *(
            [
                {
                    "checker": "span reader (OpenVINO, the answer's sources read once)",
                    "claims": len(reader_ms),
                    **percentiles(reader_ms),
                }
            ]
            if reader_ms
            else []
        ),
        {"checker": "lexical + embedding cascade", "claims": len(cascade_ms), **percentiles(cascade_ms)},
        {
            "checker": f"LLM judge ({args.judge_model}, llama.cpp)",
            "claims": len(judge_ms),
            **percentiles(judge_ms),
        },
    ]
    judge_p50 = rows[-1]["p50_ms"]
    ratio = judge_p50 / rows[1]["p50_ms"] if learned_ms and rows[1]["p50_ms"] else None
    binding_ratio = judge_p50 / rows[0]["p50_ms"] if rows[0]["p50_ms"] else None
    reader_p50 = percentiles(reader_ms)["p50_ms"] if reader_ms else None
    reader_ratio = judge_p50 / reader_p50 if reader_p50 else None
    print(table(["checker", "claims", "p50 ms", "p95 ms", "p99 ms"], [list(r.values()) for r in rows]))
    print(f"LLM judge p50 / binding verifier p50: {binding_ratio:.0f}x" if binding_ratio else "")
    print(f"LLM judge p50 / learned verifier p50: {ratio:.0f}x" if ratio else "")
    print(f"LLM judge p50 / span reader p50: {reader_ratio:.0f}x" if reader_ratio else "")
    write_json(
        out,
        {
            "machine": machine(),
            "records": len(records),
            "answers": len(answers),
            "claims": n_claims,
            "threads": args.threads,
            "rows": rows,
            "judge_over_learned_p50": round(ratio, 1) if ratio else None,
            "judge_over_binding_p50": round(binding_ratio, 1) if binding_ratio else None,
            "reader_p50_ms": reader_p50,
            "judge_over_reader_p50": round(reader_ratio, 1) if reader_ratio else None,
            "target_per_claim_ms": 20,
        },
    )
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
