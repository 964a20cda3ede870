"""The PDF of a published version: its words, its fonts, its direction, the same bytes."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from babel.support import Translations
from fontTools.ttLib import TTFont
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from statements.i18n import LANGUAGES, TRANSLATIONS
from statements.publishing.pdf import FONT_DIR, FONT_FILES, statement_pdf

ROOT = Path(__file__).resolve().parents[3]
PAGE_URL = "https://statements.example/statements/civilians/v/2"
BUNDLE_URL = "https://statements.example/statements/civilians/v/2/bundle.json"
BODY_SHA256 = "3f" * 32

ENGLISH_BODY = """\
# Our demands

We, the undersigned organisations, call on **all parties** to respect *human rights* and
the [Geneva Conventions](https://example.org/geneva).

1. Release every detained journalist.
2. Open the border crossings
   - for food
   - for medicine

> Nobody is safe until everybody is safe.
"""

THAI_BODY = """\
# ข้อเรียกร้อง

พวกเราองค์กรที่ลงนามข้างท้าย ขอเรียกร้องให้ทุกฝ่าย **เคารพสิทธิมนุษยชน** และปล่อยตัวผู้ถูกคุมขังทั้งหมด

- ข้อหนึ่ง
- ข้อสอง
"""

BURMESE_BODY = """\
# တောင်းဆိုချက်များ

ကျွန်ုပ်တို့ လက်မှတ်ရေးထိုးသူ အဖွဲ့အစည်းများသည် **လူ့အခွင့်အရေး** ကို လေးစားရန် တောင်းဆိုပါသည်။

1. ပထမ
2. ဒုတိယ
"""

FARSI_BODY = """\
# خواسته‌های ما

ما سازمان‌های امضاکننده از **همه طرف‌ها** می‌خواهیم که به حقوق بشر احترام بگذارند.

1. آزادی فوری زندانیان
2. پایان سرکوب
"""


def _statement(**changes: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "slug": "civilians",
        "title": "Joint statement on the protection of civilians",
        "language": "en",
        "version": 2,
        "status": "published",
        "published_on": "2024-05-01",
        "body_markdown": ENGLISH_BODY,
        "body_sha256": BODY_SHA256,
        "previous_bundle_sha256": "a1" * 32,
        "signatories": [
            {"name": "Human Rights Watch", "country": "USA"},
            {"name": "Solo Collective", "country": ""},
        ],
        "anonymous_signatories": 3,
    }
    statement.update(changes)
    return statement


def _pdf(statement: dict[str, Any]) -> bytes:
    return statement_pdf(statement, page_url=PAGE_URL, bundle_url=BUNDLE_URL)


def _quiet_pdf(statement: dict[str, Any], caplog: pytest.LogCaptureFixture) -> bytes:
    """The PDF, failing if anything (fpdf2 or us) warned: a missing glyph, for one."""
    with caplog.at_level(logging.WARNING):
        data = _pdf(statement)
    assert [record.getMessage() for record in caplog.records] == []
    return data


def _text(data: bytes) -> str:
    pages = PdfReader(io.BytesIO(data)).pages
    return " ".join(" ".join(page.extract_text() for page in pages).split())


def _fonts(data: bytes) -> set[str]:
    """The embedded fonts' names, without the subset prefix."""
    names = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        fonts = _dictionary(_dictionary(page["/Resources"])["/Font"])
        for font in fonts.values():
            names.add(str(_dictionary(font)["/BaseFont"]).split("+", 1)[-1])
    return names


def _dictionary(value: Any) -> DictionaryObject:
    resolved = value.get_object()
    assert isinstance(resolved, DictionaryObject)
    return resolved


def _runs(data: bytes, page: int = 0) -> list[str]:
    """The text pieces of a page in the order they are drawn, left to right on each line."""
    pieces: list[str] = []

    def visit(text: str, *_: Any) -> None:
        if text.strip():
            pieces.append(text.strip())

    PdfReader(io.BytesIO(data)).pages[page].extract_text(visitor_text=visit)
    return pieces


def _uris(data: bytes) -> list[str]:
    uris = []
    for page in PdfReader(io.BytesIO(data)).pages:
        for annotation in page.get("/Annots") or []:
            action = annotation.get_object().get("/A")
            if action is not None and "/URI" in action:
                uris.append(str(action["/URI"]))
    return uris


def _first_x(data: bytes) -> float:
    """Where the first piece of text on the first page starts, in points from the left."""
    positions: list[float] = []

    def visit(text: str, _cm: Any, tm: Any, *_: Any) -> None:
        if text.strip():
            positions.append(float(tm[4]))

    PdfReader(io.BytesIO(data)).pages[0].extract_text(visitor_text=visit)
    return positions[0]


# --- content --------------------------------------------------------------------------


def test_an_english_statement_has_its_text_signatories_and_footer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    data = _quiet_pdf(_statement(), caplog)

    assert data.startswith(b"%PDF-")
    text = _text(data)
    assert "Joint statement on the protection of civilians" in text
    assert "Version 2, published 2024-05-01" in text
    assert "Our demands" in text
    assert "call on all parties to respect human rights" in text
    assert "Geneva Conventions (https://example.org/geneva)" in text
    assert "1. Release every detained journalist." in text
    assert "2. Open the border crossings" in text
    assert "for medicine" in text
    assert "Nobody is safe until everybody is safe." in text
    assert "Signed by" in text
    assert "Human Rights Watch (USA)" in text
    assert "Solo Collective" in text
    assert "Solo Collective ()" not in text
    assert "And 3 organisations that cannot be named for their safety." in text
    assert f"Verify this text: {PAGE_URL}" in text
    assert f"Bundle: {BUNDLE_URL}" in text
    assert f"SHA-256 of the text: {BODY_SHA256}" in text
    assert "Page 1 of 1" in text
    assert "corrected" not in text
    assert "retracted" not in text
    assert _fonts(data) == {"NotoSans", "NotoSansBold"}
    # fpdf2 would embed every font it was given, used or not.
    assert b"NotoSansMyanmar" not in data


def test_links_and_footer_urls_are_clickable(caplog: pytest.LogCaptureFixture) -> None:
    uris = _uris(_quiet_pdf(_statement(), caplog))

    assert "https://example.org/geneva" in uris
    assert PAGE_URL in uris
    assert BUNDLE_URL in uris


def test_a_thai_statement_uses_the_thai_font(caplog: pytest.LogCaptureFixture) -> None:
    data = _quiet_pdf(
        _statement(title="แถลงการณ์ร่วม", language="th", body_markdown=THAI_BODY), caplog
    )

    assert "NotoSansThai" in _fonts(data)
    text = _text(data)
    assert "แถลงการณ์ร่วม" in text
    assert "ข้อเรียกร้อง" in text
    assert "เคารพสิทธิมนุษยชน" in text
    assert "ข้อหนึ่ง" in text
    # Latin names in a Thai statement still come out in Noto Sans.
    assert "Human Rights Watch (USA)" in text
    assert "NotoSans" in _fonts(data)


def test_a_burmese_statement_uses_the_myanmar_font(caplog: pytest.LogCaptureFixture) -> None:
    data = _quiet_pdf(
        _statement(title="ပူးတွဲကြေညာချက်", language="my", body_markdown=BURMESE_BODY), caplog
    )

    assert "NotoSansMyanmar" in _fonts(data)
    # fpdf2 maps some shaped Myanmar glyphs back to text imperfectly, so only words whose
    # glyphs map one to one are looked for.
    text = _text(data)
    assert "ပထမ" in text
    assert "ဒုတိယ" in text
    assert "Version 2, published 2024-05-01" in text


def test_a_farsi_statement_is_set_right_to_left(caplog: pytest.LogCaptureFixture) -> None:
    title = "بیانیه مشترک درباره حمایت از غیرنظامیان"
    data = _quiet_pdf(
        _statement(
            title=title,
            language="fa",
            body_markdown=FARSI_BODY,
            signatories=[{"name": "کانون مدافعان حقوق بشر", "country": "ایران"}],
        ),
        caplog,
    )

    assert {"NotoNaskhArabic", "NotoNaskhArabicBold"} <= _fonts(data)
    text = _text(data)
    assert title in text
    assert "پایان سرکوب" in text
    assert "کانون مدافعان حقوق بشر" in text
    assert f"SHA-256 of the text: {BODY_SHA256}" in text
    # Right-aligned: the title starts well inside the page, not at the 20 mm (57 pt) margin
    # where an English title starts.
    assert _first_x(data) > 150
    assert _first_x(_pdf(_statement())) < 65


def test_right_to_left_lines_put_the_first_words_on_the_right() -> None:
    body = "آغاز John پایان"

    farsi = _runs(_pdf(_statement(language="fa", body_markdown=body)))
    english = _runs(_pdf(_statement(language="en", body_markdown=body)))

    # Pieces are drawn left to right: in Farsi the sentence starts at the right edge.
    assert farsi.index("پایان") < farsi.index("John") < farsi.index("آغاز")
    # The same words in an English statement read left to right around the Farsi ones.
    assert english.index("آغاز") < english.index("John") < english.index("پایان")


def test_latin_names_in_a_farsi_statement_read_left_to_right(
    caplog: pytest.LogCaptureFixture,
) -> None:
    data = _quiet_pdf(_statement(language="fa", body_markdown=FARSI_BODY), caplog)

    runs = _runs(data)
    assert runs.index("Human") < runs.index("Rights") < runs.index("(USA)")
    assert "NotoSans" in _fonts(data)


@pytest.mark.parametrize(
    ("language", "title", "font"),
    [
        ("km", "សេចក្តីថ្លែងការណ៍រួម", "NotoSansKhmer"),
        ("bn", "যৌথ বিবৃতি", "NotoSansBengali"),
        ("ur", "مشترکہ بیان", "NotoNaskhArabic"),
        ("ar", "بيان مشترك", "NotoNaskhArabic"),
        ("ms", "Kenyataan bersama", "NotoSans"),
        ("id", "Pernyataan bersama", "NotoSans"),
    ],
)
def test_other_languages_have_their_glyphs(
    caplog: pytest.LogCaptureFixture, language: str, title: str, font: str
) -> None:
    data = _quiet_pdf(
        _statement(language=language, title=title, body_markdown=f"{title}\n\n- {title}"), caplog
    )

    assert font in _fonts(data)


# A sentence in each interface language (and Bengali, a statement language), with the
# letters its script has beyond its neighbours': Pashto's ښ ګ ړ ټ ډ ې ۍ ځ څ ږ ڼ, Dari's
# and Farsi's پ چ ژ گ, Arabic's ة ى and its Arabic-Indic digits, Burmese stacked letters.
SAMPLES = {
    "en": ("Joint statement", "NotoSans"),
    "th": ("ร่างแถลงการณ์ร่วมกันอย่างปลอดภัย ๑๒๓", "NotoSansThai"),
    "my": ("ကျွန်ုပ်တို့သည် ဒုက္ခသည်များ၏ အခွင့်အရေး ၁၂၃", "NotoSansMyanmar"),
    "ms": ("Kenyataan bersama", "NotoSans"),
    "fa": ("بیانیهٔ مشترک؛ پناهجویان، ژاله و گچ ۱۲۳", "NotoNaskhArabic"),
    "prs": ("اعلامیهٔ مشترک را با هم بنویسید؛ مبایل، تذکره ۱۲۳", "NotoNaskhArabic"),
    "ps": (
        "ګډې اعلامیې په خوندي ډول ولیکئ؛ ښځې، ړنګ، ټول، ځای، څنګه، ږدي، ۍ، ڼ ۱۲۳",
        "NotoNaskhArabic",
    ),
    "ar": ("صياغة بيانات مشتركة معًا، بأمان؛ اللاجئة والمستشفى ١٢٣", "NotoNaskhArabic"),
    "bn": ("যৌথ বিবৃতি একসাথে খসড়া করুন ১২৩।", "NotoSansBengali"),
}


def test_every_interface_language_has_a_sample() -> None:
    assert set(LANGUAGES) <= set(SAMPLES)


@pytest.mark.parametrize("language", sorted(SAMPLES))
def test_the_pdf_embeds_a_font_for_every_letter_of_each_language(
    caplog: pytest.LogCaptureFixture, language: str
) -> None:
    sample, font = SAMPLES[language]
    data = _quiet_pdf(
        _statement(language=language, title=sample, body_markdown=f"{sample}\n\n- {sample}"),
        caplog,
    )
    assert font in _fonts(data)
    # Each letter has a glyph in a bundled font (a missing one would also have warned).
    covered: set[int] = set()
    for name in FONT_DIR.glob("*.ttf"):
        covered |= set(TTFont(name).getBestCmap())
    assert [ch for ch in sample if not ch.isspace() and ord(ch) not in covered] == []


def test_text_no_bundled_font_can_draw_is_reported(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="statements.publishing.pdf"):
        _pdf(_statement(body_markdown="A smile 😀 and Hebrew שלום"))

    [record] = caplog.records
    assert "U+1F600" in record.getMessage()
    assert "U+05E9" in record.getMessage()


# --- notices and signatories ----------------------------------------------------------


def test_a_corrected_version_says_which_version_it_replaces() -> None:
    text = _text(_pdf(_statement(status="corrected", version=3)))

    assert "Version 3, published 2024-05-01" in text
    assert "This is a corrected version; it replaces version 2." in text
    assert "retracted" not in text


def test_a_retracted_version_says_so_and_lists_no_signatories() -> None:
    notice = "We withdraw this statement: one of its facts was wrong."
    text = _text(
        _pdf(
            _statement(
                status="retracted",
                version=4,
                body_markdown=notice,
                signatories=[],
                anonymous_signatories=0,
            )
        )
    )

    assert "This statement has been retracted. The notice below explains why." in text
    assert text.index("has been retracted") < text.index(notice)
    assert "Signed by" not in text
    assert f"SHA-256 of the text: {BODY_SHA256}" in text


def test_one_anonymous_signatory_is_singular() -> None:
    text = _text(_pdf(_statement(anonymous_signatories=1)))

    assert "And 1 organisation that cannot be named for its safety." in text
    assert "organisations that cannot be named" not in text


def test_no_anonymous_signatories_no_sentence() -> None:
    text = _text(_pdf(_statement(anonymous_signatories=0)))

    assert "cannot be named" not in text
    assert "Human Rights Watch (USA)" in text


def test_a_version_nobody_signed_says_so() -> None:
    text = _text(_pdf(_statement(signatories=[], anonymous_signatories=0)))

    assert "Signed by" in text
    assert "No organisation signed this version." in text


def test_long_statements_number_their_pages() -> None:
    body = "\n\n".join(f"Paragraph {n}. " + "Words that fill the page. " * 30 for n in range(40))

    data = _pdf(_statement(body_markdown=body))

    pages = PdfReader(io.BytesIO(data)).pages
    assert len(pages) > 2
    assert f"Page 2 of {len(pages)}" in pages[1].extract_text()
    assert "Paragraph 39." in _text(data)


# --- the same bytes -------------------------------------------------------------------


def test_the_same_statement_gives_the_same_bytes() -> None:
    assert _pdf(_statement()) == _pdf(_statement())


def test_the_same_bytes_in_another_process() -> None:
    """Workers with other hash seeds must serve the same file (the ETag, mirrors)."""
    statement = _statement(language="fa", body_markdown=FARSI_BODY)
    script = (
        "import hashlib, json, sys\n"
        "from statements.publishing.pdf import statement_pdf\n"
        "args = json.loads(sys.stdin.read())\n"
        "print(hashlib.sha256(statement_pdf(args[0], page_url=args[1], bundle_url=args[2]))"
        ".hexdigest())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps([statement, PAGE_URL, BUNDLE_URL]),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(ROOT)},
        check=True,
        timeout=120,
    )

    assert result.stdout.strip() == hashlib.sha256(_pdf(statement)).hexdigest()


def test_the_creation_date_is_the_publication_date() -> None:
    metadata = PdfReader(io.BytesIO(_pdf(_statement()))).metadata

    assert metadata is not None
    assert metadata.creation_date_raw == "D:20240501000000Z"
    assert metadata.title == "Joint statement on the protection of civilians"


def test_a_different_statement_gives_different_bytes() -> None:
    assert _pdf(_statement()) != _pdf(_statement(body_sha256="40" * 32))


# --- untrusted text -------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(
            "<script>alert(1)</script>\n\n<div onclick='x()'>hi</div> <b>b</b>", id="html"
        ),
        pytest.param("![tracker](https://tracker.example/pixel.png) after", id="image"),
        pytest.param("word " * 10_000, id="50000-characters"),
        pytest.param("x" * 20_000, id="long-word"),
        pytest.param("a\x00b\x0cc\x1bd \ud800 {nb}\ttab \u202eevil", id="control-characters"),
        pytest.param("\n".join("  " * n + "- item" for n in range(60)), id="deep-list"),
        pytest.param(">" * 200 + " deep quote", id="deep-quote"),
        pytest.param("| a | b |\n|---|---|\n| 1 | 2 |", id="table"),
        pytest.param("```\n\tcode\n```\n\n---\n\n-\n-\n\n1.", id="code-rule-empty-items"),
        pytest.param("# " + "H" * 2_000, id="long-heading"),
        pytest.param("", id="empty"),
    ],
)
def test_hostile_markdown_still_gives_a_pdf(body: str) -> None:
    data = _pdf(_statement(body_markdown=body))

    assert data.startswith(b"%PDF-")
    text = _text(data)
    assert f"SHA-256 of the text: {BODY_SHA256}" in text
    assert all(uri.startswith(("https://", "http://", "mailto:")) for uri in _uris(data))


def test_raw_html_is_shown_as_text_not_obeyed() -> None:
    text = _text(_pdf(_statement(body_markdown="<script>alert(1)</script> <b>bold</b>")))

    assert "<script>alert(1)</script>" in text
    assert "<b>bold</b>" in text


def test_images_are_never_fetched_or_embedded() -> None:
    data = _pdf(_statement(body_markdown="![tracker](https://tracker.example/pixel.png) after"))

    assert "tracker after" in _text(data)
    assert b"tracker.example" not in data
    for page in PdfReader(io.BytesIO(data)).pages:
        assert "/XObject" not in _dictionary(page["/Resources"])


def test_dangerous_links_lose_their_target() -> None:
    body = (
        "[a](javascript:alert(1)) [b](data:text/html,x) [c](ftp://x.example)"
        " [d](mailto:a@b.example)"
    )

    data = _pdf(_statement(body_markdown=body))

    assert _uris(data) == ["mailto:a@b.example", PAGE_URL, BUNDLE_URL]
    assert "d (a@b.example)" in _text(data)


def test_page_count_alias_in_the_text_is_left_alone() -> None:
    text = _text(_pdf(_statement(title="About {nb}", body_markdown="Page {nb} of {nb}")))

    assert "About {nb}" in text
    assert "Page {nb} of {nb}" in text
    assert "Page 1 of 1" in text


def test_the_longest_word_is_kept_whole() -> None:
    text = _text(_pdf(_statement(body_markdown="y" * 5_000)))

    assert text.replace(" ", "").count("y") >= 5_000


# --- invalid input --------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"status": "draft"},
        {"version": 0},
        {"version": True},
        {"version": "2"},
        {"published_on": "2024-02-30"},
        {"published_on": "1 May 2024"},
        {"body_sha256": "not hex"},
        {"title": None},
        {"body_markdown": b"bytes"},
        {"signatories": "Human Rights Watch"},
        {"signatories": [{"country": "USA"}]},
        {"signatories": [{"name": "HRW", "country": 1}]},
        {"anonymous_signatories": -1},
    ],
    ids=repr,
)
def test_invalid_statements_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"."):
        _pdf(_statement(**changes))


def test_a_missing_field_is_refused() -> None:
    statement = _statement()
    del statement["body_sha256"]

    with pytest.raises(ValueError, match="body_sha256"):
        _pdf(statement)


# --- the fonts ------------------------------------------------------------------------


def test_the_fonts_ship_with_their_licence_and_stay_small() -> None:
    files = [FONT_DIR / name for styles in FONT_FILES.values() for name in styles.values()]

    assert all(path.is_file() for path in files)
    assert sum(path.stat().st_size for path in set(files)) < 2_000_000
    licence = (FONT_DIR / "OFL.txt").read_text(encoding="utf-8")
    assert "SIL OPEN FONT LICENSE" in licence
    assert "Version 1.1" in licence


def test_the_pdf_speaks_the_statements_language() -> None:
    body = "# แถลงการณ์ร่วม\n\nผู้ลี้ภัยต้องมีสิทธิทำงาน"
    statement = _statement(
        title="สิทธิในการทำงาน",
        language="th",
        body_markdown=body,
        body_sha256=hashlib.sha256(body.encode()).hexdigest(),
        status="corrected",
        anonymous_signatories=0,
    )
    thai = Translations.load(str(TRANSLATIONS), ["th"])
    text = _text(
        statement_pdf(statement, page_url=PAGE_URL, bundle_url=BUNDLE_URL, translations=thai)
    )
    assert "ร่วมลงนามโดย" in text  # "Signed by"
    assert "Signed by" not in text
    english = _text(statement_pdf(statement, page_url=PAGE_URL, bundle_url=BUNDLE_URL))
    assert "Signed by" in english
    assert "This is a corrected version; it replaces version 1." in english
