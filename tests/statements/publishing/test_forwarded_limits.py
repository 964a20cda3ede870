"""A forwarded file cannot hold a worker or fill the machine's memory: it is read in a
child process whose CPU time and memory the kernel limits (forwarded_reader.py)."""

from __future__ import annotations

import io
import zipfile
import zlib

import pytest

from statements.publishing import forwarded_files
from statements.publishing.errors import UnreadableDocument


def _pdf_of_empty_text_operators(pages: int, size: int) -> bytes:
    """Pages that share one long, compressed content stream of text operators that draw
    nothing: a small file that asks pypdf's text extraction for a great deal of work."""
    unit = b"BT () Tj ET "
    content = zlib.compress(unit * (size // len(unit)), 9)
    font = (
        b"/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >>"
    )
    kids = " ".join(f"{4 + n} 0 R" for n in range(pages)).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content)
        + content
        + b"\nendstream",
        *[b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R " + font + b" >>"]
        * pages,
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _docx(document: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", document)
    return out.getvalue()


def test_a_pdf_that_asks_for_minutes_of_work_is_stopped_at_the_cpu_limit() -> None:
    data = _pdf_of_empty_text_operators(pages=40, size=2 * 1024 * 1024)
    assert len(data) < 200_000
    with pytest.raises(UnreadableDocument) as refused:
        forwarded_files.text_of(data, cpu_seconds=1)
    assert refused.value.reason == "too_large"


def test_a_word_file_of_a_million_empty_paragraphs_is_refused_before_it_is_parsed() -> None:
    body = b"<w:p/>" * 1_000_000
    document = (
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        b"<w:body>" + body + b"</w:body></w:document>"
    )
    data = _docx(document)
    assert len(data) < 100_000
    with pytest.raises(UnreadableDocument) as refused:
        forwarded_files.text_of(data)
    assert refused.value.reason == "too_large"


def test_what_the_child_cannot_read_is_a_reason_never_an_exception() -> None:
    with pytest.raises(UnreadableDocument) as refused:
        forwarded_files.text_of(b"%PDF-1.7\n" + b"\x00" * 100)
    assert refused.value.reason == "corrupt"
    with pytest.raises(UnreadableDocument) as refused:
        forwarded_files.text_of(b"plain text, not a file of this site")
    assert refused.value.reason == "type"
