"""Hostile files, made by the tests themselves: a decompression bomb, broken archives, odd text."""

from __future__ import annotations

import io
import random
import zipfile
from collections.abc import Callable
from pathlib import Path

import docx


def _docx_bytes(text: str) -> bytes:
    document = docx.Document()
    document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _rewrite_body(template: bytes, change: Callable[[bytes], bytes]) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(template))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "word/document.xml":
                data = change(data)
            archive.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return out.getvalue()


def docx_bomb(inflated_mb: int = 300) -> bytes:
    """A DOCX of well under 1 MB whose ``word/document.xml`` inflates to ``inflated_mb`` MB."""
    paragraph = b"<w:p><w:r><w:t>" + b"A" * 4000 + b"</w:t></w:r></w:p>"
    copies = inflated_mb * 1024 * 1024 // len(paragraph)

    def inflate(xml: bytes) -> bytes:
        end = xml.index(b"</w:body>")
        return xml[:end] + paragraph * copies + xml[end:]

    return _rewrite_body(_docx_bytes("bomb"), inflate)


def docx_malformed() -> bytes:
    """A valid ZIP whose ``word/document.xml`` is cut in half (malformed XML)."""
    return _rewrite_body(_docx_bytes("Malformed document text."), lambda xml: xml[: len(xml) // 2])


def csv_with_huge_field(field_kb: int = 200) -> bytes:
    return b"name,notes\nwide," + b"lorem " * (field_kb * 1024 // 6) + b"\n"


def jsonl_nested(depth: int = 100_000) -> bytes:
    return b'{"id": "deep", "text": "t", "m": ' + b"[" * depth + b"]" * depth + b"}\n"


def random_bytes(size: int = 4000, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(size).replace(b"\0", b"x")


def good_texts(count: int = 10) -> dict[str, bytes]:
    return {
        f"good{i:02d}.txt": (
            f"Lighthouse {i} stands on cape number {i}. Its keeper number {i} lit the lamp every evening. "
            f"The cape {i} log book records {i * 11} storms."
        ).encode()
        for i in range(count)
    }


HOSTILE: dict[str, tuple[bytes, str]] = {}  # filled lazily by hostile_files()


def hostile_files() -> dict[str, tuple[bytes, str | None]]:
    """name → (bytes, the reason's words when it must fail, or None when it must load)."""
    return {
        "bomb.docx": (docx_bomb(), "decompression bomb"),
        "malformed.docx": (docx_malformed(), "corrupt DOCX: malformed XML"),
        "wide.csv": (csv_with_huge_field(), None),
        "nested.jsonl": (jsonl_nested(), "nested too deeply"),
        "random.txt": (random_bytes(), "not readable text"),
        "tags.html": (b"<html><body>" + b"<p>a</p>" * 300_000 + b"</body></html>", "HTML tags"),
    }


def write_all(folder: Path, files: dict[str, bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
