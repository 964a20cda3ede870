"""The letterhead PDF: the network's name, logo, dateline and press contact, the bundle's
hash and where to check it, a QR code of the version's page; and its settings, checked
once at start-up."""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
import segno
from PIL import Image
from pypdf import PdfReader

from statements.publishing.documents import Links
from statements.publishing.pdf_letterhead import letterhead_pdf
from statements.settings import (
    MAX_LOGO_BYTES,
    Letterhead,
    Settings,
    SettingsError,
    read_logo,
)

LINKS = Links(
    page_url="https://statements.example/statements/civilians/v/2",
    bundle_url="https://statements.example/statements/civilians/v/2/bundle.json",
    bundle_sha256="c4" * 32,
    verify_url="https://statements.example/verify",
)
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40" viewBox="0 0 120 40">'
    b'<rect width="120" height="40" fill="#036"/></svg>'
)


def png(width: int = 8, height: int = 4) -> bytes:
    """A small grey PNG, written by hand: its header is what start-up reads."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


LETTERHEAD = Letterhead(
    name="Asia Pacific Refugee Rights Network",
    contact="Press: press@network.example, +66 2 000 0000",
    place="Bangkok",
    logo=SVG,
    logo_kind="svg",
)


def _statement(**changes: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "slug": "civilians",
        "title": "Joint statement on the protection of civilians",
        "language": "en",
        "version": 2,
        "status": "published",
        "published_on": "2024-05-01",
        "body_markdown": "# Our demands\n\nRelease **every** detained journalist.\n",
        "body_sha256": "3f" * 32,
        "signatories": [{"name": "Human Rights Watch", "country": "USA"}],
        "anonymous_signatories": 3,
    }
    statement.update(changes)
    return statement


def _text(data: bytes) -> str:
    pages = PdfReader(io.BytesIO(data)).pages
    return " ".join(" ".join(page.extract_text() for page in pages).split())


def _images(data: bytes) -> list[Image.Image]:
    return [
        image.image
        for page in PdfReader(io.BytesIO(data)).pages
        for image in page.images
        if image.image is not None
    ]


def test_the_letterhead_and_where_to_verify_are_printed() -> None:
    data = letterhead_pdf(_statement(), links=LINKS, letterhead=LETTERHEAD)
    text = _text(data)
    for expected in (
        "Asia Pacific Refugee Rights Network",
        "Bangkok, 2024-05-01",
        "Press contact: Press: press@network.example, +66 2 000 0000",
        "Joint statement on the protection of civilians",
        "Release every detained journalist.",
        f"SHA-256 of the bundle: {'c4' * 32}",
        "Check the bundle at: https://statements.example/verify",
        f"Verify this text: {LINKS.page_url}",
    ):
        assert expected in text
    # The network's name comes before the statement, the contact after the hashes.
    assert text.index("Asia Pacific") < text.index("Joint statement")
    assert text.index("SHA-256 of the bundle") < text.index("Press contact")


def test_the_qr_code_is_the_version_page() -> None:
    data = letterhead_pdf(_statement(), links=LINKS, letterhead=LETTERHEAD)
    expected = [list(row) for row in segno.make(LINKS.page_url, error="m").matrix]
    codes = [image for image in _images(data) if image.size == (len(expected), len(expected))]
    assert len(codes) == 1
    code = codes[0].convert("L")
    # One pixel per module: dark modules are black.
    drawn = [
        [1 if code.getpixel((x, y)) < 128 else 0 for x in range(code.width)]
        for y in range(code.height)
    ]
    assert drawn == expected


def test_png_and_svg_logos_are_drawn() -> None:
    with_svg = letterhead_pdf(_statement(), links=LINKS, letterhead=LETTERHEAD)
    without = letterhead_pdf(_statement(), links=LINKS, letterhead=Letterhead(name=LETTERHEAD.name))
    # An SVG is drawn as paths: the page holds the rectangle's colour, not an image.
    assert len(_images(with_svg)) == len(_images(without)) == 1  # the QR code alone
    assert with_svg != without
    with_png = letterhead_pdf(
        _statement(),
        links=LINKS,
        letterhead=Letterhead(name=LETTERHEAD.name, logo=png(), logo_kind="png"),
    )
    sizes = sorted(image.size for image in _images(with_png))
    assert (8, 4) in sizes


def test_the_same_version_gives_the_same_bytes() -> None:
    first = letterhead_pdf(_statement(), links=LINKS, letterhead=LETTERHEAD)
    assert letterhead_pdf(_statement(), links=LINKS, letterhead=LETTERHEAD) == first


def test_a_farsi_statement_on_an_english_letterhead() -> None:
    data = letterhead_pdf(
        _statement(
            language="fa",
            title="بیانیه مشترک",
            body_markdown="ما سازمان‌های امضاکننده **همه** را فرا می‌خوانیم.\n",
        ),
        links=LINKS,
        letterhead=LETTERHEAD,
    )
    text = _text(data)
    assert "Asia Pacific Refugee Rights Network" in text
    assert f"SHA-256 of the bundle: {'c4' * 32}" in text


# --- settings ---------------------------------------------------------------------------


def _from_env(tmp_path: Path, **environ: str) -> Settings:
    return Settings.from_env({"APP_ENV": "development", **environ}, tmp_path / "instance")


def test_no_letterhead_by_default(tmp_path: Path) -> None:
    assert _from_env(tmp_path).letterhead is None


def test_the_letterhead_is_read_from_the_environment(tmp_path: Path) -> None:
    logo = tmp_path / "logo.svg"
    logo.write_bytes(SVG)
    settings = _from_env(
        tmp_path,
        LETTERHEAD_NAME="  Asia Pacific   Refugee Rights Network ",
        LETTERHEAD_CONTACT="press@network.example",
        LETTERHEAD_PLACE="Bangkok",
        LETTERHEAD_LOGO=str(logo),
    )
    assert settings.letterhead == Letterhead(
        name="Asia Pacific Refugee Rights Network",
        contact="press@network.example",
        place="Bangkok",
        logo=SVG,
        logo_kind="svg",
    )
    # The logo's bytes are kept out of the settings' printed form.
    assert "svg" not in repr(settings.letterhead).replace("logo_kind='svg'", "")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "no such file"),
        (b"GIF89a" + b"\x00" * 32, "must be a PNG or SVG file"),
        (b"\x89PNG\r\n\x1a\n", "is not a whole PNG image"),
        (png(5000, 10), "at most 4096 pixels on each side, got 5000x10"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "must be a PNG or SVG file"),
        (b"<svg width='1' height='1'><unclosed></svg>", "must be a PNG or SVG file"),
        (
            b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]>'
            b'<svg width="1" height="1">&a;</svg>',
            "must be a PNG or SVG file",
        ),
        (b"<svg " + b" " * MAX_LOGO_BYTES + b"/>", "is larger than 1024 KiB"),
        # A logo that would have the PDF engine read a file of the server's, or fetch an
        # address, into every letterhead PDF.
        (
            b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
            b' width="10" height="10"><image xlink:href="/etc/hostname" width="10" height="10"/>'
            b"</svg>",
            "must draw itself",
        ),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
            b'<rect width="10" height="10" fill="url(https://tracker.example/x.svg#g)"/></svg>',
            "must draw itself",
        ),
    ],
)
def test_a_bad_logo_stops_the_start(tmp_path: Path, content: bytes | None, problem: str) -> None:
    logo = tmp_path / "logo.png"
    if content is not None:
        logo.write_bytes(content)
    with pytest.raises(SettingsError, match="LETTERHEAD_LOGO") as raised:
        _from_env(tmp_path, LETTERHEAD_NAME="Network", LETTERHEAD_LOGO=str(logo))
    assert problem in str(raised.value)


def test_an_unreadable_or_folder_logo_stops_the_start(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="is a folder"):
        read_logo(tmp_path)
    if os.geteuid() == 0:
        return  # root reads any file
    logo = tmp_path / "logo.png"
    logo.write_bytes(png())
    logo.chmod(0)
    with pytest.raises(SettingsError, match="cannot be read"):
        read_logo(logo)


@pytest.mark.parametrize(
    ("environ", "name"),
    [
        ({"LETTERHEAD_CONTACT": "press@network.example"}, "LETTERHEAD_NAME"),
        ({"LETTERHEAD_NAME": "N" * 201}, "LETTERHEAD_NAME"),
        ({"LETTERHEAD_NAME": "Network", "LETTERHEAD_PLACE": "Bang\x1bkok"}, "LETTERHEAD_PLACE"),
    ],
)
def test_bad_letterhead_texts_stop_the_start(
    tmp_path: Path, environ: dict[str, str], name: str
) -> None:
    with pytest.raises(SettingsError, match=name):
        _from_env(tmp_path, **environ)


def test_the_app_does_not_start_with_a_missing_logo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from statements import create_app

    monkeypatch.setenv("APP_ENV", "development")
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("LETTERHEAD_NAME", "Network")
    monkeypatch.setenv("LETTERHEAD_LOGO", str(tmp_path / "missing.png"))
    with pytest.raises(SystemExit) as stopped:
        create_app()
    assert stopped.value.code == 2
    assert "LETTERHEAD_LOGO: no such file" in capsys.readouterr().err


def test_a_network_name_in_farsi_reads_from_the_right() -> None:
    data = letterhead_pdf(
        _statement(), links=LINKS, letterhead=Letterhead(name="شبکه حقوق پناهندگان")
    )
    # pypdf reads a line left to right: the name's first word is drawn rightmost.
    assert "پناهندگان حقوق شبکه" in _text(data)


@pytest.mark.parametrize(
    "logo",
    [
        b'<svg width="10" height="10"><path d="M 0 0 L zz"/></svg>',
        png()[:40] + b"garbage",
    ],
)
def test_a_logo_the_engine_refuses_is_left_out(
    logo: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    data = letterhead_pdf(
        _statement(), links=LINKS, letterhead=Letterhead(name="Network", logo=logo)
    )
    assert "Network" in _text(data)
    assert "LETTERHEAD_LOGO" in caplog.text
