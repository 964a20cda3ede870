"""The documents of a published version as the site serves them: the Word document and the
letterhead PDF beside the PDF, each stating the hash of the bundle it is not part of."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from pathlib import Path

import docx
from flask import Flask
from pypdf import PdfReader
from sqlalchemy.orm import Session

from statements.publishing import PDF_RATE_LIMIT
from statements.settings import Letterhead
from tests.support import published_statement

LETTERHEAD = Letterhead(
    name="Asia Pacific Refugee Rights Network",
    contact="press@network.example",
    place="Bangkok",
)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _pdf_text(data: bytes) -> str:
    pages = PdfReader(io.BytesIO(data)).pages
    return " ".join(" ".join(page.extract_text() for page in pages).split())


def _docx_text(data: bytes) -> str:
    return "\n".join(p.text for p in docx.Document(io.BytesIO(data)).paragraphs)


def test_the_word_document_of_a_version(app: Flask, session: Session) -> None:
    _, slug = published_statement(app, session)
    session.commit()
    reader = app.test_client()
    response = reader.get(f"/statements/{slug}/v/1/statement.docx")
    assert response.status_code == 200
    assert response.mimetype == DOCX
    assert response.headers["Content-Disposition"] == f'attachment; filename="{slug}-v1.docx"'
    assert response.headers["Cache-Control"].endswith("immutable")
    assert "Set-Cookie" not in response.headers
    text = _docx_text(response.data)
    assert "Refugee Rights Network (Thailand)" in text
    again = reader.get(
        f"/statements/{slug}/v/1/statement.docx",
        headers={"If-None-Match": response.headers["ETag"]},
    )
    assert again.status_code == 304
    assert again.data == b""
    # The same bytes for the next reader: the ETag names a document that never changes.
    assert app.test_client().get(f"/statements/{slug}/v/1/statement.docx").data == response.data
    assert reader.get(f"/statements/{slug}/v/9/statement.docx").status_code == 404
    assert reader.get("/statements/nothing/v/1/statement.docx").status_code == 404


def test_every_document_states_the_hash_of_its_bundle(app: Flask, session: Session) -> None:
    _, slug = published_statement(app, session)
    session.commit()
    reader = app.test_client()
    bundle = reader.get(f"/statements/{slug}/v/1/bundle.json").data
    digest = hashlib.sha256(bundle).hexdigest()
    # The hash is of the bundle's bytes as served: the documents are not in the bundle.
    assert json.loads(bundle).keys() >= {"statement", "signature"}
    assert b".docx" not in bundle
    assert b"letterhead" not in bundle
    verify = "http://localhost/verify"
    for text in (
        _pdf_text(reader.get(f"/statements/{slug}/v/1/statement.pdf").data),
        _docx_text(reader.get(f"/statements/{slug}/v/1/statement.docx").data),
    ):
        assert f"SHA-256 of the bundle: {digest}" in " ".join(text.split())
        assert f"Check the bundle at: {verify}" in " ".join(text.split())
    api = reader.get(f"/api/v1/statements/{slug}").get_json()
    assert api["versions"][0]["bundle_sha256"] == digest


def test_no_letterhead_no_letterhead_pdf(app: Flask, session: Session) -> None:
    _, slug = published_statement(app, session)
    session.commit()
    reader = app.test_client()
    assert reader.get(f"/statements/{slug}/v/1/letterhead.pdf").status_code == 404
    page = reader.get(f"/statements/{slug}").get_data(as_text=True)
    assert "letterhead.pdf" not in page
    assert f"/statements/{slug}/v/1/statement.docx" in page
    api = reader.get(f"/api/v1/statements/{slug}").get_json()
    assert api["versions"][0]["letterhead_pdf_url"] is None
    assert api["versions"][0]["docx_url"].endswith(f"/statements/{slug}/v/1/statement.docx")


def test_the_letterhead_pdf(
    app: Flask, session: Session, app_with: Callable[..., Flask], tmp_path: Path
) -> None:
    _, slug = published_statement(app, session)
    session.commit()
    site = app_with(letterhead=LETTERHEAD)
    reader = site.test_client()
    response = reader.get(f"/statements/{slug}/v/1/letterhead.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    text = _pdf_text(response.data)
    digest = hashlib.sha256(reader.get(f"/statements/{slug}/v/1/bundle.json").data).hexdigest()
    for expected in (
        "Asia Pacific Refugee Rights Network",
        "press@network.example",
        "Bangkok, ",
        f"SHA-256 of the bundle: {digest}",
        f"http://localhost/statements/{slug}/v/1",
    ):
        assert expected in text
    assert (
        reader.get(
            f"/statements/{slug}/v/1/letterhead.pdf",
            headers={"If-None-Match": response.headers["ETag"]},
        ).status_code
        == 304
    )
    # Another letterhead is another document: its tag changes with it.
    other = app_with(letterhead=Letterhead(name="Another Network"))
    changed = other.test_client().get(f"/statements/{slug}/v/1/letterhead.pdf")
    assert changed.headers["ETag"] != response.headers["ETag"]
    assert "Another Network" in _pdf_text(changed.data)

    page = reader.get(f"/statements/{slug}").get_data(as_text=True)
    assert f"/statements/{slug}/v/1/letterhead.pdf" in page
    api = reader.get(f"/api/v1/statements/{slug}").get_json()
    assert api["versions"][0]["letterhead_pdf_url"].endswith(
        f"/statements/{slug}/v/1/letterhead.pdf"
    )

    out = tmp_path / "mirror"
    result = site.test_cli_runner().invoke(args=["export-site", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / f"statements/{slug}/v/1/letterhead.pdf").read_bytes()[:5] == b"%PDF-"
    written = (out / f"statements/{slug}/v/1/statement.docx").read_bytes()
    assert f"SHA-256 of the bundle: {digest}" in _docx_text(written)


def test_the_documents_share_one_budget_per_reader(app: Flask, session: Session) -> None:
    _, slug = published_statement(app, session)
    session.commit()
    reader = app.test_client()
    allowed = int(PDF_RATE_LIMIT.split()[0])
    statuses = [
        reader.get(f"/statements/{slug}/v/1/statement.docx").status_code for _ in range(allowed)
    ]
    assert statuses == [200] * allowed
    # Word documents spent the budget the PDFs draw on too.
    assert reader.get(f"/statements/{slug}/v/1/statement.pdf").status_code == 429
    assert reader.get(f"/statements/{slug}/v/1/letterhead.pdf").status_code == 429
