"""Bytes → text for plain-text sources: UTF-8 (with or without BOM), UTF-16 with BOM, then a legacy encoding
(GB18030, Big5, Windows-125x / Latin-1…) when charset-normalizer finds that the bytes read as text; binary and
random bytes are refused."""

from __future__ import annotations

import codecs
import re

from ragqa.cjk import HAN
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
_CJK = re.compile(f"[\u3000-\u303f{HAN}\uff00-\uffef]")  # Han, CJK punctuation, full-width forms


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
        text = _decode_legacy(data)
        if text is None:
            raise DocumentError(
                f"not readable text: invalid UTF-8 at byte {utf8_error.start}, and no other encoding "
                "(GB18030, Big5, Windows-125x, Latin-1…) reads it as text"
            ) from utf8_error
        return text


# Single-byte Western encodings charset-normalizer may name for a Windows/Latin file; cp1252 reads them all
# the way their authors' editors wrote them (it is what browsers use for "latin-1" too).
_WESTERN = frozenset({"cp1250", "cp1252", "latin_1", "iso8859_15", "iso8859_2", "cp1258", "mac_roman"})
_TEXT_ENCODINGS = _WESTERN | {
    "gb18030",
    "gb2312",
    "gbk",
    "big5",
    "big5hkscs",
    "cp1251",
    "koi8_r",
    "cp1253",
    "cp1254",
    "cp1255",
    "cp1256",
    "cp1257",
    "euc_jp",
    "shift_jis",
    "cp932",
    "euc_kr",
    "cp949",
    "iso8859_5",
    "iso8859_7",
    "iso8859_9",
}
_CHINESE_FAMILY = frozenset(
    {"gb18030", "gb2312", "gbk", "big5", "big5hkscs", "euc_jp", "shift_jis", "cp932", "euc_kr", "cp949"}
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def _decode_legacy(data: bytes) -> str | None:
    """Text in a legacy encoding, or ``None`` for bytes that are not text in any encoding we trust.

    charset-normalizer decides whether the bytes read as text at all (it names no encoding for random bytes);
    GB18030 wins when it yields mostly Chinese; a Western guess is read as cp1252."""
    from charset_normalizer import from_bytes

    best = next((m for m in from_bytes(data[:1_000_000]) if m.encoding in _TEXT_ENCODINGS), None)
    if best is None:
        return None
    if best.encoding in _WESTERN:
        candidates: tuple[str, ...] = ("cp1252", "latin_1")
    elif best.encoding in _CHINESE_FAMILY:  # short GB18030 text is often guessed as Korean or Japanese
        candidates = (best.encoding, "gb18030") if best.encoding.startswith("big5") else ("gb18030",)
        candidates += (best.encoding,)
    else:
        candidates = (best.encoding,)
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "gb18030" and len(_CJK.findall(text)) < 0.6 * sum(1 for ch in text if ord(ch) > 127):
            continue
        return _plausible(text)
    return None


def _plausible(text: str) -> str | None:
    """``None`` when more than 1% of the characters are control characters (binary read as text)."""
    return None if len(_CONTROL.findall(text)) > 0.01 * max(1, len(text)) else text
