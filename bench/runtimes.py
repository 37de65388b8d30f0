"""llama.cpp builds side by side on this CPU, for the same GGUF: the ``xllamacpp`` wheel ragqa embeds (its CPU
build targets AVX2) against ``llama-cpp-python`` compiled here for the host's instruction set, when installed.
Time to first token (prefill) and decode tokens/s at the same prompt, greedy, 64 new tokens, same threads.

    python bench/runtimes.py                        # the default 1.5B model, 1,024-token prompt, 2 threads
    python bench/runtimes.py --smoke                # the 0.5B model, 128 tokens, the wheel only if need be
    python bench/runtimes.py --openvino             # and OpenVINO GenAI on an 8-bit export of the same GGUF,
                                                    # without and with prompt lookup (its default)
    .venv-vllm/bin/python bench/runtimes.py --vllm  # and vLLM's server for the same model (.ci/vllm-env)
    python bench/runtimes.py --clients 1 2 4        # and completions/minute with 1, 2 and 4 callers at once

Building the native one (≈ 5 min on 2 cores; AMX is left out: on this CPU llama.cpp's AMX kernels crash
with a segmentation fault on the first multi-token batch):

    CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX512=ON -DGGML_AVX512_VBMI=ON -DGGML_AVX512_VNNI=ON \\
      -DGGML_AVX512_BF16=ON -DGGML_AVX_VNNI=ON -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF" \\
      pip install llama-cpp-python==0.3.36 diskcache

Rows: the wheel and ``llamacpp-native`` through ragqa's backend interface (seeded, so no prompt prefix is
reused), and llama-cpp-python with its defaults (weight repacking on) driven directly. Prints a table with
each build's ratio to the wheel, writes bench/results/runtimes.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, machine, shared_data, table, write_json

from generation import PARAMS, measure, prompt_of, source_text
from ragqa.config import load_settings
from ragqa.generation.backend import GenerationBackend
from ragqa.generation.llamacpp_backend import LlamaCppBackend
from ragqa.generation.models import resolve_model_file

NEW_TOKENS = PARAMS.max_tokens


def through_backend(
    backend: GenerationBackend, text: str, tokens: int, repeat: int, clients: Sequence[int] = ()
) -> dict[str, float]:
    """Measured through ragqa's backend interface (the path answers take)."""
    try:
        measure(backend, prompt_of(backend, text[:2000], 64, 0))  # warm up
        runs = [measure(backend, prompt_of(backend, text, tokens, r)) for r in range(1, repeat + 1)]
        result = {k: statistics.median(r[k] for r in runs) for k in ("ttft_ms", "decode_tok_s")}
        for level in clients:
            result[f"per_min_{level}_clients"] = throughput(backend, text, tokens, level)
    finally:
        backend.close()
    return result


def throughput(backend: GenerationBackend, text: str, tokens: int, clients: int, each: int = 2) -> float:
    """Completions per minute with ``clients`` callers at once, each sending ``each`` distinct prompts back to
    back (what several users asking at the same time get from one model server)."""
    prompts = [prompt_of(backend, text, tokens, 100 * clients + i) for i in range(clients * each)]
    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(lambda messages: backend.generate(messages, PARAMS), prompts))
    return round(len(prompts) / (time.perf_counter() - started) * 60, 2)


def repacked(path: Path, text: str, tokens: int, threads: int, repeat: int) -> dict[str, float]:
    """llama-cpp-python with its defaults (weight repacking on), driven directly."""
    from llama_cpp import Llama

    llm = Llama(
        model_path=str(path),
        n_ctx=tokens + NEW_TOKENS + 256,
        n_threads=threads,
        n_threads_batch=threads,
        verbose=False,
    )
    runs = []
    for r in range(repeat + 1):  # the first warms up
        ids = llm.tokenize(f"Run {r}-{tokens}. Summarise the text in one sentence.\n\n{text}".encode())[
            :tokens
        ]
        llm.reset()
        t0 = time.perf_counter()
        first, count = None, 0
        for _ in llm.create_completion(ids, max_tokens=NEW_TOKENS, temperature=0, top_k=1, stream=True):
            first = first or time.perf_counter()
            count += 1
        end = time.perf_counter()
        if r and first is not None:
            runs.append({"ttft_ms": (first - t0) * 1000, "decode_tok_s": (count - 1) / (end - first)})
    return {k: statistics.median(run[k] for run in runs) for k in ("ttft_ms", "decode_tok_s")}


def throughput_cell(row: dict[str, Any], clients: int) -> str:
    if f"x_wheel_{clients}_clients" not in row:
        return "—"
    return f"{row[f'per_min_{clients}_clients']} ({row[f'x_wheel_{clients}_clients']})"


def vllm_server(model: str, text: str, args: argparse.Namespace, context: int) -> dict[str, float]:
    """vLLM's own server on 127.0.0.1 through the ``openai`` backend (its threads come from vLLM's
    ``VLLM_CPU_OMP_THREADS_BIND``, not ``--threads``)."""
    from ragqa.generation.hf_export import hf_model_dir
    from ragqa.generation.openai_backend import OpenAIBackend
    from ragqa.generation.vllm_server import VllmServer

    server = VllmServer(hf_model_dir(model, load_settings().model_cache), context=context)
    try:
        client = OpenAIBackend(f"{server.url}/v1", timeout=600)
        return through_backend(client, text, args.prompt_tokens, args.repeat, args.clients)
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--prompt-tokens", type=int, default=1024)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument(
        "--vllm",
        action="store_true",
        help="add vLLM's OpenAI server for the same model (bf16 weights exported from the GGUF; run from "
        ".venv-vllm, which .ci/vllm-env builds)",
    )
    parser.add_argument(
        "--openvino",
        action="store_true",
        help="add OpenVINO GenAI on the 8-bit export of the same GGUF (exported once into the model cache)",
    )
    parser.add_argument(
        "--clients",
        type=int,
        nargs="*",
        default=[],
        help="also measure completions per minute at these numbers of concurrent clients (e.g. 1 2 4)",
    )
    args = parser.parse_args()
    if args.smoke:
        args.model, args.prompt_tokens, args.repeat = "qwen2.5-coder-0.5b", 128, 1
    path = resolve_model_file(args.model, load_settings().model_cache)
    text = source_text(shared_data() / "scifact" / "corpus.jsonl")
    rows: list[dict[str, Any]] = []
    context = args.prompt_tokens + NEW_TOKENS + 256
    wheel = LlamaCppBackend(path, context=context, threads=args.threads)
    base = through_backend(wheel, text, args.prompt_tokens, args.repeat, args.clients)
    rows.append({"runtime": "xllamacpp wheel (AVX2): llamacpp", **base})
    if importlib.util.find_spec("llama_cpp") is None:
        print("llama-cpp-python is not installed: the wheel only", file=sys.stderr)
    else:
        from ragqa.generation.native_backend import NativeLlamaBackend

        native = NativeLlamaBackend(path, context=context, threads=args.threads)
        rows.append(
            {
                "runtime": "built here, repacking off: llamacpp-native",
                **through_backend(native, text, args.prompt_tokens, args.repeat, args.clients),
            }
        )
        rows.append(
            {
                "runtime": "built here, repacking on",
                **repacked(path, text, args.prompt_tokens, args.threads, args.repeat),
            }
        )
    if args.openvino:
        from ragqa.generation.openvino_backend import DEFAULT_LOOKUP_TOKENS, OpenVINOBackend
        from ragqa.generation.ov_export import ov_model_dir

        folder = ov_model_dir(args.model, load_settings().model_cache)
        for lookup, label in (
            (0, "prompt lookup off"),
            (DEFAULT_LOOKUP_TOKENS, "prompt lookup on: openvino"),
        ):
            ov_backend = OpenVINOBackend(
                folder, context=context, threads=args.threads, timeout=600, lookup_tokens=lookup
            )
            rows.append(
                {
                    "runtime": f"OpenVINO GenAI, 8-bit export, {label}",
                    **through_backend(ov_backend, text, args.prompt_tokens, args.repeat, args.clients),
                }
            )
    if args.vllm:
        rows.append({"runtime": "vLLM server, bf16: openai", **vllm_server(args.model, text, args, context)})
    for row in rows:
        row["prefill_tok_s"] = round(args.prompt_tokens / (row["ttft_ms"] / 1000), 1)
        row["prefill_x_wheel"] = round(base["ttft_ms"] / row["ttft_ms"], 2)
        row["decode_x_wheel"] = round(row["decode_tok_s"] / base["decode_tok_s"], 2)
        row["ttft_ms"], row["decode_tok_s"] = round(row["ttft_ms"], 1), round(row["decode_tok_s"], 2)
        for c in args.clients:
            per_min = f"per_min_{c}_clients"
            if per_min in row:  # not for llama-cpp-python driven directly
                row[f"x_wheel_{c}_clients"] = round(row[per_min] / base[per_min], 2)
    print(
        table(
            ["runtime", "TTFT ms", "prefill tok/s", "× wheel", "decode tok/s", "× wheel"]
            + [f"/min at {c} clients (× wheel)" for c in args.clients],
            [
                [
                    r["runtime"],
                    r["ttft_ms"],
                    r["prefill_tok_s"],
                    r["prefill_x_wheel"],
                    r["decode_tok_s"],
                    r["decode_x_wheel"],
                ]
                + [throughput_cell(r, c) for c in args.clients]
                for r in rows
            ],
        )
    )
    extra = ("-vllm" if args.vllm else "") + ("-openvino" if args.openvino else "")
    out = args.out or RESULTS / f"runtimes{extra}{'-smoke' if args.smoke else ''}.json"
    write_json(
        out,
        {
            "machine": machine(),
            "model": args.model,
            "prompt_tokens": args.prompt_tokens,
            "threads": args.threads,
            "new_tokens": NEW_TOKENS,
            "results": rows,
        },
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
