from __future__ import annotations

import random
from pathlib import Path

import pytest

from ragqa.errors import DocumentError
from ragqa.ingest.loaders import load_file


def _load(path: Path, data: bytes):
    path.write_bytes(data)
    return load_file(path, data)


def test_plain_text_utf8_and_gb18030(tmp_path: Path) -> None:
    utf8 = _load(tmp_path / "a.txt", "北京是中国的首都。Hello.".encode())
    gbk = _load(tmp_path / "b.txt", "北京是中国的首都。上海是最大的城市。".encode("gb18030"))
    assert utf8.documents[0].text == "北京是中国的首都。Hello."
    assert gbk.documents[0].text == "北京是中国的首都。上海是最大的城市。"
    assert utf8.documents[0].title == "a"
    bom = _load(tmp_path / "c.txt", b"\xef\xbb\xbfwith bom")
    assert bom.documents[0].text == "with bom"


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Café crème brûlée — a naïve façade, the résumé’s “quotes”.", "cp1252"),
        ("Größe, Straße und Übung: Äpfel für die Öffentlichkeit.", "latin-1"),
        ("繁體中文的文件內容，這是一份測試文件，說明如何處理編碼。", "big5"),
    ],
)
def test_legacy_encodings_load(tmp_path: Path, text: str, encoding: str) -> None:
    assert _load(tmp_path / "legacy.txt", text.encode(encoding)).documents[0].text == text


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("fake.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG image"),
        ("empty.txt", b"", "empty file"),
        ("blank.md", b"   \n\n  ", "empty file"),
        pytest.param(
            "random.txt",
            random.Random(7).randbytes(4000).replace(b"\0", b"x"),
            "not readable text",
            id="random-bytes",
        ),
        ("nul.txt", b"abc\x00def", "NUL bytes"),
        ("broken.pdf", b"%PDF-1.4\n1 0 obj garbage", "corrupt PDF"),
        ("notpdf.pdf", b"hello world", "corrupt PDF"),
        ("broken.docx", b"PK\x03\x04 not really a zip", "corrupt DOCX"),
        ("bad.jsonl", b"{not json}\n[1, 2]\n", "no usable records"),
        ("thing.xyz", b"data", "unsupported file type"),
    ],
)
def test_bad_files_get_a_specific_reason(tmp_path: Path, name: str, data: bytes, reason: str) -> None:
    with pytest.raises(DocumentError, match=reason):
        _load(tmp_path / name, data)


def test_markdown_headings_and_title(tmp_path: Path) -> None:
    result = _load(tmp_path / "g.md", b"# Guide\n\nIntro.\n\n## Install\n\nSteps.\n")
    doc = result.documents[0]
    assert doc.title == "Guide"
    assert [h for _, h in doc.headings] == ["Guide", "Install"]
    assert doc.text[doc.headings[1][0] :].startswith("## Install")


def test_html_drops_scripts_and_keeps_headings(tmp_path: Path) -> None:
    html = b"""<html><head><title>Page</title><script>var x = 1;</script></head>
    <body><nav>menu</nav><h1>Main</h1><p>First <b>bold</b> para.</p><div><p>Nested para.</p></div></body></html>"""
    doc = _load(tmp_path / "p.html", html).documents[0]
    assert doc.title == "Page"
    assert "var x" not in doc.text and "menu" not in doc.text
    assert "First bold para." in doc.text and "Nested para." in doc.text
    assert doc.headings[0][1] == "Main"
    assert doc.text[doc.headings[0][0] :].startswith("Main")


def test_pdf_text_is_extracted(tmp_path: Path) -> None:
    from reportlab.pdfgen import canvas

    path = tmp_path / "r.pdf"
    c = canvas.Canvas(str(path))
    c.drawString(72, 720, "The mitochondria is the powerhouse of the cell.")
    c.showPage()
    c.drawString(72, 720, "Second page about ribosomes.")
    c.save()
    doc = load_file(path, path.read_bytes()).documents[0]
    assert "powerhouse of the cell" in doc.text and "ribosomes" in doc.text


def test_docx_paragraphs_headings_and_tables(tmp_path: Path) -> None:
    import docx

    d = docx.Document()
    d.add_heading("Report", level=1)
    d.add_paragraph("Revenue grew by ten percent.")
    table = d.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Q1"
    table.rows[0].cells[1].text = "42"
    path = tmp_path / "r.docx"
    d.save(str(path))
    doc = load_file(path, path.read_bytes()).documents[0]
    assert doc.title == "Report"
    assert "Revenue grew by ten percent." in doc.text and "Q1 | 42" in doc.text


def test_csv_rows_become_paragraphs(tmp_path: Path) -> None:
    doc = _load(tmp_path / "t.csv", b"name,city\nAda,London\nLin,Beijing\n").documents[0]
    assert doc.text == "name: Ada; city: London\n\nname: Lin; city: Beijing"


def test_jsonl_records_with_bad_lines_reported(tmp_path: Path) -> None:
    data = (
        b'{"_id": "d1", "title": "T1", "text": "one", "year": 2020}\n{broken\n'
        b'{"id": 7, "content": "two"}\n{"_id": "d1", "text": "dup"}\n{"_id": "x", "title": "no text"}\n'
    )
    result = _load(tmp_path / "c.jsonl", data)
    assert [(d.doc_id, d.title, d.text) for d in result.documents] == [("d1", "T1", "one"), ("7", "", "two")]
    assert result.documents[0].metadata == {"year": 2020}
    assert len(result.warnings) == 3
    assert "line 2: invalid JSON" in result.warnings[0]
