"""Bytes → text for plain-text sources: UTF-8 (with or without BOM), UTF-16 with BOM, GB18030; binary refused."""

from __future__ import annotations

import codecs
import re

from ragqa.errors import DocumentError

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF-", "a PDF file"),
    (b"PK\x03\x04", "a ZIP archive (docx/xlsx/zip)"),
    (b"\x7fELF", "an ELF executable"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"SQLite format 3\x00", "an SQLite database"),
)
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")


def sniff_binary(data: bytes) -> str | None:
    """Name what binary content looks like, or ``None`` when it may be text."""
    for magic, what in _MAGIC:
        if data.startswith(magic):
            return what
    head = data[:8192]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    if b"\x00" in head:
        return "binary data (NUL bytes)"
    return None


def decode_text(data: bytes) -> str:
    """Decode text bytes, raising :class:`DocumentError` with the reason when they are not text."""
    if not data.strip():
        raise DocumentError("empty file")
    binary = sniff_binary(data)
    if binary:
        raise DocumentError(f"not a text file: content is {binary}")
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise DocumentError(f"invalid UTF-16 text at byte {exc.start}") from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as utf8_error:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            text = ""
        non_ascii = sum(1 for ch in text if ord(ch) > 127)
        if text and non_ascii and len(_CJK.findall(text)) >= 0.6 * non_ascii:
            return text
        raise DocumentError(
            f"invalid UTF-8 at byte {utf8_error.start} and not GB18030 Chinese text either"
        ) from utf8_error
