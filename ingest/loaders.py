"""File loaders: one function per format, each turning a file's bytes into :class:`Document` records.

Every loader raises :class:`DocumentError` with a reason a user can act on; the ingestion run reports it
for that file and goes on with the rest. What a loader may inflate or parse is capped (:class:`LoadLimits`):
a DOCX's unpacked size and member count, a PDF's pages and extracted text, a CSV field, a JSONL record's
nesting — so a decompression bomb is refused as too large instead of taking the process's memory.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ragqa.config import Settings
from ragqa.errors import DocumentError
from ragqa.ingest.decoding import decode_text, sniff_binary
from ragqa.types import Document

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LoadLimits:
    """What one file may expand to while it is parsed."""

    max_unpacked_bytes: int = 100 * 1024 * 1024  # DOCX: all members' declared sizes together
    max_members: int = 10_000  # DOCX: entries in the archive
    max_pdf_pages: int = 5_000
    max_html_tags: int = 500_000  # each parsed element costs the HTML parser about a kilobyte
    max_text_chars: int = 50_000_000  # extracted text of one file

    @classmethod
    def from_settings(cls, settings: Settings) -> LoadLimits:
        return cls(max_unpacked_bytes=int(settings.max_unpacked_mb * 1024 * 1024))


DEFAULT_LIMITS = LoadLimits()
# A CSV field may be as long as a whole file may be (the csv module's default is 128 KiB).
csv.field_size_limit(1 << 30)


@dataclass(slots=True)
class LoadResult:
    documents: list[Document]
    warnings: list[str] = field(default_factory=list)  # per-record problems inside a multi-record file


def path_doc_id(path: Path) -> str:
    """Stable id of a single-document file: derived from its resolved path, so it survives content edits."""
    return hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]


_MD_HEADING = re.compile(r"^[ \t]*(#{1,6})[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


def _plain(path: Path, data: bytes, limits: LoadLimits) -> LoadResult:
    text = decode_text(data)
    return LoadResult([Document(path_doc_id(path), text, path.stem, str(path))])


def _markdown(path: Path, data: bytes, limits: LoadLimits) -> LoadResult:
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


def _html(path: Path, data: bytes, limits: LoadLimits) -> LoadResult:
    from bs4 import BeautifulSoup

    binary = sniff_binary(data)
    if binary:
        raise DocumentError(f"not an HTML file: content is {binary}")
    tags = data.count(b"<")
    if tags > limits.max_html_tags:
        raise DocumentError(f"too large: about {tags:,} HTML tags, over the {limits.max_html_tags:,} limit")
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


def _pdf(path: Path, data: bytes, limits: LoadLimits) -> LoadResult:
    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError, PdfReadError, PyPdfError

    if not data.startswith(b"%PDF-"):
        what = sniff_binary(data) or "not PDF data"
        raise DocumentError(f"corrupt PDF: missing %PDF header ({what})")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise DocumentError("encrypted PDF: cannot extract text without the password")
        if len(reader.pages) > limits.max_pdf_pages:
            raise DocumentError(
                f"too large: the PDF has {len(reader.pages)} pages, over the {limits.max_pdf_pages} page limit"
            )
        pages: list[str] = []
        chars = 0
        for page in reader.pages:
            pages.append((page.extract_text() or "").strip())
            chars += len(pages[-1])
            if chars > limits.max_text_chars:
                raise DocumentError(f"too large: the PDF's text is over {limits.max_text_chars:,} characters")
        meta_title = (reader.metadata.title if reader.metadata else None) or ""
    except DocumentError:
        raise
    except LimitReachedError as exc:
        raise DocumentError(f"too large: a PDF stream inflates past pypdf's safety limit ({exc})") from exc
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DocumentError(f"corrupt PDF: {exc}") from exc
    text = "\n\n".join(p for p in pages if p)
    if not text.strip():
        raise DocumentError("PDF has no extractable text (scanned images need OCR first)")
    return LoadResult([Document(path_doc_id(path), text, str(meta_title).strip() or path.stem, str(path))])


def _check_archive(data: bytes, limits: LoadLimits) -> None:
    """Refuse a ZIP container whose members would unpack past the limits, before anything is inflated.

    The sizes are the archive's own declarations; ``zipfile`` never inflates a member past its declared size
    (a member that lies fails its CRC check), so these bound what parsing can read."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise DocumentError(f"corrupt DOCX: {exc}") from exc
    if len(members) > limits.max_members:
        raise DocumentError(f"too large: the archive holds {len(members)} files (limit {limits.max_members})")
    unpacked = sum(m.file_size for m in members)
    if unpacked > limits.max_unpacked_bytes:
        raise DocumentError(
            f"too large: unpacks to {unpacked / 1048576:.0f} MB, over the "
            f"{limits.max_unpacked_bytes / 1048576:.0f} MB limit (RAGQA_MAX_UNPACKED_MB); a decompression bomb?"
        )


def _docx(path: Path, data: bytes, limits: LoadLimits) -> LoadResult:
    import docx
    from lxml.etree import LxmlError

    _check_archive(data, limits)
    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise DocumentError(f"corrupt DOCX: {exc}") from exc
    except LxmlError as exc:
        raise DocumentError(f"corrupt DOCX: malformed XML ({exc})") from exc
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


def _csv(path: Path, data: bytes, limits: LoadLimits) -> LoadResult:
    text = decode_text(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    try:
        rows = list(csv.reader(io.StringIO(text), dialect))
    except csv.Error as exc:
        raise DocumentError(f"malformed CSV: {exc}") from exc
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
RESERVED_KEYS = frozenset({*_ID_KEYS, *_TEXT_KEYS, "title"})  # a record's fields that are not metadata


def _jsonl(path: Path, data: bytes, limits: LoadLimits) -> LoadResult:
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
        except RecursionError:
            warnings.append(f"line {line_no}: JSON nested too deeply")
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
        metadata = {k: v for k, v in record.items() if k not in RESERVED_KEYS}
        documents.append(Document(doc_id, body, title.strip(), str(path), (), metadata))
    if not documents:
        reason = warnings[0] if warnings else "no records"
        raise DocumentError(f"JSONL file has no usable records ({reason})")
    return LoadResult(documents, warnings)


Loader = Callable[[Path, bytes, LoadLimits], LoadResult]

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


def load_file(path: Path, data: bytes, limits: LoadLimits = DEFAULT_LIMITS) -> LoadResult:
    """Parse ``data`` (the bytes of ``path``) with the loader for its extension.

    Anything a parser raises besides :class:`DocumentError` (a library's own error on malformed input, a
    recursion or memory limit) becomes a :class:`DocumentError` naming it: one bad file never ends a run."""
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise DocumentError(
            f"unsupported file type {path.suffix or '(none)'}; supported: {', '.join(LOADERS)}"
        )
    if not data.strip():
        raise DocumentError("empty file")
    try:
        result = loader(path, data, limits)
    except DocumentError:
        raise
    except RecursionError as exc:
        raise DocumentError("cannot parse: nested too deeply") from exc
    except MemoryError as exc:
        raise DocumentError("too large: parsing it ran out of memory") from exc
    except Exception as exc:
        log.warning("loader for %s failed", path, exc_info=True)
        raise DocumentError(f"cannot parse: {type(exc).__name__}: {str(exc)[:300]}") from exc
    if sum(len(d.text) for d in result.documents) > limits.max_text_chars:
        raise DocumentError(f"too large: the text is over {limits.max_text_chars:,} characters")
    kept = [d for d in result.documents if d.text.strip()]
    if not kept:
        raise DocumentError("no text")
    result.documents = kept
    return result
