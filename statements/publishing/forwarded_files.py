"""The text of a forwarded PDF or Word file, read with care: the file may be hostile.

Both readers are imported only when a file is checked (pypdf, python-docx). Whatever a
malformed file makes them raise is one named error (UnreadableDocument) whose `reason`
the page turns into words; nothing of the file is logged or kept.
"""

from __future__ import annotations

import io
import logging
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager

from statements.publishing.errors import UnreadableDocument

# A statement's PDF is a few pages; a thousand is not one of this site's.
MAX_PDF_PAGES = 400
# What a Word file may unpack to, and how many parts it may have (a zip bomb is small
# packed and enormous unpacked: the sizes its directory declares are checked first, and
# then each part is read no further than its declared size).
MAX_DOCX_UNPACKED = 20 * 1024 * 1024
MAX_DOCX_PARTS = 500
# Text beyond this is not a statement of this site (statements are at most 200,000
# characters); reading stops here rather than fill memory.
MAX_TEXT = 400_000

# pypdf logs what it repairs in a broken file, quoting it: never, here.
logging.getLogger("pypdf").setLevel(logging.CRITICAL + 1)

PDF_MAGIC = b"%PDF-"
ZIP_MAGIC = b"PK\x03\x04"


def kind_of(data: bytes) -> str | None:
    """ "pdf", "docx" or None, from the file's first bytes (never from its name)."""
    if PDF_MAGIC in data[:1024]:
        return "pdf"
    if data.startswith(ZIP_MAGIC):
        return "docx"
    return None


def text_of(data: bytes) -> str:
    """The text of a PDF or Word file; UnreadableDocument says why there is none."""
    kind = kind_of(data)
    if kind == "pdf":
        return pdf_text(data)
    if kind == "docx":
        return docx_text(data)
    raise UnreadableDocument("type")


def pdf_text(data: bytes) -> str:
    """The text of each page of a PDF, without the page numbers this site's PDFs carry."""
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError

    pages: list[str] = []
    try:
        with _quiet():
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                raise UnreadableDocument("encrypted")
            if len(reader.pages) > MAX_PDF_PAGES:
                raise UnreadableDocument("too_large")
            size = 0
            for number, page in enumerate(reader.pages, start=1):
                text = page.extract_text() or ""
                size += len(text)
                if size > MAX_TEXT:
                    raise UnreadableDocument("too_large")
                pages.append(_without_page_number(text, number))
    except UnreadableDocument:
        raise
    except FileNotDecryptedError:
        raise UnreadableDocument("encrypted") from None
    # A hostile or broken PDF makes pypdf raise nearly anything (its own errors, but also
    # KeyError, ValueError, RecursionError...): each is a file that cannot be read.
    except Exception:
        raise UnreadableDocument("corrupt") from None
    text = "\n".join(pages)
    if not text.strip():
        raise UnreadableDocument("no_text")
    return text


def _without_page_number(text: str, number: int) -> str:
    # This site's PDFs end each page with "Page N of M" (in the statement's language),
    # drawn after the page's text: it would sit between two halves of a paragraph.
    lines = text.rstrip().split("\n")
    if lines and str(number) in lines[-1] and len(lines[-1]) < 60:
        lines.pop()
    return "\n".join(lines)


def docx_text(data: bytes) -> str:
    """The paragraphs (and table cells) of a Word file, one a line."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise UnreadableDocument("corrupt") from None
    if len(parts) > MAX_DOCX_PARTS or sum(part.file_size for part in parts) > MAX_DOCX_UNPACKED:
        raise UnreadableDocument("too_large")
    if "word/document.xml" not in {part.filename for part in parts}:
        raise UnreadableDocument("type")
    import docx

    try:
        with _quiet():
            document = docx.Document(io.BytesIO(data))
            lines = [paragraph.text for paragraph in document.paragraphs]
            for table in document.tables:
                for row in table.rows:
                    lines.extend(cell.text for cell in row.cells)
    # As for PDFs: a malformed part makes lxml or python-docx raise many kinds of error.
    except Exception:
        raise UnreadableDocument("corrupt") from None
    text = "\n".join(lines)
    if len(text) > MAX_TEXT:
        raise UnreadableDocument("too_large")
    if not text.strip():
        raise UnreadableDocument("no_text")
    return text


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence the readers' warnings: they can quote the file's contents."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
