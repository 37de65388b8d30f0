"""File loaders: one function per format, each turning a file's bytes into :class:`Document` records.

Every loader raises :class:`DocumentError` with a reason a user can act on; the ingestion run reports it
for that file and goes on with the rest.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ragqa.errors import DocumentError
from ragqa.ingest.decoding import decode_text, sniff_binary
from ragqa.types import Document


@dataclass(slots=True)
class LoadResult:
    documents: list[Document]
    warnings: list[str] = field(default_factory=list)  # per-record problems inside a multi-record file


def path_doc_id(path: Path) -> str:
    """Stable id of a single-document file: derived from its resolved path, so it survives content edits."""
    return hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]


_MD_HEADING = re.compile(r"^[ \t]*(#{1,6})[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


def _plain(path: Path, data: bytes) -> LoadResult:
    text = decode_text(data)
    return LoadResult([Document(path_doc_id(path), text, path.stem, str(path))])


def _markdown(path: Path, data: bytes) -> LoadResult:
    text = decode_text(data)
    matches = list(_MD_HEADING.finditer(text))
    headings = tuple((m.start(), m.group(2).strip()) for m in matches)
    h1 = next((m.group(2).strip() for m in matches if m.group(1) == "#"), "")
    return LoadResult([Document(path_doc_id(path), text, h1 or path.stem, str(path), headings)])


_HTML_BLOCKS = frozenset(
    [
        "p",
        "div",
        "li",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "tr",
        "td",
        "th",
        "pre",
        "blockquote",
        "section",
        "article",
        "br",
        "dt",
        "dd",
    ]
)


def _html(path: Path, data: bytes) -> LoadResult:
    from bs4 import BeautifulSoup

    binary = sniff_binary(data)
    if binary:
        raise DocumentError(f"not an HTML file: content is {binary}")
    soup = BeautifulSoup(data, "lxml")
    for tag in soup(["script", "style", "noscript", "template", "svg", "nav", "footer"]):
        tag.decompose()
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    if soup.title:
        soup.title.decompose()
    parts: list[str] = []
    headings: list[tuple[int, str]] = []
    offset = 0
    body = soup.body or soup
    for element in body.find_all(True):
        if element.name not in _HTML_BLOCKS or element.find(_HTML_BLOCKS - {"br"}):
            continue
        chunk = element.get_text(" ", strip=True)
        if not chunk:
            continue
        if element.name in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            headings.append((offset, chunk))
            title = title or chunk
        parts.append(chunk)
        offset += len(chunk) + 2
    text = "\n\n".join(parts)
    if not text.strip():
        raise DocumentError("no text found in HTML")
    return LoadResult([Document(path_doc_id(path), text, title or path.stem, str(path), tuple(headings))])


def _pdf(path: Path, data: bytes) -> LoadResult:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError, PyPdfError

    if not data.startswith(b"%PDF-"):
        what = sniff_binary(data) or "not PDF data"
        raise DocumentError(f"corrupt PDF: missing %PDF header ({what})")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise DocumentError("encrypted PDF: cannot extract text without the password")
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
        meta_title = (reader.metadata.title if reader.metadata else None) or ""
    except DocumentError:
        raise
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DocumentError(f"corrupt PDF: {exc}") from exc
    text = "\n\n".join(p for p in pages if p)
    if not text.strip():
        raise DocumentError("PDF has no extractable text (scanned images need OCR first)")
    return LoadResult([Document(path_doc_id(path), text, str(meta_title).strip() or path.stem, str(path))])


def _docx(path: Path, data: bytes) -> LoadResult:
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise DocumentError(f"corrupt DOCX: {exc}") from exc
    parts: list[str] = []
    headings: list[tuple[int, str]] = []
    offset = 0
    title = ""
    for paragraph in document.paragraphs:
        text = paragraph.text.strip()
        if not text:
            continue
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        if style == "Title" or style.startswith("Heading"):
            headings.append((offset, text))
            title = title or text
        parts.append(text)
        offset += len(text) + 2
    for table in document.tables:
        for row in table.rows:
            line = " | ".join(cell.text.strip() for cell in row.cells)
            parts.append(line)
    text = "\n\n".join(parts)
    if not text.strip():
        raise DocumentError("DOCX has no text")
    core_title = (document.core_properties.title or "").strip()
    return LoadResult(
        [Document(path_doc_id(path), text, core_title or title or path.stem, str(path), tuple(headings))]
    )


def _csv(path: Path, data: bytes) -> LoadResult:
    text = decode_text(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    if not rows:
        raise DocumentError("empty CSV")
    header, body = rows[0], rows[1:]
    lines = ["; ".join(f"{h}: {v}" for h, v in zip(header, row, strict=False) if v.strip()) for row in body]
    content = "\n\n".join(line for line in lines if line)
    if not content:
        raise DocumentError("CSV has a header but no data rows")
    return LoadResult([Document(path_doc_id(path), content, path.stem, str(path))])


_ID_KEYS = ("_id", "id", "doc_id")
_TEXT_KEYS = ("text", "content", "body", "context")


def _jsonl(path: Path, data: bytes) -> LoadResult:
    text = decode_text(data)
    documents: list[Document] = []
    warnings: list[str] = []
    seen: set[str] = set()
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            warnings.append(f"line {line_no}: invalid JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(record, dict):
            warnings.append(f"line {line_no}: expected a JSON object, got {type(record).__name__}")
            continue
        body = next(
            (record[k] for k in _TEXT_KEYS if isinstance(record.get(k), str) and record[k].strip()), None
        )
        title = record.get("title") if isinstance(record.get("title"), str) else ""
        if body is None:
            warnings.append(f"line {line_no}: no text field ({'/'.join(_TEXT_KEYS)})")
            continue
        raw_id = next((record[k] for k in _ID_KEYS if record.get(k) not in (None, "")), None)
        doc_id = str(raw_id) if raw_id is not None else f"{path_doc_id(path)}:{line_no}"
        if doc_id in seen:
            warnings.append(f"line {line_no}: duplicate id {doc_id!r}, kept the first")
            continue
        seen.add(doc_id)
        metadata = {k: v for k, v in record.items() if k not in {*_TEXT_KEYS, *_ID_KEYS, "title"}}
        documents.append(Document(doc_id, body, title.strip(), str(path), (), metadata))
    if not documents:
        reason = warnings[0] if warnings else "no records"
        raise DocumentError(f"JSONL file has no usable records ({reason})")
    return LoadResult(documents, warnings)


Loader = Callable[[Path, bytes], LoadResult]

LOADERS: dict[str, Loader] = {
    ".txt": _plain,
    ".text": _plain,
    ".rst": _plain,
    ".md": _markdown,
    ".markdown": _markdown,
    ".html": _html,
    ".htm": _html,
    ".pdf": _pdf,
    ".docx": _docx,
    ".csv": _csv,
    ".jsonl": _jsonl,
}


def supported_suffixes() -> tuple[str, ...]:
    return tuple(sorted(LOADERS))


def load_file(path: Path, data: bytes) -> LoadResult:
    """Parse ``data`` (the bytes of ``path``) with the loader for its extension."""
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise DocumentError(
            f"unsupported file type {path.suffix or '(none)'}; supported: {', '.join(LOADERS)}"
        )
    if not data.strip():
        raise DocumentError("empty file")
    result = loader(path, data)
    kept = [d for d in result.documents if d.text.strip()]
    if not kept:
        raise DocumentError("no text")
    result.documents = kept
    return result
