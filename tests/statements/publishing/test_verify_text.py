"""/verify with a forwarded copy: pasted text, the site's own PDF, a Word file; bad files."""

from __future__ import annotations

import ast
import io
import logging
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import docx
import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader, PdfWriter
from sqlalchemy.orm import Session

from crypto.plaintext import markdown_text
from statements.auth import service as auth_service
from statements.publishing import forwarded, service
from statements.publishing.public import VERIFIER_MODULES
from statements.publishing.verify_text import MAX_PASTE
from tests.support import (
    app_today,
    endorse,
    join_room,
    make_room,
    member_identity,
    open_signon,
    publish_room,
    staff_identity,
)

ROOT = Path(__file__).resolve().parents[3]

FIRST = """\
# Refugees must be allowed to work

We, the undersigned organisations, call on **the government** to let refugees work
legally, as the [1951 Convention](https://example.org/convention) asks of it.

Without work permits, families fall into debt and children leave school to earn money
for rent and food.

1. Issue work permits within thirty days of a request.
2. End the arrest of refugees at their workplaces.
"""

ADDED = """
Employers who hire refugees should not be fined, and no raid should take place at a
workplace on the strength of an anonymous tip.
"""

SECOND = FIRST + ADDED
# Version 3 changes one word of the second paragraph.
THIRD = SECOND.replace("families fall into debt", "families sink into debt")

FARSI = """\
# حق کار برای پناهجویان

ما سازمان‌های امضاکننده از دولت می‌خواهیم که به پناهجویان اجازه دهد به طور قانونی کار کنند.

بدون مجوز کار، خانواده‌ها بدهکار می‌شوند و کودکان برای کمک به خانواده مدرسه را ترک می‌کنند.
"""


def _publish(
    app: Flask,
    session: Session,
    slug: str,
    markdown: str,
    language: str = "en",
    coordinator: auth_service.Identity | None = None,
) -> auth_service.Identity:
    coordinator = coordinator or staff_identity(app, session, f"coord-{slug}")
    room_id = make_room(session, coordinator, markdown=markdown, language=language)
    member = member_identity(app, session)
    join_room(session, coordinator, room_id, member)
    open_signon(session, coordinator, room_id)
    endorse(session, room_id, member, "public", "Refugee Rights Network", "Thailand")
    publish_room(session, coordinator, room_id, slug)
    return coordinator


def _correct(session: Session, coordinator: auth_service.Identity, slug: str, body: str) -> None:
    service.correct(
        session,
        coordinator,
        slug,
        app_today(),
        title="Refugees must be allowed to work",
        body=body,
        signatories="Refugee Rights Network | Thailand",
        reason="A paragraph was added.",
    )
    session.flush()


@pytest.fixture
def three_versions(app: Flask, session: Session) -> str:
    """ "right-to-work" in three versions: FIRST, SECOND (one paragraph more), THIRD."""
    coordinator = _publish(app, session, "right-to-work", FIRST)
    _correct(session, coordinator, "right-to-work", SECOND)
    _correct(session, coordinator, "right-to-work", THIRD)
    # Another statement, which shares nothing with it.
    other = "# Open the borders\n\nLet people cross to safety.\n"
    _publish(app, session, "open-borders", other, coordinator=coordinator)
    session.commit()
    return "right-to-work"


def _check(client: FlaskClient, **data: object) -> tuple[int, str]:
    response = client.post("/verify", data=data, content_type="multipart/form-data")
    return response.status_code, response.get_data(as_text=True)


def _words(page: str) -> str:
    """The page's text without its tags, spacing made single."""
    return " ".join(re.sub(r"<[^>]+>", "", page).split())


def test_pasted_text_of_an_older_version_is_named_and_not_the_latest(
    app: Flask, three_versions: str
) -> None:
    # As copied from the version's page: no Markdown, no list numbers, lines as shown.
    pasted = (
        "Refugees must be allowed to work\n"
        "We, the undersigned organisations, call on the government to let refugees work "
        "legally, as the 1951 Convention asks of it.\n"
        "Without work permits, families fall into debt and children leave school to earn "
        "money for rent and food.\n"
        "Issue work permits within thirty days of a request.\n"
        "End the arrest of refugees at their workplaces.\n"
        "Employers who hire refugees should not be fined, and no raid should take place "
        "at a workplace on the strength of an anonymous tip.\n"
    )
    status, page = _check(app.test_client(), statement_text=pasted)
    assert status == 200
    words = _words(page)
    assert "Matches. This is the text of version 2 of “Refugees must be allowed to work”" in words
    assert 'href="/statements/right-to-work/v/2"' in page
    assert "<bdi>Refugees must be allowed to work</bdi>" in page  # its own direction
    assert "It is not the latest version: the latest is version 3." in words
    assert 'href="/statements/right-to-work/v/3"' in page

    # The same text as Markdown (statement.md) is version 2 too.
    _, page = _check(app.test_client(), statement_text=SECOND)
    assert "This is the text of version 2" in _words(page)


def test_a_pasted_paragraph_names_every_version_it_is_in(app: Flask, three_versions: str) -> None:
    reader = app.test_client()
    changed = "Without work permits, families sink into debt and children leave school"
    _, page = _check(reader, statement_text=changed + " to earn money for rent and food.")
    words = _words(page)
    assert "Matches. This passage is, word for word, in:" in words
    assert "Version 3 of “Refugees must be allowed to work”" in words
    assert "Version 2 of" not in words
    assert "The latest version still holds it." in words

    _, page = _check(reader, statement_text="Issue work permits within thirty days of a request.")
    assert "too short" in page  # a sentence is not enough to tell statements apart
    _, page = _check(reader, statement_text=ADDED + "Issue work permits within thirty days.")
    words = _words(page)
    assert "No published version matches" in words  # the order is not the statement's
    _, page = _check(reader, statement_text=ADDED)
    words = _words(page)
    assert "Version 2 of" in words
    assert "Version 3 of" in words
    assert "Version 1 of" not in words
    assert "The latest version still holds it." in words
    unchanged_then = "Without work permits, families fall into debt and children leave school"
    _, page = _check(reader, statement_text=unchanged_then + " to earn money for rent and food.")
    words = _words(page)
    assert "Version 1 of" in words
    assert "Version 2 of" in words
    assert "The latest version, version 3, no longer holds it word for word." in words


def test_an_altered_paragraph_matches_nothing_and_shows_the_closest_with_its_diff(
    app: Flask, three_versions: str
) -> None:
    altered = (
        "Without work permits, families fall into debt and children leave school to earn "
        "money for rent, food and bribes."
    )
    status, page = _check(app.test_client(), statement_text=altered)
    assert status == 200
    words = _words(page)
    assert "No published version matches. The closest is version" in words
    assert "What differs" in page
    deleted, inserted = '<del><span class="visually-hidden">deleted: </span>', "</del><ins>"
    assert f"{deleted}food.{inserted}" in page
    assert '<span class="visually-hidden">inserted: </span>bribes.</ins>' in page

    _, page = _check(app.test_client(), statement_text="Lorem ipsum dolor sit amet " * 5)
    assert "No published version matches</strong>, and none is close." in page


def test_the_site_s_own_pdf_is_found(app: Flask, three_versions: str) -> None:
    reader = app.test_client()
    pdf = reader.get("/statements/right-to-work/v/2/statement.pdf").data
    status, page = _check(reader, statement_file=(io.BytesIO(pdf), "right-to-work-v2.pdf"))
    assert status == 200
    words = _words(page)
    assert "This is the text of version 2" in words
    assert "also holds words around the statement's text" in words
    assert "It is not the latest version" in words


def test_a_long_statement_s_pdf_is_found_across_its_pages(app: Flask, session: Session) -> None:
    paragraphs = "\n\n".join(
        f"Paragraph {number}: refugees in the camp at site {number} ask for permits." * 3
        for number in range(80)
    )
    _publish(app, session, "long-one", f"# A long statement\n\n{paragraphs}\n")
    session.commit()
    reader = app.test_client()
    pdf = reader.get("/statements/long-one/v/1/statement.pdf").data
    assert len(PdfReader(io.BytesIO(pdf)).pages) > 2
    _, page = _check(reader, statement_file=(io.BytesIO(pdf), "long-one.pdf"))
    assert "This is the text of version 1" in _words(page)


def test_a_farsi_statement_s_pdf_is_found(app: Flask, session: Session) -> None:
    _publish(app, session, "farsi", FARSI, language="fa")
    session.commit()
    reader = app.test_client()
    pdf = reader.get("/statements/farsi/v/1/statement.pdf").data
    status, page = _check(reader, statement_file=(io.BytesIO(pdf), "farsi.pdf"))
    assert status == 200
    assert 'href="/statements/farsi/v/1"' in page
    assert "It is the latest version." in _words(page)


def test_a_thai_statement_s_pdf_is_found(app: Flask, session: Session) -> None:
    thai = (
        "# สิทธิในการทำงาน\n\nพวกเราองค์กรที่ลงนามข้างท้าย ขอเรียกร้องให้รัฐบาลอนุญาตให้ผู้ลี้ภัย"
        "ทำงานได้อย่างถูกกฎหมาย และปล่อยตัวผู้ถูกคุมขังทั้งหมด\n"
    )
    _publish(app, session, "thai", thai, language="th")
    session.commit()
    reader = app.test_client()
    pdf = reader.get("/statements/thai/v/1/statement.pdf").data
    _, page = _check(reader, statement_file=(io.BytesIO(pdf), "thai.pdf"))
    assert 'href="/statements/thai/v/1"' in page


def _docx(paragraphs: list[str]) -> bytes:
    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_a_word_file_is_found(app: Flask, three_versions: str) -> None:
    paragraphs = ["Refugees must be allowed to work", *markdown_text(THIRD).split("\n\n")]
    data = _docx(paragraphs)
    status, page = _check(app.test_client(), statement_file=(io.BytesIO(data), "statement.docx"))
    assert status == 200
    words = _words(page)
    assert "This is the text of version 3" in words
    assert "It is the latest version." in words


def _encrypted_pdf(app: Flask) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.encrypt("secret")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _zip(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_bad_inputs_each_get_a_clear_4xx(app: Flask, three_versions: str) -> None:
    reader = app.test_client()
    genuine = _docx(markdown_text(THIRD).split("\n\n"))
    bomb = _zip({"[Content_Types].xml": b"<x/>", "word/document.xml": b"<" + b" " * 30_000_000})
    assert len(bomb) < 100_000
    cases: list[tuple[dict[str, object], int, str]] = [
        ({"statement_text": "   \n "}, 400, "Paste the text of a statement"),
        ({"statement_text": "x " * (MAX_PASTE // 2 + 1)}, 413, "more text than any statement"),
        ({"statement_text": "Refugees must work"}, 400, "too short to tell"),
        ({"statement_file": (io.BytesIO(b""), "empty.pdf")}, 400, "Paste the text"),
        (
            {"statement_file": (io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"0" * 99), "a.pdf")},
            400,
            "not a PDF or a Word",
        ),
        ({"statement_file": (io.BytesIO(b"%PDF-1.7\n garbage"), "a.pdf")}, 400, "damaged"),
        ({"statement_file": (io.BytesIO(_encrypted_pdf(app)), "a.pdf")}, 400, "password"),
        ({"statement_file": (io.BytesIO(bomb), "a.docx")}, 413, "more text than any"),
        ({"statement_file": (io.BytesIO(genuine[:2000]), "a.docx")}, 400, "damaged"),
        (
            {"statement_file": (io.BytesIO(_zip({"a.txt": b"hello"})), "a.docx")},
            400,
            "not a PDF or a Word",
        ),
        (
            {"statement_file": (io.BytesIO(_zip({"word/document.xml": b"<w:"})), "a.docx")},
            400,
            "damaged",
        ),
        (
            {"statement_file": (io.BytesIO(_docx(["", " "])), "a.docx")},
            400,
            "no text to compare",
        ),
    ]
    for data, status, message in cases:
        got, page = _check(reader, **data)
        assert (got, message in _words(page)) == (status, True), message
    # More than the site accepts at all: the verify page says so, not a bare error.
    # (Sent form-encoded: the test client spools a large multipart body to a file that it
    # leaves open when the server stops reading early.)
    oversized = {"statement_text": "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)}
    response = reader.post("/verify", data=oversized)
    got, page = response.status_code, response.get_data(as_text=True)
    assert got == 413
    assert "larger than this site accepts" in page
    assert "Check a forwarded copy" in page


def test_nothing_of_what_was_given_is_logged(
    app: Flask, three_versions: str, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "Quietly the seventeen blue herons crossed the Salween river at dawn together."
    with caplog.at_level(logging.DEBUG):
        _check(app.test_client(), statement_text=secret)
        _check(app.test_client(), statement_file=(io.BytesIO(b"%PDF-1.4 " + secret.encode()), "x"))
    assert "herons" not in caplog.text


def test_checks_are_rate_limited(app: Flask) -> None:
    reader = app.test_client()
    statuses = [_check(reader, statement_text="")[0] for _ in range(31)]
    assert statuses[:30] == [400] * 30
    assert statuses[30] == 429


def test_the_downloadable_verifier_holds_every_module_it_imports() -> None:
    # The verifier runs from its zipapp alone: a crypto module it imports but does not
    # carry would be found only where the project happens to be installed.
    carried = {name.removesuffix(".py") for name in VERIFIER_MODULES}
    for name in VERIFIER_MODULES:
        tree = ast.parse((ROOT / "crypto" / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "crypto":
                assert {alias.name for alias in node.names} <= carried, name
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("crypto."):
                assert node.module.removeprefix("crypto.") in carried, (name, node.module)


def test_the_downloaded_verifier_checks_a_forwarded_text(
    app: Flask, three_versions: str, tmp_path: Path
) -> None:
    reader = app.test_client()
    (tmp_path / "statement-verify.pyz").write_bytes(reader.get("/statement-verify.pyz").data)
    for number in (2, 3):
        bundle = reader.get(f"/statements/right-to-work/v/{number}/bundle.json").data
        (tmp_path / f"v{number}.json").write_bytes(bundle)
    (tmp_path / "statement-keys.json").write_bytes(
        reader.get("/.well-known/statement-keys.json").data
    )
    (tmp_path / "copy.txt").write_text(markdown_text(THIRD), encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-I", "statement-verify.pyz", "v2.json", "v3.json", "--text", "copy.txt"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "text: the whole text of right-to-work version 3 (v3.json)" in run.stdout


def test_each_version_is_read_once_per_process(app: Flask, session: Session) -> None:
    coordinator = _publish(app, session, "right-to-work", FIRST)
    session.commit()
    reader = app.test_client()
    _check(reader, statement_text=FIRST)
    index = forwarded.index_of(app.extensions)
    [entry] = index.entries()
    _check(reader, statement_text=FIRST)
    assert index.entries()[0] is entry  # the same object: nothing was read again
    _correct(session, coordinator, "right-to-work", SECOND)
    session.commit()
    _, page = _check(reader, statement_text=SECOND)
    assert "This is the text of version 2" in _words(page)
    first, second = index.entries()
    assert first is entry
    assert (second.slug, second.version) == ("right-to-work", 2)
