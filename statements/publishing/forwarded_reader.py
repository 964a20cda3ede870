"""Reads the text of a forwarded PDF or Word file in a process of its own.

Run by statements/publishing/forwarded_files.py as a child process, with the file on
standard input; it prints {"text": ...} or {"error": reason} as JSON. The file may be
hostile, and the readers (pypdf, python-docx with lxml) are pure Python: a small file can
ask for minutes of CPU or gigabytes of memory (a content stream of empty operators, a
document of a million empty paragraphs). In a child, with limits the kernel enforces
(CPU seconds, address space) and a wall-clock timeout in the parent, the worst a file
costs is bounded, and a worker's other requests never wait on it.

This module imports nothing of the app, so the child starts light, and it is run by
path (runpy) so that nothing in this folder can shadow a library it imports.
"""

from __future__ import annotations

import io
import json
import logging
import os
import resource
import sys
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager

# The limits the child sets on itself before it reads a byte of the file (the parent
# may lower the CPU limit through the environment, as its tests do).
CPU_SECONDS = int(os.environ.get("FORWARDED_CPU_SECONDS", "10"))
ADDRESS_SPACE = 1024 * 1024 * 1024


class Unreadable(Exception):
    """The file's text cannot be read; the reason is one of the page's words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# A statement's PDF is a few pages; a thousand is not one of this site's.
MAX_PDF_PAGES = 400
# What a Word file may unpack to, and how many parts it may have (a zip bomb is small
# packed and enormous unpacked: the sizes its directory declares are checked first, and
# then each part is read no further than its declared size).
MAX_DOCX_UNPACKED = 20 * 1024 * 1024
MAX_DOCX_PARTS = 500
# The document part itself: a statement's is tens of kilobytes; python-docx builds an
# object for every paragraph, so this bounds what it builds.
MAX_DOCX_DOCUMENT = 4 * 1024 * 1024
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
    """The text of a PDF or Word file; Unreadable says why there is none."""
    kind = kind_of(data)
    if kind == "pdf":
        return pdf_text(data)
    if kind == "docx":
        return docx_text(data)
    raise Unreadable("type")


def pdf_text(data: bytes) -> str:
    """The text of each page of a PDF, without the page numbers this site's PDFs carry."""
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError

    pages: list[str] = []
    try:
        with _quiet():
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                raise Unreadable("encrypted")
            if len(reader.pages) > MAX_PDF_PAGES:
                raise Unreadable("too_large")
            size = 0
            for number, page in enumerate(reader.pages, start=1):
                text = page.extract_text() or ""
                size += len(text)
                if size > MAX_TEXT:
                    raise Unreadable("too_large")
                pages.append(_without_page_number(text, number))
    except Unreadable:
        raise
    except FileNotDecryptedError:
        raise Unreadable("encrypted") from None
    # A hostile or broken PDF makes pypdf raise nearly anything (its own errors, but also
    # KeyError, ValueError, RecursionError...): each is a file that cannot be read.
    except Exception:
        raise Unreadable("corrupt") from None
    text = "\n".join(pages)
    if not text.strip():
        raise Unreadable("no_text")
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
        raise Unreadable("corrupt") from None
    if len(parts) > MAX_DOCX_PARTS or sum(part.file_size for part in parts) > MAX_DOCX_UNPACKED:
        raise Unreadable("too_large")
    document_part = next((part for part in parts if part.filename == "word/document.xml"), None)
    if document_part is None:
        raise Unreadable("type")
    if document_part.file_size > MAX_DOCX_DOCUMENT:
        raise Unreadable("too_large")
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
        raise Unreadable("corrupt") from None
    text = "\n".join(lines)
    if len(text) > MAX_TEXT:
        raise Unreadable("too_large")
    if not text.strip():
        raise Unreadable("no_text")
    return text


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence the readers' warnings: they can quote the file's contents."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def main() -> None:
    """The child: limits first, then the file from stdin, the answer as JSON on stdout."""
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
    data = sys.stdin.buffer.read()
    try:
        answer = {"text": text_of(data)}
    except Unreadable as error:
        answer = {"error": error.reason}
    except MemoryError:
        answer = {"error": "too_large"}
    sys.stdout.write(json.dumps(answer))


if __name__ == "__main__":
    main()
