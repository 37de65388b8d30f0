"""The one definition of CJK text used everywhere: which characters are Chinese, and when a text is Chinese."""

from __future__ import annotations

import re

# Han ideographs: CJK Unified Ideographs, Extension A, Compatibility Ideographs.
HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_CHAR = re.compile(f"[{HAN}]")
# Runs of characters written without spaces between words: Han, kana and Hangul (tokenised per character or
# by jieba, never split on white space).
CJK_RUN = re.compile(f"[{HAN}\u3040-\u30ff\uac00-\ud7af]+")


def is_chinese(text: str) -> bool:
    """At least a fifth of the text (and two characters) is Han."""
    return len(CJK_CHAR.findall(text)) >= max(2, len(text.strip()) // 5)
