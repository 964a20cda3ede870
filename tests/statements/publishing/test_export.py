"""export-site writes a static mirror that links up and still verifies."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from flask import Flask
from sqlalchemy.orm import Session

from statements.publishing import PDF_RATE_LIMIT
from statements.publishing import service as publishing
from tests.support import app_today, published_statement

ROOT = Path(__file__).resolve().parents[3]
_LINK = re.compile(r'(?:href|src)="(/[^"#?]*)"')


def _target(out: Path, link: str) -> Path:
    path = out / link.lstrip("/")
    return path / "index.html" if link.endswith("/") or path.is_dir() else path


def test_the_mirror_links_up_and_verifies(app: Flask, session: Session, tmp_path: Path) -> None:
    coordinator, slug = published_statement(app, session)
    first = publishing.latest(session, slug).statement
    publishing.correct(
        session,
        coordinator,
        slug,
        app_today(),
        title=first["title"],
        body=first["body_markdown"] + "\n\nA sentence added in correction.",
        signatories="Refugee Rights Network | Thailand",
        reason="A correction.",
    )
    session.commit()
    out = tmp_path / "mirror"
    result = app.test_cli_runner().invoke(
        args=["export-site", str(out), "--base-url", "https://mirror.example.org"]
    )
    assert result.exit_code == 0, result.output
    assert "2 signed versions" in result.output

    for name in (
        "index.html",
        "feed.atom",
        "log/checkpoint",
        "log/entries/0",
        "log/entries/1",
        "log/checkpoints/2",
        ".well-known/statement-keys.json",
        f"statements/{slug}/index.html",
        f"statements/{slug}/v/1/index.html",
        f"statements/{slug}/v/2/statement.pdf",
        f"api/v1/statements/{slug}.json",
    ):
        assert (out / name).is_file(), name

    # Every link on every page leads to a file of the mirror.
    pages = list(out.rglob("*.html"))
    assert len(pages) >= 5
    for page in pages:
        for link in _LINK.findall(page.read_text()):
            assert _target(out, link).is_file(), f"{page.relative_to(out)} links to {link}"
        assert "Taking part" not in page.read_text()

    feed = (out / "feed.atom").read_text()
    assert f"https://mirror.example.org/statements/{slug}/v/2" in feed
    assert "localhost" not in feed
    api = json.loads((out / "api/v1/statements.json").read_text())
    assert api["statements"][0]["bundle_url"].startswith("https://mirror.example.org/")

    # The mirrored files verify offline, with the verifier alone.
    for number in (1, 2):
        checked = subprocess.run(
            [
                sys.executable,
                "-m",
                "crypto.verify_cli",
                str(out / f"statements/{slug}/v/{number}/bundle.json"),
                "--keys",
                str(out / ".well-known/statement-keys.json"),
            ],
            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            check=False,
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert checked.stdout.strip().endswith("valid")


def test_an_export_of_nothing_is_a_site_saying_so(app: Flask, tmp_path: Path) -> None:
    result = app.test_cli_runner().invoke(args=["export-site", str(tmp_path / "empty")])
    assert result.exit_code == 0, result.output
    assert "Nothing has been published yet." in (tmp_path / "empty/index.html").read_text()
    assert not (tmp_path / "empty/log").exists()


def test_a_bad_base_url_is_refused(app: Flask, tmp_path: Path) -> None:
    result = app.test_cli_runner().invoke(
        args=["export-site", str(tmp_path / "out"), "--base-url", "mirror.example.org"]
    )
    assert result.exit_code == 2
    assert "--base-url" in result.output
    assert not (tmp_path / "out").exists()


def test_a_site_of_more_versions_than_a_reader_s_pdf_budget_exports(
    app: Flask, session: Session, tmp_path: Path
) -> None:
    coordinator, slug = published_statement(app, session)
    first = publishing.latest(session, slug).statement
    versions = int(PDF_RATE_LIMIT.split()[0]) + 2
    for number in range(2, versions + 1):
        publishing.correct(
            session,
            coordinator,
            slug,
            app_today(),
            title=first["title"],
            body=f"{first['body_markdown']}\n\nCorrection {number}.",
            signatories="Refugee Rights Network | Thailand",
            reason="A correction.",
        )
    session.commit()
    assert app.extensions["limiter"].enabled

    out = tmp_path / "mirror"
    result = app.test_cli_runner().invoke(args=["export-site", str(out)])
    assert result.exit_code == 0, result.output
    assert f"{versions} signed versions" in result.output
    for number in range(1, versions + 1):
        assert (out / f"statements/{slug}/v/{number}/statement.pdf").read_bytes()[:5] == b"%PDF-"

    # A reader still has a budget: the exporter's pass around it is not theirs.
    reader = app.test_client()
    statuses = [
        reader.get(f"/statements/{slug}/v/1/statement.pdf").status_code for _ in range(versions)
    ]
    assert statuses.count(200) == versions - 2
    assert statuses[-1] == 429
    # Nor can a reader claim to be the exporter with a header.
    assert (
        reader.get(
            f"/statements/{slug}/v/1/statement.pdf",
            headers={"Statements-Exporter": "1", "X-Statements-Exporter": "True"},
        ).status_code
        == 429
    )


def test_the_mirror_carries_the_fonts_its_stylesheet_names(app: Flask, tmp_path: Path) -> None:
    out = tmp_path / "mirror"
    result = app.test_cli_runner().invoke(args=["export-site", str(out)])
    assert result.exit_code == 0, result.output
    style = out / "static" / "style.css"
    fonts = re.findall(r'url\("([^"]+)"\)', style.read_text())
    # Burmese, Thai, Bengali, Khmer and Arabic script, for readers whose device lacks them.
    assert len(fonts) == 5
    for font in fonts:
        copied = style.parent / font
        assert copied.is_file(), font
        assert copied.read_bytes() == (ROOT / "statements" / "static" / font).read_bytes()
