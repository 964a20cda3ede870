"""The Word document of a published version: its structure as python-docx reads it, its
right-to-left properties, the same bytes every time, and LibreOffice opening it."""

from __future__ import annotations

import io
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import docx
import pytest
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph
from pypdf import PdfReader

from statements.publishing.documents import Links
from statements.publishing.word import statement_docx

LINKS = Links(
    page_url="https://statements.example/statements/civilians/v/2",
    bundle_url="https://statements.example/statements/civilians/v/2/bundle.json",
    bundle_sha256="c4" * 32,
    verify_url="https://statements.example/verify",
)

ENGLISH_BODY = """\
# Our demands

We, the undersigned organisations, call on **all parties** to respect *human rights* and
the [Geneva Conventions](https://example.org/geneva).

1. Release every detained journalist.
2. Open the border crossings
   - for food
   - for medicine

> Nobody is safe until everybody is safe.

## Second part

3. Counted from three
4. And four

![a tracking pixel](https://tracker.example/pixel.png) <b>not bold</b>
[an ftp site](ftp://files.example/x)
"""

FARSI_BODY = """\
# خواسته‌های ما

ما سازمان‌های امضاکننده از **همه طرف‌ها** می‌خواهیم که به *حقوق بشر* احترام بگذارند.

1. آزادی فوری زندانیان
2. پایان سرکوب
"""
FARSI_TITLE = "بیانیه مشترک درباره پناهندگان"


def _statement(**changes: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "slug": "civilians",
        "title": "Joint statement on the protection of civilians",
        "language": "en",
        "version": 2,
        "status": "published",
        "published_on": "2024-05-01",
        "body_markdown": ENGLISH_BODY,
        "body_sha256": "3f" * 32,
        "signatories": [
            {"name": "Human Rights Watch", "country": "USA"},
            {"name": "Solo Collective", "country": ""},
        ],
        "anonymous_signatories": 3,
    }
    statement.update(changes)
    return statement


def _farsi() -> dict[str, Any]:
    return _statement(language="fa", title=FARSI_TITLE, body_markdown=FARSI_BODY)


def _open(data: bytes) -> Any:
    return docx.Document(io.BytesIO(data))


def _by_text(document: Any, start: str) -> Paragraph:
    found = [p for p in document.paragraphs if p.text.startswith(start)]
    assert found, f"no paragraph starts with {start!r}"
    paragraph: Paragraph = found[0]
    return paragraph


def _num_id(paragraph: Paragraph) -> int:
    properties = paragraph._p.pPr
    assert properties is not None
    assert properties.numPr is not None
    return int(properties.numPr.numId.val)


def test_headings_lists_and_emphasis_become_words_own() -> None:
    document = _open(statement_docx(_statement(), links=LINKS))
    styles = {p.text: p.style.name for p in document.paragraphs if p.text}
    assert styles["Joint statement on the protection of civilians"] == "Title"
    assert styles["Our demands"] == "Heading 1"
    assert styles["Second part"] == "Heading 2"
    assert styles["Release every detained journalist."] == "List Number"
    assert styles["Open the border crossings"] == "List Number"
    assert styles["for food"] == "List Bullet 2"
    assert styles["Nobody is safe until everybody is safe."] == "Quote"
    # Each ordered list is numbered on its own, from where the Markdown starts it.
    first = _num_id(_by_text(document, "Release every"))
    assert _num_id(_by_text(document, "Open the border")) == first
    later = _num_id(_by_text(document, "Counted from three"))
    assert later != first
    numbering = document.part.numbering_part.element
    start = numbering.num_having_numId(later).xpath("./w:lvlOverride/w:startOverride/@w:val")
    assert start == ["3"]

    runs = _by_text(document, "We, the undersigned").runs
    assert [r.text for r in runs if r.bold] == ["all parties"]
    assert [r.text for r in runs if r.italic] == ["human rights"]
    # A link prints where it leads; an image is only its alt text; raw HTML is text.
    text = "\n".join(p.text for p in document.paragraphs)
    assert "Geneva Conventions (https://example.org/geneva)" in text
    assert "a tracking pixel" in text
    assert "tracker.example" not in text
    assert "<b>not bold</b>" in text
    # A link to anything but the web or mail is only its text.
    assert "an ftp site" in text
    assert "files.example" not in text


def test_signatories_date_and_where_to_verify() -> None:
    document = _open(statement_docx(_statement(), links=LINKS))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "Version 2, published 2024-05-01" in text
    assert "Human Rights Watch (USA)" in text
    assert "Solo Collective" in text
    assert "And 3 organisations that cannot be named for their safety." in text
    assert f"SHA-256 of the bundle: {'c4' * 32}" in text
    assert "Check the bundle at: https://statements.example/verify" in text
    assert f"Verify this text: {LINKS.page_url}" in text
    assert f"SHA-256 of the text: {'3f' * 32}" in text


def test_a_retraction_lists_no_signatories() -> None:
    document = _open(
        statement_docx(_statement(status="retracted", body_markdown="Withdrawn."), links=LINKS)
    )
    text = "\n".join(p.text for p in document.paragraphs)
    assert "This statement has been retracted." in text
    assert "Human Rights Watch" not in text


def test_the_same_version_gives_the_same_bytes() -> None:
    first = statement_docx(_statement(), links=LINKS)
    assert statement_docx(_statement(), links=LINKS) == first
    properties = _open(first).core_properties
    assert properties.created.isoformat().startswith("2024-05-01T00:00:00")
    assert properties.modified == properties.created
    # No trace of the tool or of anyone: the template's "python-docx" author is gone.
    assert properties.author == ""
    assert properties.last_modified_by == ""
    with zipfile.ZipFile(io.BytesIO(first)) as package:
        assert {info.date_time for info in package.infolist()} == {(2024, 5, 1, 0, 0, 0)}
        assert b"python-docx" not in package.read("docProps/core.xml")
    # Another day is another document.
    assert statement_docx(_statement(published_on="2024-05-02"), links=LINKS) != first


def test_farsi_paragraphs_and_runs_are_right_to_left() -> None:
    document = _open(statement_docx(_farsi(), links=LINKS))
    title = _by_text(document, FARSI_TITLE)
    body = _by_text(document, "ما سازمان")
    for paragraph in (title, body, _by_text(document, "آزادی فوری")):
        properties = paragraph._p.pPr
        assert properties is not None
        assert properties.find(qn("w:bidi")) is not None
        # A bidi paragraph starts on the right; jc="right" would send it to its end.
        assert properties.find(qn("w:jc")) is None
    for run in body.runs:
        properties = run._r.rPr
        assert properties.find(qn("w:rtl")) is not None
        assert properties.rFonts.get(qn("w:cs")) == "Noto Naskh Arabic"
        assert properties.find(qn("w:lang")).get(qn("w:bidi")) == "fa-IR"
    bold = [run for run in body.runs if run.bold]
    assert [run.text for run in bold] == ["همه طرف‌ها"]
    assert bold[0]._r.rPr.find(qn("w:bCs")) is not None
    italic = [run for run in body.runs if run.italic]
    assert italic[0]._r.rPr.find(qn("w:iCs")) is not None
    # A Latin name keeps its own direction inside the right-to-left paragraph.
    latin = _by_text(document, "Human Rights Watch").runs[0]
    assert latin._r.rPr.find(qn("w:rtl")) is None
    assert document.sections[0]._sectPr.find(qn("w:bidi")) is not None


def test_an_english_statement_has_no_right_to_left_marks() -> None:
    data = statement_docx(_statement(), links=LINKS)
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        xml = package.read("word/document.xml")
    assert b"<w:bidi" not in xml
    assert b"<w:rtl" not in xml
    assert b'w:lang w:val="en-GB"' in xml


def test_bad_input_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="published_on"):
        statement_docx(_statement(published_on="yesterday"), links=LINKS)
    # Control characters in the text do not break the XML.
    data = statement_docx(_statement(body_markdown="a\x00b\x0cc **d\x1fe**"), links=LINKS)
    assert "abc de" in "\n".join(p.text for p in _open(data).paragraphs)


# --- LibreOffice ------------------------------------------------------------------------


def _convert(soffice: str, data: bytes, tmp_path: Path, name: str) -> PdfReader:
    """The document as LibreOffice prints it to PDF, with a profile of its own."""
    source = tmp_path / f"{name}.docx"
    source.write_bytes(data)
    out = tmp_path / "out"
    done = subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    converted = out / f"{name}.pdf"
    assert converted.is_file(), done.stdout + done.stderr
    return PdfReader(converted)


def _words(reader: PdfReader) -> str:
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def test_libreoffice_opens_the_english_document(soffice_tool: str, tmp_path: Path) -> None:
    text = _words(_convert(soffice_tool, statement_docx(_statement(), links=LINKS), tmp_path, "en"))
    for expected in (
        "Joint statement on the protection of civilians",
        "Version 2, published 2024-05-01",
        "Our demands",
        "Release every detained journalist.",
        "for medicine",
        "Human Rights Watch (USA)",
        "And 3 organisations that cannot be named for their safety.",
        f"SHA-256 of the bundle: {'c4' * 32}",
        "Check the bundle at: https://statements.example/verify",
    ):
        assert expected in text


def test_libreoffice_lays_out_farsi_from_the_right(soffice_tool: str, tmp_path: Path) -> None:
    reader = _convert(soffice_tool, statement_docx(_farsi(), links=LINKS), tmp_path, "fa")
    text = _words(reader)
    assert FARSI_TITLE in text
    assert "آزادی فوری زندانیان" in text
    assert f"SHA-256 of the bundle: {'c4' * 32}" in text
    # Where a short line's letters are drawn: in the right half of the page, as a
    # right-to-left paragraph should be (left-aligned, it would start at the left margin).
    page = reader.pages[0]
    width = float(page.mediabox.width)
    lines: dict[int, list[tuple[float, str]]] = {}

    def visit(piece: str, _cm: Any, matrix: Any, *_: Any) -> None:
        if piece.strip():
            lines.setdefault(round(float(matrix[5])), []).append((float(matrix[4]), piece))

    page.extract_text(visitor_text=visit)
    short = [pieces for pieces in lines.values() if "سرکوب" in "".join(text for _, text in pieces)]
    assert short, "the list item is not on the first page"
    assert min(x for x, _ in short[0]) > width / 2


def test_its_own_words_are_in_the_statements_language() -> None:
    from babel.support import Translations

    from statements.i18n import TRANSLATIONS

    farsi = Translations.load(str(TRANSLATIONS), ["fa"])
    text = "\n".join(
        p.text for p in _open(statement_docx(_farsi(), links=LINKS, translations=farsi)).paragraphs
    )
    assert f"SHA-256 بسته: {'c4' * 32}" in text
    assert "بسته را اینجا بررسی کنید: https://statements.example/verify" in text
    assert "امضاکنندگان" in text


def test_noncharacters_that_typed_text_may_hold_are_left_out_not_a_failure() -> None:
    # U+FFFE and U+FFFF pass the input checks but are not allowed in XML: a document with
    # them must still be made (the static mirror makes every version's).
    statement = _statement(
        title="Joint\ufffe statement",
        body_markdown="Governments\ufffe must act\uffff now.\n",
        signatories=[{"name": "Org\ufdd0 Name", "country": ""}],
    )
    text = "\n".join(p.text for p in _open(statement_docx(statement, links=LINKS)).paragraphs)
    assert "Governments must act now." in text
    assert "Org Name" in text
